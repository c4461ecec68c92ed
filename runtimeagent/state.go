package runtimeagent

import (
	"fmt"
	"sync"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// StateStores opens each state store a manifest names once and shares it between the local
// executors (native workers reach it through the agent; wasm runs in-process call it).
type StateStores struct {
	mu     sync.Mutex
	stores map[string]statestore.Store
	open   func(url string) (statestore.Store, error)
}

// NewStateStores returns an empty set; open nil = statestore.Open.
func NewStateStores(open func(url string) (statestore.Store, error)) *StateStores {
	if open == nil {
		open = statestore.Open
	}
	return &StateStores{stores: map[string]statestore.Store{}, open: open}
}

// For returns the state of job j in its store; a job that names no store gets an error that
// says so when it first reads or writes state.
func (s *StateStores) For(j *manifest.Job) (job.State, error) {
	if j.StateStore == "" {
		return nil, fmt.Errorf("job %q has no state store recorded: apply it with a provider that sets state_store", j.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stores[j.StateStore]
	if st == nil {
		var err error
		if st, err = s.open(j.StateStore); err != nil {
			return nil, fmt.Errorf("job %q: %w", j.Name, err)
		}
		s.stores[j.StateStore] = st
	}
	return st.For(j.Name), nil
}

// Close closes every store opened.
func (s *StateStores) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for url, st := range s.stores {
		st.Close()
		delete(s.stores, url)
	}
}
