package runtimeagent

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/manifest/remote"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent/localexec"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// DefaultBodyTimeout is how long a request's body may take to arrive.
const DefaultBodyTimeout = 10 * time.Second

// DefaultMaxBodyBytes matches AWS Lambda's synchronous payload limit, so a job that runs here
// also fits when offloaded.
const DefaultMaxBodyBytes = 6 << 20

// Config configures an Agent. Zero values are sensible defaults unless a field says otherwise.
type Config struct {
	// StatePath is the manifest source (a terraform.tfstate path); required.
	StatePath string
	// Policy is the routing policy. LocalCapacity also sizes the local execution slots.
	Policy router.Policy
	// MaxBodyBytes bounds a run's input; 0 = DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// PollInterval is how often the state file is checked for changes; 0 = 1 s.
	PollInterval time.Duration
	// Local runs jobs on this machine. Required: cmd/blueprint-agent passes a wasm executor.
	Local LocalExecutor
	// Platforms give the invoker and the limits of every platform the state deploys to;
	// required. A deployment on a platform it lacks fails the load of that state.
	Platforms *Platforms
	// Logger; nil = no logs.
	Logger hclog.Logger
	// Load, when set, adds the machine's CPU and memory use to what the router sees as
	// utilization (the agent's own in-flight share is always counted).
	Load *LoadSampler
	// MemoBytes bounds the result cache for pure and deterministic jobs; 0 = 64 MiB,
	// negative = no memoization.
	MemoBytes int64
	// HedgeRatio is the share of requests that may start a speculative remote run when a pure
	// job's local run is slower than its p95; 0 = 0.05, negative = no hedging.
	HedgeRatio float64
	// RetryPercent and RetryMinConcurrent form the retry budget for failover (Envoy-style):
	// retries in flight ≤ max(RetryMinConcurrent, RetryPercent × requests in flight).
	// 0 = 0.2 and 3.
	RetryPercent       float64
	RetryMinConcurrent int
	// BatchMaxItems is the most executions of a pure job sent to one region in one batch
	// invocation (when the platform's invoker implements platform.BatchInvoker); 0 =
	// DefaultBatchMaxItems, 1 or negative = no batching. A platform's own MaxBatchItems
	// lowers it for its deployments.
	BatchMaxItems int
	// BatchMaxWait is the longest an execution waits for others to share its batch; the wait
	// adapts below it to the arrival rate and the caller's latency budget. 0 = DefaultBatchMaxWait.
	BatchMaxWait time.Duration
	// States opens the state stores that keep idempotency records: a job's own store when it
	// has one, else IdempotencyStore (default: statestore.DefaultURL, a file on this machine).
	// nil = requests with an Idempotency-Key are refused (503 idempotency_unavailable).
	States           *statestore.Stores
	IdempotencyStore string
	// IdempotencyTTL is how long a keyed outcome is replayed; 0 = DefaultIdempotencyTTL.
	IdempotencyTTL time.Duration
	// CheckHost answers only requests whose Host names the loopback interface (403
	// host_not_allowed otherwise): what an agent without a token on a TCP port must do, or a
	// web page could reach it by DNS rebinding.
	CheckHost bool
	// BodyTimeout bounds reading a request's body; 0 = DefaultBodyTimeout. A caller that
	// stalls mid-body loses its connection instead of holding it.
	BodyTimeout time.Duration
	// TracerProvider makes the spans of executions; nil = otel's global provider (a no-op one
	// unless the program installed another: internal/telemetry.Setup does from the environment).
	TracerProvider trace.TracerProvider
	// WaitForState lets New succeed before the state can be read (an agent started with its VM
	// before the first apply): it serves with no jobs and /readyz answers 503 until Run loads
	// one. Without it a state that does not load is an error of New.
	WaitForState bool
	// Token, when set, is required as "Authorization: Bearer <token>" on /v1/ endpoints
	// (running jobs, listing them); /healthz and /metrics stay open for probes and scrapers.
	Token string
}

// LocalExecutor runs a job on this machine (see localexec.Executor).
type LocalExecutor = localexec.Executor

// Warmer is implemented by local executors that can prepare a job ahead of its first run.
type Warmer = localexec.Warmer

// ErrNotRun marks remote failures where the job provably did not run (platform.ErrNotRun).
var ErrNotRun = platform.ErrNotRun

