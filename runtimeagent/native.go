package runtimeagent

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/runtimeagent/localexec"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// NativeExecutorConfig configures a NativeExecutor.
type NativeExecutorConfig struct {
	// CacheDir keeps verified binaries (<CacheDir>/<sha256>.bin); required.
	CacheDir string
	// Workers is the most worker processes per binary and environment; 0 = 1.
	Workers int
	// OpenStore opens the artifact store a job names; nil = artifactstore.Open.
	OpenStore func(url string) (artifactstore.Store, error)
	// States gives stateful jobs their job.State; the agent serves it to the worker running
	// them. nil = no state store (stateful jobs fail when they touch state).
	States *statestore.Stores
	Logger hclog.Logger
}

// NativeExecutor runs jobs in worker processes of the job package's native bootstrap, the same
// binary AWS Lambda runs, and serves each worker the Lambda Runtime API as Lambda does: the
// worker asks for the next invocation, runs it, and posts a response or an error. A worker
// runs one invocation at a time. One that crashes or outlives the job's timeout is killed and
// replaced, and its execution is answered with an error; the agent never runs it again here.
type NativeExecutor struct {
	cfg NativeExecutorConfig
	log hclog.Logger

	mu     sync.Mutex
	pools  map[poolKey]*workerPool
	closed bool
	bins   localexec.LoadOnce[string] // verified binary paths, by sha256
}

type poolKey struct{ sha, env string }

var (
	_ LocalExecutor = (*NativeExecutor)(nil)
	_ Warmer        = (*NativeExecutor)(nil)
)

// NewNativeExecutor checks the configuration.
func NewNativeExecutor(cfg NativeExecutorConfig) (*NativeExecutor, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("native executor: no cache directory; pass --cache DIR")
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, fmt.Errorf("native executor: creating cache: %w", err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.OpenStore == nil {
		cfg.OpenStore = artifactstore.Open
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &NativeExecutor{cfg: cfg, log: cfg.Logger, pools: map[poolKey]*workerPool{}}, nil
}

// ArtifactKind is what the executor runs: the job's native bootstrap.
func (x *NativeExecutor) ArtifactKind(*manifest.Job) platform.ArtifactKind {
	return platform.ArtifactNative
}

// Warm fetches and verifies the job's binary and starts one worker.
func (x *NativeExecutor) Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error {
	p, err := x.pool(ctx, j)
	if err != nil {
		return err
	}
	w, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	p.release(w)
	return nil
}

// Execute runs the job in a worker and returns its output; a job error is a
// *platform.FunctionError.
func (x *NativeExecutor) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	p, err := x.pool(ctx, j)
	if err != nil {
		return nil, err
	}
	var state job.State
	var stateErr error
	if j.Analysis.RequiresState {
		if x.cfg.States == nil {
			stateErr = fmt.Errorf("this agent has no state stores")
		} else {
			state, stateErr = x.cfg.States.For(j.StateStore, j.Name)
		}
	}
	return p.invoke(ctx, &invocation{job: j.Name, input: input, timeout: j.EffectiveTimeout(), state: state, stateErr: stateErr,
		clientContext: workerClientContext(ctx)})
}

// Close stops every worker.
func (x *NativeExecutor) Close() {
	x.mu.Lock()
	x.closed = true
	pools := slices.Collect(maps.Values(x.pools))
	x.mu.Unlock()
	for _, p := range pools {
		p.close()
	}
}

func (x *NativeExecutor) pool(ctx context.Context, j *manifest.Job) (*workerPool, error) {
	sha := j.Artifact(platform.ArtifactNative)
	if !localexec.IsSHA256(sha) {
		return nil, fmt.Errorf("%w: job %q has no native artifact (artifacts %v): apply it with a provider that builds one", ErrLocalUnavailable, j.Name, j.Artifacts)
	}
	bin, err := x.binary(ctx, j, sha)
	if err != nil {
		return nil, err
	}
	env := workerEnv(j)
	key := poolKey{sha: sha, env: strings.Join(env, "\x00")}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return nil, fmt.Errorf("%w: the agent is shutting down", ErrLocalUnavailable)
	}
	p := x.pools[key]
	if p == nil {
		// One pool serves every job of the package that shares this environment: its lines name
		// the binary, and each line about an invocation names its job.
		p = newWorkerPool(bin, env, x.cfg.Workers, x.log.Named("worker").With("bootstrap", sha[:12]))
		x.pools[key] = p
	}
	return p, nil
}

