package runtimeagent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// nativeJobsSource is a job package whose jobs misbehave in every way a worker must survive.
const nativeJobsSource = `package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"go.opentelemetry.io/otel/trace"
)

// TraceOf answers the trace its context is part of: the agent's, when it passed one on.
//
//blueprint:job
func TraceOf(ctx context.Context, in In) (string, error) {
	return trace.SpanContextFromContext(ctx).TraceID().String(), nil
}

// Tally adds one to the counter named in.S and returns the new count.
//
//blueprint:job
func Tally(ctx context.Context, st job.State, in In) (int, error) {
	for {
		v, ver, err := st.Get(ctx, in.S)
		if err != nil {
			return 0, err
		}
		n := 0
		if v != nil {
			n, _ = strconv.Atoi(string(v))
		}
		_, err = st.Put(ctx, in.S, []byte(strconv.Itoa(n+1)), ver)
		if err == nil {
			return n + 1, nil
		}
		if !errors.Is(err, job.ErrVersionConflict) {
			return 0, err
		}
	}
}

type In struct {
	N int    ` + "`json:\"n\"`" + `
	S string ` + "`json:\"s\"`" + `
}

//blueprint:job
func Double(ctx context.Context, in In) (int, error) {
	if in.N < 0 {
		return 0, fmt.Errorf("negative: %d", in.N)
	}
	return in.N * 2, nil
}

//blueprint:job
func Boom(ctx context.Context, in In) (int, error) { panic("boom") }

//blueprint:job
func Crash(ctx context.Context, in In) (int, error) {
	os.Exit(3)
	return 0, nil
}

//blueprint:job
func Hang(ctx context.Context, in In) (int, error) {
	time.Sleep(time.Hour)
	return 0, nil
}

//blueprint:job
func Chatty(ctx context.Context, in In) (string, error) {
	fmt.Println("{\"not\": \"the output\"}")
	fmt.Fprintln(os.Stderr, "to stderr")
	return "quiet " + in.S, nil
}

//blueprint:job
func Env(ctx context.Context, in In) (string, error) { return os.Getenv(in.S), nil }

// Spin is CPU-bound: n rounds of a 64-bit mixing function.
//
//blueprint:job
func Spin(ctx context.Context, in In) (uint64, error) { return SpinN(in.N), nil }

// SpinN is Spin's work, callable in-process for the benchmark's baseline.
func SpinN(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
`

var nativeJobNames = []job.Analysis{
	{Name: "double", Function: "Double"}, {Name: "boom", Function: "Boom"}, {Name: "crash", Function: "Crash"},
	{Name: "hang", Function: "Hang"}, {Name: "chatty", Function: "Chatty"}, {Name: "env", Function: "Env"}, {Name: "spin", Function: "Spin"},
	{Name: "tally", Function: "Tally", RequiresState: true}, {Name: "trace_of", Function: "TraceOf"},
}

var (
	nativeOnce sync.Once
	nativeBin  packager.Artifact
	nativeErr  error
)

// nativeFixture builds the bootstrap once per test binary and stores it in a fresh store.
func nativeFixture(t testing.TB) (store string, sha string) {
	t.Helper()
	nativeOnce.Do(func() {
		root, _ := filepath.Abs("..")
		dir, err := os.MkdirTemp("", "blueprint-native-jobs-")
		if err != nil {
			nativeErr = err
			return
		}
		os.MkdirAll(filepath.Join(dir, "jobs"), 0o755)
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte(fmt.Sprintf("module example.com/nativejobs\n\ngo 1.26.8\n\nrequire github.com/serverless-blueprint/blueprint v0.0.0\n\nreplace github.com/serverless-blueprint/blueprint => %s\n", root)), 0o644)
		os.WriteFile(filepath.Join(dir, "jobs", "jobs.go"), []byte(nativeJobsSource), 0o644)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// The jobs import OpenTelemetry's API, as a user's would after go get.
		tidy := exec.CommandContext(ctx, "go", "mod", "tidy")
		tidy.Dir = dir
		tidy.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := tidy.CombinedOutput(); err != nil {
			nativeErr = fmt.Errorf("go mod tidy in the jobs' module: %v: %s", err, out)
			return
		}
		nativeBin, nativeErr = packager.BuildNative(ctx, packager.NativeBuild{Dir: filepath.Join(dir, "jobs"), Jobs: nativeJobNames, CacheDir: filepath.Join(dir, "cache")})
	})
	if nativeErr != nil {
		t.Fatal(nativeErr)
	}
	storeDir := t.TempDir()
	s, err := artifactstore.Open(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), nativeBin.Path, nativeBin.SHA256); err != nil {
		t.Fatal(err)
	}
	return s.URL(), nativeBin.SHA256
}

