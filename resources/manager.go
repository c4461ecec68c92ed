package resources

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/analyzer"
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
	// Deployers by platform name ("wasm", ...).
	Deployers map[string]platform.Deployer
	// Analyzer labels the jobs of a package.
	Analyzer analyzer.Analyzer
	// ArtifactCacheDir keeps built artifacts between runs; empty lets the builder choose.
	ArtifactCacheDir string
	// Logger receives progress lines; nil discards them.
	Logger hclog.Logger

	// Builders build one platform's artifact; nil entries fall back to the packager
	// (wasm). Tests plug in fakes here.
	Builders map[string]Builder
	// SourceHash hashes a package and its in-module dependencies; nil uses the packager.
	SourceHash func(ctx context.Context, dir string) (string, error)
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
	Name       string
	Analysis   job.Analysis // with the spec's overrides applied
	Eligible   bool
	SourceHash string
	Targets    []Target // empty when the job is not deployed anywhere
}

// JobState is what the engine records after an apply.
type JobState struct {
	Name           string
	Package        string
	Function       string
	SourceHash     string
	ArtifactSHA256 string
	Analysis       job.Analysis
	Eligible       bool
	Deployments    []platform.Deployment
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
}

// NewManager checks the settings and returns a Manager.
func NewManager(s Settings) (*Manager, error) {
	if s.Analyzer == nil {
		return nil, errors.New("resources: settings need an analyzer")
	}
	if len(s.Deployers) == 0 {
		return nil, errors.New("no platform is configured: add a platform block (for example wasm) to the provider")
	}
	for _, p := range s.Platforms {
		if _, ok := s.Deployers[p]; !ok {
			return nil, fmt.Errorf("platform %q is listed but not configured: add its block to the provider (configured: %v)", p, sortedKeys(s.Deployers))
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
	builders := map[string]Builder{}
	for name, b := range s.Builders {
		builders[name] = b
	}
	for name := range s.Deployers {
		if builders[name] == nil {
			if b := defaultBuilder(name); b != nil {
				builders[name] = b
			}
		}
	}
	s.Builders = builders
	return &Manager{settings: s, logger: s.Logger.Named("resources")}, nil
}

func anyDeployerHas(deployers map[string]platform.Deployer, platforms []string, region string) bool {
	if len(platforms) == 0 {
		platforms = sortedKeys(deployers)
	}
	for _, p := range platforms {
		if d, ok := deployers[p]; ok && contains(d.Regions(), region) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
