package analyzer

import (
	"fmt"
	"strings"
)

// Problem is one thing to fix in the user's code, at a position.
type Problem struct {
	// Position is "file:line:col" with an absolute file path (as the go command reports it),
	// or a directory path when the problem is about the package as a whole.
	Position string
	Message  string
}

func (p Problem) String() string {
	if p.Position == "" {
		return p.Message
	}
	return p.Position + ": " + p.Message
}

// Error lists every problem found in a package, so a user can fix them all in one pass
// instead of one per run.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects Problems while a package is checked.
type problems []Problem

func (ps *problems) add(position, format string, args ...any) {
	*ps = append(*ps, Problem{Position: position, Message: fmt.Sprintf(format, args...)})
}

func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}
