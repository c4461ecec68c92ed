package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// Harness is what a platform's test hands the suite: the platform, a deployer and an invoker
// configured against its local stand-in, and two ways to act on the stand-in behind
// Blueprint's back.
type Harness struct {
	Platform platform.Descriptor
	Deployer platform.Deployer
	Invoker  platform.Invoker
	// Region is a region Deployer serves.
	Region string
	// CacheDir keeps the built test artifacts; "" uses the builder's default cache.
	CacheDir string
	// DeleteOutOfBand removes a function as an operator would, without Blueprint.
	DeleteOutOfBand func(ctx context.Context, region, functionID string) error
	// Throttle makes the stand-in refuse invocations of functionID for lack of capacity, the
	// way the real platform does, asking callers to come back after retryAfter; until stop.
	Throttle func(t *testing.T, region, functionID string, retryAfter time.Duration) (stop func())
}

// Run runs every scenario of the platform contract as subtests. They share the stand-in and
// run in order: later scenarios start from what earlier ones deployed.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Deployer == nil || h.Invoker == nil || h.Region == "" || h.DeleteOutOfBand == nil || h.Throttle == nil {
		t.Fatal("platformtest: the harness needs Deployer, Invoker, Region, DeleteOutOfBand and Throttle")
	}
	ctx := context.Background()
	s := &suite{h: h, ctx: ctx}
	s.v1 = s.build(t, "v1")
	s.v2 = s.build(t, "v2")
	if s.v1.SHA256 == s.v2.SHA256 {
		t.Fatal("platformtest: both versions built to the same artifact; the build is not content-addressed")
	}
	if s.v1.Kind != h.Platform.Artifact {
		t.Fatalf("platform %s builds %q artifacts but its descriptor says %q", h.Platform.Name, s.v1.Kind, h.Platform.Artifact)
	}
	for _, sc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"RegionsListed", s.regionsListed},
		{"Deploy", s.deploy},
		{"Get", s.get},
		{"RedeployUnchangedIsNoOp", s.redeployUnchanged},
		{"InvokeSingle", s.invokeSingle},
		{"CodeChange", s.codeChange},
		{"ConfigChange", s.configChange},
		{"JobErrorIsFunctionError", s.jobError},
		{"InvokeBatch", s.invokeBatch},
		{"ThrottledWithRetryAfter", s.throttled},
		{"PayloadOverLimitNotSent", s.payloadOverLimit},
		{"ConcurrentDeploys", s.concurrentDeploys},
		{"NotFoundAfterOutOfBandDelete", s.outOfBandDelete},
		{"DeleteMissingSucceeds", s.deleteMissing},
	} {
		if !t.Run(sc.name, sc.run) && !s.deployed() {
			t.Fatalf("nothing deployed after %s failed; the remaining scenarios need it", sc.name)
		}
	}
}

const (
	greetName  = "conformance-greet"
	refuseName = "conformance-refuse"
)

type suite struct {
	h      Harness
	ctx    context.Context
	v1, v2 platform.Artifact
	greet  platform.Deployment // the greet function as last deployed
}

func (s *suite) deployed() bool { return s.greet.FunctionID != "" }

// testdataDir is the versions' directory next to this file, wherever the test runs.
func testdataDir(version string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", version)
}

func (s *suite) build(t *testing.T, version string) platform.Artifact {
	t.Helper()
	jobs := []job.Analysis{
		{Name: "greet", Function: "Greet", Pure: true, Deterministic: true, Eligible: true, Mode: job.ModeAuto},
		{Name: "refuse", Function: "Refuse", Pure: true, Deterministic: true, Eligible: true, Mode: job.ModeAuto},
	}
	a, err := s.h.Platform.Build(s.ctx, platform.BuildRequest{Dir: testdataDir(version), Jobs: jobs, CacheDir: s.h.CacheDir})
	if err != nil {
		t.Fatalf("building the %s test jobs for %s: %v", version, s.h.Platform.Name, err)
	}
	return a
}

