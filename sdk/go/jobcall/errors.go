package jobcall

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

// FunctionError is an error the job itself returned, or a panic in it: the job ran. Type names
// the error's Go type without its package, as AWS Lambda's errorType does ("Panic" for a
// panic), so a caller can tell its own error kinds apart wherever the job ran.
type FunctionError struct {
	Job     string
	Type    string
	Message string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("job %s failed: %s: %s", e.Job, e.Type, e.Message)
}

// Error is a call that did not produce the job's answer for a reason other than the job's own
// error. Code is the agent's error code (docs/agent-api.md); errors.Is matches it against the
// sentinels below.
type Error struct {
	Job     string
	Code    string
	Message string
	cause   error // context.DeadlineExceeded or context.Canceled for in-process runs
}

// Unwrap gives the context error behind a timeout or a cancellation of an in-process run.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	if e.Job == "" {
		return "blueprint: " + e.Message
	}
	return fmt.Sprintf("blueprint: job %s: %s (%s)", e.Job, e.Message, e.Code)
}

// Is lets errors.Is(err, ErrThrottled) and the other sentinels match by code.
func (e *Error) Is(target error) bool {
	s, ok := target.(*sentinel)
	if !ok {
		return false
	}
	for _, c := range s.codes {
		if c == e.Code {
			return true
		}
	}
	return false
}

type sentinel struct {
	what  string
	codes []string
}

func (s *sentinel) Error() string { return s.what }

// Sentinels to test an *Error with errors.Is.
var (
	// ErrThrottled: no capacity here or in any region; nothing ran. Retry later.
	ErrThrottled error = &sentinel{"throttled: no capacity here or in any region", []string{"busy"}}
	// ErrUnavailable: the job could not be run (every region failed, or a remote call of a job
	// that is not pure failed and was not retried, or the local run failed outside the job).
	ErrUnavailable error = &sentinel{"unavailable", []string{"all_targets_failed", "offload_failed", "execution_failed", "invalid_output", "internal", "unavailable", "idempotency_unavailable"}}
	// ErrInputTooLarge: the input is over the agent's or every platform's limit; nothing ran.
	ErrInputTooLarge error = &sentinel{"input too large", []string{"input_too_large"}}
	// ErrTimeout: the job ran out of its time.
	ErrTimeout error = &sentinel{"timeout", []string{"timeout"}}
	// ErrJobNotFound: the deployment has no such job (not applied yet, or another package).
	ErrJobNotFound error = &sentinel{"job not found", []string{"job_not_found"}}
	// ErrCanceled: the caller's context ended before an answer.
	ErrCanceled error = &sentinel{"canceled", []string{"canceled"}}
	// ErrBadRequest: the agent refused the call (a forced placement it cannot honour, bad JSON).
	ErrBadRequest error = &sentinel{"bad request", []string{"bad_request", "invalid_json"}}
	// ErrInProgress: a call with the same idempotency key is running; retry after it answers.
	ErrInProgress error = &sentinel{"a call with this idempotency key is running", []string{"idempotency_in_progress"}}
	// ErrKeyReused: the idempotency key was first used with another input.
	ErrKeyReused error = &sentinel{"idempotency key reused with another input", []string{"idempotency_key_reused"}}
	// ErrUnauthorized: the agent wants a token (BLUEPRINT_AGENT_TOKEN) and got none or another.
	ErrUnauthorized error = &sentinel{"unauthorized", []string{"unauthorized"}}
)

// callError is the error of a call the agent (over HTTP or embedded) answered with an error
// code: the job's own error (job_error) as a *FunctionError, anything else as an *Error.
func callError(job, code, errorType, message string) error {
	if code == string(runtimeagent.CodeJobError) {
		return &FunctionError{Job: job, Type: errorType, Message: message}
	}
	return &Error{Job: job, Code: code, Message: message}
}

// errorTypeName names an error by its dynamic type without package, as AWS Lambda's errorType
// and the job wrappers Blueprint builds do.
func errorTypeName(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "error"
	}
	return t.Name()
}

// asFunctionError reports whether err is a job's own error.
func asFunctionError(err error) (*FunctionError, bool) {
	var fe *FunctionError
	ok := errors.As(err, &fe)
	return fe, ok
}
