// Package tracelog joins log lines to traces: the key-value pairs of a go-hclog line written
// during an execution get the execution's trace and span IDs, so the lines of one execution
// can be found from its trace and the other way round. It needs only the OpenTelemetry API.
package tracelog

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// KV returns kv with "trace_id" and "span_id" appended when ctx carries a valid span.
func KV(ctx context.Context, kv ...any) []any {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		kv = append(kv, "trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String())
	}
	return kv
}
