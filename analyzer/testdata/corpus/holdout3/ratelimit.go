package holdout3

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// tokenBucket holds up to burst tokens and gains rate tokens a second.
type tokenBucket struct {
	tokens float64
	burst  float64
	rate   float64
	last   time.Time
}

// take refills the bucket for the time elapsed since last and takes one token if it can.
func (b *tokenBucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

var (
	bucketsMu sync.Mutex
	// tenantBuckets keeps one bucket per tenant across calls.
	tenantBuckets = map[string]*tokenBucket{}
)

// AllowTenant exercises a per-tenant token bucket kept in a package-level map, refilled from
// the clock; whether the call is allowed is the output.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func AllowTenant(ctx context.Context, in In) (Out, error) {
	bucketsMu.Lock()
	defer bucketsMu.Unlock()
	b, ok := tenantBuckets[in.Tenant]
	if !ok {
		b = &tokenBucket{tokens: 10, burst: 10, rate: 5}
		tenantBuckets[in.Tenant] = b
	}
	allowed := b.take(time.Now())
	return Out{OK: allowed, Value: b.tokens}, nil
}

// SimulateBucket exercises the same token bucket as a local value replayed over timestamps
// from the input (time.Parse, no clock, no globals).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SimulateBucket(ctx context.Context, in In) (Out, error) {
	b := &tokenBucket{tokens: float64(in.N), burst: float64(in.N), rate: 1}
	allowed := 0
	for i, l := range in.Lines {
		at, err := time.Parse(time.RFC3339Nano, l)
		if err != nil {
			return Out{}, fmt.Errorf("line %d: %w", i+1, err)
		}
		if b.take(at) {
			allowed++
		}
	}
	return Out{Count: allowed, Value: b.tokens}, nil
}
