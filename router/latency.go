package router

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// LatencyHistogram estimates latency quantiles (p95 of the local path decides when to hedge)
// with a fixed set of log-spaced buckets: four buckets per power of two of microseconds, so an
// estimate is within 25% of the true value. Observe and Quantile are lock-free and allocate
// nothing. Old samples fade: when Window samples have been seen, every bucket is halved, so the
// estimate follows a job whose latency changes.
type LatencyHistogram struct {
	buckets [histBuckets]atomic.Uint64
	count   atomic.Uint64 // samples since the last halving
	halving atomic.Bool
	// Window is how many samples are seen before old ones are halved; 0 = 4096.
	Window uint64
}

const (
	histSubBits  = 2 // 4 buckets per power of two
	histExponent = 40
	histBuckets  = (histExponent + 1) << histSubBits
)

func histIndex(d time.Duration) int {
	us := uint64(d / time.Microsecond)
	if us < 1<<histSubBits {
		return int(us)
	}
	e := bits.Len64(us) - 1 // us in [2^e, 2^(e+1))
	if e > histExponent {
		return histBuckets - 1
	}
	sub := (us >> (e - histSubBits)) & (1<<histSubBits - 1)
	return e<<histSubBits | int(sub)
}

// histUpper is the largest latency that falls into bucket i: quantiles report it, so they
// err on the slow side (hedging a little later rather than too early).
func histUpper(i int) time.Duration {
	if i < 1<<histSubBits {
		return time.Duration(i+1) * time.Microsecond
	}
	e := i >> histSubBits
	sub := uint64(i & (1<<histSubBits - 1))
	upper := (1<<histSubBits + sub + 1) << (e - histSubBits)
	return time.Duration(upper) * time.Microsecond
}

// Observe records one latency.
func (h *LatencyHistogram) Observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.buckets[histIndex(d)].Add(1)
	window := h.Window
	if window == 0 {
		window = 4096
	}
	if h.count.Add(1) >= window && h.halving.CompareAndSwap(false, true) {
		for i := range h.buckets {
			for {
				v := h.buckets[i].Load()
				if h.buckets[i].CompareAndSwap(v, v/2) {
					break
				}
			}
		}
		h.count.Store(0)
		h.halving.Store(false)
	}
}

// Quantile returns the latency below which a share q (0..1) of the samples fall, and false
// when there are fewer than minSamples samples to say anything.
func (h *LatencyHistogram) Quantile(q float64, minSamples uint64) (time.Duration, bool) {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 || total < minSamples {
		return 0, false
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen >= rank {
			return histUpper(i), true
		}
	}
	return histUpper(histBuckets - 1), true
}
