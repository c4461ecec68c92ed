package runtimeagent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// stateJob is one blueprint_job instance for writeState.
type stateJob struct {
	name        string
	pure        bool
	eligible    bool
	forceLocal  bool
	environment map[string]string
	regions     []string              // deployments on platform "fake", endpoint "fake://<region>"
	deployments []platform.Deployment // used instead of regions when set
	artifact    string                // artifact_sha256; "abc" when empty
	memoryMB    int64
	mode        string // analysis mode; "auto" when empty
	// nondeterministic marks a pure job the analysis did not prove deterministic.
	nondeterministic bool
	// latencyThresholdMS is the provider's latency_threshold_ms copied into the job (0 = unset).
	latencyThresholdMS int64
	sourceHash         string // the job's code hash; "sha256:00" when empty
}

// latencyThreshold is the state's value of latency_threshold_ms: null when unset.
func latencyThreshold(ms int64) any {
	if ms == 0 {
		return nil
	}
	return ms
}

// writeState writes a terraform.tfstate v4 the way Terraform does (same keys, nulls for unset
// optional attributes).
func writeState(t testing.TB, path string, serial int, jobs ...stateJob) {
	t.Helper()
	var resources []any
	for _, j := range jobs {
		deps := []map[string]any{}
		for _, r := range j.regions {
			deps = append(deps, map[string]any{"platform": "fake", "region": r, "function_id": j.name, "version": "1", "endpoint": "fake://" + r, "code_sha256": "abc"})
		}
		for _, d := range j.deployments {
			deps = append(deps, map[string]any{"platform": d.Platform, "region": d.Region, "function_id": d.FunctionID, "version": d.Version, "endpoint": d.Endpoint, "code_sha256": d.CodeSHA256})
		}
		artifact, memory := j.artifact, j.memoryMB
		if artifact == "" {
			artifact = "abc"
		}
		if memory == 0 {
			memory = 128
		}
		sourceHash := j.sourceHash
		if sourceHash == "" {
			sourceHash = "sha256:00"
		}
		mode := j.mode
		if mode == "" {
			mode = "auto"
		}
		var forceLocal any
		if j.forceLocal {
			forceLocal = true
		}
		var env any
		if j.environment != nil {
			env = j.environment
		}
		resources = append(resources, map[string]any{
			"mode": "managed", "type": "blueprint_job", "name": j.name,
			"provider": `provider["registry.terraform.io/serverless-blueprint/blueprint"]`,
			"instances": []any{map[string]any{
				"schema_version": 0,
				"attributes": map[string]any{
					"id": j.name, "name": j.name, "package": "./jobs", "function": "F" + j.name,
					"force_serverless": nil, "force_local": forceLocal, "memory_mb": nil, "timeout_s": nil,
					"platforms": nil, "regions": nil, "environment": env,
					"analysis": map[string]any{"name": j.name, "function": "F" + j.name, "pure": j.pure, "deterministic": j.pure && !j.nondeterministic,
						"requires_state": false, "network_calls": []string{}, "max_duration_ms": 100, "memory_mb": memory, "timeout_ms": 2000,
						"mode": mode, "eligible": j.eligible, "input_type": "", "output_type": "", "findings": []any{}},
					"eligible": j.eligible, "source_hash": sourceHash, "artifact_sha256": artifact, "deployments": deps,
					"cost_threshold": nil, "latency_threshold_ms": latencyThreshold(j.latencyThresholdMS),
				},
				"sensitive_attributes": []any{},
			}},
		})
	}
	data, err := json.MarshalIndent(map[string]any{"version": 4, "terraform_version": "1.5.7", "serial": serial, "lineage": "test", "outputs": map[string]any{}, "resources": resources, "check_results": nil}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	// Write then rename, as a careful writer would; the agent must also cope with in-place writes.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// fakeLocal echoes {"ran":"local","input":...}; input {"fail":"job"} gives a job error.
type fakeLocal struct {
	calls   atomic.Int64
	block   chan struct{} // when set, Execute waits on it
	started chan struct{}
	err     error
	sleep   atomic.Int64 // nanoseconds every run takes (cancellable)
}

func (f *fakeLocal) ArtifactKind(*manifest.Job) platform.ArtifactKind { return platform.ArtifactWASM }

// fakeDescriptor is a platform whose invoker is inv and whose payload limit is maxPayload.
func fakeDescriptor(name string, inv platform.Invoker, maxPayload int64) platform.Descriptor {
	return platform.Descriptor{
		Name: name, Artifact: platform.ArtifactWASM,
		Build: func(context.Context, platform.BuildRequest) (platform.Artifact, error) {
			return platform.Artifact{}, errors.New("fake: nothing to build")
		},
		Limits:      platform.Limits{MaxPayloadBytes: maxPayload, MaxMemoryMB: 10240, MaxTimeout: 15 * time.Minute, MaxBatchItems: 256},
		NewDeployer: func(platform.Settings) (platform.Deployer, error) { return nil, errors.New("fake: no deployer") },
		NewInvoker:  func(platform.Settings) (platform.Invoker, error) { return inv, nil },
	}
}

// fakePlatforms registers a platform per invoker, with limits wide enough for every test.
func fakePlatforms(t testing.TB, invokers map[string]platform.Invoker) *Platforms {
	t.Helper()
	var ds []platform.Descriptor
	for name, inv := range invokers {
		ds = append(ds, fakeDescriptor(name, inv, 6<<20))
	}
	reg, err := platform.NewRegistry(ds...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlatforms(reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fakeLocal) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	f.calls.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d := time.Duration(f.sleep.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.err != nil {
		return nil, f.err
	}
	if bytes.Contains(input, []byte(`"fail"`)) {
		return nil, &platform.FunctionError{Type: "BadInput", Message: "local says no"}
	}
	return []byte(fmt.Sprintf(`{"ran":"local","job":%q,"input":%s}`, j.Name, input)), nil
}

// fakeRemote answers per region; regions in down fail with a transport error.
type fakeRemote struct {
	mu    sync.Mutex
	busy  map[string]bool // answers like a host with every slot taken
	down  map[string]bool
	calls map[string]int
	delay map[string]time.Duration
}

func newFakeRemote() *fakeRemote {
	return &fakeRemote{busy: map[string]bool{}, down: map[string]bool{}, calls: map[string]int{}, delay: map[string]time.Duration{}}
}

func (f *fakeRemote) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	f.mu.Lock()
	f.calls[d.Region]++
	down, delay, busy := f.down[d.Region], f.delay[d.Region], f.busy[d.Region]
	f.mu.Unlock()
	if busy {
		return nil, fmt.Errorf("%w: region %s: all slots busy", ErrNotRun, d.Region)
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	if down {
		return nil, fmt.Errorf("region %s: connection refused", d.Region)
	}
	if bytes.Contains(input, []byte(`"fail"`)) {
		return nil, &platform.FunctionError{Type: "BadInput", Message: "remote says no"}
	}
	return []byte(fmt.Sprintf(`{"ran":%q}`, d.Region)), nil
}

func (f *fakeRemote) setDown(region string, down bool) {
	f.mu.Lock()
	f.down[region] = down
	f.mu.Unlock()
}

func (f *fakeRemote) count(region string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[region]
}

type fixture struct {
	agent  *Agent
	srv    *httptest.Server
	state  string
	local  *fakeLocal
	remote *fakeRemote
}

var defaultJobs = []stateJob{
	{name: "resize", pure: true, eligible: true, regions: []string{"a", "b"}, environment: map[string]string{"SECRET": "hunter2"}},
	{name: "charge", pure: false, eligible: true, regions: []string{"a", "b"}},
	{name: "audit", eligible: false},
}

// newFixture starts an agent over fakes. Memoization and hedging are off: these tests send the
// same input again and again to watch the routing, which a result cache would answer instead.
func newFixture(t *testing.T, policy router.Policy, jobs ...stateJob) *fixture {
	t.Helper()
	return newFixtureConfig(t, Config{Policy: policy, MemoBytes: -1, HedgeRatio: -1}, jobs...)
}

// newFixtureConfig starts an agent over fakes with cfg (its state, local and invokers are set here).
func newFixtureConfig(t testing.TB, cfg Config, jobs ...stateJob) *fixture {
	t.Helper()
	if len(jobs) == 0 {
		jobs = defaultJobs
	}
	f := &fixture{state: filepath.Join(t.TempDir(), "terraform.tfstate"), local: &fakeLocal{}, remote: newFakeRemote()}
	if l, ok := cfg.Local.(*fakeLocal); ok { // a test's own, set up before the agent starts
		f.local = l
	}
	writeState(t, f.state, 1, jobs...)
	cfg.StatePath, cfg.MaxBodyBytes, cfg.PollInterval = f.state, 1024, 20*time.Millisecond
	cfg.Local = f.local
	if cfg.Platforms == nil {
		cfg.Platforms = fakePlatforms(t, map[string]platform.Invoker{"fake": f.remote})
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: io.Discard})
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.agent = a
	f.srv = serveAgent(t, a)
	return f
}

// serveAgent runs a (its manifest watcher and background work) and serves its API until the
// test ends.
func serveAgent(t testing.TB, a *Agent) *httptest.Server {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); cancel(); <-done })
	return srv
}