func nativeJob(name, store, sha string, timeout time.Duration) *manifest.Job {
	return &manifest.Job{Name: name, Artifacts: map[platform.ArtifactKind]string{platform.ArtifactNative: sha}, ArtifactStore: store,
		TimeoutS: int64(timeout / time.Second), Environment: map[string]string{"GREETING": "hi"}}
}

func newNative(t testing.TB, workers int) *NativeExecutor {
	t.Helper()
	x, err := NewNativeExecutor(NativeExecutorConfig{CacheDir: t.TempDir(), Workers: workers, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	return x
}

func TestNativeExecutor(t *testing.T) {
	store, sha := nativeFixture(t)
	x := newNative(t, 2)
	ctx := context.Background()
	m := &manifest.Manifest{}
	run := func(name, input string, timeout time.Duration) (string, error) {
		out, err := x.Execute(ctx, m, nativeJob(name, store, sha, timeout), []byte(input))
		return string(out), err
	}

	if out, err := run("double", `{"n":21}`, 10*time.Second); err != nil || out != "42" {
		t.Fatalf("double: %s %v", out, err)
	}
	var fe *platform.FunctionError
	if _, err := run("double", `{"n":-1}`, 10*time.Second); !errors.As(err, &fe) || fe.Type != "errorString" || fe.Message != "negative: -1" {
		t.Fatalf("job error: %T %v", err, err)
	}
	if out, err := run("chatty", `{"s":"ok"}`, 10*time.Second); err != nil || out != `"quiet ok"` {
		t.Fatalf("a job that writes to stdout: %s %v", out, err)
	}
	if out, err := run("env", `{"s":"GREETING"}`, 10*time.Second); err != nil || out != `"hi"` {
		t.Fatalf("the job's environment: %s %v", out, err)
	}
	if out, err := run("env", `{"s":"HOME"}`, 10*time.Second); err != nil || out != `""` {
		t.Fatalf("the agent's environment leaked into the worker: %s %v", out, err)
	}

	// The execution's trace reaches the job's context (the Lambda client context, as on
	// Lambda), so spans the job makes join it; without one, the job sees none.
	if out, err := run("trace_of", `{}`, 10*time.Second); err != nil || out != `"00000000000000000000000000000000"` {
		t.Fatalf("trace_of without a trace: %s %v", out, err)
	}
	prevProp := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{}) // as the agent's telemetry.Setup does
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9, 1}, SpanID: trace.SpanID{7}, TraceFlags: trace.FlagsSampled})
	out, err := x.Execute(trace.ContextWithSpanContext(ctx, sc), m, nativeJob("trace_of", store, sha, 10*time.Second), []byte(`{}`))
	otel.SetTextMapPropagator(prevProp)
	if err != nil || string(out) != `"`+sc.TraceID().String()+`"` {
		t.Fatalf("trace_of in trace %s: %s %v", sc.TraceID(), out, err)
	}

	// A panic is the job's error (Lambda reports it the same way); its worker exits and is
	// replaced.
	if _, err := run("boom", `{}`, 10*time.Second); !errors.As(err, &fe) || !strings.Contains(fe.Message, "boom") {
		t.Fatalf("panic: %T %v", err, err)
	}
	// A crash mid-job is reported, not run again; the next call gets a new worker.
	if _, err := run("crash", `{}`, 10*time.Second); err == nil || !strings.Contains(err.Error(), "crashed (exit status 3); the job was not run again") {
		t.Fatalf("crash: %v", err)
	}
	// A job past its timeout: its worker is killed.
	start := time.Now()
	if _, err := run("hang", `{}`, time.Second); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("hang: %v after %v", err, time.Since(start))
	}
	for i := range 3 {
		if out, err := run("double", fmt.Sprintf(`{"n":%d}`, i), 10*time.Second); err != nil || out != fmt.Sprint(2*i) {
			t.Fatalf("after the failures, call %d: %s %v", i, out, err)
		}
	}
	if _, err := run("nope", `{}`, 10*time.Second); !errors.As(err, &fe) || fe.Type != "UnknownJob" {
		t.Fatalf("unknown job: %v", err)
	}
}