// workerEnv is the environment of a job's workers: the job's own variables and a soft memory
// limit at the job's memory, nothing of the agent's.
func workerEnv(j *manifest.Job) []string {
	env := []string{"GOMEMLIMIT=" + strconv.FormatInt(j.EffectiveMemoryMB(), 10) + "MiB", "TZ=UTC"}
	for _, k := range slices.Sorted(maps.Keys(j.Environment)) {
		env = append(env, k+"="+j.Environment[k])
	}
	return env
}

// binary returns the verified path of the binary sha, fetched once from the job's store.
func (x *NativeExecutor) binary(ctx context.Context, j *manifest.Job, sha string) (string, error) {
	return x.bins.Get(ctx, sha, "binary", func() (string, error) { return x.fetch(ctx, j, sha) })
}

func (x *NativeExecutor) fetch(ctx context.Context, j *manifest.Job, sha string) (string, error) {
	path := filepath.Join(x.cfg.CacheDir, sha+".bin")
	if got, err := fileSHA256(path); err == nil {
		if got == sha {
			return path, nil
		}
		x.log.Warn("cached binary is corrupt; fetching it again", "path", path)
	}
	if j.ArtifactStore == "" {
		return "", fmt.Errorf("%w: job %q names no artifact store to fetch its native binary %s from; apply it again", ErrLocalUnavailable, j.Name, sha)
	}
	store, err := x.cfg.OpenStore(j.ArtifactStore)
	if err != nil {
		return "", fmt.Errorf("%w: job %q: %v", ErrLocalUnavailable, j.Name, err)
	}
	if err := store.Fetch(ctx, sha, path); err != nil {
		return "", fmt.Errorf("%w: fetching the native binary of job %q: %v", ErrLocalUnavailable, j.Name, err)
	}
	x.log.Info("native binary ready for local runs", "job", j.Name, "sha256", sha)
	return path, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// workerPool is the workers of one binary and environment.
type workerPool struct {
	bin  string
	env  []string
	size int
	log  hclog.Logger

	mu      sync.Mutex
	idle    []*worker
	running int // workers started and not yet exited or discarded
	freed   chan struct{}
	closed  bool
	stopped chan struct{} // closed by close: ends the reaper
}

// workerIdleTimeout is how long a worker may sit idle before it is stopped: a job called
// rarely should not hold a process (and its memory) between calls.
const workerIdleTimeout = 5 * time.Minute

func newWorkerPool(bin string, env []string, size int, log hclog.Logger) *workerPool {
	p := &workerPool{bin: bin, env: env, size: size, log: log, freed: make(chan struct{}, 1), stopped: make(chan struct{})}
	go p.reap(workerIdleTimeout)
	return p
}

// reap stops workers idle for longer than timeout, checking a few times per timeout.
func (p *workerPool) reap(timeout time.Duration) {
	tick := time.NewTicker(timeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case now := <-tick.C:
			p.reapIdle(now, timeout)
		}
	}
}

// reapIdle stops the workers idle since before now-timeout.
func (p *workerPool) reapIdle(now time.Time, timeout time.Duration) {
	p.mu.Lock()
	var old []*worker
	kept := p.idle[:0]
	for _, w := range p.idle {
		if now.Sub(w.idleSince) > timeout {
			old = append(old, w)
		} else {
			kept = append(kept, w)
		}
	}
	p.idle = kept
	p.mu.Unlock()
	for _, w := range old {
		p.discard(w)
	}
}

