// Package audit keeps an in-memory audit trail for the holdout2 corpus jobs: a log.Logger
// writing into a package-level bytes.Buffer (not stdout or stderr).
package audit

import (
	"bytes"
	"log"
)

var (
	trail  bytes.Buffer
	logger = log.New(&trail, "audit ", 0)
)

// Record appends one line to the trail.
func Record(msg string) { logger.Print(msg) }

// Size reports how many bytes the trail holds.
func Size() int { return trail.Len() }
