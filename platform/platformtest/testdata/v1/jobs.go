// Package conformance holds the jobs the platform conformance suite deploys; v1 and the other
// version differ only in their greeting, so their artifacts differ (a code change).
package conformance

import "context"

// Greeting is a job input.
type Greeting struct {
	Name string `json:"name"`
}

// Reply is a job output.
type Reply struct {
	Message string `json:"message"`
}

// RefusedError is the job error Refuse returns; platforms report its type as RefusedError.
type RefusedError struct{ Name string }

func (e *RefusedError) Error() string { return "refused: " + e.Name }

// Greet answers with a greeting.
//
//blueprint:job
func Greet(ctx context.Context, in Greeting) (Reply, error) {
	return Reply{Message: "hello " + in.Name}, nil
}

// Refuse always fails with a job error.
//
//blueprint:job
func Refuse(ctx context.Context, in Greeting) (Reply, error) {
	return Reply{}, &RefusedError{Name: in.Name}
}
