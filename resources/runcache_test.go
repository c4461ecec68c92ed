package resources

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/serverless-blueprint/blueprint/job"
)

// countingAnalyzer counts analyses per directory and can fail with a given error.
type countingAnalyzer struct {
	calls atomic.Int64
	err   error
}

func (a *countingAnalyzer) Analyze(ctx context.Context, dir string) (*job.PackageAnalysis, error) {
	a.calls.Add(1)
	if a.err != nil {
		return nil, a.err
	}
	return &job.PackageAnalysis{Dir: dir, Jobs: []job.Analysis{{Name: "one"}}}, nil
}

// TestRunCacheAnalyzesEachPackageOnce: fifty resources of one package planned at once, as
// terraform does with for_each, make one analysis and one source hash.
func TestRunCacheAnalyzesEachPackageOnce(t *testing.T) {
	an := &countingAnalyzer{}
	var hashes atomic.Int64
	c := NewRunCache(an, func(ctx context.Context, dir string) (string, error) {
		hashes.Add(1)
		return "sha256:" + dir, nil
	})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := "./jobs"
			if i%2 == 1 {
				dir = "jobs" // the same directory written another way
			}
			if pa, err := c.Analyze(context.Background(), dir); err != nil || len(pa.Jobs) != 1 {
				t.Errorf("Analyze = %v, %v", pa, err)
			}
			if _, err := c.SourceHash(context.Background(), dir); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if an.calls.Load() != 1 || hashes.Load() != 1 {
		t.Errorf("%d analyses and %d hashes of one package, want 1 and 1", an.calls.Load(), hashes.Load())
	}
	if _, err := c.Analyze(context.Background(), "./other"); err != nil || an.calls.Load() != 2 {
		t.Errorf("another package: err %v, analyses %d (want 2)", err, an.calls.Load())
	}
}

// TestRunCacheRemembersFailuresButNotCancellation: a broken package is reported by every
// resource from one analysis; a cancelled analysis is tried again by the next caller.
func TestRunCacheRemembersFailuresButNotCancellation(t *testing.T) {
	broken := &countingAnalyzer{err: errors.New("jobs.go:3: syntax error")}
	c := NewRunCache(broken, nil)
	for i := 0; i < 3; i++ {
		if _, err := c.Analyze(context.Background(), "./jobs"); err == nil {
			t.Fatal("no error from a broken package")
		}
	}
	if broken.calls.Load() != 1 {
		t.Errorf("%d analyses of a broken package, want 1", broken.calls.Load())
	}

	cancelled := &countingAnalyzer{err: context.Canceled}
	c = NewRunCache(cancelled, nil)
	c.Analyze(context.Background(), "./jobs")
	cancelled.err = nil
	if _, err := c.Analyze(context.Background(), "./jobs"); err != nil || cancelled.calls.Load() != 2 {
		t.Errorf("after a cancelled analysis: err %v, analyses %d (want nil and 2)", err, cancelled.calls.Load())
	}
}
