package runtimeagent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/serverless-blueprint/blueprint/internal/tracelog"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

func defaultCapacity() int { return runtime.GOMAXPROCS(0) }

// remoteGrace is added to a job's own timeout for a remote call: the platform enforces the job's
// limit, the agent only guards against a host that never answers.
const remoteGrace = 5 * time.Second

// runResult is where a job ran and what came out.
type runResult struct {
	output   []byte
	target   router.Target
	platform string
	region   string
	reason   router.Reason
	attempts int
	// code is the SHA-256 of the artifact that ran, when known: only a result of an artifact
	// the state records is memoized, so it never answers for other code.
	code string
}

// runError is a failed execution with the HTTP status and code to report.
type runError struct {
	notRun  bool // refused before the job started (busy, gave up waiting for a slot)
	status  int
	code    ErrorCode
	message string
	fnErr   *platform.FunctionError // set for job errors
	target  router.Target
	cause   error
}

func (e *runError) Error() string { return e.message }
func (e *runError) Unwrap() error { return e.cause }

// execute runs one job and records metrics. What the analysis proved decides what the agent may
// do beyond running the job once: only a pure and deterministic job is answered from the memo
// cache, only a pure job is hedged or retried after it may have run. That link from analysis
// to runtime is what makes these optimizations safe.
func (a *Agent) execute(ctx context.Context, snap *snapshot, e *jobEntry, input []byte) (res runResult, err error) {
	ctx, span := a.tracer.Start(ctx, "run "+e.job.Name, trace.WithAttributes(attribute.String("blueprint.job", e.job.Name),
		attribute.Bool("blueprint.pure", e.job.Analysis.Pure), attribute.Int("blueprint.input_bytes", len(input))))
	defer func() {
		endRunSpan(span, res, err)
		a.metrics.observeExecution(e.job.Name, res, err)
	}()
	a.retryBudget.Begin()
	defer a.retryBudget.End()
	if a.hedgeBudget != nil {
		a.hedgeBudget.OnRequest() // hedges are a share of all requests, not of slow ones
	}
	if a.memo == nil || !router.Memoizable(e.job.Analysis.Pure, e.job.Analysis.Deterministic) || len(e.job.Artifacts) == 0 || e.job.SourceHash == "" {
		return a.routeAndAccount(ctx, snap, e, input)
	}
	// A result is keyed by the job's code hash: every artifact the state records for the job
	// was built from that code, so a result from any of them answers, and a rebuild of the
	// package for another job's edit keeps the cache. A result computed by code the state no
	// longer records (an old deploy, a region left behind) is never stored.
	key := router.NewMemoKey(e.job.Name, e.job.SourceHash, input)
	if out, ok := a.memo.Get(key); ok {
		a.metrics.observeRun(e.job.Name, "memo", OutcomeOK, 0)
		return runResult{output: out, target: router.Local, reason: router.ReasonMemoized}, nil
	}
	res, err = a.routeAndAccount(ctx, snap, e, input)
	if err == nil && res.code != "" && e.recordsArtifact(res.code) {
		a.memo.Put(key, res.output)
	}
	return res, err
}

// endRunSpan records an execution's decision and outcome on its span and ends it.
func endRunSpan(span trace.Span, res runResult, err error) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String("blueprint.target", res.target.String()), attribute.String("blueprint.reason", res.reason.String()),
			attribute.Int("blueprint.attempts", res.attempts))
		if res.platform != "" {
			span.SetAttributes(attribute.String("blueprint.platform", res.platform), attribute.String("blueprint.region", res.region))
		}
		var re *runError
		if errors.As(err, &re) {
			span.SetAttributes(attribute.String("blueprint.error_code", string(re.code)))
			span.SetStatus(codes.Error, re.message)
		}
	}
	span.End()
}

// traced adds the execution's trace and span IDs to a log line's key-value pairs.
var traced = tracelog.KV