func (p *workerPool) acquire(ctx context.Context) (*worker, error) {
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, fmt.Errorf("%w: the agent is shutting down", ErrLocalUnavailable)
		}
		for len(p.idle) > 0 {
			w := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			if w.alive() {
				p.mu.Unlock()
				return w, nil
			}
			p.running-- // it exited while idle (a panic's exit, a crash): drop it
		}
		if p.running < p.size {
			p.running++
			p.mu.Unlock()
			w, err := startWorker(p.bin, p.env, p.log)
			if err != nil {
				p.discard(nil)
				return nil, fmt.Errorf("%w: starting a worker: %v", ErrLocalUnavailable, err)
			}
			return w, nil
		}
		p.mu.Unlock()
		select {
		case <-p.freed:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for a worker: %v", ErrLocalUnavailable, ctx.Err())
		}
	}
}

func (p *workerPool) release(w *worker) {
	p.mu.Lock()
	if p.closed || !w.alive() {
		p.mu.Unlock()
		p.discard(w)
		return
	}
	w.idleSince = time.Now()
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	p.signal()
}

// discard stops w (when given) and frees its place in the pool.
func (p *workerPool) discard(w *worker) {
	if w != nil {
		w.stop()
	}
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
	p.signal()
}

func (p *workerPool) signal() {
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

func (p *workerPool) close() {
	p.mu.Lock()
	if !p.closed {
		close(p.stopped)
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w.stop()
	}
}

// maxStartAttempts bounds how often an invocation is handed to a fresh worker that exits before
// taking it (a binary that cannot start): the job has not run, so trying again is safe.
const maxStartAttempts = 3

// invoke runs one invocation. Until a worker has taken it, the job has not run and a dead
// worker is simply replaced; after, a worker that dies or hangs ends the invocation.
func (p *workerPool) invoke(ctx context.Context, inv *invocation) ([]byte, error) {
	inv.id, inv.deadline, inv.done = newRequestID(), time.Now().Add(inv.timeout), make(chan invokeResult, 1)
	jobName := inv.job
	for attempt := 1; ; attempt++ {
		w, err := p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		select {
		case w.next <- inv:
		case <-w.exited:
			p.discard(w)
			if attempt >= maxStartAttempts {
				return nil, fmt.Errorf("%w: the worker of job %q exited before taking an invocation, %d times: %s", ErrLocalUnavailable, jobName, attempt, w.exitReason())
			}
			continue
		case <-ctx.Done():
			p.release(w)
			return nil, ctx.Err()
		}
		return p.await(ctx, w, inv)
	}
}

// await waits for the taken invocation's answer, the worker's death, or its deadline.
func (p *workerPool) await(ctx context.Context, w *worker, inv *invocation) ([]byte, error) {
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.done:
		p.release(w)
		return r.output, r.err
	case <-w.exited:
		p.discard(w)
		// An answer may have arrived just before the exit (a panic reports, then exits).
		select {
		case r := <-inv.done:
			return r.output, r.err
		default:
		}
		p.log.Error("worker crashed while running a job; replaced", traced(ctx, "job", inv.job, "invocation", inv.id, "reason", w.exitReason())...)
		return nil, fmt.Errorf("the worker process running job %q crashed (%s); the job was not run again", inv.job, w.exitReason())
	case <-timer.C:
		p.log.Warn("worker ran past the job's timeout; killed and replaced", traced(ctx, "job", inv.job, "invocation", inv.id)...)
		p.discard(w)
		return nil, fmt.Errorf("job %q ran past its timeout of %s; its worker was killed: %w", inv.job, inv.timeout, context.DeadlineExceeded)
	case <-ctx.Done():
		// The caller left (or a hedged twin won). The job keeps running in its worker; the
		// worker goes back to the pool when it answers, or is replaced when it dies or hangs.
		go func() { _, _ = p.await(context.Background(), w, inv) }()
		return nil, ctx.Err()
	}
}

type invocation struct {
	id       string
	job      string
	input    []byte
	timeout  time.Duration
	deadline time.Time
	done     chan invokeResult // buffered: the Runtime API handler never blocks on it
	answered atomic.Bool
	// state is the job's state, served to the worker while the invocation runs; stateErr
	// says why there is none.
	state    job.State
	stateErr error
	// clientContext is the Lambda client context the worker gets ("" = none): the
	// execution's trace context, as the Lambda invoker sends it, so the bootstrap logs it and
	// the job's context carries the agent's span.
	clientContext string
}

