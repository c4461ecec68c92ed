package runtimeagent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent/wasmlocal"
)

const e2eToken = "agent-e2e-token"

// e2eJobs are the fixture jobs deployed for the end-to-end tests.
var e2eJobs = []job.Analysis{{Name: "greet", Function: "Greet"}, {Name: "sum", Function: "Sum"}, {Name: "fail", Function: "Fail"}, {Name: "spin", Function: "Spin"}}

var (
	fixtureOnce     sync.Once
	fixtureArtifact packager.Artifact
	fixtureErr      error
)

// buildFixture builds packager/testdata/plainjobs once per test binary. The artifact cache is
// the user's default, content-addressed, so repeated runs skip the Go compiler.
func buildFixture(t testing.TB) packager.Artifact {
	t.Helper()
	fixtureOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir := filepath.Join(filepath.Dir(file), "..", "packager", "testdata", "plainjobs")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		fixtureArtifact, fixtureErr = packager.BuildWASM(ctx, packager.WASMBuild{Dir: dir, Jobs: e2eJobs})
	})
	if fixtureErr != nil {
		t.Fatalf("building the fixture module: %v", fixtureErr)
	}
	return fixtureArtifact
}

// e2eHost is one in-process `blueprint host` on 127.0.0.1.
type e2eHost struct {
	region string
	srv    *httptest.Server
	host   *host.Host
	// Requests the host received, by kind.
	invokes, batches atomic.Int64
	// Faults (faults_test.go): while gate is set, invocations wait for it to close (a stalled
	// host: SIGSTOP); while down, every request's connection is dropped (a crashed host).
	gate     atomic.Pointer[chan struct{}]
	down     atomic.Bool
	throttle atomic.Bool // invocations answered 429 with Retry-After, as a host with every slot taken
	// ran counts the invocations that reached the host, by input.
	ranMu sync.Mutex
	ran   map[string]int
}

// stall holds the host's invocations until unstall.
func (h *e2eHost) stall() {
	ch := make(chan struct{})
	h.gate.Store(&ch)
}

func (h *e2eHost) unstall() {
	if ch := h.gate.Swap(nil); ch != nil {
		close(*ch)
	}
}

// runs is how many invocations with this input reached the host.
func (h *e2eHost) runs(input string) int {
	h.ranMu.Lock()
	defer h.ranMu.Unlock()
	return h.ran[input]
}

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// e2eOptions adjust the hosts and the agent of an end-to-end environment.
type e2eOptions struct {
	hostMaxConcurrency int           // 0 = the host's default
	agent              func(*Config) // changes the agent's configuration before it starts
}

// e2eEnv is two hosts with the fixture deployed to both, and an agent reading a state file
// that points at them.
type e2eEnv struct {
	hosts    []*e2eHost
	art      packager.Artifact
	deployed map[string][]platform.Deployment // by job name
	state    string
	agent    *Agent
	srv      *httptest.Server
	fixture  *fixture // for run()
	local    *wasmlocal.Executor
	modCache string // the local executor's module cache
	rt       *engine.Runtime
	logger   hclog.Logger
}

// newE2E sets everything up; beforeAgent (optional) runs after deploying, before the agent starts.
func newE2E(t testing.TB, policy router.Policy, beforeAgent ...func(*e2eEnv)) *e2eEnv {
	t.Helper()
	return newE2EWith(t, e2eOptions{}, policy, beforeAgent...)
}