// function is what Blueprint would deploy for entry under name.
func (s *suite) function(t *testing.T, name, entry string, env map[string]string) platform.Function {
	t.Helper()
	memory, err := s.h.Platform.Limits.RoundMemoryMB(128)
	if err != nil {
		t.Fatal(err)
	}
	return platform.Function{
		Name: name, Entry: entry, MemoryMB: memory, TimeoutMS: 10_000, Pure: true, Environment: env,
		Tags: map[string]string{platform.TagJob: name, platform.TagPackage: "conformance", platform.TagFunction: "Greet", platform.TagSourceHash: "sha256:conformance"},
	}
}

func (s *suite) deployArtifact(t *testing.T, fn platform.Function, a platform.Artifact) platform.Deployment {
	t.Helper()
	d, err := s.h.Deployer.Deploy(s.ctx, platform.DeployRequest{Region: s.h.Region, Function: fn, ArtifactPath: a.Path, ArtifactSHA256: a.SHA256})
	if err != nil {
		t.Fatalf("deploying %s: %v", fn.Name, err)
	}
	return d
}

func (s *suite) regionsListed(t *testing.T) {
	if !slices.Contains(s.h.Deployer.Regions(), s.h.Region) {
		t.Fatalf("Regions() = %v lacks %s", s.h.Deployer.Regions(), s.h.Region)
	}
	if _, err := s.h.Deployer.Deploy(s.ctx, platform.DeployRequest{Region: "no-such-region", Function: s.function(t, greetName, "greet", nil),
		ArtifactPath: s.v1.Path, ArtifactSHA256: s.v1.SHA256}); err == nil {
		t.Fatal("deploying to a region the deployer does not serve succeeded")
	}
}

func (s *suite) deploy(t *testing.T) {
	d := s.deployArtifact(t, s.function(t, greetName, "greet", map[string]string{"MODE": "one"}), s.v1)
	if d.Platform != s.h.Platform.Name || d.Region != s.h.Region || d.FunctionID == "" || d.Version == "" || d.CodeSHA256 != s.v1.SHA256 {
		t.Fatalf("deployment = %+v; want platform %s, region %s, an id, a version and code %s", d, s.h.Platform.Name, s.h.Region, s.v1.SHA256)
	}
	s.greet = d
}