// ErrLocalUnavailable marks local failures that happened before the job started.
var ErrLocalUnavailable = localexec.ErrUnavailable

// Agent routes job executions. Create it with New, serve Handler, and call Run to follow the
// state file.
type Agent struct {
	cfg       Config
	log       hclog.Logger
	routerLog hclog.Logger // named once: Named allocates, and these log on the request path
	localLog  hclog.Logger
	current   atomic.Pointer[snapshot]
	metrics   *metrics
	tracer    trace.Tracer
	trigger   chan struct{}
	slots     chan struct{} // local execution slots
	waiting   atomic.Int64  // requests waiting for a slot
	// maxWaiting bounds that queue when nothing is known of how long local runs take;
	// beyond the bound the agent answers 503 busy at once.
	maxWaiting int
	// localRun is an EWMA of local runs' durations, any job: with it the queue is bounded
	// by the time it takes to clear (maxQueueWait), not by a count alone.
	localRun router.DurationEWMA
	inFlight atomic.Int64 // local executions running now; feeds the router
	capacity int          // routing capacity as the router sees it (negative = none)

	statsMu      sync.Mutex
	stats        map[statsKey]*router.RegionStats    // survives manifest reloads
	localLatency map[string]*router.LatencyHistogram // by job; survives reloads

	batchPolicy router.BatchPolicy // MaxItems ≤ 1 = batching off
	batchMu     sync.Mutex
	batchers    map[batchKey]*remoteBatcher

	// downEndpoints are hosts a job's calls took out of rotation (endpoint → until, unix
	// nanoseconds); jobs that are not pure keep away from them meanwhile.
	downEndpoints sync.Map

	memo        *router.MemoCache   // nil = memoization off
	hedgeBudget *router.HedgeBudget // nil = hedging off
	retryBudget *router.RetryBudget

	// The last state that failed to load, so that it is logged once. Only Run touches these.
	lastBad     fileSignature
	lastBadHash [sha256.Size]byte

	firstLoadErr atomic.Value // string: why no state has loaded yet (WaitForState)

	// remote is the state's object store when StatePath is s3:// or gs://; remoteVersion the
	// version (ETag, generation) of what is loaded, remoteBad that of the last that failed.
	remote        remote.Remote
	remoteVersion string
	remoteBad     string
}

// snapshot is one loaded manifest with everything derived from it; swapped atomically so that
// a request in progress keeps using the manifest it started with.
type snapshot struct {
	manifest    *manifest.Manifest
	jobs        map[string]*jobEntry
	sig         fileSignature
	contentHash [sha256.Size]byte
	loadedAt    time.Time
}

type jobEntry struct {
	job     *manifest.Job
	mode    string
	stats   []*router.RegionStats // one per job.Deployments entry, same order
	targets []remoteTarget        // one per job.Deployments entry, same order
	// localLatency of successful local runs: its p95 is when a pure job gets hedged.
	localLatency *router.LatencyHistogram
	// localMetrics are the job's local-run series, for BeginLocal's runs; made on first use.
	localMetrics atomic.Pointer[localRunMetrics]
}

// recordsArtifact reports whether sha is one of the artifacts the state records for the job:
// code that is current, not left over from an earlier deploy.
func (e *jobEntry) recordsArtifact(sha string) bool {
	for _, recorded := range e.job.Artifacts {
		if recorded == sha {
			return true
		}
	}
	return false
}

type statsKey struct{ job, platform, region, endpoint string }

// remoteTarget is how to reach one deployment: its platform's invoker, limits and artifact kind.
type remoteTarget struct {
	invoker platform.Invoker
	limits  platform.Limits
	kind    platform.ArtifactKind
}

type fileSignature struct {
	modTime time.Time
	size    int64
}

