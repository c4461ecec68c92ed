package router

import (
	"sync/atomic"
)

// HedgeBudget bounds speculative executions to a share of requests, so hedging can never
// double the load: every request earns Ratio of a token, every hedge spends a whole one, and
// at most Burst tokens are saved up. Lock-free and allocation-free.
type HedgeBudget struct {
	milliTokens atomic.Int64
	// Ratio is the share of requests that may be hedged; 0 = 0.05 (5%).
	Ratio float64
	// Burst is how many hedges may be saved up for a burst of slow calls; 0 = 10.
	Burst int
}

// OnRequest credits the budget for one request.
func (b *HedgeBudget) OnRequest() {
	ratio, burst := b.Ratio, b.Burst
	if ratio <= 0 {
		ratio = 0.05
	}
	if burst <= 0 {
		burst = 10
	}
	earn := int64(ratio * 1000)
	limit := int64(burst) * 1000
	for {
		v := b.milliTokens.Load()
		next := min(v+earn, limit)
		if next == v || b.milliTokens.CompareAndSwap(v, next) {
			return
		}
	}
}

// TryHedge spends one token; false means the budget is exhausted and the caller must not hedge.
func (b *HedgeBudget) TryHedge() bool {
	for {
		v := b.milliTokens.Load()
		if v < 1000 {
			return false
		}
		if b.milliTokens.CompareAndSwap(v, v-1000) {
			return true
		}
	}
}

// RetryBudget limits retries the way Envoy's retry budgets do: at any moment, retries in
// flight may be at most Percent of the requests in flight, but never fewer than MinConcurrent.
// A region outage then turns into at most 20% extra load instead of a retry storm.
type RetryBudget struct {
	active  atomic.Int64
	retries atomic.Int64
	// Percent of active requests that may be retries at once; 0 = 0.2.
	Percent float64
	// MinConcurrent retries are always allowed, so a quiet agent can still fail over; 0 = 3.
	MinConcurrent int
}

// Begin counts a request in flight; call End when it finishes.
func (b *RetryBudget) Begin() { b.active.Add(1) }

// End counts a request as finished.
func (b *RetryBudget) End() { b.active.Add(-1) }

// TryRetry reserves a retry; false means the budget is spent and the caller must fail instead.
// Call RetryDone when the retry finishes.
func (b *RetryBudget) TryRetry() bool {
	percent := b.Percent
	if percent <= 0 {
		percent = 0.2
	}
	floor := int64(b.MinConcurrent)
	if floor <= 0 {
		floor = 3
	}
	allowed := max(floor, int64(percent*float64(b.active.Load())))
	for {
		r := b.retries.Load()
		if r >= allowed {
			return false
		}
		if b.retries.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// RetryDone releases a retry reserved by TryRetry.
func (b *RetryBudget) RetryDone() { b.retries.Add(-1) }

// Tokens is how many hedges the budget would allow now.
func (b *HedgeBudget) Tokens() float64 { return float64(b.milliTokens.Load()) / 1000 }

// State is the requests and retries in flight now (explain).
func (b *RetryBudget) State() (active, retries int64) { return b.active.Load(), b.retries.Load() }