// routeAndAccount routes and runs, then books what the execution cost where it ran: the
// VM's marginal cost at the utilization it started with, or the platform's price for the
// memory and the time it took (as seen from here, so a little above what the platform bills).
func (a *Agent) routeAndAccount(ctx context.Context, snap *snapshot, e *jobEntry, input []byte) (runResult, error) {
	utilization := a.utilization()
	start := time.Now()
	res, err := a.route(ctx, snap, e, input)
	prices := a.cfg.Policy.Prices
	var re *runError
	ran := err == nil || (errors.As(err, &re) && re.fnErr != nil) // a job error still ran and bills
	if prices == nil || !ran {
		return res, err
	}
	elapsed := time.Since(start)
	if res.target == router.Serverless {
		remote := prices.ServerlessCost(e.job.EffectiveMemoryMB(), elapsed)
		a.metrics.addCost(e.job.Name, "serverless", remote)
		// Against always-local: what the run would have cost here, at the local p50 this
		// machine measured and the utilization it had (negative when the router offloaded
		// for capacity or latency at a higher price).
		if p50, ok := e.localLatency.Quantile(0.5, 5); ok {
			a.metrics.costSaved.WithLabelValues(e.job.Name).Add(prices.LocalCost(p50, utilization) - remote)
		}
	} else {
		a.metrics.addCost(e.job.Name, "local", prices.LocalCost(elapsed, utilization))
	}
	return res, err
}

// utilization is how full the VM is: the larger of the share of local slots in use and, when
// a load sampler runs, the CPU and memory in use (work beside the agent counts too: a VM
// whose application is busy is no place for extra jobs).
func (a *Agent) utilization() float64 {
	u := float64(a.inFlight.Load()) / float64(max(a.capacity, 1))
	if l := a.cfg.Load; l != nil {
		u = max(u, l.CPU(), l.Memory())
	}
	return u
}

// routerInput is what the router decides one execution of e from: the analysis, the request,
// and this machine's and the regions' live state.
func (a *Agent) routerInput(ctx context.Context, e *jobEntry, inputBytes int64) router.Input {
	in := router.Input{
		Eligible:      e.job.Eligible,
		Pure:          e.job.Analysis.Pure,
		Mode:          e.effectiveMode(ctx),
		InputBytes:    inputBytes,
		LocalInFlight: int(a.inFlight.Load()),
		Regions:       e.stats,
		Utilization:   a.utilization(),
		MemoryMB:      e.job.EffectiveMemoryMB(),
	}
	in.CanBatch = a.batchingOn()
	// The provider block's routing settings travel in the state with each job.
	if t := e.job.CostThreshold; t != nil {
		in.CostThreshold = *t
	}
	in.LatencyThreshold = time.Duration(e.job.LatencyThresholdMS) * time.Millisecond
	// The expected duration is what this machine measured, never the analysis's default
	// guess: cost-aware routing acts on evidence only. Only cost and latency routing read it,
	// so the histogram is not read on every decision.
	if a.cfg.Policy.Prices != nil || in.LatencyThreshold > 0 {
		if p50, ok := e.localLatency.Quantile(0.5, 5); ok {
			in.Expected = p50
		}
	}
	// For speculation: what the caller can wait against what a local run takes at p95.
	if budget, ok := latencyBudget(ctx); ok {
		in.LatencyBudget = budget
		if p95, ok := e.localLatency.Quantile(0.95, minHedgeSamples); ok && a.hedgeBudget != nil {
			in.LocalP95 = p95
		}
	}
	return in
}

// route decides where the job runs and runs it there.
func (a *Agent) route(ctx context.Context, snap *snapshot, e *jobEntry, input []byte) (runResult, error) {
	in := a.routerInput(ctx, e, int64(len(input)))
	d := router.Decide(&a.cfg.Policy, &in)

	if d.Target == router.Local || d.Target == router.Speculative {
		if d.Reason == router.ReasonLocalHasCapacity || d.Reason == router.ReasonLatencyBudget {
			// The router saw a free slot, but another request may have taken it since.
			select {
			case a.slots <- struct{}{}:
			default:
				in.LocalInFlight = max(a.capacity, 1)
				d = router.Decide(&a.cfg.Policy, &in)
				if offloads(d) {
					return a.offload(ctx, snap, e, input, d)
				}
				if err := a.acquireSlot(ctx); err != nil {
					return runResult{}, err
				}
			}
		} else if err := a.acquireSlot(ctx); err != nil {
			return runResult{}, err
		}
		res, err := a.runLocalMaybeHedged(ctx, snap, e, input, d, in)
		if err != nil && errors.Is(err, ErrLocalUnavailable) && (d.Reason == router.ReasonLocalHasCapacity || d.Reason == router.ReasonLatencyBudget) {
			// The job never started here (no artifact yet, fetch failed): offload instead.
			in.LocalInFlight = max(a.capacity, 1)
			if d2 := router.Decide(&a.cfg.Policy, &in); offloads(d2) {
				a.routerLog.Warn("local execution unavailable; offloading", traced(ctx, "job", e.job.Name, "error", err)...)
				return a.runRemote(ctx, e, input, d2)
			}
		}
		return res, err
	}
	return a.offload(ctx, snap, e, input, d)
}

