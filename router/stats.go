package router

import (
	"sync/atomic"
	"time"
)

// RegionStats is what the agent observed of one deployment (one job in one region): a latency
// EWMA, a tail (p90) estimate, a failure-rate EWMA and its recent failures. Safe for concurrent
// use; Decide reads it without locks.
type RegionStats struct {
	ewma                DurationEWMA // latency; no sample yet at first
	tailNanos           atomic.Int64 // p90 of recent latencies; 0 until tailMinSamples were seen
	errorRateMilli      atomic.Int32 // EWMA of failures per 1000 calls
	hist                LatencyHistogram
	consecutiveFailures atomic.Int32
	lastFailureNanos    atomic.Int64
	successes           atomic.Uint64
	failures            atomic.Uint64
	throttledUntilNanos atomic.Int64 // the region asked us to stay away until then
	lastSuccessNanos    atomic.Int64 // when the region last answered: after a long silence its instances are likely cold
	// probeNanos is when the one probe of a region out of rotation was let through (0 = none
	// out): after its cooldown such a region is half-open, and the next call of a pure job goes
	// there first to find out whether it is back.
	probeNanos atomic.Int64
}

// ewmaWeight is 1/alpha: each new sample moves the average by a fifth of the difference, so a
// region that slows down is noticed within a handful of calls without one outlier dominating.
const ewmaWeight = 5

// The tail (p90) is recomputed from the histogram every tailEvery successes, off the decision
// path, once tailMinSamples were seen; Decide reads one atomic. errorWeight is 1/alpha of the
// failure-rate EWMA: a region failing one call in ten shows about 100‰ after a few dozen calls.
const (
	tailQuantile   = 0.9
	tailMinSamples = 20
	tailEvery      = 8
	errorWeight    = 10
)

// ObserveSuccess records a call that reached the region (including calls where the job itself
// returned an error: the region worked), now.
func (s *RegionStats) ObserveSuccess(latency time.Duration) {
	s.ObserveSuccessAt(time.Now(), latency)
}

// ObserveSuccessAt is ObserveSuccess on a caller's clock (the simulator's).
func (s *RegionStats) ObserveSuccessAt(at time.Time, latency time.Duration) {
	s.lastSuccessNanos.Store(at.UnixNano())
	if s.probeNanos.Swap(0) != 0 && s.consecutiveFailures.Load() > 0 {
		// A probe came back: the region is back. What was learnt before it went away is
		// stale, so start over from this call rather than ranking it by an outage.
		s.ewma.Reset(latency)
		s.errorRateMilli.Store(0)
	}
	s.ewma.Observe(latency, ewmaWeight)
	s.consecutiveFailures.Store(0)
	n := s.successes.Add(1)
	s.hist.Observe(latency)
	if n >= tailMinSamples && (n%tailEvery == 0 || s.tailNanos.Load() == 0) {
		if q, ok := s.hist.Quantile(tailQuantile, tailMinSamples); ok {
			s.tailNanos.Store(int64(q))
		}
	}
	s.moveErrorRate(0)
}

// moveErrorRate moves the failure-rate EWMA towards target (0 or 1000 per mille).
func (s *RegionStats) moveErrorRate(target int32) {
	for {
		old := s.errorRateMilli.Load()
		next := old + (target-old)/errorWeight
		if next == old && old != target {
			if target > old {
				next++
			} else {
				next--
			}
		}
		if s.errorRateMilli.CompareAndSwap(old, next) {
			return
		}
	}
}

// ObserveFailure records a transport or platform failure (not a job error).
func (s *RegionStats) ObserveFailure(at time.Time) {
	s.lastFailureNanos.Store(at.UnixNano())
	s.probeNanos.Store(0) // a failed probe: the cooldown starts again
	s.consecutiveFailures.Add(1)
	s.failures.Add(1)
	s.moveErrorRate(1000)
}

// Quantile is the region's latency at quantile q (within 25%), once enough calls were seen:
// the agent hedges an offloaded call still running at the p95.
func (s *RegionStats) Quantile(q float64) (time.Duration, bool) {
	return s.hist.Quantile(q, tailMinSamples)
}

// Tail is the region's p90 latency estimate (within 25%), 0 until enough calls were seen.
func (s *RegionStats) Tail() time.Duration { return time.Duration(s.tailNanos.Load()) }

// ErrorRate is the recent share of calls that failed (0..1), smoothed.
func (s *RegionStats) ErrorRate() float64 { return float64(s.errorRateMilli.Load()) / 1000 }

// Latency is the latency EWMA; 0 when nothing was observed yet.
func (s *RegionStats) Latency() time.Duration { return s.ewma.Value() }

// Probing reports whether a probe of the region is out now.
func (s *RegionStats) Probing() bool { return s.probeNanos.Load() != 0 }

// Idle is how long ago the region last answered; 0 when it never did (nothing to go by).
func (s *RegionStats) Idle() time.Duration {
	last := s.lastSuccessNanos.Load()
	if last == 0 {
		return 0
	}
	return time.Duration(time.Now().UnixNano() - last)
}

// Healthy reports whether the region is in rotation: fewer than threshold failures in a row
// (a region out of rotation turns healthy again when a probe succeeds).
func (s *RegionStats) Healthy(threshold int) bool {
	if threshold <= 0 {
		threshold = DefaultFailureThreshold
	}
	return int(s.consecutiveFailures.Load()) < threshold
}

// ConsecutiveFailures counts failures since the last success.
func (s *RegionStats) ConsecutiveFailures() int { return int(s.consecutiveFailures.Load()) }

// Counts returns the total successes and failures observed.
func (s *RegionStats) Counts() (successes, failures uint64) {
	return s.successes.Load(), s.failures.Load()
}

// ObserveThrottle records a region that refused a call for lack of capacity and asked to be
// left alone until the given time (Retry-After). It is not a failure: the region works, it is
// full, and the job did not run there.
func (s *RegionStats) ObserveThrottle(until time.Time) {
	s.throttledUntilNanos.Store(until.UnixNano())
}

// ThrottledUntil is when the region's last Retry-After ends (zero time when never throttled).
func (s *RegionStats) ThrottledUntil() time.Time {
	if n := s.throttledUntilNanos.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}
