package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/platform/wasm"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// InvokeOptions are the limits and environment of one call.
type InvokeOptions struct {
	// Pure says the analysis proved the job pure: its instance may be reused for later calls.
	// Anything else runs in a fresh instance that is closed afterwards, so no state leaks
	// between calls.
	Pure bool
	// MemoryMB limits the instance's linear memory; 0 = no limit beyond wasm's 4 GiB.
	MemoryMB int64
	// Timeout bounds the call; 0 = only the caller's context.
	Timeout time.Duration
	// Environment is the whole environment the module sees.
	Environment map[string]string
	// State is the job.State a stateful job reads and writes; nil makes its state calls fail.
	State job.State
}

// Module is a compiled job module with pools of resident instances.
type Module struct {
	rt       *Runtime
	sha      string
	compiled wazero.CompiledModule
	abiOK    atomic.Bool

	mu     sync.Mutex
	pools  map[poolKey][]*instance // resident instances of pure jobs, reused
	spares map[poolKey][]*instance // started, never used; each serves one call
	// starting marks keys with a spare being started in the background; close cancels and
	// waits for those starts (wazero must not close what it is still instantiating).
	starting     map[poolKey]bool
	startWG      sync.WaitGroup
	cancelStarts context.CancelFunc
	startCtx     context.Context
	closed       bool
	jobs         []string // job names, read once from the module
}

// poolKey separates instances by what is fixed at instantiation: memory limit and environment.
type poolKey struct {
	memoryMB int64
	env      string
}

func keyOf(opts InvokeOptions) poolKey {
	if len(opts.Environment) == 0 {
		return poolKey{memoryMB: opts.MemoryMB}
	}
	names := make([]string, 0, len(opts.Environment))
	for k := range opts.Environment {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%d:%s=%d:%s;", len(k), k, len(opts.Environment[k]), opts.Environment[k])
	}
	return poolKey{memoryMB: opts.MemoryMB, env: b.String()}
}

// SHA256 is the lowercase hex SHA-256 of the module bytes.
func (m *Module) SHA256() string { return m.sha }

// Invoke runs the job named entry with a JSON input and returns its JSON output. A job that
// returns an error, panics or cannot decode its input gives a *platform.FunctionError; a trap,
// an exhausted memory limit or a timeout gives an ordinary error (wrapping ErrInstanceFailed or
// context.DeadlineExceeded) and the instance is discarded.
func (m *Module) Invoke(ctx context.Context, entry string, input []byte, opts InvokeOptions) ([]byte, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	if opts.State != nil {
		ctx = context.WithValue(ctx, stateKey{}, opts.State)
	}
	key := keyOf(opts)
	var inst *instance
	if opts.Pure {
		inst = m.takeIdle(key)
	}
	if inst == nil && !opts.Pure {
		inst = m.takeSpare(key)
		m.startSpare(key, opts)
	}
	if inst == nil {
		var err error
		if inst, err = m.instantiate(ctx, opts); err != nil {
			return nil, m.callError(ctx, entry, opts, nil, err)
		}
	}
	status, payload, err := inst.call(ctx, entry, input)
	if m.rt.log.IsDebug() {
		// What the job printed; kept at debug level since jobs may print on every call.
		if out := inst.output.String(); out != "" {
			m.rt.log.Debug("job output", "job", entry, "module", m.sha[:12], "output", out)
		}
	}
	if err != nil {
		inst.close(context.Background())
		return nil, m.callError(ctx, entry, opts, inst, err)
	}
	if opts.Pure {
		m.putIdle(key, inst)
	} else {
		inst.close(context.Background())
	}
	switch status {
	case wasm.StatusOK:
		return payload, nil
	case wasm.StatusJobError:
		fe := &platform.FunctionError{}
		if err := json.Unmarshal(payload, fe); err != nil || fe.Type == "" {
			return nil, fmt.Errorf("job %q: %w: malformed error result %q", entry, ErrInstanceFailed, payload)
		}
		return nil, fe
	case wasm.StatusUnknownEntry:
		return nil, fmt.Errorf("module %s: %w: %s", m.sha[:12], ErrUnknownEntry, payload)
	default:
		return nil, fmt.Errorf("job %q: %w: unknown result status %d", entry, ErrInstanceFailed, status)
	}
}

