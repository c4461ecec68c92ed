package holdout2

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// scoreHeap is a min-heap of scores (container/heap's interface, pointer receivers for Push/Pop).
type scoreHeap []float64

func (h scoreHeap) Len() int           { return len(h) }
func (h scoreHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h scoreHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *scoreHeap) Push(x any)        { *h = append(*h, x.(float64)) }
func (h *scoreHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TopK exercises container/heap keeping the n largest numbers, returned largest first.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TopK(ctx context.Context, in In) (Out, error) {
	if in.N <= 0 {
		return Out{}, errors.New("n: want at least 1")
	}
	h := &scoreHeap{}
	for _, x := range in.Numbers {
		heap.Push(h, x)
		if h.Len() > in.N {
			heap.Pop(h)
		}
	}
	out := Out{}
	for h.Len() > 0 {
		out.Lines = append(out.Lines, strconv.FormatFloat(heap.Pop(h).(float64), 'f', 2, 64))
	}
	slices.Reverse(out.Lines)
	return out, nil
}

type bracket struct {
	upTo float64
	rate float64
}

// brackets is a read-only tax table (var initializer), sorted by upTo.
var brackets = []bracket{{10000, 0}, {40000, 0.2}, {100000, 0.4}, {1e18, 0.45}}

// IncomeTax exercises sort.Search over a read-only package-level table.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func IncomeTax(ctx context.Context, in In) (Out, error) {
	income := float64(in.N)
	top := sort.Search(len(brackets), func(i int) bool { return brackets[i].upTo >= income })
	tax, lower := 0.0, 0.0
	for i := 0; i <= top && i < len(brackets); i++ {
		upper := min(income, brackets[i].upTo)
		tax += (upper - lower) * brackets[i].rate
		lower = brackets[i].upTo
	}
	return Out{Value: tax, Count: top}, nil
}

// Stack is a generic LIFO with methods on the generic type.
type Stack[T any] struct{ items []T }

// Push adds v on top.
func (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }

// Pop removes the top value.
func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

// Len reports the depth.
func (s *Stack[T]) Len() int { return len(s.items) }

// Brackets exercises methods on a generic type (Stack[rune]) checking that brackets balance.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Brackets(ctx context.Context, in In) (Out, error) {
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var st Stack[rune]
	depth := 0
	for i, r := range in.Text {
		switch r {
		case '(', '[', '{':
			st.Push(r)
			depth = max(depth, st.Len())
		case ')', ']', '}':
			open, ok := st.Pop()
			if !ok || open != pairs[r] {
				return Out{}, fmt.Errorf("unbalanced %q at byte %d", r, i)
			}
		}
	}
	if st.Len() != 0 {
		return Out{}, fmt.Errorf("%d brackets left open", st.Len())
	}
	return Out{Count: depth}, nil
}

// Tally is a generic counter whose Keys method returns the keys sorted.
type Tally[K cmp.Ordered] struct{ m map[K]int }

// NewTally returns an empty Tally.
func NewTally[K cmp.Ordered]() *Tally[K] { return &Tally[K]{m: map[K]int{}} }

// Add counts k once.
func (t *Tally[K]) Add(k K) { t.m[k]++ }

// Keys returns the keys in ascending order.
func (t *Tally[K]) Keys() []K { return slices.Sorted(maps.Keys(t.m)) }

// Get returns k's count.
func (t *Tally[K]) Get(k K) int { return t.m[k] }

// TallySorted exercises a generic type over a map whose method sorts the keys before output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TallySorted(ctx context.Context, in In) (Out, error) {
	t := NewTally[string]()
	for _, it := range in.Items {
		t.Add(strings.ToLower(it))
	}
	out := Out{}
	for _, k := range t.Keys() {
		out.Lines = append(out.Lines, k+"="+strconv.Itoa(t.Get(k)))
	}
	return out, nil
}

// Node is an expression tree node.
type Node interface {
	Accept(v Visitor)
}

// Visitor visits expression nodes.
type Visitor interface {
	VisitNum(n Num)
	VisitBin(b Bin)
}

// Num is a leaf.
type Num float64

// Bin is a binary operation.
type Bin struct {
	Op   byte
	L, R Node
}