func newE2EWith(t testing.TB, opts e2eOptions, policy router.Policy, beforeAgent ...func(*e2eEnv)) *e2eEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds a wasm module and starts hosts")
	}
	ctx := context.Background()
	env := &e2eEnv{art: buildFixture(t), deployed: map[string][]platform.Deployment{}}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr})
	cache := filepath.Join(os.TempDir(), "blueprint-agent-test-wazero") // shared: compiling is slow, the cache is keyed by content
	rt, err := engine.NewRuntime(ctx, engine.RuntimeConfig{CacheDir: cache, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	env.rt, env.logger = rt, logger

	hostsByRegion := map[string]string{}
	for _, region := range []string{"local-a", "local-b"} {
		h, err := host.New(ctx, host.Config{Region: region, DataDir: t.TempDir(), Token: e2eToken, Runtime: rt, Logger: logger.Named(region), MaxConcurrency: opts.hostMaxConcurrency})
		if err != nil {
			t.Fatal(err)
		}
		eh := &e2eHost{region: region, host: h, ran: map[string]int{}}
		api := h.Handler()
		eh.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if eh.down.Load() {
				panic(http.ErrAbortHandler) // the connection drops, as when the host dies
			}
			invoking := strings.HasSuffix(r.URL.Path, "/invoke") || strings.HasSuffix(r.URL.Path, "/invoke-batch")
			if invoking && eh.throttle.Load() {
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"error":{"code":"busy","message":"every slot is taken"}}`, http.StatusTooManyRequests)
				return
			}
			if gate := eh.gate.Load(); gate != nil && invoking {
				select {
				case <-*gate:
				case <-r.Context().Done():
					return // the caller gave up on the stalled host: nothing ran
				}
			}
			switch {
			case strings.HasSuffix(r.URL.Path, "/invoke"):
				eh.invokes.Add(1)
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
				api.ServeHTTP(rec, r)
				if rec.status != http.StatusTooManyRequests { // a 429 from the host: its slots were taken, nothing ran
					eh.ranMu.Lock()
					eh.ran[string(body)]++
					eh.ranMu.Unlock()
				}
				return
			case strings.HasSuffix(r.URL.Path, "/invoke-batch"):
				eh.batches.Add(1)
			}
			api.ServeHTTP(w, r)
		}))
		srv := eh.srv
		t.Cleanup(func() { srv.Close(); h.Close(context.Background()) })
		env.hosts = append(env.hosts, eh)
		hostsByRegion[region] = srv.URL
	}
	client, err := wasm.NewClient(wasm.Config{Hosts: hostsByRegion, Token: e2eToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range e2eJobs {
		for _, h := range env.hosts {
			d, err := client.Deploy(ctx, platform.DeployRequest{
				Region:         h.region,
				Function:       platform.Function{Name: j.Name, Entry: j.Name, MemoryMB: 128, TimeoutMS: 10000, Pure: true},
				ArtifactPath:   env.art.Path,
				ArtifactSHA256: env.art.SHA256,
			})
			if err != nil {
				t.Fatalf("deploying %s to %s: %v", j.Name, h.region, err)
			}
			env.deployed[j.Name] = append(env.deployed[j.Name], d)
		}
	}

	env.state = filepath.Join(t.TempDir(), "terraform.tfstate")
	env.writeState(t, 1, "greet", "fail")

	for _, f := range beforeAgent {
		f(env)
	}
	platforms, err := NewPlatforms(builtin.Registry(), map[string]platform.Settings{wasm.PlatformName: {"token": e2eToken}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(platforms.Close)
	modCache := t.TempDir()
	local, err := wasmlocal.New(wasmlocal.Config{Runtime: rt, Fetcher: platforms, CacheDir: modCache, Logger: logger.Named("local")})
	if err != nil {
		t.Fatal(err)
	}
	env.local, env.modCache = local, modCache
	cfg := Config{
		StatePath: env.state, Policy: policy, PollInterval: 20 * time.Millisecond,
		MemoBytes: -1, HedgeRatio: -1, // these tests watch routing: every call must run
		Local: local, Platforms: platforms, Logger: logger,
	}
	if opts.agent != nil {
		opts.agent(&cfg)
	}
	env.agent, err = New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { env.agent.Run(runCtx); close(done) }()
	env.srv = httptest.NewServer(env.agent.Handler())
	t.Cleanup(func() { env.srv.Close(); cancel(); <-done })
	env.fixture = &fixture{agent: env.agent, srv: env.srv, state: env.state}
	return env
}

// writeState writes a state listing the named jobs with their real deployments. A job named
// "charge" is the fixture's greet deployed under a non-pure analysis.
func (env *e2eEnv) writeState(t testing.TB, serial int, names ...string) {
	t.Helper()
	var jobs []stateJob
	for _, n := range names {
		jobs = append(jobs, stateJob{name: n, pure: true, eligible: true, deployments: env.deployed[n], artifact: env.art.SHA256})
	}
	writeState(t, env.state, serial, jobs...)
}

func TestE2E_localAndOffloaded(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: 4, MaxLocalInputBytes: 64})

	r := env.fixture.run(t, "greet", `{"name":"local"}`)
	if r.status != 200 || r.run.Ran.Target != "local" || string(r.run.Output) != `{"greeting":"hello, local"}` {
		t.Fatalf("local run: %d %s", r.status, r.raw)
	}

	big := `{"name":"` + strings.Repeat("x", 100) + `"}`
	r = env.fixture.run(t, "greet", big)
	if r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Ran.Platform != "wasm" || r.run.Ran.Region != "local-a" || r.run.Decision != "large_input" {
		t.Fatalf("offloaded run: %d %s", r.status, r.raw)
	}
	if !strings.HasPrefix(string(r.run.Output), `{"greeting":"hello, xxx`) {
		t.Errorf("offloaded output %s", r.run.Output)
	}

	r = env.fixture.run(t, "nope", `{}`)
	if r.status != 404 || r.err.Code != "job_not_found" {
		t.Fatalf("unknown job: %d %s", r.status, r.raw)
	}
	r = env.fixture.run(t, "greet", `{"name":`)
	if r.status != 400 || r.err.Code != "invalid_json" {
		t.Fatalf("bad JSON: %d %s", r.status, r.raw)
	}
	for _, body := range []string{`{"name":"x"}`, `{"name":"` + strings.Repeat("y", 100) + `"}`} { // local, then offloaded
		r = env.fixture.run(t, "fail", body)
		if r.status != 422 || r.err.Code != "job_error" || r.err.Type != "ValidationError" || !strings.Contains(r.err.Message, "field name is invalid") {
			t.Fatalf("job error: %d %s", r.status, r.raw)
		}
	}
}

func TestE2E_capacityZeroOffloadsEverything(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: -1})
	for i := 0; i < 4; i++ {
		r := env.fixture.run(t, "greet", `{"name":"remote"}`)
		if r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Decision != "local_capacity" {
			t.Fatalf("run %d: %d %s", i, r.status, r.raw)
		}
	}
}

