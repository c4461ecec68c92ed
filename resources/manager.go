package resources

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// ErrNotFound reports that a job exists on no configured platform or region (import of an
// unknown name). Engines treat it as "remove from state", not as a failure.
var ErrNotFound = errors.New("job not found")

// Settings are the provider-level defaults and the plugged-in parts a Manager works with.
type Settings struct {
	// Platforms deploy a job when its spec names none; empty means every configured deployer.
	Platforms []string
	// Regions deploy a job when its spec names none; empty means every region of each deployer.
	Regions []string
	// Registry describes the platforms: the artifact each runs, how to build it, its limits.
	// Every platform in Deployers must be in it; nil = none (NewManager refuses).
	Registry *platform.Registry
	// Deployers by platform name, one per platform configured in the provider.
	Deployers map[string]platform.Deployer
	// Analyzer labels the jobs of a package.
	Analyzer analyzer.Analyzer
	// ArtifactCacheDir keeps built artifacts between runs; empty lets the builder choose.
	ArtifactCacheDir string
	// Logger receives progress lines; nil discards them.
	Logger hclog.Logger
	// SourceHash hashes a package and what it imports (it keys the package's build, which
	// every job of the package shares); nil uses the packager.
	SourceHash func(ctx context.Context, dir string) (string, error)
	// StateStore is where stateful jobs keep their job.State (sqlite:///path, …); every
	// platform a stateful job is deployed to must reach it.
	StateStore string
	// Local, when set, is the artifact every job gets for the runtime agent to run on the VM
	// (eligible or not): built on apply and kept in a store the agent reads.
	Local *LocalArtifact
	// CreateJournalDir keeps the creates that deployed and have not yet returned their state,
	// so a create interrupted in between converges on the next apply (see createJournal);
	// empty disables it, and then a function left by an interrupted create must be imported.
	CreateJournalDir string
}

// LocalArtifact is how the artifact the agent runs locally is built and where it is kept.
type LocalArtifact struct {
	Kind  platform.ArtifactKind // platform.ArtifactNative
	Build platform.BuildFunc    // for the agent's OS and architecture
	Store artifactstore.Store
}

// JobSpec is what the user configures for one job.
type JobSpec struct {
	Package         string // directory of the Go package holding the job
	Function        string // Go function name carrying //blueprint:job
	ForceServerless bool   // deploy even when the analysis says not eligible
	ForceLocal      bool   // deploy nowhere; the agent always runs it locally
	MemoryMB        int64  // 0 keeps the analysis value
	TimeoutS        int64  // 0 keeps the analysis value
	Platforms       []string
	Regions         []string
	Environment     map[string]string
}

// Target is one place a job is deployed to.
type Target struct {
	Platform string
	Region   string
}

func (t Target) String() string { return t.Platform + "/" + t.Region }

// Planned is what Plan found out without changing anything.
type Planned struct {
	Name     string
	Analysis job.Analysis // with the spec's overrides applied
	Eligible bool
	// SourceHash is the job's code hash (job.Analysis.CodeHash): it changes when, and only
	// when, code the job can reach changes, so it decides whether the job is redeployed.
	SourceHash string
	// Code names the parts SourceHash digests (see job.Analysis.Code).
	Code    map[string]string
	Targets []Target // empty when the job is not deployed anywhere
	// PackageJobs are every job of the package as analyzed: one artifact per package and kind
	// holds them all, so the resources of one package share a build.
	PackageJobs []job.Analysis
}

// JobState is what the engine records after an apply.
type JobState struct {
	Name     string
	Package  string
	Function string
	// SourceHash is the code hash of the job as last deployed (Planned.SourceHash).
	SourceHash string
	// Code names the parts of that code (Planned.Code), so the next plan can say which
	// changed. Engines keep it out of sight (terraform's private state); nil in states
	// written before it existed.
	Code map[string]string
	// ArtifactStore is where the local artifact is kept ("" when none was built).
	ArtifactStore string
	// StateStore is where a stateful job's state lives ("" for jobs without state).
	StateStore string
	// Artifacts holds the hex SHA-256 of every kind of code built for the job's platforms.
	// A deployment on a platform runs the artifact of that platform's kind.
	Artifacts   map[platform.ArtifactKind]string
	Analysis    job.Analysis
	Eligible    bool
	Deployments []platform.Deployment
}

// Targets lists the (platform, region) pairs the state has a deployment for.
func (s JobState) Targets() []Target {
	out := make([]Target, 0, len(s.Deployments))
	for _, d := range s.Deployments {
		out = append(out, Target{Platform: d.Platform, Region: d.Region})
	}
	return out
}

// Manager runs the job lifecycle against the configured platforms. It is safe for concurrent
// use: engines plan and apply many jobs at once.
type Manager struct {
	settings Settings
	logger   hclog.Logger
	journal  createJournal
	// preflights holds each platform's preflight answer (*preflightOnce by platform name).
	preflights sync.Map
}

// NewManager checks the settings and returns a Manager.
func NewManager(s Settings) (*Manager, error) {
	if s.Analyzer == nil {
		return nil, errors.New("resources: settings need an analyzer")
	}
	if s.Registry == nil {
		return nil, errors.New("resources: settings need a platform registry")
	}
	if len(s.Deployers) == 0 {
		return nil, fmt.Errorf("no platform is configured: add a platform block to the provider (this release has %s)", strings.Join(s.Registry.Names(), ", "))
	}
	for name := range s.Deployers {
		if _, ok := s.Registry.Lookup(name); !ok {
			return nil, s.Registry.UnknownError(name)
		}
	}
	for _, p := range s.Platforms {
		if _, ok := s.Deployers[p]; !ok {
			return nil, fmt.Errorf("platform %q is listed but not configured: add its block to the provider (configured: %v)", p, slices.Sorted(maps.Keys(s.Deployers)))
		}
	}
	for _, r := range s.Regions {
		if !anyDeployerHas(s.Deployers, s.Platforms, r) {
			return nil, fmt.Errorf("region %q has no host or endpoint on any configured platform", r)
		}
	}
	if s.Logger == nil {
		s.Logger = hclog.NewNullLogger()
	}
	if s.SourceHash == nil {
		s.SourceHash = defaultSourceHash
	}
	return &Manager{settings: s, logger: s.Logger.Named("resources"), journal: createJournal{dir: s.CreateJournalDir}}, nil
}

func anyDeployerHas(deployers map[string]platform.Deployer, platforms []string, region string) bool {
	if len(platforms) == 0 {
		platforms = slices.Sorted(maps.Keys(deployers))
	}
	for _, p := range platforms {
		if d, ok := deployers[p]; ok && slices.Contains(d.Regions(), region) {
			return true
		}
	}
	return false
}

// descriptor returns the registered description of a configured platform (NewManager checked
// that there is one).
func (m *Manager) descriptor(name string) platform.Descriptor {
	d, _ := m.settings.Registry.Lookup(name)
	return d
}

// buildFunc is how a configured platform's artifact is built: by its deployer when the build
// depends on the configuration (Lambda's architecture), else by its descriptor.
func (m *Manager) buildFunc(platformName string) platform.BuildFunc {
	if b, ok := m.settings.Deployers[platformName].(platform.ArtifactBuilder); ok {
		return b.BuildArtifact
	}
	return m.descriptor(platformName).Build
}

// artifactKind is the kind of code a platform runs; "" for a platform this build lacks.
func (m *Manager) artifactKind(platformName string) platform.ArtifactKind {
	return m.descriptor(platformName).Artifact
}