// New loads the manifest once (an error here is fatal: there is nothing to route) and returns
// an agent ready to serve.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if cfg.StatePath == "" {
		return nil, errors.New("runtime agent: no state path; pass --state with the path of terraform.tfstate")
	}
	if cfg.Local == nil {
		return nil, errors.New("runtime agent: no local executor configured")
	}
	if cfg.Platforms == nil {
		return nil, errors.New("runtime agent: no platforms configured")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if cfg.BatchMaxWait < 0 {
		return nil, fmt.Errorf("runtime agent: the batch wait must not be negative, got %v", cfg.BatchMaxWait)
	}
	capacity := cfg.Policy.LocalCapacity
	if capacity == 0 {
		capacity = defaultCapacity()
	}
	// Jobs that must run here (local mode, ineligible) still need one slot when the policy
	// offloads everything else.
	slots := capacity
	if slots < 1 {
		slots = 1
	}
	a := &Agent{
		cfg:        cfg,
		log:        cfg.Logger,
		routerLog:  cfg.Logger.Named("router"),
		localLog:   cfg.Logger.Named("local"),
		metrics:    newMetrics(),
		tracer:     cmp.Or[trace.TracerProvider](cfg.TracerProvider, otel.GetTracerProvider()).Tracer("github.com/serverless-blueprint/blueprint/runtimeagent"),
		trigger:    make(chan struct{}, 1),
		slots:      make(chan struct{}, slots),
		maxWaiting: 4 * slots,
		capacity:   capacity,
		stats:      map[statsKey]*router.RegionStats{},

		localLatency: map[string]*router.LatencyHistogram{},
		retryBudget:  &router.RetryBudget{Percent: cfg.RetryPercent, MinConcurrent: cfg.RetryMinConcurrent},
		batchers:     map[batchKey]*remoteBatcher{},
		batchPolicy: router.BatchPolicy{
			MaxItems: cmp.Or(cfg.BatchMaxItems, DefaultBatchMaxItems),
			MaxWait:  cmp.Or(cfg.BatchMaxWait, DefaultBatchMaxWait),
			// Batches are for small executions; the payload bound also keeps a batch far
			// below a host's body limit (6 MiB by default).
			MaxBytes: maxBatchBytes,
		},
	}
	a.metrics.reg.MustRegister(regionCollector{a})
	a.metrics.watchBudgets(a)
	if cfg.Load != nil {
		a.metrics.watchLoad(cfg.Load)
	}
	if cfg.MemoBytes >= 0 {
		a.memo = router.NewMemoCache(cfg.MemoBytes)
		a.metrics.watchMemo(a.memo.Stats)
	}
	if cfg.HedgeRatio >= 0 {
		a.hedgeBudget = &router.HedgeBudget{Ratio: cfg.HedgeRatio}
	}
	a.cfg.Policy.LocalCapacity = capacity
	a.metrics.localCapacity.Store(int64(max(capacity, 0)))
	if remote.Is(cfg.StatePath) {
		r, err := remote.Open(ctx, cfg.StatePath)
		if err != nil {
			return nil, fmt.Errorf("runtime agent: %w", err)
		}
		a.remote = r
	}
	if err := a.reload(ctx); err != nil {
		if !cfg.WaitForState {
			return nil, err
		}
		// Serve without a manifest (every run is job_not_found, /readyz says 503) until Run
		// loads one.
		a.log.Warn("no state loaded yet; serving as not ready until one loads", "source", cfg.StatePath, "error", err)
		a.current.Store(&snapshot{manifest: &manifest.Manifest{Source: cfg.StatePath}, jobs: map[string]*jobEntry{}})
		a.firstLoadErr.Store(err.Error())
	}
	return a, nil
}

// Manifest returns the manifest in use now.
func (a *Agent) Manifest() *manifest.Manifest { return a.current.Load().manifest }

// Trigger asks Run to re-read the state now instead of at the next poll. It never blocks.
func (a *Agent) Trigger() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Run follows the state file until ctx ends: when its size or modification time changes it is
// read again and swapped in atomically; a state that fails to load leaves the old manifest in
// place (and is logged once).
func (a *Agent) Run(ctx context.Context) error {
	log := a.log.Named("manifest")
	ticker := time.NewTicker(a.cfg.PollInterval)
	defer ticker.Stop()
	var warming sync.WaitGroup
	defer warming.Wait()
	a.warm(ctx, &warming, a.current.Load())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-a.trigger:
		}
		if a.remote != nil {
			a.pollRemote(ctx, log)
			a.warm(ctx, &warming, a.current.Load())
			continue
		}
		sig, err := statSignature(a.cfg.StatePath)
		if err != nil {
			if sig != a.lastBad {
				log.Error("cannot read the state file; keeping the current manifest", "path", a.cfg.StatePath, "error", err)
				a.lastBad = sig
			}
			continue
		}
		cur := a.current.Load()
		if sig == cur.sig || sig == a.lastBad {
			// File systems stamp modification times with a coarse clock, so a rewrite of the
			// same size within one tick looks unchanged. While the file is that young, compare
			// contents too.
			if time.Since(sig.modTime) > mtimeGranularity || a.unchangedContent(cur) {
				continue
			}
		}
		if err := a.reload(ctx); err != nil {
			a.metrics.reloads("error")
			log.Error("new state does not load; keeping the current manifest", "path", a.cfg.StatePath, "error", err)
			a.lastBad = sig
			continue
		}
		a.metrics.reloads("ok")
		a.warm(ctx, &warming, a.current.Load())
	}
}

