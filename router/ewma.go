package router

import (
	"sync/atomic"
	"time"
)

// DurationEWMA is an exponentially weighted moving average of durations, safe for concurrent
// use. The zero value has no sample yet (Value is 0).
type DurationEWMA struct {
	nanos atomic.Int64 // 0 = no sample; a sample or average is at least 1 ns
}

// Observe moves the average towards d by 1/weight of the difference; the first sample sets it.
func (e *DurationEWMA) Observe(d time.Duration, weight int64) {
	sample := max(int64(d), 1)
	for {
		old := e.nanos.Load()
		next := sample
		if old != 0 {
			next = max(old+(sample-old)/weight, 1)
		}
		if e.nanos.CompareAndSwap(old, next) {
			return
		}
	}
}

// Reset forgets the past: the average is d.
func (e *DurationEWMA) Reset(d time.Duration) { e.nanos.Store(max(int64(d), 1)) }

// Value is the average; 0 before the first sample.
func (e *DurationEWMA) Value() time.Duration { return time.Duration(e.nanos.Load()) }
