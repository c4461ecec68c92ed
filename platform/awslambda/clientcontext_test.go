package awslambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The client context carries the caller's trace (and the batch mark) to the bootstrap.
func TestClientContext(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	defer otel.SetTextMapPropagator(prev)
	if cc := clientContext(context.Background(), false); cc != nil {
		t.Fatalf("no trace, no batch: %q", *cc)
	}
	traceID, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	spanID, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))
	cc := clientContext(ctx, true)
	raw, err := base64.StdEncoding.DecodeString(*cc)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Custom map[string]string }
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Custom["traceparent"] != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" || got.Custom["blueprint_batch"] != "1" {
		t.Fatalf("client context %s", raw)
	}
}
