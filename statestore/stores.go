package statestore

import (
	"fmt"
	"sync"

	"github.com/serverless-blueprint/blueprint/job"
)

// Stores opens each store it is asked for once, by URL, and shares it: the agent's executors
// and a host's functions reach many jobs' state through few stores.
type Stores struct {
	mu     sync.Mutex
	stores map[string]Store
	open   func(url string) (Store, error)
}

// NewStores returns an empty set; open nil = Open.
func NewStores(open func(url string) (Store, error)) *Stores {
	if open == nil {
		open = Open
	}
	return &Stores{stores: map[string]Store{}, open: open}
}

// For returns the state of jobName in the store at url; "" is an error that says the job has
// no store recorded.
func (s *Stores) For(url, jobName string) (job.State, error) {
	if url == "" {
		return nil, fmt.Errorf("job %q has no state store recorded: apply it with a provider that sets state_store", jobName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[url]
	if st == nil {
		var err error
		if st, err = s.open(url); err != nil {
			return nil, fmt.Errorf("job %q: %w", jobName, err)
		}
		s.stores[url] = st
	}
	return st.For(jobName), nil
}

// Close closes every store opened.
func (s *Stores) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for url, st := range s.stores {
		st.Close()
		delete(s.stores, url)
	}
}
