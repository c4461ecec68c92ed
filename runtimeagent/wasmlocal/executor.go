// Package wasmlocal runs jobs in the agent's own process from their wasm artifact (wazero), the
// module the wasm hosts run. It is apart from runtimeagent so that programs embedding the
// router without wasm do not link the wasm engine.
package wasmlocal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/atomicfile"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/runtimeagent/localexec"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// ArtifactSource finds and fetches a job's code by hash from the deployments that have it
// (*Platforms is one).
type ArtifactSource interface {
	Sources(m *manifest.Manifest, j *manifest.Job, kind platform.ArtifactKind, sha string) []platform.Deployment
	FetchArtifact(ctx context.Context, d platform.Deployment, sha256 string) ([]byte, error)
}

// Config configures a WASMExecutor.
type Config struct {
	Runtime *engine.Runtime // required
	Fetcher ArtifactSource  // required: where modules come from the first time
	// CacheDir keeps fetched modules on disk (<CacheDir>/<sha256>.wasm) so that a restarted
	// agent runs locally without asking a host; required.
	CacheDir string
	// States gives stateful jobs their job.State; nil = none (their state calls fail).
	States *statestore.Stores
	Logger hclog.Logger
}

// Executor runs jobs in-process from the job's wasm artifact (the module wasm hosts run),
// fetched once by its hash from a deployment that has it.
type Executor struct {
	cfg     Config
	log     hclog.Logger
	modules localexec.LoadOnce[*engine.Module] // by artifact sha256
}

var (
	_ localexec.Executor = (*Executor)(nil)
	_ localexec.Warmer   = (*Executor)(nil)
	_ localexec.Ready    = (*Executor)(nil)
)

// New checks the configuration and creates the module cache directory.
func New(cfg Config) (*Executor, error) {
	if cfg.Runtime == nil || cfg.Fetcher == nil {
		return nil, errors.New("wasm executor: a runtime and a module fetcher are required")
	}
	if cfg.CacheDir == "" {
		return nil, errors.New("wasm executor: no module cache directory; pass --cache DIR")
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("wasm executor: creating module cache: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &Executor{cfg: cfg, log: cfg.Logger}, nil
}

// Execute runs the job with the limits the analysis (or the user's overrides) set; the instance
// is reused across calls only when the analysis proved the job pure.
func (x *Executor) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	mod, err := x.module(ctx, m, j)
	if err != nil {
		return nil, err
	}
	opts := engine.InvokeOptions{
		Pure:        j.Analysis.Pure,
		MemoryMB:    j.EffectiveMemoryMB(),
		Timeout:     j.EffectiveTimeout(),
		Environment: j.Environment,
	}
	if j.Analysis.RequiresState && x.cfg.States != nil {
		st, err := x.cfg.States.For(j.StateStore, j.Name)
		if err != nil {
			return nil, &platform.FunctionError{Type: "StateUnavailable", Message: err.Error()}
		}
		opts.State = st
	}
	out, err := mod.Invoke(ctx, j.Name, input, opts)
	if errors.Is(err, engine.ErrUnknownEntry) {
		return nil, fmt.Errorf("%w: module %s has no job %q (the state and the artifact disagree; run terraform apply)", localexec.ErrUnavailable, j.Artifact(platform.ArtifactWASM), j.Name)
	}
	return out, err
}

// ArtifactKind is the kind of artifact the executor runs: a job's wasm module.
func (x *Executor) ArtifactKind(*manifest.Job) platform.ArtifactKind {
	return platform.ArtifactWASM
}

// Ready reports whether the job's module is compiled, so a run would start at once.
func (x *Executor) Ready(j *manifest.Job) bool {
	return x.modules.Loaded(j.Artifact(platform.ArtifactWASM))
}

// Warm fetches and compiles the job's module so that its first run is fast.
func (x *Executor) Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error {
	_, err := x.module(ctx, m, j)
	return err
}

// module returns the loaded module, fetching and compiling it once per artifact even when many
// requests ask at the same time. Failures are not cached: the next request tries again.
func (x *Executor) module(ctx context.Context, m *manifest.Manifest, j *manifest.Job) (*engine.Module, error) {
	sha := j.Artifact(platform.ArtifactWASM)
	if !localexec.IsSHA256(sha) {
		return nil, fmt.Errorf("%w: job %q has no wasm artifact (artifacts %v); it was not built, so it can only run where its package is compiled natively", localexec.ErrUnavailable, j.Name, j.Artifacts)
	}
	return x.modules.Get(ctx, sha, "module", func() (*engine.Module, error) { return x.load(ctx, m, j) })
}

func (x *Executor) load(ctx context.Context, m *manifest.Manifest, j *manifest.Job) (*engine.Module, error) {
	sha := j.Artifact(platform.ArtifactWASM)
	path := filepath.Join(x.cfg.CacheDir, sha+".wasm")
	code, err := os.ReadFile(path)
	if err == nil && hashOf(code) != sha {
		x.log.Warn("cached module is corrupt; fetching it again", "path", path)
		code, err = nil, errors.New("corrupt cache entry")
	}
	if err != nil {
		code, err = x.fetch(ctx, m, j)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.Write(path, code); err != nil {
			// Running without the disk copy still works; the next start fetches again.
			x.log.Warn("cannot cache module on disk", "path", path, "error", err)
		}
	}
	mod, err := x.cfg.Runtime.Load(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("%w: compiling module %s: %v", localexec.ErrUnavailable, sha, err)
	}
	x.log.Info("module ready for local runs", "job", j.Name, "sha256", sha, "bytes", len(code))
	return mod, nil
}

// fetch asks the deployments that run the module first, then any other deployment of a wasm
// platform: hosts store modules by content hash, so any that has it serves the same bytes.
func (x *Executor) fetch(ctx context.Context, m *manifest.Manifest, j *manifest.Job) ([]byte, error) {
	sha := j.Artifact(platform.ArtifactWASM)
	sources := x.cfg.Fetcher.Sources(m, j, platform.ArtifactWASM, sha)
	if len(sources) == 0 {
		return nil, fmt.Errorf("%w: no deployment in the manifest to fetch module %s of job %q from", localexec.ErrUnavailable, sha, j.Name)
	}
	var errs []error
	for _, d := range sources {
		code, err := x.cfg.Fetcher.FetchArtifact(ctx, d, sha)
		if err == nil {
			return code, nil
		}
		errs = append(errs, fmt.Errorf("%s/%s: %w", d.Platform, d.Region, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: fetching module %s of job %q: %w", localexec.ErrUnavailable, sha, j.Name, errors.Join(errs...))
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