func (m *Module) callError(ctx context.Context, entry string, opts InvokeOptions, inst *instance, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) && opts.Timeout > 0 {
			return fmt.Errorf("job %q timed out after %s: %w", entry, opts.Timeout, context.DeadlineExceeded)
		}
		return fmt.Errorf("job %q: %w", entry, ctxErr)
	}
	if errors.Is(err, ErrUnloaded) {
		return fmt.Errorf("job %q: %w", entry, err)
	}
	detail := ""
	if inst != nil {
		if tail := strings.TrimSpace(inst.output.String()); tail != "" {
			detail = "; module output: " + tail
		}
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) && strings.Contains(detail, "out of memory") {
		return fmt.Errorf("job %q ran out of memory (limit %d MB): %w%s", entry, opts.MemoryMB, ErrInstanceFailed, detail)
	}
	return fmt.Errorf("job %q: %w: %v%s", entry, ErrInstanceFailed, err, detail)
}

// Jobs lists the job names the module dispatches (its valid entries), sorted. The first call
// starts an instance to ask the module; later calls answer from memory.
func (m *Module) Jobs(ctx context.Context) ([]string, error) {
	m.mu.Lock()
	jobs := m.jobs
	m.mu.Unlock()
	if jobs != nil {
		return append([]string(nil), jobs...), nil
	}
	inst, err := m.instantiate(ctx, InvokeOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the jobs of module %s: %w", m.sha, err)
	}
	defer inst.close(context.Background())
	res, err := inst.mod.ExportedFunction(wasm.ExportJobs).Call(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the jobs of module %s: %w", m.sha, err)
	}
	raw, ok := inst.mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
	if !ok || json.Unmarshal(raw, &jobs) != nil {
		return nil, fmt.Errorf("listing the jobs of module %s: malformed answer", m.sha)
	}
	if jobs == nil {
		jobs = []string{}
	}
	m.mu.Lock()
	m.jobs = jobs
	m.mu.Unlock()
	return append([]string(nil), jobs...), nil
}

func (m *Module) takeSpare(key poolKey) *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	spares := m.spares[key]
	if len(spares) == 0 {
		return nil
	}
	inst := spares[0]
	m.spares[key] = spares[1:]
	m.rt.spareCount.Add(-1)
	return inst
}

// startSpare starts a spare instance for key in the background unless one is on its way, the
// key has its share, or the runtime its total.
func (m *Module) startSpare(key poolKey, opts InvokeOptions) {
	if m.rt.spares < 0 {
		return
	}
	m.mu.Lock()
	if m.closed || m.starting[key] || len(m.spares[key]) >= m.rt.spares || m.rt.spareCount.Load() >= maxSpareInstances {
		m.mu.Unlock()
		return
	}
	m.starting[key] = true
	m.startWG.Add(1)
	m.mu.Unlock()
	// Only what is fixed at instantiation goes along; state and timeout belong to calls.
	opts = InvokeOptions{MemoryMB: opts.MemoryMB, Environment: opts.Environment}
	go func() {
		defer m.startWG.Done()
		ctx, cancel := context.WithTimeout(m.startCtx, spareStartTimeout)
		defer cancel()
		inst, err := m.instantiate(ctx, opts)
		m.mu.Lock()
		delete(m.starting, key)
		keep := err == nil && !m.closed && m.rt.spareCount.Load() < maxSpareInstances
		if keep {
			m.spares[key] = append(m.spares[key], inst)
			m.rt.spareCount.Add(1)
		}
		m.mu.Unlock()
		if err != nil {
			m.rt.log.Debug("starting a spare instance failed", "module", m.sha[:12], "error", err)
		} else if !keep {
			inst.close(context.Background())
		}
	}()
}

// SpareInstances reports how many started, never-used instances wait (for tests and metrics).
func (m *Module) SpareInstances() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.spares {
		n += len(s)
	}
	return n
}

func (m *Module) takeIdle(key poolKey) *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	pool := m.pools[key]
	if len(pool) == 0 {
		return nil
	}
	inst := pool[len(pool)-1]
	m.pools[key] = pool[:len(pool)-1]
	return inst
}

func (m *Module) putIdle(key poolKey, inst *instance) {
	m.mu.Lock()
	if !m.closed && len(m.pools[key]) < m.rt.maxIdle {
		m.pools[key] = append(m.pools[key], inst)
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	inst.close(context.Background())
}

// IdleInstances reports how many resident instances wait in the pools (for tests and metrics).
func (m *Module) IdleInstances() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.pools {
		n += len(p)
	}
	return n
}

