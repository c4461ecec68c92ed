package localexec

import (
	"context"
	"fmt"
	"sync"
)

// LoadOnce loads a value per key once, even when many callers ask at the same time; the
// others wait for that load. A failure is not kept: the next caller tries again.
type LoadOnce[T any] struct {
	mu    sync.Mutex
	loads map[string]*loading[T]
}

type loading[T any] struct {
	done chan struct{}
	v    T
	err  error
}

// Get returns the value for key, loading it with load when no one has (or is). what names the
// value in the error of a caller that gives up waiting.
func (o *LoadOnce[T]) Get(ctx context.Context, key, what string, load func() (T, error)) (T, error) {
	o.mu.Lock()
	if o.loads == nil {
		o.loads = map[string]*loading[T]{}
	}
	l, ok := o.loads[key]
	if !ok {
		l = &loading[T]{done: make(chan struct{})}
		o.loads[key] = l
		o.mu.Unlock()
		l.v, l.err = load()
		if l.err != nil {
			o.mu.Lock()
			delete(o.loads, key)
			o.mu.Unlock()
		}
		close(l.done)
	} else {
		o.mu.Unlock()
	}
	select {
	case <-l.done:
		return l.v, l.err
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("%w: waiting for %s %s: %v", ErrUnavailable, what, key, ctx.Err())
	}
}

// Loaded reports whether key's value is loaded (without error).
func (o *LoadOnce[T]) Loaded(key string) bool {
	o.mu.Lock()
	l, ok := o.loads[key]
	o.mu.Unlock()
	if !ok {
		return false
	}
	select {
	case <-l.done:
		return l.err == nil
	default:
		return false
	}
}