func (s *suite) get(t *testing.T) {
	d, err := s.h.Deployer.Get(s.ctx, s.h.Region, s.greet.FunctionID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != s.greet.Version || d.CodeSHA256 != s.v1.SHA256 || d.FunctionID != s.greet.FunctionID {
		t.Fatalf("Get = %+v, deployed %+v", d, s.greet)
	}
	if d.Tags[platform.TagJob] != greetName || d.Tags[platform.TagSourceHash] != "sha256:conformance" {
		t.Fatalf("tags not kept: %v", d.Tags)
	}
}

func (s *suite) redeployUnchanged(t *testing.T) {
	d := s.deployArtifact(t, s.function(t, greetName, "greet", map[string]string{"MODE": "one"}), s.v1)
	if d.Version != s.greet.Version {
		t.Fatalf("redeploying the same code and configuration made version %s (was %s): it must be a no-op", d.Version, s.greet.Version)
	}
}

func (s *suite) invokeSingle(t *testing.T) {
	s.expectGreeting(t, s.greet, "ada", "hello ada")
}

func (s *suite) expectGreeting(t *testing.T, d platform.Deployment, name, want string) {
	t.Helper()
	out, err := s.h.Invoker.Invoke(s.ctx, d, []byte(fmt.Sprintf(`{"name":%q}`, name)))
	if err != nil {
		t.Fatalf("invoking %s: %v", d.FunctionID, err)
	}
	var reply struct{ Message string }
	if err := json.Unmarshal(out, &reply); err != nil || reply.Message != want {
		t.Fatalf("invoking %s answered %s (%v); want message %q", d.FunctionID, out, err, want)
	}
}

func (s *suite) codeChange(t *testing.T) {
	d := s.deployArtifact(t, s.function(t, greetName, "greet", map[string]string{"MODE": "one"}), s.v2)
	if d.Version == s.greet.Version || d.CodeSHA256 != s.v2.SHA256 {
		t.Fatalf("after a code change: %+v (was %+v)", d, s.greet)
	}
	s.greet = d
	got, err := s.h.Deployer.Get(s.ctx, s.h.Region, d.FunctionID)
	if err != nil || got.CodeSHA256 != s.v2.SHA256 || got.Version != d.Version {
		t.Fatalf("Get after a code change = %+v, %v", got, err)
	}
	s.expectGreeting(t, d, "ada", "hi ada")
}

func (s *suite) configChange(t *testing.T) {
	d := s.deployArtifact(t, s.function(t, greetName, "greet", map[string]string{"MODE": "two"}), s.v2)
	if d.Version == s.greet.Version || d.CodeSHA256 != s.v2.SHA256 {
		t.Fatalf("after a configuration change: %+v (was %+v); want a new version of the same code", d, s.greet)
	}
	s.greet = d
	got, err := s.h.Deployer.Get(s.ctx, s.h.Region, d.FunctionID)
	if err != nil || got.Version != d.Version {
		t.Fatalf("Get after a configuration change = %+v, %v", got, err)
	}
	s.expectGreeting(t, d, "bo", "hi bo")
}

func (s *suite) jobError(t *testing.T) {
	d := s.deployArtifact(t, s.function(t, refuseName, "refuse", nil), s.v2)
	_, err := s.h.Invoker.Invoke(s.ctx, d, []byte(`{"name":"ada"}`))
	var fe *platform.FunctionError
	if !errors.As(err, &fe) || fe.Type != "RefusedError" || fe.Message != "refused: ada" {
		t.Fatalf("a job error must be a *platform.FunctionError{RefusedError, refused: ada}; got %T %v", err, err)
	}
	if errors.Is(err, platform.ErrNotRun) {
		t.Fatal("a job error must not claim the job did not run")
	}
	if err := s.h.Deployer.Delete(s.ctx, s.h.Region, d.FunctionID); err != nil {
		t.Fatal(err)
	}
}

func (s *suite) invokeBatch(t *testing.T) {
	b, ok := s.h.Invoker.(platform.BatchInvoker)
	if !ok || s.h.Platform.Limits.MaxBatchItems < 2 {
		if ok {
			t.Fatalf("the invoker batches but the limits say MaxBatchItems %d", s.h.Platform.Limits.MaxBatchItems)
		}
		t.Skipf("platform %s does not batch (no BatchInvoker)", s.h.Platform.Name)
	}
	names := []string{"a", "b", "c"}
	inputs := make([][]byte, len(names))
	for i, n := range names {
		inputs[i] = []byte(fmt.Sprintf(`{"name":%q}`, n))
	}
	res, err := b.InvokeBatch(s.ctx, s.greet, inputs)
	if err != nil || len(res) != len(inputs) {
		t.Fatalf("batch: %d results, %v", len(res), err)
	}
	for i, r := range res {
		if r.Err != nil || !bytes.Contains(r.Output, []byte(`"hi `+names[i]+`"`)) {
			t.Errorf("item %d: %s, %v", i, r.Output, r.Err)
		}
	}
	tooMany := make([][]byte, s.h.Platform.Limits.MaxBatchItems+1)
	for i := range tooMany {
		tooMany[i] = inputs[0]
	}
	if _, err := b.InvokeBatch(s.ctx, s.greet, tooMany); !errors.Is(err, platform.ErrNotRun) {
		t.Fatalf("a batch over MaxBatchItems must be refused before sending (ErrNotRun); got %v", err)
	}
}

func (s *suite) throttled(t *testing.T) {
	const retryAfter = 7 * time.Second
	stop := s.h.Throttle(t, s.h.Region, s.greet.FunctionID, retryAfter)
	_, err := s.h.Invoker.Invoke(s.ctx, s.greet, []byte(`{"name":"ada"}`))
	stop()
	var th *platform.ThrottledError
	if !errors.As(err, &th) || th.RetryAfter != retryAfter || !errors.Is(err, platform.ErrNotRun) {
		t.Fatalf("a throttled call must be a *platform.ThrottledError with RetryAfter %v (and ErrNotRun); got %T %v", retryAfter, err, err)
	}
	s.expectGreeting(t, s.greet, "ada", "hi ada")
}

func (s *suite) payloadOverLimit(t *testing.T) {
	limit := s.h.Platform.Limits.MaxPayloadBytes
	if limit <= 0 {
		t.Fatal("the platform states no MaxPayloadBytes")
	}
	input := []byte(`{"name":"` + strings.Repeat("x", int(limit)) + `"}`)
	_, err := s.h.Invoker.Invoke(s.ctx, s.greet, input)
	var tl *platform.PayloadTooLargeError
	if !errors.As(err, &tl) || tl.Size != int64(len(input)) || tl.Limit != limit || !errors.Is(err, platform.ErrNotRun) {
		t.Fatalf("an input over %d bytes must be refused before sending with *platform.PayloadTooLargeError; got %T %v", limit, err, err)
	}
}

func (s *suite) concurrentDeploys(t *testing.T) {
	const n = 4
	deps := make([]platform.Deployment, n)
	errs := make([]error, n)
	fns := make([]platform.Function, n)
	for i := range n {
		fns[i] = s.function(t, fmt.Sprintf("conformance-c%d", i), "greet", map[string]string{"INDEX": fmt.Sprint(i)})
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			fn := fns[i]
			a := s.v1
			if i%2 == 1 {
				a = s.v2
			}
			deps[i], errs[i] = s.h.Deployer.Deploy(s.ctx, platform.DeployRequest{Region: s.h.Region, Function: fn, ArtifactPath: a.Path, ArtifactSHA256: a.SHA256})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("concurrent deploy %d: %v", i, errs[i])
		}
		want, greeting := s.v1.SHA256, "hello"
		if i%2 == 1 {
			want, greeting = s.v2.SHA256, "hi"
		}
		got, err := s.h.Deployer.Get(s.ctx, s.h.Region, deps[i].FunctionID)
		if err != nil || got.CodeSHA256 != want {
			t.Fatalf("function %d after concurrent deploys: %+v, %v", i, got, err)
		}
		s.expectGreeting(t, deps[i], "cy", greeting+" cy")
	}
	for i := range n {
		if err := s.h.Deployer.Delete(s.ctx, s.h.Region, deps[i].FunctionID); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *suite) outOfBandDelete(t *testing.T) {
	if err := s.h.DeleteOutOfBand(s.ctx, s.h.Region, s.greet.FunctionID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.h.Deployer.Get(s.ctx, s.h.Region, s.greet.FunctionID); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("Get of a function deleted out of band: %v, want platform.ErrNotFound", err)
	}
	if _, err := s.h.Invoker.Invoke(s.ctx, s.greet, []byte(`{"name":"ada"}`)); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("Invoke of a function deleted out of band: %v, want platform.ErrNotFound", err)
	}
}

