package runtimeagent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/serverless-blueprint/blueprint/router"
)

// discardExporter takes batches of spans and drops them: exporting without a network, so the
// benchmark measures what tracing costs the agent, not a collector.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkAgentTracing runs a local job through the agent's handler in-process, with tracing
// off (no-op provider) and on (the SDK, every span sampled, batched to an exporter).
func BenchmarkAgentTracing(b *testing.B) {
	for _, c := range []struct {
		name string
		tp   func() trace.TracerProvider
	}{
		{"off", func() trace.TracerProvider { return noop.NewTracerProvider() }},
		{"on", func() trace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			tp := c.tp()
			if p, ok := tp.(*sdktrace.TracerProvider); ok {
				b.Cleanup(func() { p.Shutdown(context.Background()) })
			}
			f := newFixtureConfig(b, Config{Policy: router.Policy{LocalCapacity: 4}, MemoBytes: -1, HedgeRatio: -1, TracerProvider: tp})
			h := f.agent.Handler()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/jobs/resize:run", strings.NewReader(`{"n":1}`))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
