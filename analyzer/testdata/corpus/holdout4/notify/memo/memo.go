package memo

import (
	"context"
	"strings"
)

// Memo collects messages.
type Memo struct {
	Lines []string
}

// New returns an empty Memo.
func New() *Memo { return &Memo{} }

// Name implements notify.Named.
func (m *Memo) Name() string { return "memo" }

// Notify implements notify.Notifier.
func (m *Memo) Notify(ctx context.Context, msg string) error {
	m.Lines = append(m.Lines, strings.TrimSpace(msg))
	return nil
}
