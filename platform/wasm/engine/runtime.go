package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/platform/wasm"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// RuntimeConfig configures a Runtime. The zero value works.
type RuntimeConfig struct {
	// CacheDir holds wazero's compilation cache on disk: compiling a Go module takes about a
	// second, reading it back from the cache a tenth of that. "" = <user cache dir>/blueprint/wazero.
	CacheDir string
	Logger   hclog.Logger
	// MaxIdleInstances bounds the resident instances kept per module and configuration for pure
	// jobs; 0 = 2*GOMAXPROCS.
	MaxIdleInstances int
	// SpareInstances is how many started, never-used instances are kept ready per module and
	// configuration for jobs that are not pure, so that their fresh instance does not cost the
	// Go runtime start-up (milliseconds) inside the call. Spares are started in the background
	// after a call used one; each serves exactly one call. 0 = 1; negative = none. At most
	// maxSpareInstances exist per runtime (each holds a few MB of memory).
	SpareInstances int
	// SkipTerminationChecks compiles modules without the checks that let a timeout or a
	// cancelled context stop a running call. Calls get 2 to 10 times faster (the checks are an
	// indirect call at every loop header, see docs/performance.md, "WASM platform"), but InvokeOptions.Timeout
	// can no longer stop a job that loops forever. Only for code the caller would otherwise run
	// natively with the same trust, e.g. an agent running its own jobs in-process; never for a
	// host that accepts code.
	SkipTerminationChecks bool
}

// ErrUnknownEntry is returned (wrapped) when a module has no job by the requested name.
var ErrUnknownEntry = errors.New("module has no such job")

// ErrInstanceFailed is returned (wrapped) when the module trapped, ran out of memory or exited:
// the instance is discarded and the job did not produce a result.
var ErrInstanceFailed = errors.New("wasm instance failed")

// ErrUnloaded is returned (wrapped) by an invocation of a module that was unloaded before the
// call got an instance: the job did not run. A host sees it when the function's last user was
// deleted or redeployed with other code while the invocation started.
var ErrUnloaded = errors.New("module was unloaded")

// Runtime compiles and runs job modules in-process. It is safe for concurrent use.
type Runtime struct {
	wz      wazero.Runtime
	log     hclog.Logger
	maxIdle int
	spares  int
	// spareCount counts spare instances across modules, bounded by maxSpareInstances.
	spareCount atomic.Int64
	mu         sync.Mutex
	modules    map[string]*Module
	loading    map[string]*loadCall
	closed     bool
	cacheDir   string
}

type loadCall struct {
	done chan struct{}
	mod  *Module
	err  error
}

// NewRuntime creates a runtime with WASI and the Blueprint host functions (job state) available
// to modules, and a compilation cache on disk.
func NewRuntime(ctx context.Context, cfg RuntimeConfig) (*Runtime, error) {
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	cacheDir := cfg.CacheDir
	if cacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("finding the user cache directory for the wasm compilation cache (set CacheDir): %w", err)
		}
		cacheDir = filepath.Join(base, "blueprint", "wazero")
	}
	cache, err := wazero.NewCompilationCacheWithDir(cacheDir)
	if err != nil {
		return nil, fmt.Errorf("opening wasm compilation cache %s: %w", cacheDir, err)
	}
	// CloseOnContextDone makes a timed-out call stop even inside a loop with no calls: wazero
	// checks at every loop header. It is what makes Timeout safe against runaway jobs.
	wz := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithCloseOnContextDone(!cfg.SkipTerminationChecks))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, wz); err != nil {
		wz.Close(ctx)
		return nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	if err := instantiateHostModule(ctx, wz); err != nil {
		wz.Close(ctx)
		return nil, err
	}
	spares := cfg.SpareInstances
	if spares == 0 {
		spares = 1
	}
	maxIdle := cfg.MaxIdleInstances
	if maxIdle <= 0 {
		maxIdle = 2 * runtime.GOMAXPROCS(0)
	}
	return &Runtime{
		wz:       wz,
		log:      log.Named("wasm"),
		maxIdle:  maxIdle,
		spares:   spares,
		modules:  map[string]*Module{},
		loading:  map[string]*loadCall{},
		cacheDir: cacheDir,
	}, nil
}

// Load compiles a module, or returns the one already compiled from the same bytes. It checks
// that the module is a Blueprint job module of a supported ABI.
func (r *Runtime) Load(ctx context.Context, code []byte) (*Module, error) {
	sum := sha256.Sum256(code)
	key := hex.EncodeToString(sum[:])
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("loading wasm module: runtime is closed")
	}
	if m, ok := r.modules[key]; ok {
		r.mu.Unlock()
		return m, nil
	}
	if c, ok := r.loading[key]; ok {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.mod, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c := &loadCall{done: make(chan struct{})}
	r.loading[key] = c
	r.mu.Unlock()

	c.mod, c.err = r.compile(ctx, key, code)

	r.mu.Lock()
	delete(r.loading, key)
	if c.err == nil {
		if r.closed {
			c.mod.cancelStarts()
			c.mod.compiled.Close(ctx)
			c.mod, c.err = nil, errors.New("loading wasm module: runtime is closed")
		} else {
			r.modules[key] = c.mod
		}
	}
	r.mu.Unlock()
	close(c.done)
	return c.mod, c.err
}

func (r *Runtime) compile(ctx context.Context, key string, code []byte) (*Module, error) {
	compiled, err := r.wz.CompileModule(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("compiling wasm module %s: %w", key, err)
	}
	exports := compiled.ExportedFunctions()
	for _, name := range []string{wasm.ExportAlloc, wasm.ExportInvoke, wasm.ExportABIVersion, wasm.ExportJobs, wasm.StartFunction} {
		if _, ok := exports[name]; !ok {
			compiled.Close(ctx)
			return nil, fmt.Errorf("wasm module %s is not a Blueprint job module: it does not export %s (build it with `blueprint build`)", key, name)
		}
	}
	r.log.Debug("compiled module", "sha256", key)
	startCtx, cancel := context.WithCancel(context.Background())
	return &Module{rt: r, sha: key, compiled: compiled, pools: map[poolKey][]*instance{},
		spares: map[poolKey][]*instance{}, starting: map[poolKey]bool{}, startCtx: startCtx, cancelStarts: cancel}, nil
}

// Unload forgets a module: idle instances are closed now, running ones when their call ends.
// Loading the same bytes again compiles it again (from the disk cache).
func (r *Runtime) Unload(ctx context.Context, sha256Hex string) error {
	r.mu.Lock()
	m, ok := r.modules[sha256Hex]
	delete(r.modules, sha256Hex)
	r.mu.Unlock()
	if !ok {
		return nil
	}
	return m.close(ctx)
}

// Close closes every module and instance and the runtime itself.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	mods := r.modules
	r.modules = map[string]*Module{}
	r.mu.Unlock()
	var errs []error
	for _, m := range mods {
		errs = append(errs, m.close(ctx))
	}
	errs = append(errs, r.wz.Close(ctx))
	return errors.Join(errs...)
}

// maxSpareInstances bounds the spare instances of one runtime (about 3.4 MB each for a small
// Go module), so a host with many functions does not hold a spare for every one of them.
const maxSpareInstances = 32

// spareStartTimeout bounds a background start: a package init that never returns must not
// hold a goroutine forever.
const spareStartTimeout = 30 * time.Second

// randSource gives modules real randomness: wazero's default is a fixed seed, which would make
// every key a job generates with crypto/rand the same.
var randSource = rand.Reader