func TestE2E_stateChangePickedUp(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: 4})
	if r := env.fixture.run(t, "sum", `[1,2,3]`); r.status != 404 {
		t.Fatalf("sum before apply: %d %s", r.status, r.raw)
	}
	env.writeState(t, 2, "greet", "fail", "sum")
	waitFor(t, "serial 2", func() bool { return env.agent.Manifest().Serial == 2 })
	r := env.fixture.run(t, "sum", `[1,2,3]`)
	if r.status != 200 || string(r.run.Output) != "6" {
		t.Fatalf("sum after apply: %d %s", r.status, r.raw)
	}
}

func TestE2E_hostDownFailsOverPureJob(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: -1})
	// Region local-a is first (neither is measured yet); take it down.
	env.hosts[0].srv.Close()
	r := env.fixture.run(t, "greet", `{"name":"failover"}`)
	if r.status != 200 || r.run.Ran.Region != "local-b" || r.run.Attempts != 2 || string(r.run.Output) != `{"greeting":"hello, failover"}` {
		t.Fatalf("failover: %d %s", r.status, r.raw)
	}
	// A refused connection means the request was never sent, so even a job that is not pure
	// may go to the next region.
	writeState(t, env.state, 2, stateJob{name: "charge", pure: false, eligible: true, deployments: env.deployed["greet"], artifact: env.art.SHA256})
	waitFor(t, "serial 2", func() bool { return env.agent.Manifest().Serial == 2 })
	r = env.fixture.run(t, "charge", `{"name":"once"}`)
	if r.status != 200 || r.run.Ran.Region != "local-b" || r.run.Attempts != 2 {
		t.Fatalf("non-pure job after a refused connection: %d %s", r.status, r.raw)
	}
}

