package runtimeagent

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// Remote batching defaults, as the agent's flags give them.
const (
	DefaultBatchMaxItems = 16
	DefaultBatchMaxWait  = 2 * time.Millisecond
	// maxBatchBytes bounds the inputs of one batch; a larger input is sent on its own.
	maxBatchBytes = 256 << 10
)

// ErrBatchUnsupported marks a batch the platform would not run as a batch (platform.ErrBatchUnsupported).
var ErrBatchUnsupported = platform.ErrBatchUnsupported

// remoteBatcher gathers concurrent executions of one pure job for one deployment into
// batch invocations.
type remoteBatcher struct {
	b *router.Batcher
	// unsupported is set once the platform refused to batch this deployment: later executions
	// go one by one without paying for a refused batch first.
	unsupported atomic.Bool
}

// batchKey names a batcher: one per job and deployment (a redeploy gets a new one).
type batchKey struct {
	stats      statsKey
	functionID string
	version    string
	timeout    time.Duration
}

// batchingOn reports whether remote executions of pure jobs are batched at all.
func (a *Agent) batchingOn() bool { return a.batchPolicy.MaxItems > 1 }

// invokeRemote calls one deployment. An execution the router decided to batch (a pure job,
// a small input: router.Batched) joins a batch when the invoker can batch; anything else is a
// single call. Batching keeps runRemote's semantics: every execution gets its own result or
// error, and a batch that failed as a whole fails each of its executions with that error, so
// each fails over (pure jobs only reach this path) as a single call would.
func (a *Agent) invokeRemote(ctx context.Context, e *jobEntry, dep platform.Deployment, t remoteTarget, input []byte, batched bool) ([]byte, error) {
	inv := t.invoker
	if !batched || !a.batchingOn() || t.limits.MaxBatchItems < 2 || !e.job.Analysis.Pure || len(input) > a.batchPolicy.MaxBytes {
		return inv.Invoke(ctx, dep, input)
	}
	binv, ok := inv.(platform.BatchInvoker)
	if !ok {
		return inv.Invoke(ctx, dep, input)
	}
	rb := a.batcherFor(e, dep, t, binv)
	if rb.unsupported.Load() {
		return inv.Invoke(ctx, dep, input)
	}
	return rb.b.Do(ctx, input)
}

func (a *Agent) batcherFor(e *jobEntry, dep platform.Deployment, t remoteTarget, binv platform.BatchInvoker) *remoteBatcher {
	timeout := e.job.EffectiveTimeout() + remoteGrace
	key := batchKey{
		stats:      statsKey{e.job.Name, dep.Platform, dep.Region, dep.Endpoint},
		functionID: dep.FunctionID, version: dep.Version, timeout: timeout,
	}
	a.batchMu.Lock()
	defer a.batchMu.Unlock()
	if rb := a.batchers[key]; rb != nil {
		return rb
	}
	rb := &remoteBatcher{}
	policy := a.batchPolicy
	policy.MaxItems = min(policy.MaxItems, t.limits.MaxBatchItems) // what the platform takes
	rb.b = router.NewBatcher(policy, a.runBatch(rb, e.job.Name, dep, timeout, t.invoker, binv))
	a.batchers[key] = rb
	return rb
}

// runBatch returns the function a batcher calls with the inputs it gathered.
func (a *Agent) runBatch(rb *remoteBatcher, jobName string, dep platform.Deployment, timeout time.Duration, inv platform.Invoker, binv platform.BatchInvoker) router.RunBatch {
	return func(ctx context.Context, inputs [][]byte) []router.BatchResult {
		// The batch outlives no caller by more than a single call would: each caller's own
		// guard is the same job timeout plus grace, started before the batch was sent.
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		out := make([]router.BatchResult, len(inputs))
		if len(inputs) == 1 {
			// A lone execution needs no batch envelope.
			out[0].Output, out[0].Err = inv.Invoke(ctx, dep, inputs[0])
			return out
		}
		res, err := binv.InvokeBatch(ctx, dep, inputs)
		if errors.Is(err, ErrBatchUnsupported) {
			// Nothing ran: send these inputs one by one, and the next ones directly.
			if !rb.unsupported.Swap(true) {
				a.routerLog.Warn("the platform does not batch this deployment; invoking it one input at a time", "job", jobName, "platform", dep.Platform, "region", dep.Region, "error", err)
			}
			var wg sync.WaitGroup
			for i := range inputs {
				wg.Go(func() {
					o, err := inv.Invoke(ctx, dep, inputs[i])
					out[i] = router.BatchResult{Output: o, Err: err}
				})
			}
			wg.Wait()
			return out
		}
		a.metrics.observeBatch(jobName, len(inputs))
		if err == nil && len(res) != len(inputs) {
			err = errors.New("the platform returned a different number of results than inputs")
		}
		for i := range out {
			if err != nil {
				out[i].Err = err
			} else {
				out[i] = router.BatchResult{Output: res[i].Output, Err: res[i].Err}
			}
		}
		return out
	}
}

// pruneBatchers drops the batchers of deployments a reload removed or replaced (their pending
// executions are still sent: a batcher flushes on its own timer).
func (a *Agent) pruneBatchers(m *manifest.Manifest) {
	type live struct {
		stats               statsKey
		functionID, version string
	}
	keep := map[live]bool{}
	for _, j := range m.Jobs {
		for _, d := range j.Deployments {
			keep[live{statsKey{j.Name, d.Platform, d.Region, d.Endpoint}, d.FunctionID, d.Version}] = true
		}
	}
	a.batchMu.Lock()
	defer a.batchMu.Unlock()
	for k := range a.batchers {
		if !keep[live{k.stats, k.functionID, k.version}] {
			delete(a.batchers, k)
		}
	}
}