// Accept visits a leaf.
func (n Num) Accept(v Visitor) { v.VisitNum(n) }

// Accept visits an operation.
func (b Bin) Accept(v Visitor) { v.VisitBin(b) }

// evaluator computes the value of a tree.
type evaluator struct{ stack []float64 }

func (e *evaluator) VisitNum(n Num) { e.stack = append(e.stack, float64(n)) }
func (e *evaluator) VisitBin(b Bin) {
	b.L.Accept(e)
	b.R.Accept(e)
	r, l := e.stack[len(e.stack)-1], e.stack[len(e.stack)-2]
	e.stack = e.stack[:len(e.stack)-2]
	if b.Op == '*' {
		e.stack = append(e.stack, l*r)
	} else {
		e.stack = append(e.stack, l+r)
	}
}

// printer renders a tree in infix form.
type printer struct{ b strings.Builder }

func (p *printer) VisitNum(n Num) { p.b.WriteString(strconv.FormatFloat(float64(n), 'g', -1, 64)) }
func (p *printer) VisitBin(b Bin) {
	p.b.WriteByte('(')
	b.L.Accept(p)
	p.b.WriteByte(' ')
	p.b.WriteByte(b.Op)
	p.b.WriteByte(' ')
	b.R.Accept(p)
	p.b.WriteByte(')')
}

// buildTree pairs numbers into products and sums the products.
func buildTree(xs []float64) (Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("numbers: need at least one value")
	}
	var terms []Node
	for i := 0; i < len(xs); i += 2 {
		if i+1 < len(xs) {
			terms = append(terms, Bin{Op: '*', L: Num(xs[i]), R: Num(xs[i+1])})
		} else {
			terms = append(terms, Num(xs[i]))
		}
	}
	root := terms[0]
	for _, t := range terms[1:] {
		root = Bin{Op: '+', L: root, R: t}
	}
	return root, nil
}

// EvalTree exercises a visitor pattern over an expression tree (two visitors, pointer receivers).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func EvalTree(ctx context.Context, in In) (Out, error) {
	root, err := buildTree(in.Numbers)
	if err != nil {
		return Out{}, err
	}
	ev := &evaluator{}
	root.Accept(ev)
	pr := &printer{}
	root.Accept(pr)
	return Out{Value: ev.stack[0], Text: pr.b.String()}, nil
}

// Journal is an interface that embeds two standard interfaces.
type Journal interface {
	io.Writer
	fmt.Stringer
}

// ReadWriteResetter embeds io.ReadWriter (itself embedding io.Reader and io.Writer).
type ReadWriteResetter interface {
	io.ReadWriter
	Reset()
}

func writeLines(j Journal, lines []string) string {
	for i, l := range lines {
		fmt.Fprintf(j, "%02d %s\n", i+1, l)
	}
	return j.String()
}

func roundTrip(rw ReadWriteResetter, s string) (string, error) {
	rw.Reset()
	if _, err := io.WriteString(rw, s); err != nil {
		return "", err
	}
	b, err := io.ReadAll(rw)
	return string(b), err
}

// NumberLines exercises interfaces embedding interfaces, filled with local buffers
// (*strings.Builder, *bytes.Buffer).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func NumberLines(ctx context.Context, in In) (Out, error) {
	text := writeLines(&strings.Builder{}, strings.Split(in.Text, "\n"))
	back, err := roundTrip(&bytes.Buffer{}, text)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: back, Count: len(back)}, nil
}

// SampleSeeded exercises math/rand/v2 with a local PCG generator and a constant seed.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SampleSeeded(ctx context.Context, in In) (Out, error) {
	r := rand.New(rand.NewPCG(2026, 11))
	items := slices.Clone(in.Items)
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return Out{Lines: items[:min(in.N, len(items))]}, nil
}

// SampleGlobal exercises math/rand/v2's top-level functions (the global, randomly seeded generator).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func SampleGlobal(ctx context.Context, in In) (Out, error) {
	if len(in.Items) == 0 {
		return Out{}, errors.New("items: need at least one")
	}
	return Out{Text: in.Items[rand.IntN(len(in.Items))]}, nil
}
