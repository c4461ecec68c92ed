package runtimeagent

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/serverless-blueprint/blueprint/internal/telemetry"
	"github.com/serverless-blueprint/blueprint/router"
)

// lockedBuffer is a log sink safe for the agent's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTrace_offloadedExecutionIsOneTrace: one execution offloaded to a real host, whose first
// region fails, is one trace: the agent's run span, an attempt span per region, and the host's
// spans, all with the trace ID that the agent's log line of the failed attempt carries.
func TestTrace_offloadedExecutionIsOneTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp) // the hosts and the HTTP transports take the global one
	otel.SetTextMapPropagator(telemetry.Propagator)
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	logs := &lockedBuffer{}
	env := newE2EWith(t, e2eOptions{agent: func(c *Config) {
		c.TracerProvider = tp
		c.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: logs, JSONFormat: true})
	}}, router.Policy{LocalCapacity: -1})
	env.hosts[0].down.Store(true) // the first region (manifest order while unmeasured) fails
	if r := env.fixture.run(t, "greet", `{"name":"traced"}`); r.status != 200 || r.run.Ran.Region != env.hosts[1].region {
		t.Fatalf("run: %d %s", r.status, r.raw)
	}

	var run sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "run greet" {
			run = s
		}
	}
	if run == nil {
		t.Fatalf("no run span among %d", len(rec.Ended()))
	}
	traceID := run.SpanContext().TraceID()
	names := map[string]int{}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == traceID {
			names[s.Name()]++
		}
	}
	for _, want := range []string{"run greet", "attempt wasm/local-a", "attempt wasm/local-b", "invoke greet", "POST /v1/functions/{name}/invoke"} {
		if names[want] == 0 {
			t.Errorf("no %q span in the trace; it has %v", want, names)
		}
	}
	attrs := map[string]string{}
	for _, a := range run.Attributes() {
		attrs[string(a.Key)] = a.Value.String()
	}
	if attrs["blueprint.target"] != "serverless" || attrs["blueprint.reason"] != "local_capacity" || attrs["blueprint.attempts"] != "2" {
		t.Errorf("run span attributes %v", attrs)
	}
	if !strings.Contains(logs.String(), `"trace_id":"`+traceID.String()+`"`) {
		t.Errorf("the log of the failed attempt does not carry trace %s:\n%s", traceID, logs.String())
	}
}

// TestLogs_neverHoldSecrets: a job's environment (a canary) appears in no log line of the
// agent at trace level, nor in any answer, whatever happens to its executions.
func TestLogs_neverHoldSecrets(t *testing.T) {
	logs := &lockedBuffer{}
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 1}, MemoBytes: -1, HedgeRatio: -1,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: logs})})
	const canary = "hunter2" // defaultJobs give resize SECRET=hunter2
	var answers strings.Builder
	for _, body := range []string{`{"n":1}`, `{"fail":"job"}`} {
		answers.WriteString(f.run(t, "resize", body).raw)
	}
	f.remote.setDown("a", true)
	f.remote.setDown("b", true)
	_, body, _ := f.post(t, "resize:run", `{"n":2}`, map[string]string{PlacementHeader: "serverless"})
	answers.WriteString(body)
	answers.WriteString(get(t, f.srv.URL+"/v1/jobs"))
	answers.WriteString(get(t, f.srv.URL+"/v1/jobs/resize:explain"))
	answers.WriteString(get(t, f.srv.URL+"/metrics"))
	if strings.Contains(logs.String(), canary) {
		t.Errorf("a log line holds the job's secret:\n%s", logs.String())
	}
	if strings.Contains(answers.String(), canary) {
		t.Errorf("an answer holds the job's secret:\n%s", answers.String())
	}
	if !strings.Contains(logs.String(), "offloaded call failed") {
		t.Fatalf("the canary test saw no failure logged; logs:\n%s", logs.String())
	}
}
