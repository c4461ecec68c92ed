package tracelog

import (
	"context"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestKV(t *testing.T) {
	if got := KV(context.Background(), "job", "a"); !reflect.DeepEqual(got, []any{"job", "a"}) {
		t.Fatalf("without a span: %v", got)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	got := KV(trace.ContextWithSpanContext(context.Background(), sc), "job", "a")
	want := []any{"job", "a", "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String()}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("with a span: %v, want %v", got, want)
	}
}