// pollRemote asks the object store for the state if it changed, and loads it when it did.
func (a *Agent) pollRemote(ctx context.Context, log hclog.Logger) {
	data, version, err := a.remote.Fetch(ctx, a.remoteVersion)
	if err != nil {
		if a.remoteBad != "error:"+err.Error() {
			log.Error("cannot read the state object; keeping the current manifest", "source", a.remote.String(), "error", err)
			a.remoteBad = "error:" + err.Error()
		}
		return
	}
	if data == nil || version == a.remoteBad {
		return // unchanged, or the version that did not load
	}
	if err := a.install(data, fileSignature{}, a.remote.String()); err != nil {
		a.metrics.reloads("error")
		log.Error("new state does not load; keeping the current manifest", "source", a.remote.String(), "version", version, "error", err)
		a.remoteBad = version
		return
	}
	a.remoteVersion, a.remoteBad = version, ""
	a.metrics.reloads("ok")
}

// mtimeGranularity is a generous bound on file system timestamp resolution (ext4 and tmpfs
// use the kernel's tick, a few ms; some file systems 1 s or 2 s).
const mtimeGranularity = 2 * time.Second

func (a *Agent) unchangedContent(cur *snapshot) bool {
	data, err := os.ReadFile(a.cfg.StatePath)
	if err != nil {
		return true // the stat path above reports read problems
	}
	sum := sha256.Sum256(data)
	return sum == cur.contentHash || sum == a.lastBadHash
}

// warm prepares, in the background and one at a time, every job that may run locally.
// Failures are only logged: the first run tries again (and offloads if it must).
func (a *Agent) warm(ctx context.Context, wg *sync.WaitGroup, snap *snapshot) {
	w, ok := a.cfg.Local.(Warmer)
	if !ok {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range snap.manifest.Jobs {
			j := &snap.manifest.Jobs[i]
			if ctx.Err() != nil {
				return
			}
			if j.Mode() == job.ModeServerless || j.Artifact(a.cfg.Local.ArtifactKind(j)) == "" {
				continue // never runs here, or has nothing to prepare
			}
			if err := w.Warm(ctx, snap.manifest, j); err != nil && ctx.Err() == nil {
				a.localLog.Warn("cannot prepare job for local runs yet", "job", j.Name, "error", err)
			}
		}
	}()
}

func statSignature(path string) (fileSignature, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileSignature{}, err
	}
	return fileSignature{modTime: fi.ModTime(), size: fi.Size()}, nil
}

func (a *Agent) reload(ctx context.Context) error {
	if a.remote != nil {
		data, version, err := a.remote.Fetch(ctx, "")
		if err != nil {
			return fmt.Errorf("runtime agent: %w", err)
		}
		if err := a.install(data, fileSignature{}, a.remote.String()); err != nil {
			return err
		}
		a.remoteVersion = version
		return nil
	}
	before, statErr := statSignature(a.cfg.StatePath)
	data, readErr := os.ReadFile(a.cfg.StatePath)
	if statErr != nil || readErr != nil {
		_, err := manifest.Load(ctx, a.cfg.StatePath) // its errors say what to fix; prefer them
		return fmt.Errorf("runtime agent: %w", cmp.Or(err, readErr, statErr))
	}
	after, err := statSignature(a.cfg.StatePath)
	if err != nil {
		return fmt.Errorf("runtime agent: reading state: %w", err)
	}
	if after != before {
		// Terraform was writing while we read; what we parse is consistent JSON or an error,
		// but remember no signature so the next poll reads the final file.
		after = fileSignature{}
	}
	source := a.cfg.StatePath
	if abs, err := filepath.Abs(source); err == nil {
		source = abs
	}
	return a.install(data, after, source)
}