// offloads reports whether a decision sends the execution to a region (alone or batched).
func offloads(d router.Decision) bool {
	return d.Target == router.Serverless || d.Target == router.Batched
}

// errSafeHere marks a remote failure after which running the job locally cannot repeat an
// effect: nothing ran remotely (busy or unreachable regions), or the job is pure.
var errSafeHere = errors.New("the job may still run here")

// offload runs remotely; when every region failed in a way that makes it safe, a job that may
// run here waits for a local slot instead of failing: this machine is the last capacity.
func (a *Agent) offload(ctx context.Context, snap *snapshot, e *jobEntry, input []byte, d router.Decision) (runResult, error) {
	res, err := a.runRemoteMaybeHedged(ctx, e, input, d)
	var re *runError
	if !errors.Is(err, errSafeHere) || e.effectiveMode(ctx) == job.ModeServerless || !errors.As(err, &re) {
		return res, err
	}
	d.Target, d.Reason = router.Local, router.ReasonNoHealthyRegion
	if re.code == CodeBusy {
		d.Reason = router.ReasonRegionsBusy
	}
	a.routerLog.Warn("no region could run the job; running it here", traced(ctx, "job", e.job.Name, "reason", d.Reason.String())...)
	if err := a.acquireSlot(ctx); err != nil {
		return runResult{}, err
	}
	return a.runLocal(ctx, snap, e, input, d)
}

// runRemoteMaybeHedged offloads. An offloaded call of a pure job still running at its
// region's p95 gets a twin in the next region, within the hedge budget; the first answer wins
// and the other is cancelled. Stragglers on the platform (a noisy neighbour, a slow instance)
// then stop setting the tail: in the simulator this took the router's added p99.9 from 43 s to
// 16 s on one trace (docs/performance.md). A job that is not pure is never hedged.
func (a *Agent) runRemoteMaybeHedged(ctx context.Context, e *jobEntry, input []byte, d router.Decision) (runResult, error) {
	if a.hedgeBudget == nil || !e.job.Analysis.Pure || d.NumRegions < 2 {
		return a.runRemote(ctx, e, input, d)
	}
	delay, known := e.stats[d.Regions[0]].Quantile(0.95)
	if !known {
		return a.runRemote(ctx, e, input, d)
	}
	backup := d
	backup.NumRegions = copy(backup.Regions[:], d.Regions[1:d.NumRegions])
	res, outcome, err := router.Hedge(ctx, max(delay, minHedgeDelay), a.hedgeBudget,
		func(ctx context.Context) (runResult, error) { return a.runRemote(ctx, e, input, d) },
		func(ctx context.Context) (runResult, error) {
			r, err := a.runRemote(ctx, e, input, backup)
			r.reason = router.ReasonHedged
			return r, err
		})
	if outcome != router.HedgeNotNeeded {
		a.metrics.hedge(e.job.Name, outcome.String())
		trace.SpanFromContext(ctx).AddEvent("hedge", trace.WithAttributes(attribute.String("blueprint.outcome", outcome.String())))
	}
	if outcome == router.HedgeBackupWon && err == nil {
		// The first region did not answer by its p95 plus the time the next took: a call it
		// lost. Counted as a failure so that a region that stalls — every call to it rescued
		// by a twin, none failing on its own — still leaves rotation after a few; a region
		// that is merely slow now and then wins in between, which resets the count.
		e.stats[d.Regions[0]].ObserveFailure(time.Now())
		a.noteRegionFailure(e.job.Deployments[d.Regions[0]].Endpoint, e.stats[d.Regions[0]])
		a.metrics.observeAttempt(e.job.Name, e.job.Deployments[d.Regions[0]].Platform, e.job.Deployments[d.Regions[0]].Region, OutcomeLostHedge)
	}
	return res, err
}