type response struct {
	status int
	run    RunResponse
	err    ErrorBody
	raw    string
}

func (f *fixture) run(t *testing.T, name, body string) response {
	t.Helper()
	r, err := f.tryRun(name, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tryRun is run for goroutines other than the test's own (they must not call t.Fatal).
func (f *fixture) tryRun(name, body string) (response, error) {
	resp, err := http.Post(f.srv.URL+"/v1/jobs/"+name+":run", "application/json", strings.NewReader(body))
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, raw: string(data)}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return r, fmt.Errorf("content type %q", ct)
	}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(data, &r.run); err != nil {
			return r, fmt.Errorf("decoding %s: %v", data, err)
		}
	} else {
		var e ErrorResponse
		if err := json.Unmarshal(data, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			return r, fmt.Errorf("error body is not {\"error\":{code,message}}: %s", data)
		}
		r.err = e.Error
	}
	return r, nil
}

// runAsync runs in a goroutine; failures to talk to the agent show as status 0.
func (f *fixture) runAsync(t *testing.T, out chan<- response, name, body string) {
	go func() {
		r, err := f.tryRun(name, body)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		out <- r
	}()
}

func TestRun_localWhenThereIsRoom(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	r := f.run(t, "resize", `{"w":10}`)
	if r.status != 200 || r.run.Ran.Target != "local" || r.run.Decision != "local_has_capacity" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	if string(r.run.Output) != `{"ran":"local","job":"resize","input":{"w":10}}` || r.run.DurationMS <= 0 {
		t.Errorf("output %s duration %v", r.run.Output, r.run.DurationMS)
	}
	if f.remote.count("a")+f.remote.count("b") != 0 {
		t.Error("remote called")
	}
}