// TestE2E_brokenConnectionRetriesOnlyPureJobs: region local-a accepts the request and drops
// the connection, so the job may have run there. Only the pure job may go on to local-b.
func TestE2E_brokenConnectionRetriesOnlyPureJobs(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: -1})
	var received sync.WaitGroup
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		defer received.Done()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer broken.Close()
	deps := func(name string) []platform.Deployment {
		d := append([]platform.Deployment(nil), env.deployed[name]...)
		d[0].Endpoint = broken.URL // local-a
		return d
	}
	writeState(t, env.state, 2,
		stateJob{name: "greet", pure: true, eligible: true, deployments: deps("greet"), artifact: env.art.SHA256},
		stateJob{name: "charge", pure: false, eligible: true, deployments: deps("greet"), artifact: env.art.SHA256})
	waitFor(t, "serial 2", func() bool { return env.agent.Manifest().Serial == 2 })

	r := env.fixture.run(t, "greet", `{"name":"pure"}`)
	if r.status != 200 || r.run.Ran.Region != "local-b" || r.run.Attempts != 2 {
		t.Fatalf("pure job: %d %s", r.status, r.raw)
	}
	r = env.fixture.run(t, "charge", `{"name":"once"}`)
	if r.status != 502 || r.err.Code != "offload_failed" || !strings.Contains(r.err.Message, "not retried") {
		t.Fatalf("non-pure job: %d %s", r.status, r.raw)
	}
}

// TestE2E_busyHostIsNotAFailure: a host whose slots are all busy answers 429; the job did not
// run, so any job may go to the next region, and the busy region stays healthy.
func TestE2E_busyHostIsNotAFailure(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: -1})
	ctx := context.Background()
	busy, err := host.New(ctx, host.Config{Region: "busy", DataDir: t.TempDir(), Token: e2eToken, MaxConcurrency: 1, Runtime: env.rt, Logger: env.logger})
	if err != nil {
		t.Fatal(err)
	}
	busySrv := httptest.NewServer(busy.Handler())
	defer func() { busySrv.Close(); busy.Close(ctx) }()
	client, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"busy": busySrv.URL}, Token: e2eToken})
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(name string, timeout int64) platform.Deployment {
		d, err := client.Deploy(ctx, platform.DeployRequest{Region: "busy", Function: platform.Function{Name: name, Entry: name, MemoryMB: 128, TimeoutMS: timeout, Pure: true}, ArtifactPath: env.art.Path, ArtifactSHA256: env.art.SHA256})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	spin, greet := deploy("spin", 3000), deploy("greet", 3000)

	// Occupy the busy host's only slot, and wait until it says so. The loop re-takes the slot
	// when a probe got it first (then spin itself was refused) or spin timed out.
	stopSpin, spinDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(spinDone)
		for {
			select {
			case <-stopSpin:
				return
			default:
			}
			if _, err := client.Invoke(ctx, spin, []byte("1")); err != nil && strings.Contains(err.Error(), "429") {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	defer func() { close(stopSpin); <-spinDone }()
	waitFor(t, "the busy host to refuse", func() bool {
		_, err := client.Invoke(ctx, greet, []byte(`{"name":"probe"}`))
		return err != nil && strings.Contains(err.Error(), "429")
	})

	writeState(t, env.state, 2, stateJob{name: "charge", pure: false, eligible: true,
		deployments: []platform.Deployment{greet, env.deployed["greet"][1]}, artifact: env.art.SHA256})
	waitFor(t, "serial 2", func() bool { return env.agent.Manifest().Serial == 2 })
	r := env.fixture.run(t, "charge", `{"name":"busy"}`)
	if r.status != 200 || r.run.Ran.Region != "local-b" || r.run.Attempts != 2 {
		t.Fatalf("non-pure job on a busy host: %d %s", r.status, r.raw)
	}
	if f := env.agent.current.Load().jobs["charge"].stats[0].ConsecutiveFailures(); f != 0 {
		t.Errorf("a busy host counted as %d failures", f)
	}
	if m := get(t, env.srv.URL+"/metrics"); !strings.Contains(m, `blueprint_agent_remote_attempts_total{job="charge",outcome="busy",platform="wasm",region="busy"} 1`) {
		t.Errorf("busy attempt not counted:\n%s", m)
	}
}

func TestE2E_localFetchesModuleFromSecondHost(t *testing.T) {
	// Take local-a down before the agent starts, so the module must come from local-b.
	env := newE2E(t, router.Policy{LocalCapacity: 4}, func(env *e2eEnv) { env.hosts[0].srv.Close() })
	r := env.fixture.run(t, "greet", `{"name":"fetched"}`)
	if r.status != 200 || r.run.Ran.Target != "local" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

// BenchmarkHostDirect calls the trivial job straight through the wasm client: the baseline.
func BenchmarkHostDirect(b *testing.B) {
	env := newE2E(b, router.Policy{LocalCapacity: -1})
	remote := wasm.NewRemote(e2eToken)
	defer remote.Close()
	d := env.deployed["greet"][0]
	input := []byte(`{"name":"bench"}`)
	ctx := context.Background()
	latencies := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := remote.Invoke(ctx, d, input); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(t0))
	}
	reportPercentiles(b, latencies)
}

// BenchmarkAgentOffload runs the same job through the agent's HTTP API with local capacity 0,
// so every call is offloaded to the same host: the difference to BenchmarkHostDirect is what
// the agent adds (HTTP hop, routing, metrics).
func BenchmarkAgentOffload(b *testing.B) {
	env := newE2E(b, router.Policy{LocalCapacity: -1})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	url := env.srv.URL + "/v1/jobs/greet:run"
	latencies := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		resp, err := client.Post(url, "application/json", strings.NewReader(`{"name":"bench"}`))
		if err != nil {
			b.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		latencies = append(latencies, time.Since(t0))
	}
	reportPercentiles(b, latencies)
}

// BenchmarkAgentLocal runs the trivial job through the agent in-process (wasm, resident instance).
func BenchmarkAgentLocal(b *testing.B) {
	env := newE2E(b, router.Policy{LocalCapacity: 64})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	url := env.srv.URL + "/v1/jobs/greet:run"
	latencies := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		resp, err := client.Post(url, "application/json", strings.NewReader(`{"name":"bench"}`))
		if err != nil {
			b.Fatal(err)
		}
		drain(resp)
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		latencies = append(latencies, time.Since(t0))
	}
	reportPercentiles(b, latencies)
}

