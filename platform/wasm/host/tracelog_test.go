package host_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// syncBuffer is a log sink the host's goroutines may write to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestInvoke_failureLogCarriesTrace: the host's log line of a failed invocation, single or in a
// batch, carries the caller's trace ID (from its traceparent), also when the host exports no
// spans: the line can be found from the agent's trace.
func TestInvoke_failureLogCarriesTrace(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{}) // as telemetry.Setup sets it in the binary
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })

	logs := &syncBuffer{}
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: logs, JSONFormat: true})})
	sha := th.upload(fx.Plain)
	th.deploy("hog", map[string]any{"code_sha256": sha, "entry": "hog", "pure": true, "memory_mb": 64})

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, path := range []string{"/v1/functions/hog/invoke", "/v1/functions/hog/invoke-batch"} {
		body := `200` // MiB, over the function's 64: the instance fails
		if strings.HasSuffix(path, "batch") {
			body = `{"inputs":[200]}`
		}
		req, _ := http.NewRequest(http.MethodPost, th.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	var failed int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "invocation failed") || strings.Contains(line, "batch item failed") {
			failed++
			if !strings.Contains(line, `"trace_id":"`+traceID+`"`) {
				t.Errorf("a failure's log line without the caller's trace: %s", line)
			}
		}
	}
	if failed != 2 {
		t.Fatalf("%d failure lines, want 2 (one invocation, one batch item); logs:\n%s", failed, logs.String())
	}
}