// Many callers share few workers; every answer belongs to its caller.
func TestNativeExecutor_concurrent(t *testing.T) {
	store, sha := nativeFixture(t)
	x := newNative(t, 2)
	j := nativeJob("double", store, sha, 10*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 8*25)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				n := g*1000 + i
				out, err := x.Execute(context.Background(), &manifest.Manifest{}, j, []byte(fmt.Sprintf(`{"n":%d}`, n)))
				if err != nil || string(out) != fmt.Sprint(2*n) {
					errs <- fmt.Errorf("n=%d: %s %v", n, out, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A binary whose bytes do not match the hash in the state never runs.
func TestNativeExecutor_badBinary(t *testing.T) {
	store, sha := nativeFixture(t)
	dir := strings.TrimPrefix(store, "file://")
	if err := os.WriteFile(filepath.Join(dir, sha), []byte("#!/bin/sh\necho pwned\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := newNative(t, 1)
	_, err := x.Execute(context.Background(), &manifest.Manifest{}, nativeJob("double", store, sha, 10*time.Second), []byte(`{"n":1}`))
	if !errors.Is(err, ErrLocalUnavailable) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("tampered binary: %v", err)
	}
	_, err = x.Execute(context.Background(), &manifest.Manifest{}, nativeJob("double", store, strings.Repeat("0", 64), 10*time.Second), []byte(`{"n":1}`))
	if !errors.Is(err, ErrLocalUnavailable) || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing binary: %v", err)
	}
}

// A stateful job in native workers reaches its store through the agent: concurrent
// increments from many callers on few workers lose nothing.
func TestNativeExecutor_state(t *testing.T) {
	store, sha := nativeFixture(t)
	states := statestore.NewStores(nil)
	t.Cleanup(states.Close)
	x, err := NewNativeExecutor(NativeExecutorConfig{CacheDir: t.TempDir(), Workers: 2, States: states, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Close)
	j := nativeJob("tally", store, sha, 10*time.Second)
	j.Analysis.RequiresState = true
	j.StateStore = "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 25 {
				if _, err := x.Execute(context.Background(), &manifest.Manifest{}, j, []byte(`{"s":"visits"}`)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	out, err := x.Execute(context.Background(), &manifest.Manifest{}, j, []byte(`{"s":"visits"}`))
	if err != nil || string(out) != "201" {
		t.Fatalf("after 200 increments the next is %s (%v), want 201", out, err)
	}
	st, _ := states.For(j.StateStore, j.Name)
	if v, ver, err := st.Get(context.Background(), "visits"); err != nil || string(v) != "201" || ver != 201 {
		t.Fatalf("the store holds %q at version %d (%v)", v, ver, err)
	}

	// Without a store the job fails with a job error that says why; nothing else breaks.
	noStore := nativeJob("tally", store, sha, 10*time.Second)
	noStore.Analysis.RequiresState = true
	var fe *platform.FunctionError
	if _, err := x.Execute(context.Background(), &manifest.Manifest{}, noStore, []byte(`{"s":"visits"}`)); !errors.As(err, &fe) || !strings.Contains(fe.Message, "has no state store") {
		t.Fatalf("no store: %v", err)
	}
}

// A worker idle past the timeout is stopped, and the next call starts a new one.
func TestWorkerPool_reapsIdle(t *testing.T) {
	store, sha := nativeFixture(t)
	x := newNative(t, 1)
	j := nativeJob("double", store, sha, 10*time.Second)
	if _, err := x.Execute(context.Background(), &manifest.Manifest{}, j, []byte(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	x.mu.Lock()
	var p *workerPool
	for _, pool := range x.pools {
		p = pool
	}
	x.mu.Unlock()
	p.mu.Lock()
	w := p.idle[0]
	p.mu.Unlock()
	p.reapIdle(time.Now(), time.Hour) // recently idle: kept
	if !w.alive() {
		t.Fatal("a recently idle worker was stopped")
	}
	p.reapIdle(time.Now().Add(2*time.Hour), time.Hour)
	if w.alive() {
		t.Fatal("a worker idle past the timeout is still running")
	}
	if out, err := x.Execute(context.Background(), &manifest.Manifest{}, j, []byte(`{"n":2}`)); err != nil || string(out) != "4" {
		t.Fatalf("after reaping: %s %v", out, err)
	}
}
