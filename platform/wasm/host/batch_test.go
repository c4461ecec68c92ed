package host_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

func batchBody(inputs ...string) []byte {
	return []byte(`{"inputs":[` + strings.Join(inputs, ",") + `]}`)
}

func (th *testHost) batch(name string, inputs ...string) wasm.BatchResponse {
	th.t.Helper()
	r := th.mustStatus(th.do("POST", "/v1/functions/"+name+"/invoke-batch", batchBody(inputs...)), http.StatusOK)
	var out wasm.BatchResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		th.t.Fatalf("decoding %s: %v", r.body, err)
	}
	if len(out.Results) != len(inputs) {
		th.t.Fatalf("%d results for %d inputs: %s", len(out.Results), len(inputs), r.body)
	}
	return out
}

func TestInvokeBatchPerItemResults(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{})
	sha := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "pure": true})
	th.deploy("fail", map[string]any{"code_sha256": sha, "entry": "fail", "pure": true})
	th.deploy("spin", map[string]any{"code_sha256": sha, "entry": "spin", "pure": true, "timeout_ms": 200})
	th.deploy("hog", map[string]any{"code_sha256": sha, "entry": "hog", "pure": true, "memory_mb": 64})

	// Outputs come back in input order; an input the job cannot decode is that item's job error.
	out := th.batch("greet", `{"name":"ada"}`, `"not an object"`, `{"name":"bob"}`, `{"name":"cy"}`)
	for i, want := range []string{`{"greeting":"hello, ada"}`, "", `{"greeting":"hello, bob"}`, `{"greeting":"hello, cy"}`} {
		r := out.Results[i]
		if want == "" {
			if r.Error == nil || r.Error.Code != "" || r.Error.Type == "" || r.Output != nil {
				t.Fatalf("item %d: want a job error, got %+v", i, r)
			}
			continue
		}
		if r.Error != nil || string(r.Output) != want {
			t.Fatalf("item %d: %s %+v, want %s", i, r.Output, r.Error, want)
		}
	}

	out = th.batch("fail", `{}`)
	if e := out.Results[0].Error; e == nil || e.Type != "ValidationError" || e.Code != "" {
		t.Fatalf("job error: %+v", out.Results[0])
	}

	// A trap fails its own item, not its neighbours.
	out = th.batch("hog", `8`, `200`, `4`)
	if string(out.Results[0].Output) != `8` || string(out.Results[2].Output) != `4` {
		t.Fatalf("hog outputs: %+v", out.Results)
	}
	if e := out.Results[1].Error; e == nil || e.Code != wasm.BatchCodeFunctionFailed || !strings.Contains(e.Message, "wasm instance failed") {
		t.Fatalf("hog 200 MiB over a 64 MiB limit: %+v", out.Results[1].Error)
	}

	// Each item gets the function's timeout, and a timeout is a per-item error.
	start := time.Now()
	out = th.batch("spin", `1`, `2`)
	for i, r := range out.Results {
		if r.Error == nil || r.Error.Code != wasm.BatchCodeTimeout {
			t.Fatalf("spin item %d: %+v", i, r)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("two 200 ms timeouts took %v", took)
	}
	// The host still serves after trapped and timed-out items.
	if r := th.batch("greet", `{"name":"after"}`).Results[0]; string(r.Output) != `{"greeting":"hello, after"}` {
		t.Fatalf("after failures: %+v", r)
	}
}

func TestInvokeBatchRefusals(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{MaxBodyBytes: 4096})
	sha := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "pure": true})
	th.deploy("impure", map[string]any{"code_sha256": sha, "entry": "greet"})

	cases := []struct {
		name, fn string
		body     []byte
		status   int
		code     string
	}{
		{"not pure", "impure", batchBody(`{}`), http.StatusConflict, "not_pure"},
		{"no such function", "absent", batchBody(`{}`), http.StatusNotFound, "not_found"},
		{"too many items", "greet", batchBody(strings.Split(strings.Repeat("1,", host.MaxBatchItems)+"1", ",")...), http.StatusRequestEntityTooLarge, "too_many_items"},
		{"body over the limit", "greet", batchBody(`"` + strings.Repeat("x", 5000) + `"`), http.StatusRequestEntityTooLarge, "too_large"},
		{"no inputs", "greet", batchBody(), http.StatusBadRequest, "invalid_input"},
		{"not the batch shape", "greet", []byte(`[{"name":"x"}]`), http.StatusBadRequest, "invalid_input"},
		{"an input not JSON", "greet", []byte(`{"inputs":[{"name":]}`), http.StatusBadRequest, "invalid_input"},
	}
	for _, c := range cases {
		r := th.do("POST", "/v1/functions/"+c.fn+"/invoke-batch", c.body)
		if r.status != c.status || r.errorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
	}
	if r := th.call("POST", "/v1/functions/greet/invoke-batch", batchBody(`{}`), "wrong"); r.status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.status)
	}
	// Exactly the limit is accepted.
	th.batch("greet", strings.Split(strings.Repeat(`{},`, host.MaxBatchItems-1)+`{}`, ",")...)
}

// TestInvokeBatchHoldsSlots: a running batch holds concurrency slots, so a host whose only
// slot a batch holds answers 429 to anything else, and a batch gets 429 while the slot is busy.
func TestInvokeBatchHoldsSlots(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{MaxConcurrency: 1})
	sha := th.upload(fx.Plain)
	th.deploy("spin", map[string]any{"code_sha256": sha, "entry": "spin", "pure": true, "timeout_ms": 400})
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "pure": true})

	done := make(chan response, 1)
	go func() {
		// The probes below may hold the slot for a moment: retry until the spin batch gets in.
		for attempt := 0; ; attempt++ {
			r := th.do("POST", "/v1/functions/spin/invoke-batch", batchBody(`1`, `2`))
			if r.status != http.StatusTooManyRequests || attempt == 200 {
				done <- r
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var single, batch response
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && (single.status != http.StatusTooManyRequests || batch.status != http.StatusTooManyRequests) {
		if single.status != http.StatusTooManyRequests {
			single = th.do("POST", "/v1/functions/greet/invoke", []byte(`{}`))
		}
		if batch.status != http.StatusTooManyRequests {
			batch = th.do("POST", "/v1/functions/greet/invoke-batch", batchBody(`{}`))
		}
		time.Sleep(2 * time.Millisecond)
	}
	if single.status != http.StatusTooManyRequests || batch.status != http.StatusTooManyRequests || batch.header.Get("Retry-After") == "" {
		t.Fatalf("while a batch holds the only slot: invoke %d %s, batch %d %s", single.status, single.body, batch.status, batch.body)
	}
	r := <-done
	// One slot: the first input runs to its 400 ms timeout; the second cannot start within a
	// quarter of the timeout, so it is answered not_run (nothing ran) instead of finishing
	// long after its caller stopped waiting.
	if r.status != http.StatusOK || strings.Count(string(r.body), `"code":"timeout"`) != 1 || strings.Count(string(r.body), `"code":"not_run"`) != 1 {
		t.Fatalf("spin batch: %d %s", r.status, r.body)
	}
	// The slot is free again.
	th.batch("greet", `{}`)
}