// runLocalMaybeHedged runs locally (with a slot held). For a pure job whose local latency is
// known, a run still going at the local p95 gets a speculative remote twin, within the hedge
// budget; the first answer wins and the other is cancelled. Hedging a job that is not pure
// could run its effects twice, so it never happens.
func (a *Agent) runLocalMaybeHedged(ctx context.Context, snap *snapshot, e *jobEntry, input []byte, d router.Decision, in router.Input) (runResult, error) {
	delay, known := e.localLatency.Quantile(0.95, minHedgeSamples)
	if a.hedgeBudget == nil || !e.job.Analysis.Pure || !known || e.effectiveMode(ctx) == job.ModeLocal || !e.job.Eligible {
		return a.runLocal(ctx, snap, e, input, d)
	}
	if d.Target == router.Speculative {
		// The caller cannot wait for the local p95 (Decide compared them): start the remote
		// twin at once.
		delay = 0
	} else {
		delay = max(delay, minHedgeDelay)
	}
	in.LocalInFlight = max(a.capacity, 1)
	remote := router.Decide(&a.cfg.Policy, &in)
	if !offloads(remote) {
		return a.runLocal(ctx, snap, e, input, d)
	}
	res, outcome, err := router.Hedge(ctx, delay, a.hedgeBudget,
		func(ctx context.Context) (runResult, error) { return a.runLocal(ctx, snap, e, input, d) },
		func(ctx context.Context) (runResult, error) {
			r, err := a.runRemote(ctx, e, input, remote)
			r.reason = router.ReasonHedged
			return r, err
		})
	a.metrics.hedge(e.job.Name, outcome.String())
	trace.SpanFromContext(ctx).AddEvent("hedge", trace.WithAttributes(attribute.String("blueprint.outcome", outcome.String())))
	return res, err
}

// LatencyBudgetHeader lets a caller say how long it can wait (milliseconds). When that is
// less than a pure job's local p95, the local run and a remote twin start together.
const LatencyBudgetHeader = "X-Blueprint-Latency-Budget-Ms"

// The budget travels in the context (router.WithLatencyBudget), where the batcher reads it too.
func withLatencyBudget(ctx context.Context, d time.Duration) context.Context {
	return router.WithLatencyBudget(ctx, d)
}

func latencyBudget(ctx context.Context) (time.Duration, bool) { return router.LatencyBudget(ctx) }

const (
	// minHedgeSamples local runs are needed before their p95 is trusted as a hedge delay.
	minHedgeSamples = 20
	// minHedgeDelay: a remote twin started sooner cannot beat the local run (it needs a
	// network round trip at least), so hedging sub-millisecond jobs would only add load.
	minHedgeDelay = time.Millisecond
)

// acquireSlot takes a local execution slot, waiting only while the slots can be expected to
// clear the queue ahead within maxQueueWait (and behind at least maxWaiting others, so a
// machine with no measurements yet still queues a little); beyond that the agent answers 503
// at once (back-pressure) rather than queueing without bound.
func (a *Agent) acquireSlot(ctx context.Context) error {
	select {
	case a.slots <- struct{}{}:
		return nil
	default:
	}
	limit := a.waitingLimit()
	if a.waiting.Add(1) > limit {
		a.waiting.Add(-1)
		a.metrics.httpError(CodeBusy)
		return &runError{notRun: true, status: 503, code: CodeBusy, message: fmt.Sprintf("every local slot is taken and %d executions are already waiting; retry later", limit)}
	}
	defer a.waiting.Add(-1)
	select {
	case a.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &runError{notRun: true, status: 504, code: CodeCanceled, message: "gave up waiting for a local execution slot: " + ctx.Err().Error()}
	}
}

const (
	// maxQueueWait is how long a request may expect to wait for a local slot: a job of 2 ms
	// on one slot may have 50 waiting, one of 500 ms only the floor of maxWaiting.
	maxQueueWait = 100 * time.Millisecond
	// maxWaitingPerSlot caps the queue however short local runs are.
	maxWaitingPerSlot = 256
)

// waitingLimit is how many requests may wait for a local slot now.
func (a *Agent) waitingLimit() int64 {
	limit := int64(a.maxWaiting)
	slots := int64(cap(a.slots))
	if run := int64(a.localRun.Value()); run > 0 {
		byTime := int64(maxQueueWait) / run * slots
		limit = max(limit, min(byTime, maxWaitingPerSlot*slots))
	}
	return limit
}