func TestRun_offloadWhenNoCapacity(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	r := f.run(t, "resize", `{}`)
	if r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Ran.Platform != "fake" || r.run.Ran.Region != "a" || r.run.Decision != "local_capacity" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	if string(r.run.Output) != `{"ran":"a"}` || f.local.calls.Load() != 0 {
		t.Errorf("output %s, local calls %d", r.run.Output, f.local.calls.Load())
	}
	// Ineligible jobs stay local even when the policy offloads everything else.
	r = f.run(t, "audit", `{}`)
	if r.status != 200 || r.run.Ran.Target != "local" || r.run.Decision != "not_eligible" {
		t.Fatalf("audit got %d %s", r.status, r.raw)
	}
}

func TestRun_offloadLargeInput(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4, MaxLocalInputBytes: 10})
	r := f.run(t, "resize", `{"data":"0123456789"}`)
	if r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Decision != "large_input" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
}

func TestRun_offloadWhenSlotsBusy(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 1})
	f.local.block = make(chan struct{})
	f.local.started = make(chan struct{}, 1)
	first := make(chan response, 1)
	f.runAsync(t, first, "resize", `{"n":1}`)
	<-f.local.started
	r := f.run(t, "resize", `{"n":2}`)
	if r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Decision != "local_capacity" {
		t.Fatalf("second run while the slot is busy: %d %s", r.status, r.raw)
	}
	close(f.local.block)
	if r := <-first; r.status != 200 || r.run.Ran.Target != "local" {
		t.Fatalf("first run: %d %s", r.status, r.raw)
	}
}