func drain(resp *http.Response) {
	buf := make([]byte, 4096)
	for {
		if _, err := resp.Body.Read(buf); err != nil {
			break
		}
	}
	resp.Body.Close()
}

func reportPercentiles(b *testing.B, l []time.Duration) {
	if len(l) == 0 {
		return
	}
	sorted := append([]time.Duration(nil), l...)
	slices.Sort(sorted)
	b.ReportMetric(float64(sorted[len(sorted)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(sorted[min(len(sorted)-1, len(sorted)*99/100)].Microseconds()), "p99-µs")
}

func TestE2E_modulesWarmBeforeFirstRun(t *testing.T) {
	env := newE2E(t, router.Policy{LocalCapacity: 4})
	waitFor(t, "module warmed", func() bool {
		return env.local.Ready(&manifest.Job{Artifacts: map[platform.ArtifactKind]string{platform.ArtifactWASM: env.art.SHA256}})
	})
	files, _ := filepath.Glob(filepath.Join(env.modCache, "*.wasm"))
	if len(files) != 1 || filepath.Base(files[0]) != env.art.SHA256+".wasm" {
		t.Fatalf("module cache holds %v", files)
	}
}

// BenchmarkAgentHandlerOffload calls the agent's handler in-process (no client-to-agent HTTP
// hop): the difference to BenchmarkHostDirect is the agent's own work (decoding, routing,
// stats, metrics, encoding), without the loopback round trip a caller pays.
func BenchmarkAgentHandlerOffload(b *testing.B) {
	env := newE2E(b, router.Policy{LocalCapacity: -1})
	h := env.agent.Handler()
	latencies := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		req := httptest.NewRequest(http.MethodPost, "/v1/jobs/greet:run", strings.NewReader(`{"name":"bench"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		latencies = append(latencies, time.Since(t0))
	}
	reportPercentiles(b, latencies)
}
