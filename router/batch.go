package router

import (
	"context"
	"errors"
	"sync"
	"time"
)

// BatchPolicy bounds what one batch may hold and how long an execution may wait for company.
type BatchPolicy struct {
	MaxItems int           // flush at this many items; 0 = 16
	MaxBytes int           // flush before the inputs exceed this payload; 0 = 256 KiB
	MaxWait  time.Duration // never hold an execution longer; 0 = 5 ms
	// MaxInFlight is how many requests may be on their way before new executions wait for
	// company; 0 = 4. Below it nothing waits and every execution goes alone, as it would
	// without batching: on two cores, waiting bought nothing there and a slow request held
	// up everything gathered behind it (4 callers, 2 in flight: p99 4.4 ms against 0.9 ms
	// without batching; with 4 in flight the same as without; docs/performance.md).
	MaxInFlight int
}

func (p BatchPolicy) withDefaults() BatchPolicy {
	if p.MaxItems <= 0 {
		p.MaxItems = 16
	}
	if p.MaxBytes <= 0 {
		p.MaxBytes = 256 << 10
	}
	if p.MaxWait <= 0 {
		p.MaxWait = 5 * time.Millisecond
	}
	if p.MaxInFlight <= 0 {
		p.MaxInFlight = 4
	}
	return p
}

// BatchResult is one item's outcome: errors are per item, never per batch.
type BatchResult struct {
	Output []byte
	Err    error
}

// RunBatch executes a batch and returns one result per input, in order.
type RunBatch func(ctx context.Context, inputs [][]byte) []BatchResult

// ErrBatchResultMissing reports a RunBatch that returned fewer results than inputs.
var ErrBatchResultMissing = errors.New("the batch returned no result for this item")

// Batcher gathers small executions of one job for one destination the way databases group
// commits: an execution that arrives while fewer than MaxInFlight requests are on their way is
// sent at once (with whatever waits beside it); one that arrives while the destination is busy
// waits for the next request to come back, and everything that arrived meanwhile goes out
// together. So a lone or lightly loaded caller pays no wait at all, and under load the batch
// size follows the load by itself. MaxItems and MaxBytes flush at once, and no execution waits
// longer than MaxWait, or a quarter of its caller's latency budget (WithLatencyBudget).
// Only pure jobs may be batched: a failed batch may be retried item by item.
//
// An earlier Batcher waited for company by the arrival rate alone; callers that wait for
// their result before sending the next arrive at the rate the batcher itself allows, so few
// concurrent callers paid the full MaxWait on nearly every execution (one caller: 2.6 ms
// instead of 0.15 ms per execution; docs/performance.md, "Batching").
type Batcher struct {
	policy BatchPolicy
	run    RunBatch

	mu       sync.Mutex
	pending  []pendingItem
	bytes    int
	inFlight int
	timer    *time.Timer
	due      time.Time // when the pending executions' shortest wait ends (timer's time)
}

// NewBatcher returns a batcher that calls run for every batch.
func NewBatcher(p BatchPolicy, run RunBatch) *Batcher {
	return &Batcher{policy: p.withDefaults(), run: run}
}

// latencyBudgetKey carries a caller's latency budget through a context.
type latencyBudgetKey struct{}

// WithLatencyBudget says how long the caller of this context can wait in all.
func WithLatencyBudget(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, latencyBudgetKey{}, d)
}

// LatencyBudget is the budget WithLatencyBudget put in ctx.
func LatencyBudget(ctx context.Context) (time.Duration, bool) {
	d, ok := ctx.Value(latencyBudgetKey{}).(time.Duration)
	return d, ok
}

type pendingItem struct {
	ctx    context.Context
	input  []byte
	result chan BatchResult
}

// Do adds one execution and waits for its result (or for ctx to end).
func (b *Batcher) Do(ctx context.Context, input []byte) ([]byte, error) {
	item := pendingItem{ctx: ctx, input: input, result: make(chan BatchResult, 1)}
	wait := b.policy.MaxWait
	if budget, ok := LatencyBudget(ctx); ok {
		wait = min(wait, budget/4)
	}
	b.mu.Lock()
	if len(b.pending) == 0 && b.inFlight < b.policy.MaxInFlight {
		// Nothing to wait for and nobody to wait with: the caller sends its own request, with
		// no hand-off to another goroutine (that costs a lone caller ~20 µs per execution).
		b.inFlight++
		b.mu.Unlock()
		defer func() { // deferred: a panicking run must not keep its slot for good
			b.mu.Lock()
			b.inFlight--
			if len(b.pending) > 0 && b.inFlight < b.policy.MaxInFlight {
				b.flushLocked()
			}
			b.mu.Unlock()
		}()
		r := BatchResult{Err: ErrBatchResultMissing}
		if results := b.run(ctx, [][]byte{input}); len(results) > 0 {
			r = results[0]
		}
		return r.Output, r.Err
	}
	if len(b.pending) > 0 && b.bytes+len(input) > b.policy.MaxBytes {
		b.flushLocked() // this input would overflow the payload: it starts the next batch
	}
	b.pending = append(b.pending, item)
	b.bytes += len(input)
	switch {
	case b.inFlight < b.policy.MaxInFlight, len(b.pending) >= b.policy.MaxItems, b.bytes >= b.policy.MaxBytes, wait <= 0:
		b.flushLocked()
	default:
		b.armLocked(time.Now().Add(wait))
	}
	b.mu.Unlock()
	select {
	case r := <-item.result:
		return r.Output, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// armLocked makes sure the pending executions are sent by due at the latest.
func (b *Batcher) armLocked(due time.Time) {
	if b.timer != nil && !due.Before(b.due) {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	b.due = due
	b.timer = time.AfterFunc(time.Until(due), func() {
		b.mu.Lock()
		// A flush since this timer was armed took the executions it was for.
		if len(b.pending) > 0 && !time.Now().Before(b.due) {
			b.flushLocked()
		}
		b.mu.Unlock()
	})
}

// flushLocked sends the pending executions as one request, in its own goroutine so that
// arrivals never wait behind an invocation.
func (b *Batcher) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	if len(b.pending) == 0 {
		return
	}
	items := b.pending
	b.pending, b.bytes = nil, 0
	b.inFlight++
	go b.execute(items)
}

func (b *Batcher) execute(items []pendingItem) {
	defer func() {
		b.mu.Lock()
		b.inFlight--
		// What gathered while this request was out goes now.
		if len(b.pending) > 0 && b.inFlight < b.policy.MaxInFlight {
			b.flushLocked()
		}
		b.mu.Unlock()
	}()
	// Executions whose callers already left are not run for nobody.
	live := items[:0:0]
	inputs := make([][]byte, 0, len(items))
	for _, it := range items {
		if it.ctx.Err() == nil {
			live = append(live, it)
			inputs = append(inputs, it.input)
		}
	}
	if len(live) == 0 {
		return
	}
	results := b.run(context.Background(), inputs)
	for i, it := range live {
		r := BatchResult{Err: ErrBatchResultMissing}
		if i < len(results) {
			r = results[i]
		}
		it.result <- r
	}
}
