// Package plainjobs is a test fixture: jobs with every outcome the wasm runtime must handle.
package plainjobs

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// GreetIn is the input of Greet.
type GreetIn struct {
	Name string `json:"name"`
}

// GreetOut is the output of Greet.
type GreetOut struct {
	Greeting string `json:"greeting"`
}

// Greet is the trivial job.
//
//blueprint:job
func Greet(ctx context.Context, in GreetIn) (GreetOut, error) {
	return GreetOut{Greeting: "hello, " + in.Name}, nil
}

// Sum adds numbers: a pure job with a little work.
//
//blueprint:job
func Sum(ctx context.Context, in []int) (int, error) {
	total := 0
	for _, v := range in {
		total += v
	}
	return total, nil
}

// ValidationError is a job's own error type; its name must reach the caller.
type ValidationError struct{ Field string }

func (e *ValidationError) Error() string { return fmt.Sprintf("field %s is invalid", e.Field) }

// Fail always returns an error.
//
//blueprint:job
func Fail(ctx context.Context, in GreetIn) (GreetOut, error) {
	return GreetOut{}, &ValidationError{Field: "name"}
}

// Explode panics.
//
//blueprint:job
func Explode(ctx context.Context, in GreetIn) (GreetOut, error) {
	var m map[string]int
	m[in.Name]++ // assignment to entry in nil map
	return GreetOut{}, nil
}

// Spin never returns.
//
//blueprint:job
func Spin(ctx context.Context, in int) (int, error) {
	x := in
	for {
		x = x*31 + 7
	}
}

// Hog allocates the given number of MiB and touches every page.
//
//blueprint:job
func Hog(ctx context.Context, mib int) (int, error) {
	b := make([]byte, mib<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	return len(b) >> 20, nil
}

// Env reads the named environment variables, joined by commas.
//
//blueprint:job
func Env(ctx context.Context, names []string) (string, error) {
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = os.Getenv(n)
	}
	return strings.Join(vals, ","), nil
}

var calls int

// Count returns how many times this instance has run it: 1 on a fresh instance.
//
//blueprint:job
func Count(ctx context.Context, in struct{}) (int, error) {
	calls++
	return calls, nil
}