func (s *suite) deleteMissing(t *testing.T) {
	for _, id := range []string{s.greet.FunctionID, "conformance-never-deployed"} {
		if err := s.h.Deployer.Delete(s.ctx, s.h.Region, id); err != nil {
			t.Fatalf("deleting missing function %s: %v (a missing function is not an error)", id, err)
		}
	}
}

// Throttles is a set of throttled functions that a stand-in consults before running one; its
// Throttle method is a Harness.Throttle. The zero value is ready to use.
type Throttles struct {
	mu    sync.Mutex
	after map[string]time.Duration
}

// Throttle marks functionID throttled (in every region) until the returned func is called.
func (th *Throttles) Throttle(_ *testing.T, _, functionID string, retryAfter time.Duration) (stop func()) {
	th.mu.Lock()
	defer th.mu.Unlock()
	if th.after == nil {
		th.after = map[string]time.Duration{}
	}
	th.after[functionID] = retryAfter
	return func() {
		th.mu.Lock()
		defer th.mu.Unlock()
		delete(th.after, functionID)
	}
}

// RetryAfter reports whether functionID is throttled and when callers should come back.
func (th *Throttles) RetryAfter(functionID string) (time.Duration, bool) {
	th.mu.Lock()
	defer th.mu.Unlock()
	d, ok := th.after[functionID]
	return d, ok
}
