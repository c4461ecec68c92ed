package wasm_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

func TestClientInvokeBatch(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	c, _ := startHosts(t, "eu-1")
	ctx := context.Background()
	deploy := func(name, entry string, pure bool, timeoutMS int64) platform.Deployment {
		t.Helper()
		d, err := c.Deploy(ctx, platform.DeployRequest{Region: "eu-1",
			Function:     platform.Function{Name: name, Entry: entry, MemoryMB: 64, TimeoutMS: timeoutMS, Pure: pure},
			ArtifactPath: fx.PlainPath, ArtifactSHA256: fx.PlainSHA})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	greet := deploy("greet", "greet", true, 5000)
	res, err := c.InvokeBatch(ctx, greet, [][]byte{[]byte(`{"name":"a"}`), []byte(`7`), []byte(`{"name":"b"}`)})
	if err != nil || len(res) != 3 {
		t.Fatalf("batch: %v, %v", res, err)
	}
	if string(res[0].Output) != `{"greeting":"hello, a"}` || res[0].Err != nil || string(res[2].Output) != `{"greeting":"hello, b"}` || res[2].Err != nil {
		t.Fatalf("outputs: %q %v / %q %v", res[0].Output, res[0].Err, res[2].Output, res[2].Err)
	}
	var fe *platform.FunctionError
	if !errors.As(res[1].Err, &fe) || res[1].Output != nil {
		t.Fatalf("an input the job cannot decode: %v, want a *platform.FunctionError", res[1].Err)
	}

	// Failures of the run itself come back as Invoke's errors do: a timeout wraps
	// context.DeadlineExceeded, a trap is an ordinary error.
	spin := deploy("spin", "spin", true, 150)
	res, err = c.InvokeBatch(ctx, spin, [][]byte{[]byte(`1`)})
	if err != nil || !errors.Is(res[0].Err, context.DeadlineExceeded) || errors.As(res[0].Err, &fe) {
		t.Fatalf("spin: %v, %v", res, err)
	}
	hog := deploy("hog", "hog", true, 5000)
	res, err = c.InvokeBatch(ctx, hog, [][]byte{[]byte(`200`), []byte(`2`)})
	if err != nil || res[0].Err == nil || errors.As(res[0].Err, &fe) || errors.Is(res[0].Err, context.DeadlineExceeded) || string(res[1].Output) != `2` {
		t.Fatalf("hog: %v, %v", res, err)
	}

	// Whole-batch errors.
	impure := deploy("impure", "greet", false, 5000)
	if _, err := c.InvokeBatch(ctx, impure, [][]byte{[]byte(`{}`)}); !errors.Is(err, wasm.ErrNotPure) {
		t.Fatalf("impure function: %v, want ErrNotPure", err)
	}
	absent := greet
	absent.FunctionID = "absent"
	if _, err := c.InvokeBatch(ctx, absent, [][]byte{[]byte(`{}`)}); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("absent function: %v, want ErrNotFound", err)
	}
	if _, err := c.InvokeBatch(ctx, greet, [][]byte{[]byte(`{`)}); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("bad input: %v", err)
	}
	if res, err := c.InvokeBatch(ctx, greet, nil); err != nil || len(res) != 0 {
		t.Fatalf("empty batch: %v, %v", res, err)
	}
}

// TestClientInvokeBatchBadAnswers: a host answering the wrong number of results, or more
// than the client reads, or 429, is a whole-batch error of the right kind.
func TestClientInvokeBatchBadAnswers(t *testing.T) {
	var answer func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w) }))
	t.Cleanup(srv.Close)
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"x": srv.URL}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	d := platform.Deployment{Platform: "wasm", Region: "x", FunctionID: "f", Endpoint: srv.URL}
	two := [][]byte{[]byte(`1`), []byte(`2`)}

	answer = func(w http.ResponseWriter) { w.Write([]byte(`{"results":[{"output":1}]}`)) }
	if _, err := c.InvokeBatch(context.Background(), d, two); err == nil || !strings.Contains(err.Error(), "1 results for 2 inputs") {
		t.Fatalf("short answer: %v", err)
	}
	answer = func(w http.ResponseWriter) { w.Write([]byte(`{"results":[{"output":1},{}]}`)) }
	res, err := c.InvokeBatch(context.Background(), d, two)
	if err != nil || string(res[0].Output) != "1" || res[1].Err == nil {
		t.Fatalf("an item with neither output nor error: %v, %v", res, err)
	}
	// An item the host could not start in time ran nowhere: it wraps ErrThrottled, like a 429.
	answer = func(w http.ResponseWriter) {
		w.Write([]byte(`{"results":[{"output":1},{"error":{"code":"not_run","errorType":"NotRun","errorMessage":"late"}}]}`))
	}
	res, err = c.InvokeBatch(context.Background(), d, two)
	if err != nil || res[0].Err != nil || !errors.Is(res[1].Err, wasm.ErrThrottled) {
		t.Fatalf("not_run item: %v, %v", res, err)
	}
	answer = func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		w.Write([]byte(`{"error":{"code":"too_many_requests","message":"busy"}}`))
	}
	var throttled *platform.ThrottledError
	if _, err := c.InvokeBatch(context.Background(), d, two); !errors.As(err, &throttled) || !errors.Is(err, wasm.ErrThrottled) || throttled.RetryAfter.Seconds() != 3 {
		t.Fatalf("429: %v", err)
	}
	answer = func(w http.ResponseWriter) {
		chunk := []byte(strings.Repeat("x", 1<<20))
		w.Write([]byte(`{"results":["`))
		for range 65 {
			w.Write(chunk)
		}
	}
	if _, err := c.InvokeBatch(context.Background(), d, two); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized answer: %v", err)
	}
}

// TestClientBoundsAnswers: an invocation's output or an admin answer larger than the client
// reads is an error, not unbounded memory.
func TestClientBoundsAnswers(t *testing.T) {
	huge := func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<20))
		if strings.HasSuffix(r.URL.Path, "/invoke") {
			w.Write([]byte(`"`))
			for range 65 {
				w.Write(chunk)
			}
			return
		}
		w.Write([]byte(`{"name":"`))
		for range 17 {
			w.Write(chunk)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(huge))
	t.Cleanup(srv.Close)
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"x": srv.URL}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	d := platform.Deployment{Platform: "wasm", Region: "x", FunctionID: "f", Endpoint: srv.URL}
	if _, err := c.Invoke(context.Background(), d, []byte(`{}`)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized output: %v", err)
	}
	if _, err := c.Get(context.Background(), "x", "f"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized admin answer: %v", err)
	}
}