// workerClientContext is the Lambda-Runtime-Client-Context header of an invocation in ctx's
// trace (JSON, as Lambda's Runtime API sends it); "" when there is no trace to carry.
func workerClientContext(ctx context.Context) string {
	custom := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, custom)
	if len(custom) == 0 {
		return ""
	}
	raw, _ := json.Marshal(map[string]any{"custom": custom})
	return string(raw)
}

type invokeResult struct {
	output []byte
	err    error
}

func (inv *invocation) answer(r invokeResult) bool {
	if !inv.answered.CompareAndSwap(false, true) {
		return false
	}
	inv.done <- r
	return true
}

// newRequestID is an invocation's id. It is random because it is also the worker's key to its
// job's state: another process on the machine cannot guess it.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// worker is one process of a bootstrap and the Runtime API the agent serves to it alone.
type worker struct {
	cmd     *exec.Cmd
	ln      net.Listener
	srv     *http.Server
	next    chan *invocation // unbuffered: an invocation is handed over when the worker polls
	exited  chan struct{}
	reason  atomic.Value // string: why the process exited
	current atomic.Pointer[invocation]
	log     hclog.Logger
	// idleSince is when the worker last went back to the pool (guarded by the pool's mu).
	idleSince time.Time
}

func startWorker(bin string, env []string, log hclog.Logger) (*worker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w := &worker{ln: ln, next: make(chan *invocation), exited: make(chan struct{}), log: log}
	w.srv = &http.Server{Handler: w.routes(), ReadHeaderTimeout: 10 * time.Second}
	go w.srv.Serve(ln)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(), "BLUEPRINT_STATE_API=" + ln.Addr().String(), "PATH=/usr/bin:/bin"}, env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		w.srv.Close()
		return nil, err
	}
	w.cmd = cmd
	// Whatever the job prints goes to the agent's log, one line at a time, never into its output.
	var logs sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		logs.Go(func() {
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				job := ""
				if inv := w.current.Load(); inv != nil {
					job = inv.job // the invocation it ran last, which printed this
				}
				log.Info("worker output", "pid", cmd.Process.Pid, "job", job, "line", sc.Text())
			}
		})
	}
	go func() {
		logs.Wait()
		err := cmd.Wait()
		reason := "exited"
		if err != nil {
			reason = err.Error()
		}
		w.reason.Store(reason)
		close(w.exited)
		w.srv.Close()
	}()
	return w, nil
}

func (w *worker) alive() bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

func (w *worker) exitReason() string {
	if r, ok := w.reason.Load().(string); ok {
		return r
	}
	return "still running"
}

// stop kills the process (a no-op when it is gone) and waits for it.
func (w *worker) stop() {
	if w.cmd != nil && w.cmd.Process != nil {
		w.cmd.Process.Kill()
	}
	<-w.exited
}

// maxResponseBytes bounds a worker's answer, as Lambda bounds a synchronous response.
const maxResponseBytes = 6 << 20

const runtimeAPIPrefix = "/2018-06-01/runtime/"

// routes is the Runtime API as the worker sees it (the subset aws-lambda-go uses).
func (w *worker) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"invocation/next", func(rw http.ResponseWriter, r *http.Request) {
		select {
		case inv := <-w.next:
			w.current.Store(inv)
			h := rw.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:"+inv.job)
			h.Set("Lambda-Runtime-Trace-Id", "Root="+inv.id)
			if inv.clientContext != "" {
				h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
			}
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(inv.input)))
			rw.Write(inv.input)
		case <-r.Context().Done():
		case <-w.exited:
		}
	})
	mux.HandleFunc("POST "+runtimeAPIPrefix+"invocation/{id}/response", func(rw http.ResponseWriter, r *http.Request) {
		inv := w.invocation(rw, r)
		if inv == nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
		switch {
		case err != nil:
			inv.answer(invokeResult{err: fmt.Errorf("reading the answer of job %q: %w", inv.job, err)})
		case len(body) > maxResponseBytes:
			inv.answer(invokeResult{err: &platform.FunctionError{Type: "Runtime.ResponseSizeTooLarge",
				Message: fmt.Sprintf("job %q answered more than %d bytes", inv.job, maxResponseBytes)}})
		default:
			inv.answer(invokeResult{output: body})
		}
		rw.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST "+runtimeAPIPrefix+"invocation/{id}/error", func(rw http.ResponseWriter, r *http.Request) {
		inv := w.invocation(rw, r)
		if inv == nil {
			return
		}
		inv.answer(invokeResult{err: functionError(r.Body)})
		rw.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET "+stateAPIPrefix+"{key...}", w.serveState)
	mux.HandleFunc("PUT "+stateAPIPrefix+"{key...}", w.serveState)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"init/error", func(rw http.ResponseWriter, r *http.Request) {
		fe := functionError(r.Body)
		w.log.Error("worker failed to initialise", "error", fe)
		rw.WriteHeader(http.StatusAccepted)
		w.cmd.Process.Kill() // it cannot serve; the pool replaces it
	})
	return mux
}

