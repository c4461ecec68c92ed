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
	MaxWait  time.Duration // never hold the first item longer; 0 = 5 ms
	// LatencyBudget is what a caller can afford to wait in all; the batcher spends at most a
	// quarter of it waiting. 0 = no budget beyond MaxWait.
	LatencyBudget time.Duration
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
	return p
}

// BatchResult is one item's outcome: errors are per item, never per batch.
type BatchResult struct {
	Output []byte
	Err    error
}

// RunBatch executes a batch and returns one result per input, in order.
type RunBatch func(ctx context.Context, inputs [][]byte) []BatchResult

// Batcher gathers small executions of one job into batches. The wait adapts to the arrival
// rate: when executions arrive far apart, waiting buys no company and only adds latency, so a
// lone execution is sent at once; when they arrive close together, the batcher waits about as
// long as it takes the batch to fill, never beyond MaxWait or a quarter of the latency budget.
// Only pure jobs may be batched: a failed batch may be retried item by item.
type Batcher struct {
	policy BatchPolicy
	run    RunBatch

	mu          sync.Mutex
	pending     []pendingItem
	bytes       int
	timer       *time.Timer
	lastArrival time.Time
	gapEWMA     time.Duration // smoothed time between arrivals
}

type pendingItem struct {
	ctx    context.Context
	input  []byte
	result chan BatchResult
}

// NewBatcher returns a batcher that calls run for every batch.
func NewBatcher(p BatchPolicy, run RunBatch) *Batcher {
	return &Batcher{policy: p.withDefaults(), run: run}
}

// ErrBatchResultMissing reports a RunBatch that returned fewer results than inputs.
var ErrBatchResultMissing = errors.New("the batch returned no result for this item")

// Do adds one execution and waits for its result.
func (b *Batcher) Do(ctx context.Context, input []byte) ([]byte, error) {
	item := pendingItem{ctx: ctx, input: input, result: make(chan BatchResult, 1)}
	b.add(item)
	select {
	case r := <-item.result:
		return r.Output, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (b *Batcher) add(item pendingItem) {
	b.mu.Lock()
	now := time.Now()
	if !b.lastArrival.IsZero() {
		gap := now.Sub(b.lastArrival)
		if b.gapEWMA == 0 {
			b.gapEWMA = gap
		} else {
			b.gapEWMA += (gap - b.gapEWMA) / 8
		}
	}
	b.lastArrival = now

	// An item that would push the payload over the limit goes into the next batch.
	if len(b.pending) > 0 && b.bytes+len(item.input) > b.policy.MaxBytes {
		b.flushLocked()
	}
	b.pending = append(b.pending, item)
	b.bytes += len(item.input)
	if len(b.pending) >= b.policy.MaxItems || b.bytes >= b.policy.MaxBytes {
		b.flushLocked()
		b.mu.Unlock()
		return
	}
	if len(b.pending) == 1 {
		wait := b.waitLocked()
		if wait <= 0 {
			b.flushLocked()
			b.mu.Unlock()
			return
		}
		b.timer = time.AfterFunc(wait, b.flushOnTimer)
	}
	b.mu.Unlock()
}

// waitLocked is how long the first item of a batch waits for company.
func (b *Batcher) waitLocked() time.Duration {
	limit := b.policy.MaxWait
	if b.policy.LatencyBudget > 0 {
		limit = min(limit, b.policy.LatencyBudget/4)
	}
	if b.gapEWMA == 0 || b.gapEWMA >= limit {
		return 0 // arrivals too sparse (or unknown): company will not come in time
	}
	return min(limit, b.gapEWMA*time.Duration(b.policy.MaxItems-1))
}

// Wait reports the current adaptive wait, for metrics and tests.
func (b *Batcher) Wait() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waitLocked()
}

func (b *Batcher) flushOnTimer() {
	b.mu.Lock()
	b.flushLocked()
	b.mu.Unlock()
}

// flushLocked sends the pending items as one batch (in its own goroutine, so arrivals are
// never blocked behind an invocation).
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
	go b.execute(items)
}

func (b *Batcher) execute(items []pendingItem) {
	// Items whose callers already gave up are left out rather than run for nobody.
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