// localRunWeight: each local run moves the average of their durations by an eighth.
const localRunWeight = 8

// runLocal runs with a slot already held and releases it.
func (a *Agent) runLocal(ctx context.Context, snap *snapshot, e *jobEntry, input []byte, d router.Decision) (runResult, error) {
	a.inFlight.Add(1)
	a.metrics.localInFlight.Add(1)
	defer func() {
		a.inFlight.Add(-1)
		a.metrics.localInFlight.Add(-1)
		<-a.slots
	}()
	ctx, span := a.tracer.Start(ctx, "local "+e.job.Name)
	defer span.End()
	start := time.Now()
	var out []byte
	var err error
	kind := a.cfg.Local.ArtifactKind(e.job)
	if kr, ok := a.cfg.Local.(kindReporter); ok {
		out, kind, err = kr.ExecuteReporting(ctx, snap.manifest, e.job, input)
	} else {
		out, err = a.cfg.Local.Execute(ctx, snap.manifest, e.job, input)
	}
	elapsed := time.Since(start)
	a.localRun.Observe(elapsed, localRunWeight)
	res := runResult{output: out, target: router.Local, reason: d.Reason, attempts: 1, code: e.job.Artifact(kind)}
	if err == nil {
		e.localLatency.Observe(elapsed)
		a.metrics.observeRun(e.job.Name, "local", OutcomeOK, elapsed)
		return res, nil
	}
	var fe *platform.FunctionError
	if errors.As(err, &fe) {
		a.metrics.observeRun(e.job.Name, "local", OutcomeJobError, elapsed)
		return res, &runError{status: 422, code: CodeJobError, message: fe.Message, fnErr: fe, target: router.Local}
	}
	switch {
	case errors.Is(err, ErrLocalUnavailable):
		// Not a run: the caller may still offload it, and that run is what gets counted.
		a.metrics.observeRun(e.job.Name, "local", OutcomeUnavailable, elapsed)
	case ctx.Err() != nil:
		// Cancelled: the caller left, or a hedged twin answered first. Not a failure.
		a.metrics.observeRun(e.job.Name, "local", OutcomeCanceled, elapsed)
	default:
		a.metrics.observeRun(e.job.Name, "local", OutcomeFailed, elapsed)
		a.localLog.Error("local execution failed", traced(ctx, "job", e.job.Name, "error", err)...)
	}
	status, code := 502, CodeExecutionFailed
	switch {
	case errors.Is(err, ErrLocalUnavailable):
		status = 503
	case ctx.Err() != nil:
		status, code = 504, CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		status, code = 504, CodeTimeout
	}
	return res, &runError{notRun: errors.Is(err, ErrLocalUnavailable), status: status, code: code, message: fmt.Sprintf("running job %q locally: %v", e.job.Name, err), target: router.Local, cause: err}
}

// noteRegionFailure marks a host out of rotation for every job once one job's calls took it out:
// a host that stalls or died does so for all its functions, and jobs that are not pure (which
// cannot fail over after a call that hangs) should not find out one call at a time.
func (a *Agent) noteRegionFailure(endpoint string, stats *router.RegionStats) {
	if endpoint == "" || stats.Healthy(a.cfg.Policy.FailureThreshold) {
		return
	}
	a.downEndpoints.Store(endpoint, time.Now().Add(a.cfg.Policy.Cooldown()).UnixNano())
}

// endpointDown reports whether a job's calls recently took the host at endpoint out of rotation
// (until its cooldown passes or a call to it succeeds).
func (a *Agent) endpointDown(endpoint string) bool {
	until, ok := a.downEndpoints.Load(endpoint)
	return ok && time.Now().UnixNano() < until.(int64)
}

// minAttemptTimeout is the shortest a pure job's remote attempt may be given: below it, a GC
// pause or a network hiccup would look like a stalled region.
const minAttemptTimeout = 50 * time.Millisecond