// invocation returns the invocation a response or error names, answering 400 when it is not
// the one the worker holds.
func (w *worker) invocation(rw http.ResponseWriter, r *http.Request) *invocation {
	inv := w.current.Load()
	if inv == nil || inv.id != r.PathValue("id") {
		http.Error(rw, `{"errorType":"InvalidRequestID","errorMessage":"no such invocation"}`, http.StatusBadRequest)
		return nil
	}
	return inv
}

// stateAPIPrefix is where a worker reads and writes its job's state (the native bootstrap's
// job.State, when BLUEPRINT_STATE_API is set): the agent serves it for the invocation the
// worker holds, so a job reaches its own keys only, and only while it runs.
const stateAPIPrefix = "/blueprint/state/v1/"

// State API headers: the invocation a call belongs to, and versions.
const (
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerStateVersion    = "X-Blueprint-State-Version"
	headerExpectedVersion = "X-Blueprint-Expected-Version"
)

func (w *worker) serveState(rw http.ResponseWriter, r *http.Request) {
	inv := w.current.Load()
	if inv == nil || inv.id != r.Header.Get(headerRequestID) || inv.answered.Load() {
		http.Error(rw, "state is served only to the invocation that is running", http.StatusConflict)
		return
	}
	if inv.state == nil {
		http.Error(rw, fmt.Sprintf("job %q has no state store: %v", inv.job, inv.stateErr), http.StatusServiceUnavailable)
		return
	}
	key := r.PathValue("key")
	ctx, cancel := context.WithDeadline(r.Context(), inv.deadline)
	defer cancel()
	switch r.Method {
	case http.MethodGet:
		value, version, err := inv.state.Get(ctx, key)
		switch {
		case err != nil:
			http.Error(rw, err.Error(), http.StatusInternalServerError)
		case version == 0:
			http.Error(rw, "no such key", http.StatusNotFound)
		default:
			rw.Header().Set(headerStateVersion, strconv.FormatInt(version, 10))
			rw.Write(value)
		}
	case http.MethodPut:
		expected, err := strconv.ParseInt(r.Header.Get(headerExpectedVersion), 10, 64)
		if err != nil {
			http.Error(rw, "missing or bad "+headerExpectedVersion, http.StatusBadRequest)
			return
		}
		value, err := io.ReadAll(io.LimitReader(r.Body, statestore.MaxValueBytes+1))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		version, err := inv.state.Put(ctx, key, value, expected)
		switch {
		case errors.Is(err, job.ErrVersionConflict):
			http.Error(rw, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(rw, err.Error(), http.StatusInternalServerError)
		default:
			rw.Header().Set(headerStateVersion, strconv.FormatInt(version, 10))
			rw.WriteHeader(http.StatusOK)
		}
	}
}

// functionError reads a Runtime API error body ({"errorType", "errorMessage"}).
func functionError(body io.Reader) error {
	var fe platform.FunctionError
	raw, _ := io.ReadAll(io.LimitReader(body, 1<<20))
	if err := json.Unmarshal(raw, &fe); err != nil || fe.Type == "" {
		return &platform.FunctionError{Type: "Runtime.Unknown", Message: strings.TrimSpace(string(raw))}
	}
	return &fe
}