// install decodes a state and, when it loads, swaps it in: requests in progress keep the
// manifest they started with.
func (a *Agent) install(data []byte, sig fileSignature, source string) error {
	hash := sha256.Sum256(data)
	m, err := manifest.Decode(bytes.NewReader(data))
	if err != nil {
		a.lastBadHash = hash
		return fmt.Errorf("runtime agent: %s: %w", source, err)
	}
	m.Source = source
	if err := a.cfg.Platforms.check(m); err != nil {
		a.lastBadHash = hash
		return fmt.Errorf("runtime agent: %s: %w", source, err)
	}
	snap := &snapshot{manifest: m, jobs: make(map[string]*jobEntry, len(m.Jobs)), sig: sig, contentHash: hash, loadedAt: time.Now()}
	// Carry each deployment's statistics over (same job, platform, region and endpoint); drop
	// those of deployments that are gone, so the map does not grow with every apply.
	a.statsMu.Lock()
	kept := make(map[statsKey]*router.RegionStats, len(a.stats))
	keptLatency := make(map[string]*router.LatencyHistogram, len(m.Jobs))
	for i := range m.Jobs {
		j := &m.Jobs[i]
		e := &jobEntry{job: j, mode: j.Mode(), stats: make([]*router.RegionStats, len(j.Deployments)), targets: make([]remoteTarget, len(j.Deployments))}
		if e.localLatency = a.localLatency[j.Name]; e.localLatency == nil {
			e.localLatency = &router.LatencyHistogram{}
		}
		keptLatency[j.Name] = e.localLatency
		for k, d := range j.Deployments {
			key := statsKey{j.Name, d.Platform, d.Region, d.Endpoint}
			s := a.stats[key]
			if s == nil {
				s = &router.RegionStats{}
			}
			kept[key] = s
			e.stats[k] = s
			inv, desc, _ := a.cfg.Platforms.Invoker(d.Platform) // check above built it
			e.targets[k] = remoteTarget{invoker: inv, limits: desc.Limits, kind: desc.Artifact}
		}
		snap.jobs[j.Name] = e
	}
	a.stats = kept
	a.localLatency = keptLatency
	a.statsMu.Unlock()
	a.pruneBatchers(m)
	prev := a.current.Swap(snap)
	a.metrics.manifestSerial.Store(m.Serial)
	a.metrics.manifestJobs.Store(int64(len(m.Jobs)))
	if prev == nil {
		a.log.Named("manifest").Info("manifest loaded", "path", m.Source, "serial", m.Serial, "jobs", len(m.Jobs))
	} else {
		a.log.Named("manifest").Info("manifest reloaded", "path", m.Source, "serial", m.Serial, "previous_serial", prev.manifest.Serial, "jobs", len(m.Jobs))
	}
	return nil
}

// authorized checks the caller's bearer token when the agent has one, in constant time.
func (a *Agent) authorized(next http.HandlerFunc) http.HandlerFunc {
	if a.cfg.Token == "" {
		return next
	}
	return httpapi.RequireBearer(a.cfg.Token, "blueprint-agent", "the agent's --token",
		func() { a.metrics.httpError(CodeUnauthorized) }, next)
}

// Handler serves the agent's HTTP API (see docs/agent-api.md).
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/jobs/{spec}", a.authorized(a.handleRun))
	mux.HandleFunc("GET /v1/jobs", a.authorized(a.handleList))
	mux.HandleFunc("GET /v1/jobs/{spec}", a.authorized(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutSuffix(r.PathValue("spec"), ":explain")
		if !ok || name == "" {
			writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no endpoint GET %s; GET /v1/jobs/{name}:explain says where a run would go and why", r.URL.Path))
			return
		}
		a.handleExplain(w, r, name)
	}))
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.HandleFunc("GET /readyz", a.handleReady)
	mux.HandleFunc("GET /metrics", a.handleMetrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no endpoint %s %s; see docs/agent-api.md", r.Method, r.URL.Path))
	})
	if !a.cfg.CheckHost {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			a.metrics.httpError(CodeHostNotAllowed)
			writeError(w, http.StatusForbidden, CodeHostNotAllowed, fmt.Sprintf("Host %q is not this agent's: an agent without a token answers only requests addressed to 127.0.0.1, [::1] or localhost (a page elsewhere cannot reach it through DNS rebinding); give it --token to serve other names", r.Host))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine's loopback interface (host
// names in a Host header are case-insensitive).
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return httpapi.IsLoopbackHost(strings.ToLower(host))
}
