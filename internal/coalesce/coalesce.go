// Package coalesce runs one check on behalf of any number of callers that ask for it together,
// such as the "is the managed account still used?" check after each of a destroy's many
// deletes.
package coalesce

import "sync"

// Runner runs a check for a caller when none is running. A caller that asks while one runs
// returns at once, and the running check goes round once more when it ends, so what the last
// caller changed is always seen by some run. The zero Runner is ready.
type Runner struct {
	mu      sync.Mutex
	running bool
	again   bool
}

// Run runs check (repeatedly, while callers keep arriving) or leaves it to the run under way.
// It returns the last run's error; a caller whose request was folded into a running check gets
// nil.
func (r *Runner) Run(check func() error) error {
	r.mu.Lock()
	if r.running {
		r.again = true
		r.mu.Unlock()
		return nil
	}
	r.running = true
	r.mu.Unlock()
	for {
		err := check()
		r.mu.Lock()
		again := r.again && err == nil
		r.again, r.running = false, again
		r.mu.Unlock()
		if !again {
			return err
		}
	}
}