func TestRun_errors(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	tests := []struct {
		name, job, body string
		status          int
		code            string
	}{
		{"unknown job", "nope", `{}`, 404, "job_not_found"},
		{"not JSON", "resize", `{"w":`, 400, "invalid_json"},
		{"empty body", "resize", ``, 400, "invalid_json"},
		{"too large", "resize", `"` + strings.Repeat("x", 2000) + `"`, 413, "input_too_large"},
		{"job error", "resize", `{"fail":true}`, 422, "job_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run(t, tt.job, tt.body)
			if r.status != tt.status || r.err.Code != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
		})
	}
	r := f.run(t, "resize", `{"fail":true}`)
	if r.err.Type != "BadInput" || r.err.Message != "local says no" {
		t.Errorf("job error body: %s", r.raw)
	}
	resp, err := http.Post(f.srv.URL+"/v1/jobs/resize", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST without :run = %d", resp.StatusCode)
	}
}

func TestRun_remoteJobError(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	r := f.run(t, "resize", `{"fail":1}`)
	if r.status != 422 || r.err.Code != "job_error" || r.err.Type != "BadInput" || r.err.Message != "remote says no" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	if f.remote.count("b") != 0 {
		t.Error("a job error was retried in another region")
	}
}

func TestRun_failoverOnlyForPureJobs(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	f.remote.setDown("a", true)

	r := f.run(t, "resize", `{}`) // pure: a fails, b answers
	if r.status != 200 || r.run.Ran.Region != "b" || r.run.Attempts != 2 {
		t.Fatalf("pure job: %d %s", r.status, r.raw)
	}

	r = f.run(t, "charge", `{}`) // not pure: never run twice
	if r.status != 502 || r.err.Code != "offload_failed" || !strings.Contains(r.err.Message, "not retried") {
		t.Fatalf("non-pure job: %d %s", r.status, r.raw)
	}
	if f.remote.count("b") != 1 {
		t.Errorf("region b called %d times, want only the pure job's failover", f.remote.count("b"))
	}

	// Every region down: a pure job may run here instead (running it again cannot repeat an
	// effect)...
	f.remote.setDown("b", true)
	r = f.run(t, "resize", `{}`)
	if r.status != 200 || r.run.Ran.Target != "local" || r.run.Decision != "no_healthy_region" {
		t.Fatalf("pure job, all down: %d %s", r.status, r.raw)
	}
}

func TestRun_allRegionsFailServerlessMode(t *testing.T) {
	f := newFixture(t, router.Policy{}, stateJob{name: "remote_only", pure: true, eligible: true, mode: "serverless", regions: []string{"a", "b"}})
	f.remote.setDown("a", true)
	f.remote.setDown("b", true)
	// ...but a job whose mode says serverless never runs here.
	r := f.run(t, "remote_only", `{}`)
	if r.status != 502 || r.err.Code != "all_targets_failed" || !strings.Contains(r.err.Message, "fake/a") || !strings.Contains(r.err.Message, "fake/b") {
		t.Fatalf("all down: %d %s", r.status, r.raw)
	}
	if f.local.calls.Load() != 0 {
		t.Error("a serverless-mode job ran locally")
	}
}

