package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
)

// ArtifactKind names a kind of built code. A job records one hash per kind it was built as,
// and every platform says which kind it runs, so two platforms never confuse their artifacts.
type ArtifactKind string

// The artifact kinds Blueprint builds or will build. A platform may name another kind when it
// brings its own Build.
const (
	ArtifactWASM      ArtifactKind = "wasm"       // GOOS=wasip1 reactor module (platform wasm, local runs)
	ArtifactNative    ArtifactKind = "native"     // native bootstrap for the agent's OS/arch
	ArtifactLambdaZip ArtifactKind = "lambda_zip" // bootstrap in a reproducible zip for AWS Lambda
	ArtifactGCFSource ArtifactKind = "gcf_source" // source zip for Google Cloud Functions
)

// LegacyArtifactKind is the kind of the single artifact_sha256 that states written before
// artifacts were recorded by kind hold: those releases built nothing but wasm modules.
const LegacyArtifactKind = ArtifactWASM

// BuildRequest asks for one artifact holding the given jobs of a package.
type BuildRequest struct {
	Dir      string         // directory of the job package
	Jobs     []job.Analysis // the jobs the artifact dispatches to
	CacheDir string         // keeps built artifacts between runs; "" lets the builder choose
	Logger   hclog.Logger   // progress lines; nil discards them
}

// Artifact is built, content-addressed code.
type Artifact struct {
	Kind   ArtifactKind
	Path   string // local file
	SHA256 string // hex SHA-256 of the file: what a deployment running it records as CodeSHA256
	Size   int64
}

// BuildFunc builds one kind of artifact.
type BuildFunc func(ctx context.Context, req BuildRequest) (Artifact, error)

// ArtifactBuilder is implemented by deployers whose artifact depends on their configuration
// (Lambda's architecture); the lifecycle builds with it instead of the descriptor's Build.
type ArtifactBuilder interface {
	BuildArtifact(ctx context.Context, req BuildRequest) (Artifact, error)
}

// Limits are what a platform allows one function. They are data, read where they matter: the
// lifecycle checks a job against them at plan time and rounds its memory to the platform's
// steps; the agent sizes batches by MaxBatchItems and refuses inputs over MaxPayloadBytes
// before sending them.
type Limits struct {
	MaxPayloadBytes int64         // largest synchronous input (and output) in bytes
	MinMemoryMB     int64         // smallest memory setting
	MaxMemoryMB     int64         // largest memory setting
	MemoryStepMB    int64         // memory settings are multiples of this (1 = any whole MB)
	MaxTimeout      time.Duration // longest invocation
	MaxBatchItems   int           // most inputs in one batch invocation; 0 or 1 = no batching
	// ReusesInstances: an instance may serve several invocations, which the platform does
	// only for jobs the analysis proved pure (no state leaks between calls).
	ReusesInstances bool
}

// RoundMemoryMB returns the platform memory setting for a job that needs mb: rounded up to a
// step and raised to the minimum. An mb above the maximum is an error that names both.
func (l Limits) RoundMemoryMB(mb int64) (int64, error) {
	if l.MaxMemoryMB > 0 && mb > l.MaxMemoryMB {
		return 0, fmt.Errorf("%d MB is above the platform's maximum of %d MB", mb, l.MaxMemoryMB)
	}
	if step := l.MemoryStepMB; step > 1 && mb%step != 0 {
		mb += step - mb%step
	}
	if mb < l.MinMemoryMB {
		mb = l.MinMemoryMB
	}
	if l.MaxMemoryMB > 0 && mb > l.MaxMemoryMB {
		mb = l.MaxMemoryMB // the step overshot a maximum that is not itself a step
	}
	return mb, nil
}

// CheckTimeout reports a timeout the platform cannot give.
func (l Limits) CheckTimeout(d time.Duration) error {
	if l.MaxTimeout > 0 && d > l.MaxTimeout {
		return fmt.Errorf("%s is above the platform's maximum of %s", d, l.MaxTimeout)
	}
	return nil
}

// Descriptor is everything Blueprint knows about one platform. The provider, the lifecycle
// and the agent work from descriptors in a Registry and never name a platform themselves, so
// adding one is a folder with its deployer, invoker and descriptor plus one line where the
// registry is built (platform/builtin).
type Descriptor struct {
	// Name in configuration and state ("wasm", "aws_lambda"): the provider's block name and
	// platform.Deployment.Platform. Lower case letters, digits and underscores.
	Name string
	// Description of the provider block (Markdown), for the generated docs.
	Description string
	// Artifact is the kind of code the platform runs; Build makes it.
	Artifact ArtifactKind
	Build    BuildFunc
	Limits   Limits

	// Settings are the attributes of the provider's block for this platform (hosts,
	// endpoints, credentials). Validate checks the ones known at plan time and says what to
	// fix; NewDeployer builds the deployer from them at apply time.
	Settings    []Setting
	Validate    func(s Settings) []*SettingError
	NewDeployer func(s Settings) (Deployer, error)
	// Regions lists the regions the settings configure, when they say without asking the
	// platform (wasm: the keys of hosts), so a plan can check the provider's regions; nil
	// when only the deployer knows.
	Regions func(s Settings) []string

	// InvokerSettings are what the runtime agent needs to call the platform (credentials);
	// the state never holds them. NewInvoker builds the agent's invoker from them.
	InvokerSettings []Setting
	NewInvoker      func(s Settings) (Invoker, error)
}

// check reports a descriptor that cannot be used, naming what is missing.
func (d Descriptor) check() error {
	if !validName(d.Name) {
		return fmt.Errorf("platform name %q: use lower case letters, digits and underscores, starting with a letter", d.Name)
	}
	var missing []error
	if d.Artifact == "" {
		missing = append(missing, errors.New("no artifact kind"))
	}
	if d.Build == nil {
		missing = append(missing, errors.New("no Build"))
	}
	if d.NewDeployer == nil {
		missing = append(missing, errors.New("no NewDeployer"))
	}
	if d.NewInvoker == nil {
		missing = append(missing, errors.New("no NewInvoker"))
	}
	for _, s := range append(append([]Setting(nil), d.Settings...), d.InvokerSettings...) {
		if !validName(s.Name) {
			missing = append(missing, fmt.Errorf("setting name %q is not lower snake case", s.Name))
		}
	}
	if err := errors.Join(missing...); err != nil {
		return fmt.Errorf("platform %s: %w", d.Name, err)
	}
	return nil
}

func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