func (m *Module) close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	var instances []*instance
	for _, p := range m.pools {
		instances = append(instances, p...)
	}
	for _, s := range m.spares {
		instances = append(instances, s...)
		m.rt.spareCount.Add(-int64(len(s)))
	}
	m.pools = map[poolKey][]*instance{}
	m.spares = map[poolKey][]*instance{}
	m.mu.Unlock()
	m.cancelStarts()
	m.startWG.Wait()
	for _, inst := range instances {
		inst.close(ctx)
	}
	return m.compiled.Close(ctx)
}

// instantiate starts a fresh instance: the module's _initialize runs the Go runtime start-up.
func (m *Module) instantiate(ctx context.Context, opts InvokeOptions) (*instance, error) {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("module %s: %w", m.sha, ErrUnloaded)
	}
	out := &tailBuffer{limit: 4096}
	// No file system, no network, no arguments: only what WASI gives every module, real clocks
	// and randomness, and the environment the function was deployed with.
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(wasm.StartFunction).
		WithStdout(out).
		WithStderr(out).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(randSource)
	for k, v := range opts.Environment {
		cfg = cfg.WithEnv(k, v)
	}
	var limit uint64
	if opts.MemoryMB > 0 {
		limit = uint64(opts.MemoryMB) << 20
	}
	ictx := experimental.WithMemoryAllocator(ctx, newMemoryAllocator(limit))
	mod, err := m.rt.wz.InstantiateModule(ictx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("starting module: %w", err)
	}
	inst := &instance{
		mod:    mod,
		alloc:  mod.ExportedFunction(wasm.ExportAlloc),
		invoke: mod.ExportedFunction(wasm.ExportInvoke),
		output: out,
	}
	if !m.abiOK.Load() {
		res, err := mod.ExportedFunction(wasm.ExportABIVersion).Call(ctx)
		if err != nil {
			inst.close(ctx)
			return nil, fmt.Errorf("reading module ABI version: %w", err)
		}
		if uint32(res[0]) != wasm.ABIVersion {
			inst.close(ctx)
			return nil, fmt.Errorf("module speaks Blueprint ABI %d, this runtime speaks %d: rebuild it with this version of blueprint", uint32(res[0]), wasm.ABIVersion)
		}
		m.abiOK.Store(true)
	}
	return inst, nil
}

// instance is one resident module instance. It is used by one call at a time.
type instance struct {
	mod    api.Module
	alloc  api.Function
	invoke api.Function
	output *tailBuffer
	buf    uint32 // address of the guest's input buffer (0 = none yet)
	bufCap uint32
	stack  [4]uint64
}

func (i *instance) call(ctx context.Context, entry string, input []byte) (byte, []byte, error) {
	i.output.Reset()
	total := len(entry) + len(input)
	if uint64(total) > 1<<31 {
		return 0, nil, fmt.Errorf("input of %d bytes is too large for a wasm module", len(input))
	}
	if i.buf == 0 || uint32(total) > i.bufCap {
		// Grow in powers of two so that slightly larger inputs do not reallocate every time.
		want := uint32(256)
		for want < uint32(total) {
			want *= 2
		}
		i.stack[0] = uint64(want)
		if err := i.alloc.CallWithStack(ctx, i.stack[:]); err != nil {
			return 0, nil, err
		}
		i.buf, i.bufCap = uint32(i.stack[0]), want
	}
	mem := i.mod.Memory()
	if !mem.WriteString(i.buf, entry) || !mem.Write(i.buf+uint32(len(entry)), input) {
		return 0, nil, errors.New("writing input outside the module's memory")
	}
	i.stack[0] = uint64(i.buf)
	i.stack[1] = uint64(len(entry))
	i.stack[2] = uint64(i.buf) + uint64(len(entry))
	i.stack[3] = uint64(len(input))
	if err := i.invoke.CallWithStack(ctx, i.stack[:]); err != nil {
		return 0, nil, err
	}
	ptr, n := uint32(i.stack[0]>>32), uint32(i.stack[0])
	if n == 0 {
		return 0, nil, errors.New("module returned an empty result")
	}
	res, ok := mem.Read(ptr, n)
	if !ok {
		return 0, nil, fmt.Errorf("module returned a result outside its memory (%d bytes at %d)", n, ptr)
	}
	// Copy: the bytes belong to the guest and change on the next call.
	payload := make([]byte, n-1)
	copy(payload, res[1:])
	return res[0], payload, nil
}

func (i *instance) close(ctx context.Context) { _ = i.mod.Close(ctx) }

// tailBuffer keeps the last bytes a module wrote to stdout/stderr, for error messages (the Go
// runtime prints why it crashed there).
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) Reset() {
	t.mu.Lock()
	t.buf = t.buf[:0]
	t.mu.Unlock()
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
