package runtimeagent

import "github.com/serverless-blueprint/blueprint/internal/httpapi"

// ErrorCode is the "code" of an error answer. The set below is the whole API: clients switch
// on it, docs/agent-api.md and docs/openapi.yaml document every one (a test reads ErrorCodes).
type ErrorCode string

// The agent's error codes.
const (
	CodeBadRequest       ErrorCode = "bad_request"     // a header or body the agent cannot use
	CodeInvalidJSON      ErrorCode = "invalid_json"    // the input is not JSON
	CodeInputTooLarge    ErrorCode = "input_too_large" // the input is over --max-body-bytes
	CodeUnauthorized     ErrorCode = httpapi.CodeUnauthorized
	CodeNotFound         ErrorCode = "not_found"          // no such endpoint
	CodeJobNotFound      ErrorCode = "job_not_found"      // no such job in the manifest
	CodeJobError         ErrorCode = "job_error"          // the job ran and returned an error
	CodeBusy             ErrorCode = "busy"               // no capacity here or in any region; nothing ran
	CodeCanceled         ErrorCode = "canceled"           // the caller left before an answer
	CodeTimeout          ErrorCode = "timeout"            // the job ran out of time
	CodeExecutionFailed  ErrorCode = "execution_failed"   // a local run failed outside the job
	CodeOffloadFailed    ErrorCode = "offload_failed"     // a remote call of a job that is not pure failed; not retried
	CodeAllTargetsFailed ErrorCode = "all_targets_failed" // every region failed
	CodeInvalidOutput    ErrorCode = "invalid_output"     // the job answered something that is not JSON
	CodeInternal         ErrorCode = "internal"           // a bug in the agent

	CodeUnsupportedMediaType ErrorCode = "unsupported_media_type" // run and batch take Content-Type: application/json only (415)
	CodeHostNotAllowed       ErrorCode = "host_not_allowed"       // an agent without a token got a Host that is not loopback (403)
	CodeBodyTimeout          ErrorCode = "body_timeout"           // the body did not arrive within the body deadline (408)

	CodeIdempotencyInProgress  ErrorCode = "idempotency_in_progress" // a request with this Idempotency-Key is running (409)
	CodeIdempotencyKeyReused   ErrorCode = "idempotency_key_reused"  // the key was first used with another input (422)
	CodeIdempotencyUnavailable ErrorCode = "idempotency_unavailable" // the records' store cannot be reached; nothing ran (503)
)

// ErrorCodes lists every error code the agent sends.
var ErrorCodes = []ErrorCode{
	CodeBadRequest, CodeInvalidJSON, CodeInputTooLarge, CodeUnauthorized, CodeNotFound, CodeJobNotFound,
	CodeJobError, CodeBusy, CodeCanceled, CodeTimeout, CodeExecutionFailed, CodeOffloadFailed,
	CodeAllTargetsFailed, CodeInvalidOutput, CodeInternal,
	CodeIdempotencyInProgress, CodeIdempotencyKeyReused, CodeIdempotencyUnavailable,
	CodeUnsupportedMediaType, CodeHostNotAllowed, CodeBodyTimeout,
}

// Outcome is how an execution or a remote attempt ended: the outcome label of the metrics.
type Outcome string

// Outcomes of executions (blueprint_agent_runs_total) and attempts (..._remote_attempts_total).
const (
	OutcomeOK             Outcome = "ok"
	OutcomeJobError       Outcome = "job_error"       // the job ran and returned an error
	OutcomeFailed         Outcome = "failed"          // it did not complete
	OutcomeCanceled       Outcome = "canceled"        // the caller left, or a hedged twin answered first
	OutcomeBusy           Outcome = "busy"            // refused for lack of capacity; nothing ran
	OutcomeUnavailable    Outcome = "unavailable"     // the local artifact could not be prepared; nothing ran here
	OutcomeTransportError Outcome = "transport_error" // the region could not be reached or answered garbage
	OutcomeRetryBudget    Outcome = "retry_budget"    // not tried: the retry budget was spent
	OutcomeTooLarge       Outcome = "too_large"       // not sent: the input is over the platform's limit
	OutcomeLostHedge      Outcome = "lost_hedge"      // the region had not answered when a twin in the next region did
)

// RunOutcomes are the outcomes of blueprint_agent_runs_total.
var RunOutcomes = []Outcome{OutcomeOK, OutcomeJobError, OutcomeFailed, OutcomeCanceled, OutcomeBusy, OutcomeUnavailable}

// AttemptOutcomes are the outcomes of blueprint_agent_remote_attempts_total.
var AttemptOutcomes = []Outcome{OutcomeOK, OutcomeJobError, OutcomeBusy, OutcomeTransportError, OutcomeRetryBudget, OutcomeTooLarge, OutcomeLostHedge}
