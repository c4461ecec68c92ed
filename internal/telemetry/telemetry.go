// Package telemetry sets up OpenTelemetry tracing for Blueprint's binaries: W3C trace context
// propagation always (so a trace started by a caller passes through even when this process
// records nothing), and span export over OTLP only when the environment asks for it
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, as the OpenTelemetry
// specification names them).
package telemetry

import (
	"context"
	"errors"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Propagator is the W3C trace context and baggage.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Exporting reports whether the environment configures an OTLP endpoint for traces.
func Exporting() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// flushTimeout bounds how long a stopping process waits for its last spans to be sent.
const flushTimeout = 5 * time.Second

// Setup installs the propagator and, when Exporting, a tracer provider that batches spans to
// the OTLP/HTTP endpoint, as the global ones. The returned provider is what to pass on
// (a no-op one when not exporting); shutdown sends what is buffered, within a few seconds.
func Setup(ctx context.Context, service string) (tp trace.TracerProvider, shutdown func(), err error) {
	otel.SetTextMapPropagator(Propagator)
	if !Exporting() {
		return otel.GetTracerProvider(), func() {}, nil
	}
	exporter, err := otlptracehttp.New(ctx) // endpoint, headers and TLS from OTEL_EXPORTER_OTLP_*
	if err != nil {
		return nil, nil, errors.Join(errors.New("OTLP trace exporter"), err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		res = resource.Default()
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	otel.SetTracerProvider(provider)
	return provider, func() {
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		provider.Shutdown(ctx)
	}, nil
}
