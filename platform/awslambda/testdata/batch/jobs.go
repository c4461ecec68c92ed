// Package batch holds the job the Lambda batch test deploys: its outcome depends on the input,
// so one batch can mix outputs, job errors and panics.
package batch

import (
	"context"

	"go.opentelemetry.io/otel/trace"
)

// Pick is a job input.
type Pick struct {
	Name string `json:"name"`
}

// Picked is a job output.
type Picked struct {
	Name string `json:"name"`
}

// RefusedError is the job error for the name "refuse".
type RefusedError struct{ Name string }

func (e *RefusedError) Error() string { return "refused: " + e.Name }

// Choose echoes the name, refuses "refuse" and panics on "panic".
//
//blueprint:job
func Choose(ctx context.Context, in Pick) (Picked, error) {
	switch in.Name {
	case "refuse":
		return Picked{}, &RefusedError{Name: in.Name}
	case "panic":
		panic("asked to panic")
	}
	return Picked{Name: in.Name}, nil
}

// TraceOf answers the trace its context is part of: the caller's, carried in the invocation's
// client context.
//
//blueprint:job
func TraceOf(ctx context.Context, in Pick) (string, error) {
	return trace.SpanContextFromContext(ctx).TraceID().String(), nil
}
