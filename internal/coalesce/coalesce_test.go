package coalesce

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLastCallerSeen: callers arriving during a run are folded into one more run, never lost.
func TestLastCallerSeen(t *testing.T) {
	var r Runner
	var runs atomic.Int32
	var changes, seen atomic.Int32
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- r.Run(func() error {
			if runs.Add(1) == 1 {
				close(started)
				<-release
			}
			seen.Store(changes.Load())
			return nil
		})
	}()
	<-started
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			changes.Add(1)
			if err := r.Run(func() error { t.Error("a second check ran alongside the first"); return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 {
		t.Errorf("%d runs, want 2 (the first, and one for all callers that came during it)", runs.Load())
	}
	if seen.Load() != 10 {
		t.Errorf("the last run saw %d changes, want 10", seen.Load())
	}
}

func TestErrorStopsAndIsReturned(t *testing.T) {
	var r Runner
	boom := errors.New("boom")
	if err := r.Run(func() error { return boom }); err != boom {
		t.Fatalf("got %v, want boom", err)
	}
	if err := r.Run(func() error { return nil }); err != nil {
		t.Fatalf("a run after a failed one: %v", err)
	}
}
