package router

import (
	"context"
	"time"
)

// HedgeOutcome says how a hedged execution went, for metrics and cost accounting.
type HedgeOutcome uint8

const (
	HedgeNotNeeded  HedgeOutcome = iota // the primary answered before the hedge delay
	HedgeNoBudget                       // the primary was slow but the budget was spent
	HedgePrimaryWon                     // a backup was started, and the primary still answered first
	HedgeBackupWon                      // the backup answered first; the primary was cancelled
)

func (o HedgeOutcome) String() string {
	switch o {
	case HedgeNoBudget:
		return "no_budget"
	case HedgePrimaryWon:
		return "primary_won"
	case HedgeBackupWon:
		return "backup_won"
	default:
		return "not_needed"
	}
}

// HedgeDelay is when to start a backup: the primary path's p95 once there are enough samples
// to trust it, else fallback. Only pure (or idempotent) jobs may be hedged at all: a hedged
// job can run twice, which is harmless only when running it has no effect beyond the result.
func HedgeDelay(h *LatencyHistogram, fallback time.Duration) time.Duration {
	if d, ok := h.Quantile(0.95, 20); ok {
		return d
	}
	return fallback
}

type hedgeResult[T any] struct {
	value  T
	err    error
	backup bool
}

// Hedge runs primary, and if it has not answered after delay (and the budget allows), runs
// backup as well; the first success wins and the other is cancelled through its context. When
// both fail, the primary's error is returned. A delay ≤ 0 starts both at once (when the latency
// budget cannot afford to wait), still subject to the budget.
//
// Hedge spends from budget but does not earn: the caller credits budget.OnRequest() for every
// request it serves, hedged or not, so that the budget is a share of all traffic.
func Hedge[T any](ctx context.Context, delay time.Duration, budget *HedgeBudget,
	primary, backup func(context.Context) (T, error)) (T, HedgeOutcome, error) {
	pctx, cancelPrimary := context.WithCancel(ctx)
	defer cancelPrimary()
	results := make(chan hedgeResult[T], 2) // buffered: the loser never blocks
	go func() {
		v, err := primary(pctx)
		results <- hedgeResult[T]{value: v, err: err}
	}()

	var timer <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		timer = t.C
	} else {
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		timer = ch
	}

	var zero T
	outcome := HedgeNotNeeded
	running := 1
	bctx, cancelBackup := context.WithCancel(ctx)
	defer cancelBackup()
	var primaryErr, backupErr error
	for {
		select {
		case <-timer:
			timer = nil
			if !budget.TryHedge() {
				outcome = HedgeNoBudget
				continue
			}
			outcome = HedgePrimaryWon
			running++
			go func() {
				v, err := backup(bctx)
				results <- hedgeResult[T]{value: v, err: err, backup: true}
			}()
		case r := <-results:
			running--
			if r.err == nil {
				if r.backup {
					outcome = HedgeBackupWon
				}
				return r.value, outcome, nil
			}
			if r.backup {
				backupErr = r.err
			} else {
				primaryErr = r.err
			}
			if running == 0 {
				// Both failed, or the primary failed before the hedge delay (nothing to
				// race): report the primary's error, which the caller's retry logic knows.
				if primaryErr != nil {
					return zero, outcome, primaryErr
				}
				return zero, outcome, backupErr
			}
		case <-ctx.Done():
			return zero, outcome, ctx.Err()
		}
	}
}
