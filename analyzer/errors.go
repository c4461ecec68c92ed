package analyzer

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
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

// err returns the problems as an *Error sorted by file, line and column, or nil.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	sorted := slices.Clone([]Problem(ps))
	slices.SortStableFunc(sorted, func(a, b Problem) int {
		fa, la, ca := splitPosition(a.Position)
		fb, lb, cb := splitPosition(b.Position)
		return cmp.Or(cmp.Compare(fa, fb), cmp.Compare(la, lb), cmp.Compare(ca, cb))
	})
	return &Error{Problems: sorted}
}

// splitPosition splits "file:line:col" (file may itself hold colons); anything else sorts by text.
func splitPosition(pos string) (file string, line, col int) {
	colText, rest, ok := strings.Cut(reverse(pos), ":")
	if !ok {
		return pos, 0, 0
	}
	lineText, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return pos, 0, 0
	}
	l, err1 := strconv.Atoi(reverse(lineText))
	c, err2 := strconv.Atoi(reverse(colText))
	if err1 != nil || err2 != nil {
		return pos, 0, 0
	}
	return reverse(rest), l, c
}

func reverse(s string) string {
	b := []byte(s)
	slices.Reverse(b)
	return string(b)
}
