package runtimeagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// This file is the agent as a library: what a program that embeds the router (sdk/go/jobcall)
// calls instead of the HTTP API. Both paths share execute, so a job is routed, retried, hedged
// and counted the same way whichever way it was asked for.

// Placement is where a caller insists an execution runs; the zero value lets the router decide.
type Placement string

// Placements a caller may force (PlacementHeader over HTTP).
const (
	PlacementAuto       Placement = ""
	PlacementLocal      Placement = "local"
	PlacementServerless Placement = "serverless"
)

// PlacementHeader forces where one execution runs: "local" or "serverless". Forcing serverless
// on a job with no deployment is a bad request, not a silent local run.
const PlacementHeader = "X-Blueprint-Placement"

type placementKey struct{}

// WithPlacement returns a context that forces the placement of the executions run with it.
func WithPlacement(ctx context.Context, p Placement) context.Context {
	if p == PlacementAuto {
		return ctx
	}
	return context.WithValue(ctx, placementKey{}, p)
}

// WithLatencyBudget returns a context that tells the router how long the caller can wait
// (LatencyBudgetHeader over HTTP).
func WithLatencyBudget(ctx context.Context, d time.Duration) context.Context {
	return withLatencyBudget(ctx, d)
}

func placement(ctx context.Context) Placement {
	p, _ := ctx.Value(placementKey{}).(Placement)
	return p
}

// ParsePlacement checks a placement a caller sent.
func ParsePlacement(s string) (Placement, error) {
	switch p := Placement(s); p {
	case PlacementAuto, PlacementLocal, PlacementServerless:
		return p, nil
	}
	return "", fmt.Errorf("placement must be %q or %q, got %q", PlacementLocal, PlacementServerless, s)
}

// effectiveMode is the job's mode for one execution: a forced placement wins over the job's.
func (e *jobEntry) effectiveMode(ctx context.Context) string {
	switch placement(ctx) {
	case PlacementLocal:
		return job.ModeLocal
	case PlacementServerless:
		return job.ModeServerless
	}
	return e.mode
}

// checkPlacement refuses a forced placement the job cannot honour.
func checkPlacement(ctx context.Context, e *jobEntry) error {
	if placement(ctx) == PlacementServerless && (!e.job.Eligible || len(e.job.Deployments) == 0) {
		why := "it has no deployment"
		if !e.job.Eligible {
			why = "the analysis found it not eligible for serverless (see its findings)"
		}
		return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Job: e.job.Name,
			Message: fmt.Sprintf("job %q cannot be forced to serverless: %s; let the router place it", e.job.Name, why)}
	}
	return nil
}

// Result is a successful execution.
type Result struct {
	Output   []byte
	Ran      Ran
	Decision string // router.Reason of the final decision
	Attempts int
}

// Error is a failed execution: the HTTP status and code the API would answer with. JobErrorType
// is set when the job itself returned an error (Code == CodeJobError).
type Error struct {
	Status       int
	Code         ErrorCode
	Job          string
	Message      string
	JobErrorType string
}

func (e *Error) Error() string { return e.Message }

// jobNotFound is the library API's error for a job the manifest does not hold.
func jobNotFound(snap *snapshot, name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeJobNotFound, Job: name,
		Message: fmt.Sprintf("no job named %q in the manifest (serial %d); run terraform apply or pulumi up for its package", name, snap.manifest.Serial)}
}

// Execute runs job name with the JSON input as POST /v1/jobs/{name}:run does. Errors are *Error.
func (a *Agent) Execute(ctx context.Context, name string, input []byte) (Result, error) {
	snap := a.current.Load()
	e, found := snap.jobs[name]
	if !found {
		a.metrics.httpError(CodeJobNotFound)
		return Result{}, jobNotFound(snap, name)
	}
	if int64(len(input)) > a.cfg.MaxBodyBytes {
		a.metrics.httpError(CodeInputTooLarge)
		return Result{}, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeInputTooLarge, Job: name,
			Message: fmt.Sprintf("the input of job %q is %d bytes, over the limit of %d", name, len(input), a.cfg.MaxBodyBytes)}
	}
	if err := checkPlacement(ctx, e); err != nil {
		return Result{}, err
	}
	if key := idempotencyKeyOf(ctx); key != "" {
		return resultOf(name, a.runOnce(ctx, e, key, input, func(ctx context.Context) answer { return a.runAnswer(ctx, snap, e, input, time.Now()) }))
	}
	res, err := a.execute(ctx, snap, e, input)
	if status, body := outcome(name, res, err); body != nil {
		return Result{}, &Error{Status: status, Code: ErrorCode(body.Code), Job: name, Message: body.Message, JobErrorType: body.Type}
	}
	return Result{Output: res.output, Ran: Ran{Target: res.target.String(), Platform: res.platform, Region: res.region},
		Decision: res.reason.String(), Attempts: res.attempts}, nil
}

