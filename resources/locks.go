package resources

import "sync"

// jobLocks serializes mutations of one job name within this process. Functions are named
// after their job, so two resources for the same job planned in one run would otherwise both
// pass Create's "does it exist yet" check and then share one function. Process-wide on
// purpose: every Manager of a provider process talks to the same platforms.
var jobLocks = &nameLocks{locks: map[string]*nameLock{}}

type nameLocks struct {
	mu    sync.Mutex
	locks map[string]*nameLock
}

type nameLock struct {
	mu    sync.Mutex
	users int
}

// lock blocks until name is free and returns the function that frees it.
func (n *nameLocks) lock(name string) (unlock func()) {
	n.mu.Lock()
	l := n.locks[name]
	if l == nil {
		l = &nameLock{}
		n.locks[name] = l
	}
	l.users++
	n.mu.Unlock()

	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		n.mu.Lock()
		if l.users--; l.users == 0 {
			delete(n.locks, name)
		}
		n.mu.Unlock()
	}
}
