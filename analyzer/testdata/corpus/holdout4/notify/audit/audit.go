package audit

import (
	"context"
	"slices"
	"sync"
)

var (
	mu      sync.Mutex
	entries []string
)

// Log appends to the process-wide audit trail.
type Log struct{}

// Name implements notify.Named.
func (Log) Name() string { return "audit" }

// Notify implements notify.Notifier.
func (Log) Notify(ctx context.Context, msg string) error {
	mu.Lock()
	entries = append(entries, msg)
	mu.Unlock()
	return nil
}

// Entries returns a copy of the trail.
func Entries() []string {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(entries)
}