// resultOf reads an answer of the API back into a Result or an *Error.
func resultOf(name string, ans answer) (Result, error) {
	if ans.status == http.StatusOK {
		var r RunResponse
		if err := json.Unmarshal(ans.body, &r); err != nil {
			return Result{}, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Job: name, Message: "decoding a recorded answer: " + err.Error()}
		}
		return Result{Output: r.Output, Ran: r.Ran, Decision: r.Decision, Attempts: r.Attempts}, nil
	}
	var e ErrorResponse
	if err := json.Unmarshal(ans.body, &e); err != nil {
		return Result{}, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Job: name, Message: "decoding a recorded answer: " + err.Error()}
	}
	return Result{}, &Error{Status: ans.status, Code: ErrorCode(e.Error.Code), Job: name, Message: e.Error.Message, JobErrorType: e.Error.Type}
}

// LocalRun is a local execution slot granted by BeginLocal. The caller runs the job itself and
// reports with Done.
type LocalRun struct {
	a     *Agent
	e     *jobEntry
	Job   *manifest.Job
	Start time.Time // when the slot was granted: the run's clock starts here
}

// BeginLocal is the embedding program's fast path: when the router would run job name here
// now (a free slot, nothing that asks for offloading, no hedge to arm), it takes a slot and
// returns ok; the caller then calls the function in its own process and must call Done. When
// it returns false the caller goes through Execute, which decides with the input's size.
// The decision is made before the input is encoded, so it cannot weigh the input's size, and
// a run here is neither memoized nor hedged: an in-process call costs less than either.
// It allocates nothing.
func (a *Agent) BeginLocal(ctx context.Context, name string) (LocalRun, bool) {
	snap := a.current.Load()
	e, found := snap.jobs[name]
	if !found || placement(ctx) == PlacementServerless || idempotencyKeyOf(ctx) != "" {
		return LocalRun{}, false // a keyed run goes through its record: Execute
	}
	// Decided before the input is encoded, so as for an empty one. A latency budget below a
	// pure job's local p95 asks for a remote twin: that is Speculative, which Execute runs.
	in := a.routerInput(ctx, e, 0)
	d := router.Decide(&a.cfg.Policy, &in)
	if d.Target != router.Local {
		return LocalRun{}, false
	}
	select {
	case a.slots <- struct{}{}:
	default:
		return LocalRun{}, false // the slots are taken: Execute queues or offloads
	}
	a.inFlight.Add(1)
	a.metrics.localInFlight.Add(1)
	return LocalRun{a: a, e: e, Job: e.job, Start: time.Now()}, true
}

// Done books the run (err is the job's result: nil, a *platform.FunctionError, or a failure)
// and frees its slot. A run whose caller was answered at the timeout while the function kept
// going calls Done only when the function returns, so that it keeps its slot meanwhile.
func (r LocalRun) Done(err error) {
	elapsed := time.Since(r.Start)
	a := r.a
	a.inFlight.Add(-1)
	a.metrics.localInFlight.Add(-1)
	<-a.slots
	a.localRun.Observe(elapsed, localRunWeight)
	m := r.e.localMetrics.Load()
	if m == nil {
		m = a.metrics.localRun(r.e.job.Name)
		r.e.localMetrics.Store(m)
	}
	m.duration.Observe(elapsed.Seconds())
	switch {
	case err == nil:
		r.e.localLatency.Observe(elapsed)
		m.ok.Inc()
	case isFunctionError(err):
		m.jobError.Inc()
	default:
		m.failed.Inc()
	}
}

// AbandonedLocalRun records that an in-process run outlived its timeout: its caller was
// answered, but Go cannot stop a goroutine that ignores its context, so the function goes on.
// finished is called (from that goroutine) when it does return.
func (a *Agent) AbandonedLocalRun(name string, timeout time.Duration) (finished func()) {
	a.metrics.abandoned.Add(1)
	a.localLog.Warn("a job ran past its timeout and ignores its context; its caller was answered, the goroutine keeps running until the function returns",
		"job", name, "timeout", timeout, "still_running", a.metrics.abandoned.Load())
	return func() {
		n := a.metrics.abandoned.Add(-1)
		a.localLog.Info("a job that ran past its timeout has returned", "job", name, "still_running", n)
	}
}

// MetricsHandler serves the agent's Prometheus metrics (what /metrics serves).
func (a *Agent) MetricsHandler() http.Handler { return http.HandlerFunc(a.handleMetrics) }

// Job returns the current manifest's job by name.
func (a *Agent) Job(name string) (*manifest.Job, bool) {
	e, ok := a.current.Load().jobs[name]
	if !ok {
		return nil, false
	}
	return e.job, true
}

func isFunctionError(err error) bool {
	var fe *platform.FunctionError
	return errors.As(err, &fe)
}
