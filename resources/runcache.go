package resources

import (
	"context"
	"errors"
	"path/filepath"
	"sync"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/job"
)

// RunCache remembers each package's analysis and source hash for one engine run (a terraform
// plan or apply walk, a pulumi preview or up): the hundred resources of one package and the
// data source that lists them share one analysis and one hash instead of asking the go
// command two hundred times. Concurrent callers for one package wait for the first.
//
// Create one per run (the engines create it when the provider is configured) and never keep
// it longer: an edit made while it lives is not seen. A failure is remembered too, so every
// resource of a broken package reports the same error without reloading it, except a
// cancelled context, which says nothing about the package.
type RunCache struct {
	analyzer   analyzer.Analyzer
	sourceHash func(ctx context.Context, dir string) (string, error)

	mu       sync.Mutex
	analyses map[string]*once[*job.PackageAnalysis]
	hashes   map[string]*once[string]
}

// NewRunCache wraps an analyzer and a source hash function (nil: the packager's).
func NewRunCache(a analyzer.Analyzer, sourceHash func(ctx context.Context, dir string) (string, error)) *RunCache {
	if sourceHash == nil {
		sourceHash = defaultSourceHash
	}
	return &RunCache{analyzer: a, sourceHash: sourceHash,
		analyses: map[string]*once[*job.PackageAnalysis]{}, hashes: map[string]*once[string]{}}
}

var _ analyzer.Analyzer = (*RunCache)(nil)

// Analyze returns the package's analysis, analyzing it on the first call of the run. Callers
// must not modify the result (Plan copies what it changes).
func (c *RunCache) Analyze(ctx context.Context, dir string) (*job.PackageAnalysis, error) {
	return remember(ctx, c, c.analyses, dir, c.analyzer.Analyze)
}

// SourceHash returns the package's source hash, computing it on the first call of the run.
func (c *RunCache) SourceHash(ctx context.Context, dir string) (string, error) {
	return remember(ctx, c, c.hashes, dir, c.sourceHash)
}

// once is one remembered result; done closes when it is known.
type once[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func remember[T any](ctx context.Context, c *RunCache, results map[string]*once[T], dir string, compute func(context.Context, string) (T, error)) (T, error) {
	key, err := filepath.Abs(dir)
	if err != nil {
		key = dir
	}
	for {
		c.mu.Lock()
		r, ok := results[key]
		if !ok {
			r = &once[T]{done: make(chan struct{})}
			results[key] = r
			c.mu.Unlock()
			r.v, r.err = compute(ctx, dir)
			if r.err != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
				c.mu.Lock()
				delete(results, key) // the next caller, with a live context, tries again
				c.mu.Unlock()
			}
			close(r.done)
			return r.v, r.err
		}
		c.mu.Unlock()
		select {
		case <-r.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if r.err != nil && (errors.Is(r.err, context.Canceled) || errors.Is(r.err, context.DeadlineExceeded)) {
			continue // the first caller gave up; this one computes
		}
		return r.v, r.err
	}
}
