package router

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// slowUntilCancelled answers after d, or reports whether it was cancelled first.
func slowUntilCancelled(d time.Duration, cancelled *atomic.Bool) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		select {
		case <-time.After(d):
			return "primary", nil
		case <-ctx.Done():
			cancelled.Store(true)
			return "", ctx.Err()
		}
	}
}

func fullBudget() *HedgeBudget {
	b := &HedgeBudget{Ratio: 1, Burst: 10}
	for range 10 {
		b.OnRequest()
	}
	return b
}

func TestHedgeBackupWinsAndPrimaryIsCancelled(t *testing.T) {
	var cancelled atomic.Bool
	backup := func(context.Context) (string, error) { return "backup", nil }
	v, outcome, err := Hedge(context.Background(), 5*time.Millisecond, fullBudget(), slowUntilCancelled(5*time.Second, &cancelled), backup)
	if err != nil || v != "backup" || outcome != HedgeBackupWon {
		t.Fatalf("Hedge = %q, %v, %v; want backup, backup_won, nil", v, outcome, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !cancelled.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !cancelled.Load() {
		t.Fatal("the losing primary was not cancelled")
	}
}

func TestHedgeFastPrimaryNeedsNoBackup(t *testing.T) {
	var backups atomic.Int32
	primary := func(context.Context) (string, error) { return "primary", nil }
	backup := func(context.Context) (string, error) { backups.Add(1); return "backup", nil }
	v, outcome, err := Hedge(context.Background(), time.Second, fullBudget(), primary, backup)
	if err != nil || v != "primary" || outcome != HedgeNotNeeded || backups.Load() != 0 {
		t.Fatalf("Hedge = %q, %v, %v with %d backups; want primary, not_needed, no backup", v, outcome, err, backups.Load())
	}
}

func TestHedgeRespectsBudget(t *testing.T) {
	var backups atomic.Int32
	var cancelled atomic.Bool
	empty := &HedgeBudget{Ratio: 0.01} // one request earns 1% of a token: not enough
	backup := func(context.Context) (string, error) { backups.Add(1); return "backup", nil }
	v, outcome, err := Hedge(context.Background(), time.Millisecond, empty, slowUntilCancelled(30*time.Millisecond, &cancelled), backup)
	if err != nil || v != "primary" || outcome != HedgeNoBudget || backups.Load() != 0 {
		t.Fatalf("Hedge = %q, %v, %v with %d backups; want primary, no_budget, no backup", v, outcome, err, backups.Load())
	}
}

func TestHedgeErrors(t *testing.T) {
	errPrimary := errors.New("primary failed")
	errBackup := errors.New("backup failed")
	var backups atomic.Int32
	fail := func(err error, after time.Duration) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { time.Sleep(after); return "", err }
	}
	// The primary fails before the hedge delay: no backup, its error comes back.
	_, _, err := Hedge(context.Background(), time.Second, fullBudget(), fail(errPrimary, 0),
		func(context.Context) (string, error) { backups.Add(1); return "", nil })
	if !errors.Is(err, errPrimary) || backups.Load() != 0 {
		t.Fatalf("err = %v with %d backups; want the primary's error and no backup", err, backups.Load())
	}
	// Both fail: the primary's error, even when the backup fails first.
	_, outcome, err := Hedge(context.Background(), time.Millisecond, fullBudget(), fail(errPrimary, 20*time.Millisecond), fail(errBackup, 0))
	if !errors.Is(err, errPrimary) || outcome != HedgePrimaryWon {
		t.Fatalf("err = %v, outcome %v; want the primary's error after a hedge", err, outcome)
	}
	// The primary fails after the hedge started, the backup succeeds: success.
	v, outcome, err := Hedge(context.Background(), time.Millisecond, fullBudget(), fail(errPrimary, 5*time.Millisecond),
		func(context.Context) (string, error) { time.Sleep(20 * time.Millisecond); return "backup", nil })
	if err != nil || v != "backup" || outcome != HedgeBackupWon {
		t.Fatalf("Hedge = %q, %v, %v; want backup to rescue a failed primary", v, outcome, err)
	}
}

func TestHedgeBudgetBoundsShare(t *testing.T) {
	b := &HedgeBudget{Ratio: 0.05, Burst: 10}
	hedges := 0
	const requests = 10000
	for range requests {
		b.OnRequest()
		if b.TryHedge() { // a caller that would hedge every single request
			hedges++
		}
	}
	if limit := requests*5/100 + 10; hedges > limit {
		t.Fatalf("%d hedges for %d requests; the budget allows at most %d", hedges, requests, limit)
	}
	if hedges < requests*5/100-1 {
		t.Fatalf("%d hedges for %d requests; the budget should allow about 5%%", hedges, requests)
	}
}

func TestRetryBudget(t *testing.T) {
	b := &RetryBudget{Percent: 0.2, MinConcurrent: 3}
	for range 3 {
		if !b.TryRetry() {
			t.Fatal("the floor of 3 concurrent retries was refused")
		}
	}
	if b.TryRetry() {
		t.Fatal("a 4th retry with no requests in flight was allowed")
	}
	for range 50 {
		b.Begin()
	}
	granted := 3
	for b.TryRetry() {
		granted++
	}
	if granted != 10 { // 20% of 50
		t.Fatalf("%d retries in flight allowed with 50 requests; want 10", granted)
	}
	b.RetryDone()
	if !b.TryRetry() {
		t.Fatal("a released retry was not available again")
	}
}

func TestLatencyHistogramQuantiles(t *testing.T) {
	var h LatencyHistogram
	if _, ok := h.Quantile(0.5, 1); ok {
		t.Fatal("an empty histogram reported a quantile")
	}
	for i := 1; i <= 1000; i++ {
		h.Observe(time.Duration(i) * time.Millisecond)
	}
	for _, q := range []float64{0.5, 0.95, 0.99} {
		got, ok := h.Quantile(q, 10)
		want := time.Duration(q*1000) * time.Millisecond
		if !ok || got < want || float64(got) > float64(want)*1.26 {
			t.Errorf("p%v = %v, want within [%v, %v]", q*100, got, want, time.Duration(float64(want)*1.26))
		}
	}
	if _, ok := h.Quantile(0.5, 5000); ok {
		t.Error("Quantile answered with fewer samples than asked for")
	}
}

func TestLatencyHistogramForgets(t *testing.T) {
	h := LatencyHistogram{Window: 100}
	for range 1000 {
		h.Observe(100 * time.Millisecond)
	}
	for range 1000 {
		h.Observe(time.Millisecond)
	}
	if p, _ := h.Quantile(0.95, 1); p > 2*time.Millisecond {
		t.Fatalf("p95 = %v after the latency dropped to 1ms; old samples did not fade", p)
	}
}

// stragglerModel draws call latencies: a log-normal body around 10 ms, and 1% of calls 50×
// slower (a GC pause, a noisy neighbour, a cold start).
type stragglerModel struct{ rng *rand.Rand }

func (m stragglerModel) draw() time.Duration {
	const body = 10 * time.Millisecond // median
	d := time.Duration(float64(body) * math.Exp(0.25*m.rng.NormFloat64()))
	if m.rng.Float64() < 0.01 {
		d *= 50
	}
	return d
}

// simulateHedging replays n calls through the hedging rule in virtual time: the delay is the
// observed p95 (LatencyHistogram) and backups are bounded by the HedgeBudget, exactly as Hedge
// uses them; a backup is an independent draw from the same model. It returns the sorted
// latencies and the share of extra requests.
func simulateHedging(n int, hedge bool, seed uint64) ([]time.Duration, float64) {
	m := stragglerModel{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	var hist LatencyHistogram
	budget := &HedgeBudget{Ratio: 0.05, Burst: 10}
	latencies := make([]time.Duration, 0, n)
	extra := 0
	for range n {
		primary := m.draw()
		got := primary
		if hedge {
			budget.OnRequest()
			delay := HedgeDelay(&hist, 50*time.Millisecond)
			if primary > delay && budget.TryHedge() {
				extra++
				got = min(primary, delay+m.draw())
			}
		}
		hist.Observe(got)
		latencies = append(latencies, got)
	}
	slices.Sort(latencies)
	return latencies, float64(extra) / float64(n)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[int(math.Ceil(q*float64(len(sorted))))-1]
}

// TestHedgingCutsTheTail is the evidence for speculative execution: on the straggler model,
// hedging at p95 under a 5% budget cuts p99.9 at least 5× for at most 5% extra requests.
func TestHedgingCutsTheTail(t *testing.T) {
	const n = 200000
	for _, seed := range []uint64{1, 2, 3} {
		plain, _ := simulateHedging(n, false, seed)
		hedged, extra := simulateHedging(n, true, seed)
		p999plain, p999hedged := quantile(plain, 0.999), quantile(hedged, 0.999)
		ratio := float64(p999plain) / float64(p999hedged)
		t.Logf("seed %d: p50 %v → %v, p99 %v → %v, p99.9 %v → %v (%.1f× lower), extra requests %.2f%%",
			seed, quantile(plain, 0.5).Round(time.Microsecond), quantile(hedged, 0.5).Round(time.Microsecond),
			quantile(plain, 0.99).Round(time.Microsecond), quantile(hedged, 0.99).Round(time.Microsecond),
			p999plain.Round(time.Microsecond), p999hedged.Round(time.Microsecond), ratio, 100*extra)
		if ratio < 5 {
			t.Errorf("seed %d: p99.9 cut %.1f×, want ≥ 5×", seed, ratio)
		}
		if extra > 0.05 {
			t.Errorf("seed %d: %.2f%% extra requests, want ≤ 5%%", seed, 100*extra)
		}
	}
}

func ExampleHedge() {
	budget := &HedgeBudget{Ratio: 1}
	budget.OnRequest() // the caller credits every request it serves
	slowRegion := func(ctx context.Context) (string, error) {
		select {
		case <-time.After(time.Second):
			return "slow region", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	fastRegion := func(context.Context) (string, error) { return "fast region", nil }
	v, outcome, err := Hedge(context.Background(), 10*time.Millisecond, budget, slowRegion, fastRegion)
	fmt.Println(v, outcome, err)
	// Output: fast region backup_won <nil>
}
