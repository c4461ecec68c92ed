package runtimeagent

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/runtimeagent/localexec"
)

// LocalExecutors runs a job with its native bootstrap when the state records one (any job,
// at native speed, with the VM's files and processes), else in wasm (states applied before
// native artifacts existed). A pure job that has both runs where it measures faster: a native
// worker costs a few hundred microseconds of protocol per call, a resident wasm instance a few
// tens, so tiny jobs win in wasm and heavy ones natively. Either executor may be nil.
type LocalExecutors struct {
	Native LocalExecutor
	WASM   LocalExecutor
	// ProbeWASMBelow: a job that takes longer than this natively is never tried in wasm;
	// 0 = wasmCanWinBelow.
	ProbeWASMBelow time.Duration

	mu    sync.Mutex
	speed map[speedKey]*speedChoice
}

// speedKey names one job's pair of artifacts: a redeploy measures afresh.
type speedKey struct{ job, native, wasm string }

// speedChoice is what the two executors measured for one job: the mean of recent successful
// runs (an exponentially weighted moving average) and how many there were.
type speedChoice struct {
	native, wasm   time.Duration
	nNative, nWASM int
	calls          int
	warming        bool // the wasm module is being prepared in the background
}

const (
	// speedSamples runs on each executor before their averages are trusted.
	speedSamples = 5
	// speedReprobe: every this many calls, one goes to the slower executor, so a change in
	// the job's inputs or the machine's load is noticed.
	speedReprobe = 200
	// wasmCanWinBelow: a job that takes longer than this natively is never tried in wasm. The
	// worker protocol costs a few hundred microseconds; Go code runs 5–40× slower in wasm, so
	// above a couple of milliseconds wasm cannot win, and probing would only hold a local slot.
	wasmCanWinBelow = 2 * time.Millisecond
)

var (
	_ LocalExecutor = (*LocalExecutors)(nil)
	_ Warmer        = (*LocalExecutors)(nil)
	_ kindReporter  = (*LocalExecutors)(nil)
)

// kindReporter is a local executor that says which kind of artifact ran an execution (the
// memo key is that artifact's hash).
type kindReporter interface {
	ExecuteReporting(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, platform.ArtifactKind, error)
}

// both reports whether j may run either way: pure (nothing of a run leaks into the next), with
// both artifacts, and both executors present.
func (l *LocalExecutors) both(j *manifest.Job) bool {
	return l.Native != nil && l.WASM != nil && j.Analysis.Pure &&
		j.Artifact(platform.ArtifactNative) != "" && j.Artifact(platform.ArtifactWASM) != ""
}

// first is the executor j starts on: native when it has a native artifact (or there is no
// wasm executor), else wasm. Nil when the agent has neither.
func (l *LocalExecutors) first(j *manifest.Job) LocalExecutor {
	if l.Native != nil && (j.Artifact(platform.ArtifactNative) != "" || l.WASM == nil) {
		return l.Native
	}
	return l.WASM
}

// pick is the executor that runs j now: for a pure job with both artifacts, the one measured
// faster; else the one it starts on.
func (l *LocalExecutors) pick(m *manifest.Manifest, j *manifest.Job) LocalExecutor {
	if l.both(j) && l.preferWASM(m, j) {
		return l.WASM
	}
	return l.first(j)
}

func (l *LocalExecutors) key(j *manifest.Job) speedKey {
	return speedKey{j.Name, j.Artifact(platform.ArtifactNative), j.Artifact(platform.ArtifactWASM)}
}

// preferWASM measures both executors first, then picks the faster, re-probing now and then.
// The wasm module is compiled in the background before its first probe: compiling takes a
// second or more, which no caller should wait for.
func (l *LocalExecutors) preferWASM(m *manifest.Manifest, j *manifest.Job) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.speed == nil {
		l.speed = map[speedKey]*speedChoice{}
	}
	c := l.speed[l.key(j)]
	if c == nil {
		c = &speedChoice{}
		l.speed[l.key(j)] = c
	}
	c.calls++
	switch {
	case c.nNative < speedSamples:
		return false
	case c.native > cmp.Or(l.ProbeWASMBelow, wasmCanWinBelow) && c.nWASM < speedSamples:
		return false
	case !l.wasmReady(m, j, c):
		return false
	case c.nWASM < speedSamples:
		return true
	}
	faster := c.wasm < c.native
	if c.calls%speedReprobe == 0 {
		return !faster
	}
	return faster
}

// wasmReady reports whether j's wasm module is ready, starting to prepare it once when not
// (called with l.mu held).
func (l *LocalExecutors) wasmReady(m *manifest.Manifest, j *manifest.Job, c *speedChoice) bool {
	r, ok := l.WASM.(localexec.Ready)
	if !ok || r.Ready(j) {
		return true
	}
	w, ok := l.WASM.(Warmer)
	if !ok || c.warming {
		return false
	}
	c.warming = true
	go func() {
		err := w.Warm(context.Background(), m, j)
		l.mu.Lock()
		c.warming = false
		if err != nil {
			// No wasm here for this job: measure no further, stay native.
			c.nWASM, c.wasm = speedSamples, time.Duration(1<<62)
		}
		l.mu.Unlock()
	}()
	return false
}

func (l *LocalExecutors) observe(j *manifest.Job, wasm bool, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.speed[l.key(j)]
	if c == nil {
		return
	}
	mean, n := &c.native, &c.nNative
	if wasm {
		mean, n = &c.wasm, &c.nWASM
	}
	switch *n {
	case 0:
		// The first run pays for fetching, compiling or starting: not the executor's speed.
	case 1:
		*mean = d
	default:
		*mean += (d - *mean) / 4
	}
	*n++
}

// Execute runs j with the executor of its artifact.
func (l *LocalExecutors) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	out, _, err := l.ExecuteReporting(ctx, m, j, input)
	return out, err
}

// ExecuteReporting runs j and says which kind of artifact ran it.
func (l *LocalExecutors) ExecuteReporting(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, platform.ArtifactKind, error) {
	x := l.pick(m, j)
	if x == nil {
		return nil, "", ErrLocalUnavailable
	}
	start := time.Now()
	out, err := x.Execute(ctx, m, j, input)
	if err == nil && l.both(j) {
		l.observe(j, x == l.WASM, time.Since(start))
	}
	return out, x.ArtifactKind(j), err
}

// ArtifactKind is the kind j would run as here: native when it has one (a pure job may run in
// wasm instead; ExecuteReporting says which ran).
func (l *LocalExecutors) ArtifactKind(j *manifest.Job) platform.ArtifactKind {
	if x := l.first(j); x != nil {
		return x.ArtifactKind(j)
	}
	return ""
}

// Warm prepares j with the executor it starts on (native when it has it): warming both for
// every job would compile every wasm module at start.
func (l *LocalExecutors) Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error {
	if w, ok := l.first(j).(Warmer); ok {
		return w.Warm(ctx, m, j)
	}
	return nil
}