func TestRun_failingRegionLeavesRotation(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1, FailureThreshold: 2, FailureCooldown: time.Hour})
	f.remote.setDown("a", true)
	for i := 0; i < 2; i++ {
		f.run(t, "resize", `{}`)
	}
	before := f.remote.count("a")
	r := f.run(t, "resize", `{}`)
	if r.status != 200 || r.run.Ran.Region != "b" || r.run.Attempts != 1 || f.remote.count("a") != before {
		t.Fatalf("region a still tried after %d failures: %s", before, r.raw)
	}
}

// A deployment on a platform the agent was built without is an error when the state loads,
// naming the job and the platform, not a surprise at the first request; a state like that
// arriving later leaves the loaded one in place.
func TestLoad_unknownPlatformIsAnError(t *testing.T) {
	state := filepath.Join(t.TempDir(), "terraform.tfstate")
	onMars := stateJob{name: "resize", pure: true, eligible: true,
		deployments: []platform.Deployment{{Platform: "mars_functions", Region: "olympus", FunctionID: "resize", Version: "1", Endpoint: "mars://x", CodeSHA256: "abc"}}}
	writeState(t, state, 1, onMars)
	_, err := New(context.Background(), Config{StatePath: state, Local: &fakeLocal{},
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": newFakeRemote()})})
	if err == nil || !strings.Contains(err.Error(), `job "resize" is deployed on platform mars_functions`) || !strings.Contains(err.Error(), "the platforms it has are: fake") {
		t.Fatalf("error = %v", err)
	}

	f := newFixture(t, router.Policy{LocalCapacity: -1})
	writeState(t, f.state, 2, onMars)
	f.agent.Trigger()
	time.Sleep(100 * time.Millisecond)
	if f.agent.Manifest().Serial != 1 {
		t.Fatalf("a state naming an unknown platform replaced the loaded one (serial %d)", f.agent.Manifest().Serial)
	}
	if r := f.run(t, "resize", `{}`); r.status != 200 || r.run.Ran.Platform != "fake" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
}

// An input larger than a platform takes is never sent there: the region is skipped as one
// that ran nothing, so even a job that is not pure may go on to the next.
func TestRun_inputOverPlatformLimitIsNotSent(t *testing.T) {
	small := newFakeRemote()
	big := newFakeRemote()
	reg, err := platform.NewRegistry(
		fakeDescriptor("tiny", small, 8),
		fakeDescriptor("roomy", big, 1<<20),
	)
	if err != nil {
		t.Fatal(err)
	}
	platforms, err := NewPlatforms(reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	job := stateJob{name: "charge", eligible: true, deployments: []platform.Deployment{
		{Platform: "tiny", Region: "a", FunctionID: "charge", Version: "1", Endpoint: "fake://a", CodeSHA256: "abc"},
		{Platform: "roomy", Region: "b", FunctionID: "charge", Version: "1", Endpoint: "fake://b", CodeSHA256: "abc"},
	}}
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1, Platforms: platforms}, job)
	r := f.run(t, "charge", `{"text":"more than eight bytes"}`)
	if r.status != 200 || r.run.Ran.Platform != "roomy" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	if small.count("a") != 0 || big.count("b") != 1 {
		t.Fatalf("calls: tiny %d, roomy %d", small.count("a"), big.count("b"))
	}
}

func TestRun_localUnavailableOffloads(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	f.local.err = fmt.Errorf("fetching module: %w", ErrLocalUnavailable)
	r := f.run(t, "resize", `{}`)
	if r.status != 200 || r.run.Ran.Target != "serverless" {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
	r = f.run(t, "audit", `{}`) // must run here, and cannot
	if r.status != 503 || r.err.Code != "execution_failed" {
		t.Fatalf("audit got %d %s", r.status, r.raw)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReload(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	if r := f.run(t, "fresh", `{}`); r.status != 404 {
		t.Fatalf("fresh before apply: %d", r.status)
	}
	writeState(t, f.state, 2, append(defaultJobs, stateJob{name: "fresh", pure: true, eligible: true, regions: []string{"b"}})...)
	waitFor(t, "serial 2", func() bool { return f.agent.Manifest().Serial == 2 })
	if r := f.run(t, "fresh", `{}`); r.status != 200 || r.run.Ran.Region != "b" {
		t.Fatalf("fresh after apply: %d %s", r.status, r.raw)
	}

	// A broken state keeps the last good manifest.
	if err := os.WriteFile(f.state, []byte(`{"version": 4, "resources": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	f.agent.Trigger()
	time.Sleep(100 * time.Millisecond)
	if f.agent.Manifest().Serial != 2 {
		t.Fatal("broken state replaced the manifest")
	}
	if r := f.run(t, "fresh", `{}`); r.status != 200 {
		t.Fatalf("after broken state: %d %s", r.status, r.raw)
	}
	// Removing the file keeps it too.
	os.Remove(f.state)
	time.Sleep(60 * time.Millisecond)
	if r := f.run(t, "fresh", `{}`); r.status != 200 {
		t.Fatalf("after removed state: %d %s", r.status, r.raw)
	}
	f.run(t, "resize", `{}`) // offloaded to region a: gives it a latency sample
	latencyBefore := f.agent.current.Load().jobs["resize"].stats[0].Latency()
	writeState(t, f.state, 3, defaultJobs...)
	waitFor(t, "serial 3", func() bool { return f.agent.Manifest().Serial == 3 })
	if got := f.agent.current.Load().jobs["resize"].stats[0].Latency(); got != latencyBefore || got == 0 {
		t.Errorf("region statistics not carried over a reload: %v, was %v", got, latencyBefore)
	}
	f.agent.statsMu.Lock()
	n := len(f.agent.stats)
	f.agent.statsMu.Unlock()
	if n != 4 { // resize and charge in regions a and b; "fresh" is gone
		t.Errorf("%d region statistics kept, want 4", n)
	}
	if r := f.run(t, "fresh", `{}`); r.status != 404 {
		t.Fatalf("fresh after destroy: %d", r.status)
	}
	metrics := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{`blueprint_agent_manifest_reloads_total{result="ok"} 2`, `blueprint_agent_manifest_reloads_total{result="error"} 1`, "blueprint_agent_manifest_serial 3"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestReload_underLoad swaps manifests while requests run: none may fail.
func TestReload_underLoad(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 2})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	var total atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(f.srv.URL+"/v1/jobs/resize:run", "application/json", strings.NewReader(`{}`))
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				total.Add(1)
				if resp.StatusCode != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	for serial := 2; serial <= 6; serial++ {
		writeState(t, f.state, serial, defaultJobs...)
		waitFor(t, fmt.Sprint("serial ", serial), func() bool { return f.agent.Manifest().Serial == int64(serial) })
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || total.Load() == 0 {
		t.Fatalf("%d of %d requests failed during reloads", failures.Load(), total.Load())
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, data)
	}
	return string(data)
}

func TestListHealthMetrics(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	f.run(t, "resize", `{}`)
	f.run(t, "audit", `{}`)
	f.run(t, "nope", `{}`)

	var list JobList
	body := get(t, f.srv.URL+"/v1/jobs")
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "hunter2") || strings.Contains(body, "SECRET") {
		t.Fatal("GET /v1/jobs leaks the sensitive environment")
	}
	if list.ManifestSerial != 1 || len(list.Jobs) != 3 || list.Jobs[0].Name != "resize" || !list.Jobs[0].Pure || len(list.Jobs[0].Deployments) != 2 {
		t.Fatalf("list: %s", body)
	}
	if list.Jobs[0].Regions[0].LatencyEWMAMS <= 0 || list.Jobs[0].Regions[1].LatencyEWMAMS != 0 {
		t.Errorf("region stats: %+v", list.Jobs[0].Regions)
	}

	var health map[string]any
	json.Unmarshal([]byte(get(t, f.srv.URL+"/healthz")), &health)
	if health["status"] != "ok" || health["jobs"] != float64(3) {
		t.Errorf("health: %v", health)
	}

	metrics := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{
		`blueprint_agent_runs_total{job="resize",outcome="ok",target="serverless"} 1`,
		`blueprint_agent_runs_total{job="audit",outcome="ok",target="local"} 1`,
		`blueprint_agent_run_duration_seconds_bucket{job="resize",target="serverless",le="+Inf"} 1`,
		`blueprint_agent_run_duration_seconds_count{job="audit",target="local"} 1`,
		`blueprint_agent_remote_attempts_total{job="resize",outcome="ok",platform="fake",region="a"} 1`,
		`blueprint_agent_rejected_requests_total{code="job_not_found"} 1`,
		`blueprint_agent_region_latency_ewma_seconds{job="resize",platform="fake",region="a"}`,
		"# TYPE blueprint_agent_run_duration_seconds histogram",
		"blueprint_agent_local_capacity 0",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	resp, _ := http.Get(f.srv.URL + "/v2/other")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
}

func TestNew_errors(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{Local: &fakeLocal{}}); err == nil || !strings.Contains(err.Error(), "--state") {
		t.Errorf("no state: %v", err)
	}
	platforms := fakePlatforms(t, map[string]platform.Invoker{"fake": newFakeRemote()})
	if _, err := New(ctx, Config{StatePath: "/nonexistent/terraform.tfstate", Local: &fakeLocal{}, Platforms: platforms}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing state: %v", err)
	}
	if _, err := New(ctx, Config{StatePath: "x", Platforms: platforms}); err == nil {
		t.Error("no local executor accepted")
	}
	if _, err := New(ctx, Config{StatePath: "x", Local: &fakeLocal{}}); err == nil || !strings.Contains(err.Error(), "no platforms") {
		t.Errorf("no platforms: %v", err)
	}
}

// TestReload_sameSizeSameMtime rewrites the state with the same size and modification time (as
// two writes within one file system clock tick look): the agent must still notice.
func TestReload_sameSizeSameMtime(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1})
	fi, err := os.Stat(f.state)
	if err != nil {
		t.Fatal(err)
	}
	writeState(t, f.state, 2, defaultJobs...)
	if err := os.Chtimes(f.state, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(f.state); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("fixture did not reproduce an identical signature")
	}
	waitFor(t, "serial 2", func() bool { return f.agent.Manifest().Serial == 2 })
}

func TestRun_allRegionsBusy(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a", "b"}},
		stateJob{name: "charge", eligible: true, regions: []string{"a", "b"}},
		stateJob{name: "remote_only", eligible: true, mode: "serverless", regions: []string{"a", "b"}})
	f.remote.busy["a"], f.remote.busy["b"] = true, true

	// Nothing ran remotely, so even the non-pure job may run here instead.
	for _, name := range []string{"resize", "charge"} {
		r := f.run(t, name, `{}`)
		if r.status != 200 || r.run.Ran.Target != "local" || r.run.Decision != "regions_busy" {
			t.Fatalf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// A serverless-mode job must not run here: back-pressure to the caller.
	resp, err := http.Post(f.srv.URL+"/v1/jobs/remote_only:run", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(body), `"code":"busy"`) {
		t.Fatalf("serverless-mode job: %d %s (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	if n := f.agent.current.Load().jobs["resize"].stats[0].ConsecutiveFailures(); n != 0 {
		t.Errorf("a busy region counted %d failures", n)
	}
}

func TestRun_localQueueIsBounded(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 1})
	f.local.block = make(chan struct{})
	f.local.started = make(chan struct{}, 16)
	results := make(chan response, 16)
	// "audit" is not eligible: it always runs here, so requests queue for the single slot.
	f.runAsync(t, results, "audit", `{}`)
	<-f.local.started
	for i := 0; i < 4; i++ { // 4 × capacity may wait
		f.runAsync(t, results, "audit", `{}`)
	}
	waitFor(t, "4 waiting", func() bool { return f.agent.waiting.Load() == 4 })
	r := f.run(t, "audit", `{}`)
	if r.status != 503 || r.err.Code != "busy" {
		t.Fatalf("over the queue bound: %d %s", r.status, r.raw)
	}
	close(f.local.block)
	for i := 0; i < 5; i++ {
		if r := <-results; r.status != 200 {
			t.Errorf("queued request: %d %s", r.status, r.raw)
		}
	}
}

// TestRun_localQueueBoundedByTime: once local runs are known to be short, more callers may
// wait for a slot — as many as the slots clear in maxQueueWait — and no more.
func TestRun_localQueueBoundedByTime(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 1})
	f.local.sleep.Store(int64(2 * time.Millisecond))
	for i := 0; i < 10; i++ { // the EWMA of local runs settles near 2 ms
		if r := f.run(t, "audit", `{}`); r.status != 200 {
			t.Fatalf("run %d: %d %s", i, r.status, r.raw)
		}
	}
	limit := f.agent.waitingLimit()
	if limit <= 4 || limit > 50 { // 100 ms / at least 2 ms per run, one slot; 4 without measurements
		t.Fatalf("waiting limit after 2 ms runs = %d, want above the floor of 4 and at most 50", limit)
	}
	f.local.block = make(chan struct{})
	f.local.started = make(chan struct{}, 128)
	results := make(chan response, 128)
	f.runAsync(t, results, "audit", `{}`)
	<-f.local.started
	for i := int64(0); i < limit; i++ {
		f.runAsync(t, results, "audit", `{}`)
	}
	waitFor(t, "the queue to fill", func() bool { return f.agent.waiting.Load() == limit })
	if r := f.run(t, "audit", `{}`); r.status != 503 || r.err.Code != "busy" {
		t.Fatalf("over the queue bound: %d %s", r.status, r.raw)
	}
	close(f.local.block)
	for i := int64(0); i <= limit; i++ {
		if r := <-results; r.status != 200 {
			t.Errorf("queued request: %d %s", r.status, r.raw)
		}
	}
}

func TestToken(t *testing.T) {
	state := filepath.Join(t.TempDir(), "terraform.tfstate")
	writeState(t, state, 1, defaultJobs...)
	a, err := New(context.Background(), Config{StatePath: state, Policy: router.Policy{LocalCapacity: 2}, Local: &fakeLocal{}, Token: "s3cret",
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": newFakeRemote()})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	call := func(method, path, auth string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		method, path, auth string
		want               int
	}{
		{"POST", "/v1/jobs/resize:run", "", 401},
		{"POST", "/v1/jobs/resize:run", "Bearer wrong", 401},
		{"POST", "/v1/jobs/resize:run", "s3cret", 401},
		{"GET", "/v1/jobs", "", 401},
		{"POST", "/v1/jobs/resize:run", "Bearer s3cret", 200},
		{"GET", "/v1/jobs", "Bearer s3cret", 200},
		{"GET", "/healthz", "", 200},
		{"GET", "/metrics", "", 200},
	} {
		if got := call(tc.method, tc.path, tc.auth); got != tc.want {
			t.Errorf("%s %s with %q: %d, want %d", tc.method, tc.path, tc.auth, got, tc.want)
		}
	}
}
