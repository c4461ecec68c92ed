package engine_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

func newRuntime(t testing.TB) *engine.Runtime {
	t.Helper()
	fx := wasmtest.Fixtures(t)
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: fx.WazeroCache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func loadPlain(t testing.TB, rt *engine.Runtime) *engine.Module {
	t.Helper()
	m, err := rt.Load(context.Background(), wasmtest.Fixtures(t).Plain)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInvokeOutcomes(t *testing.T) {
	rt := newRuntime(t)
	m := loadPlain(t, rt)
	ctx := context.Background()
	tests := []struct {
		name, entry, input string
		opts               engine.InvokeOptions
		want               string
		wantType           string // FunctionError type
		wantErr            error  // other error
		wantMsg            string
	}{
		{name: "ok", entry: "greet", input: `{"name":"ada"}`, want: `{"greeting":"hello, ada"}`},
		{name: "ok pure", entry: "sum", input: `[1,2,3]`, opts: engine.InvokeOptions{Pure: true}, want: `6`},
		{name: "job error keeps its type", entry: "fail", input: `{}`, wantType: "ValidationError", wantMsg: "field name is invalid"},
		{name: "panic is recovered", entry: "explode", input: `{"name":"x"}`, wantType: "Panic", wantMsg: "nil map"},
		{name: "undecodable input", entry: "sum", input: `{"a":1}`, wantType: "InvalidInput", wantMsg: "decoding job input"},
		{name: "unknown entry", entry: "nope", input: `{}`, wantErr: engine.ErrUnknownEntry, wantMsg: `"nope"`},
		{name: "timeout", entry: "spin", input: `1`, opts: engine.InvokeOptions{Timeout: 300 * time.Millisecond}, wantErr: context.DeadlineExceeded, wantMsg: "timed out after 300ms"},
		{name: "memory limit", entry: "hog", input: `200`, opts: engine.InvokeOptions{MemoryMB: 64}, wantErr: engine.ErrInstanceFailed, wantMsg: "out of memory"},
		{name: "within memory limit", entry: "hog", input: `8`, opts: engine.InvokeOptions{MemoryMB: 64}, want: `8`},
		{name: "environment is only what is given", entry: "env", input: `["A","HOME","PATH"]`, opts: engine.InvokeOptions{Environment: map[string]string{"A": "1"}}, want: `"1,,"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := m.Invoke(ctx, tt.entry, []byte(tt.input), tt.opts)
			var fe *platform.FunctionError
			switch {
			case tt.wantType != "":
				if !errors.As(err, &fe) {
					t.Fatalf("want FunctionError %s, got %v (output %s)", tt.wantType, err, out)
				}
				if fe.Type != tt.wantType || !strings.Contains(fe.Message, tt.wantMsg) {
					t.Fatalf("got %s: %s, want %s containing %q", fe.Type, fe.Message, tt.wantType, tt.wantMsg)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantMsg) {
					t.Fatalf("got %v, want %v containing %q", err, tt.wantErr, tt.wantMsg)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if string(out) != tt.want {
					t.Fatalf("got %s, want %s", out, tt.want)
				}
			}
		})
	}
}

func TestPureReusesInstanceOthersGetFreshOne(t *testing.T) {
	rt := newRuntime(t)
	m := loadPlain(t, rt)
	ctx := context.Background()
	for i, want := range []string{"1", "2", "3"} {
		out, err := m.Invoke(ctx, "count", []byte(`{}`), engine.InvokeOptions{Pure: true})
		if err != nil || string(out) != want {
			t.Fatalf("pure call %d: got %s, %v; want %s (resident instance)", i, out, err, want)
		}
	}
	if n := m.IdleInstances(); n != 1 {
		t.Fatalf("idle instances = %d, want 1", n)
	}
	for i := 0; i < 2; i++ {
		out, err := m.Invoke(ctx, "count", []byte(`{}`), engine.InvokeOptions{})
		if err != nil || string(out) != "1" {
			t.Fatalf("impure call %d: got %s, %v; want 1 (fresh instance)", i, out, err)
		}
	}
	// Non-pure calls are served by spare instances started in the background: still fresh.
	deadline := time.Now().Add(10 * time.Second)
	for m.SpareInstances() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if m.SpareInstances() != 1 {
		t.Fatalf("spare instances = %d, want 1", m.SpareInstances())
	}
	out, err := m.Invoke(ctx, "count", []byte(`{}`), engine.InvokeOptions{})
	if err != nil || string(out) != "1" {
		t.Fatalf("call on a spare: got %s, %v; want 1 (never used before)", out, err)
	}
	// A different environment is a different pool: state never crosses configurations.
	out, err = m.Invoke(ctx, "count", []byte(`{}`), engine.InvokeOptions{Pure: true, Environment: map[string]string{"X": "y"}})
	if err != nil || string(out) != "1" {
		t.Fatalf("pure call with other env: got %s, %v; want 1", out, err)
	}
}

func TestFailedInstanceIsNotPooled(t *testing.T) {
	rt := newRuntime(t)
	m := loadPlain(t, rt)
	ctx := context.Background()
	opts := engine.InvokeOptions{Pure: true, Timeout: 200 * time.Millisecond}
	if _, err := m.Invoke(ctx, "count", []byte(`{}`), opts); err != nil {
		t.Fatal(err)
	}
	// The pooled instance is taken by the spinning call and must die with it.
	if _, err := m.Invoke(ctx, "spin", []byte(`1`), opts); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("spin: %v", err)
	}
	if n := m.IdleInstances(); n != 0 {
		t.Fatalf("idle instances after timeout = %d, want 0", n)
	}
	out, err := m.Invoke(ctx, "count", []byte(`{}`), opts)
	if err != nil || string(out) != "1" {
		t.Fatalf("after timeout: got %s, %v; want 1 from a fresh instance", out, err)
	}
	// A job error (not a trap) leaves the instance healthy and pooled.
	if _, err := m.Invoke(ctx, "fail", []byte(`{}`), opts); err == nil {
		t.Fatal("fail: want error")
	}
	if n := m.IdleInstances(); n != 1 {
		t.Fatalf("idle instances after job error = %d, want 1", n)
	}
}

func TestConcurrentPureCalls(t *testing.T) {
	rt := newRuntime(t)
	m := loadPlain(t, rt)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				out, err := m.Invoke(context.Background(), "sum", []byte(`[1,2,3,4]`), engine.InvokeOptions{Pure: true})
				if err != nil || string(out) != "10" {
					errs <- errors.Join(err, errors.New("got "+string(out)))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := m.IdleInstances(); n < 1 || n > 8 {
		t.Fatalf("idle instances = %d, want between 1 and 8", n)
	}
}

func TestLoadIsCachedAndRejectsForeignModules(t *testing.T) {
	rt := newRuntime(t)
	a := loadPlain(t, rt)
	b := loadPlain(t, rt)
	if a != b {
		t.Fatal("loading the same bytes twice compiled twice")
	}
	ctx := context.Background()
	jobs, err := a.Jobs(ctx)
	if err != nil || strings.Join(jobs, ",") != "count,env,explode,fail,greet,hog,spin,sum" {
		t.Fatalf("jobs: %v, %v", jobs, err)
	}
	if _, err := rt.Load(ctx, []byte("not wasm")); err == nil {
		t.Fatal("want an error for bytes that are not wasm")
	}
	empty := []byte("\x00asm\x01\x00\x00\x00")
	if _, err := rt.Load(ctx, empty); err == nil || !strings.Contains(err.Error(), "not a Blueprint job module") {
		t.Fatalf("want a not-a-job-module error, got %v", err)
	}
}

// memState is an in-memory job.State with optimistic concurrency, for the stateful fixture.
type memState struct {
	mu   sync.Mutex
	vals map[string][]byte
	vers map[string]int64
}

func (s *memState) Get(ctx context.Context, key string) ([]byte, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.vals[key], s.vers[key], nil
}

func (s *memState) Put(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vers[key] != expected {
		return 0, job.ErrVersionConflict
	}
	s.vals[key], s.vers[key] = value, expected+1
	return expected + 1, nil
}

func TestStatefulJobUsesHostState(t *testing.T) {
	rt := newRuntime(t)
	m, err := rt.Load(context.Background(), wasmtest.Fixtures(t).State)
	if err != nil {
		t.Fatal(err)
	}
	st := &memState{vals: map[string][]byte{}, vers: map[string]int64{}}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if _, err := m.Invoke(context.Background(), "tally", []byte(`{"option":"yes"}`), engine.InvokeOptions{State: st}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := string(st.vals["yes"]); got != "20" {
		t.Fatalf("tally = %s, want 20 (no lost updates)", got)
	}
	_, err = m.Invoke(context.Background(), "tally", []byte(`{"option":"yes"}`), engine.InvokeOptions{})
	var fe *platform.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "no state store") {
		t.Fatalf("without state: got %v, want a job error naming the missing state store", err)
	}
}