// attemptTimeout bounds one remote attempt. A pure job's attempt gets what its region normally
// takes — 4× its p99, plus the cold-start allowance when the region has been idle long enough
// to have lost its instances — at least minAttemptTimeout and at most the job's own limit: a
// region that stalls then costs a caller that much, not the job's whole timeout, and the call
// fails over (pure jobs may run twice). A job that is not pure waits its full time: moving it
// on could run it twice. The last region of a call always gets the full time (runRemote).
func attemptTimeout(e *jobEntry, stats *router.RegionStats, full time.Duration) time.Duration {
	if !e.job.Analysis.Pure {
		return full
	}
	p99, ok := stats.Quantile(0.99)
	if !ok {
		return full // nothing measured: no basis for a shorter deadline
	}
	d := 4 * p99
	if stats.Idle() > router.DefaultColdAfter {
		d += coldStartAllowance
	}
	return min(max(d, minAttemptTimeout), full)
}

// coldStartAllowance is added to the attempt deadline of a region idle for long: Lambda and
// Cloud Functions start a Go instance in a few hundred milliseconds.
const coldStartAllowance = 2 * time.Second

// runRemote tries the decision's regions in order. A transport failure moves on to the next
// region only for pure jobs: a non-pure job may have run before the connection broke, and
// running it twice could repeat its effects.
func (a *Agent) runRemote(ctx context.Context, e *jobEntry, input []byte, d router.Decision) (runResult, error) {
	log := a.routerLog
	timeout := e.job.EffectiveTimeout() + remoteGrace
	var failures []string
	busy := 0
	mayHaveRun := false // a request reached a host that may have started the job
	start := time.Now()
	for i := 0; i < d.NumRegions; i++ {
		idx := d.Regions[i]
		dep := e.job.Deployments[idx]
		stats := e.stats[idx]
		target := e.targets[idx]
		if max := target.limits.MaxPayloadBytes; max > 0 && int64(len(input)) > max {
			failures = append(failures, fmt.Sprintf("%s/%s: the input of %d bytes is over the platform's limit of %d bytes (not sent)", dep.Platform, dep.Region, len(input), max))
			a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeTooLarge)
			continue // nothing was sent, so trying the next region is safe for any job
		}
		if !e.job.Analysis.Pure && a.endpointDown(dep.Endpoint) {
			// Another job found this host stalled or gone: a job that is not pure cannot fail
			// over after a call that hangs, so it does not go there until the host answers again.
			failures = append(failures, fmt.Sprintf("%s/%s: out of rotation (another job's calls to it failed; not sent)", dep.Platform, dep.Region))
			continue
		}
		if mayHaveRun {
			// A retry of a call that may have run (pure jobs only get here): bounded by the
			// retry budget, so a sick region cannot turn into a retry storm.
			if !a.retryBudget.TryRetry() {
				failures = append(failures, fmt.Sprintf("%s/%s: not tried: the retry budget is spent", dep.Platform, dep.Region))
				a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeRetryBudget)
				break
			}
		}
		attempt := timeout
		if i < d.NumRegions-1 {
			// Not the last region: a stalled region hands the call on after what it normally
			// takes. The last region gets the job's full time, so that an input that is simply
			// slow still completes somewhere.
			attempt = attemptTimeout(e, stats, timeout)
		}
		callCtx, cancel := context.WithTimeout(ctx, attempt)
		callCtx, attemptSpan := a.tracer.Start(callCtx, "attempt "+dep.Platform+"/"+dep.Region, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("blueprint.platform", dep.Platform), attribute.String("blueprint.region", dep.Region),
				attribute.Int("blueprint.attempt", i+1), attribute.Int64("blueprint.attempt_deadline_ms", attempt.Milliseconds())))
		t0 := time.Now()
		out, err := a.invokeRemote(callCtx, e, dep, target, input, d.Target == router.Batched)
		latency := time.Since(t0)
		hung := callCtx.Err() != nil // our own guard fired: the host did not answer in time
		if err != nil {
			attemptSpan.RecordError(err)
			attemptSpan.SetStatus(codes.Error, err.Error())
		}
		attemptSpan.End()
		cancel()
		if mayHaveRun {
			a.retryBudget.RetryDone()
		}
		res := runResult{output: out, target: router.Serverless, platform: dep.Platform, region: dep.Region, reason: d.Reason, attempts: i + 1,
			code: cmp.Or(dep.CodeSHA256, e.job.Artifact(target.kind))}
		if err == nil {
			stats.ObserveSuccess(latency)
			a.downEndpoints.Delete(dep.Endpoint)
			a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeOK)
			a.metrics.observeRun(e.job.Name, "serverless", OutcomeOK, time.Since(start))
			return res, nil
		}
		var fe *platform.FunctionError
		if errors.As(err, &fe) {
			stats.ObserveSuccess(latency) // the region worked; the job said no
			a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeJobError)
			a.metrics.observeRun(e.job.Name, "serverless", OutcomeJobError, time.Since(start))
			return res, &runError{status: 422, code: CodeJobError, message: fe.Message, fnErr: fe, target: router.Serverless}
		}
		if ctx.Err() != nil {
			// The caller went away or timed out: not the region's fault.
			a.metrics.observeRun(e.job.Name, "serverless", OutcomeFailed, time.Since(start))
			return res, &runError{status: 504, code: CodeCanceled, message: fmt.Sprintf("running job %q: %v", e.job.Name, ctx.Err()), target: router.Serverless}
		}
		if errors.Is(err, context.DeadlineExceeded) && !hung {
			// The host answered that the job ran out of time: the region works, and another
			// region would time out the same way.
			stats.ObserveSuccess(latency)
			a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeJobError)
			a.metrics.observeRun(e.job.Name, "serverless", OutcomeFailed, time.Since(start))
			return res, &runError{status: 504, code: CodeTimeout, target: router.Serverless, message: fmt.Sprintf("running job %q in %s/%s: %v", e.job.Name, dep.Platform, dep.Region, err)}
		}
		failures = append(failures, fmt.Sprintf("%s/%s: %v", dep.Platform, dep.Region, err))
		if errors.Is(err, ErrNotRun) {
			// Back-pressure, not breakage: the region stays healthy, and since nothing ran,
			// the next region may take any job. A Retry-After keeps it out until then.
			var throttled *platform.ThrottledError
			if errors.As(err, &throttled) && throttled.RetryAfter > 0 {
				stats.ObserveThrottle(time.Now().Add(throttled.RetryAfter))
			}
			busy++
			a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeBusy)
			log.Debug("region busy; trying the next", traced(ctx, "job", e.job.Name, "region", dep.Region)...)
			continue
		}
		stats.ObserveFailure(time.Now())
		a.noteRegionFailure(dep.Endpoint, stats)
		a.metrics.observeAttempt(e.job.Name, dep.Platform, dep.Region, OutcomeTransportError)
		if neverSent(err) {
			// The connection was never established, so the request was never sent: trying
			// the next region cannot run the job twice.
			log.Warn("region unreachable; trying the next", traced(ctx, "job", e.job.Name, "region", dep.Region, "error", err)...)
			continue
		}
		mayHaveRun = true
		if !e.job.Analysis.Pure {
			log.Warn("offloaded call failed; not retrying a job that is not pure", traced(ctx, "job", e.job.Name, "region", dep.Region, "error", err)...)
			a.metrics.observeRun(e.job.Name, "serverless", OutcomeFailed, time.Since(start))
			return res, &runError{status: 502, code: CodeOffloadFailed, target: router.Serverless, message: fmt.Sprintf(
				"running job %q in %s/%s failed: %v (not retried elsewhere: the analysis did not prove the job pure, so it may have run)", e.job.Name, dep.Platform, dep.Region, err)}
		}
		log.Warn("offloaded call failed; failing over", traced(ctx, "job", e.job.Name, "region", dep.Region, "error", err)...)
	}
	var cause error
	if !mayHaveRun || e.job.Analysis.Pure {
		cause = errSafeHere
	}
	if busy > 0 && busy == d.NumRegions {
		a.metrics.observeRun(e.job.Name, "serverless", OutcomeBusy, time.Since(start))
		return runResult{target: router.Serverless, reason: d.Reason}, &runError{status: 503, code: CodeBusy, target: router.Serverless, cause: cause,
			message: fmt.Sprintf("running job %q: every region is busy (nothing ran): %v; retry later", e.job.Name, failures)}
	}
	a.metrics.observeRun(e.job.Name, "serverless", OutcomeFailed, time.Since(start))
	msg := fmt.Sprintf("running job %q: every region failed: %v", e.job.Name, failures)
	if d.NumRegions == 0 {
		msg = fmt.Sprintf("running job %q: no region to offload to", e.job.Name)
	}
	return runResult{target: router.Serverless, reason: d.Reason}, &runError{status: 502, code: CodeAllTargetsFailed, message: msg, target: router.Serverless, cause: cause}
}

// neverSent reports a dial failure: no connection, so the request never left this machine.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
