package analyzer

import (
	"fmt"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// Map iteration order. Go randomizes it, so a value built in that order (a slice of keys, a
// concatenation, a float sum, the last key written) differs between runs unless it is sorted.
// orderSummary follows, inside one function, the keys and values a map range produces
// (and values returned by functions that return order-dependent results) to where they
// leave: a return, a channel, memory the caller sees. Order-free uses stay quiet: integer
// sums and counts, writes to each key's own slot, deletes, comparisons, len, and anything
// passed to a sort.

// orderSummary is what one function does with map order.
type orderSummary struct {
	sinks   []orderSink // order-dependent values leaving other than by return
	returns []token.Pos // map ranges (or receives) whose order reaches a returned value
	// arrivalReturns are the returns that come from goroutine results arriving on a channel.
	arrivalReturns []token.Pos
}

// isArrival reports whether a returned source is a channel receive rather than a map range.
func (s *orderSummary) isArrival(src token.Pos) bool {
	for _, a := range s.arrivalReturns {
		if a == src {
			return true
		}
	}
	return false
}

// orderMessage says where an order comes from and where it ends up.
func (p *program) orderMessage(source token.Pos, arrival bool, where string) string {
	if arrival {
		return fmt.Sprintf("goroutine results received at %s arrive in completion order, which reaches %s: put each in its own slot, or sort them", p.shortPosition(source), where)
	}
	return fmt.Sprintf("the order of a map iteration (%s) reaches %s: sort the keys first", p.shortPosition(source), where)
}

func (o *orderFlow) kindOf(source token.Pos) string {
	if o.arrivals[source] {
		return KindRace
	}
	return KindMapOrder
}

type orderSink struct {
	source  token.Pos // the map range (or maps.Keys call, or channel receive) the order comes from
	kind    string    // KindMapOrder, or KindRace for results arriving from goroutines
	message string
}

// orderOf computes fn's summary once; a recursive call sees the partial summary.
func (p *program) orderOf(fn *ssa.Function) *orderSummary {
	if s, ok := p.order[fn]; ok {
		return s
	}
	s := &orderSummary{}
	p.order[fn] = s
	if fn.Blocks == nil || p.isSummarized(fn) {
		return s
	}
	o := &orderFlow{p: p, fn: fn, s: s, taint: map[ssa.Value]token.Pos{}, key: map[ssa.Value]bool{}, arrivals: map[token.Pos]bool{},
		sorted: map[ssa.Value]bool{}, sunk: map[token.Pos]bool{}, returned: map[token.Pos]bool{}}
	o.run()
	return s
}

type orderFlow struct {
	p        *program
	fn       *ssa.Function
	s        *orderSummary
	arrivals map[token.Pos]bool      // sources that are channel receives of goroutine results
	taint    map[ssa.Value]token.Pos // value → the map range its order comes from
	key      map[ssa.Value]bool      // values that are the range's own key
	sorted   map[ssa.Value]bool      // values passed to a sort, and memory they were loaded from
	queue    []ssa.Value
	sunk     map[token.Pos]bool
	returned map[token.Pos]bool
}

func (o *orderFlow) run() {
	for _, b := range o.fn.Blocks {
		for _, instr := range b.Instrs {
			o.seed(instr)
		}
	}
	// Results several goroutines send on a channel arrive in completion order: a receive from
	// such a channel here is a source like a map range.
	for ch := range arrivalChannels(o.fn) {
		for _, r := range *ch.Referrers() {
			o.seedReceives(r, ch)
		}
	}
	for len(o.queue) > 0 {
		v := o.queue[0]
		o.queue = o.queue[1:]
		refs := v.Referrers()
		if refs == nil {
			continue
		}
		for _, r := range *refs {
			o.flow(v, r)
		}
	}
}

// seed finds the sources (map ranges, maps.Keys/Values/All, calls returning order) and the
// values that get sorted.
func (o *orderFlow) seed(instr ssa.Instruction) {
	switch in := instr.(type) {
	case *ssa.Next:
		rng, ok := in.Iter.(*ssa.Range)
		if in.IsString || !ok {
			return
		}
		if _, isMap := rng.X.Type().Underlying().(*types.Map); !isMap {
			return
		}
		for _, r := range *in.Referrers() {
			if ex, ok := r.(*ssa.Extract); ok && ex.Index > 0 {
				o.key[ex] = ex.Index == 1
				o.mark(ex, rng.Pos())
			}
		}
	case ssa.CallInstruction:
		cc := in.Common()
		for _, callee := range o.calleesOf(in) {
			name := fullName(callee)
			if (isSortCall(name) || strings.HasPrefix(name, "slices.Sorted")) &&
				o.p.comparisonIsTotal(o.p.comparatorOf(name, cc.Args)) {
				for _, arg := range cc.Args {
					o.markSorted(arg)
				}
			}
			if call, ok := in.(*ssa.Call); ok {
				switch name {
				case "maps.Keys", "maps.Values", "maps.All":
					o.mark(call, o.p.callPos(cc.Pos()))
				default:
					if s := o.p.orderOf(callee); len(s.returns) > 0 && callee != o.fn {
						o.mark(call, s.returns[0])
					}
				}
			}
		}
	}
}

// markSorted marks a value handed to a sort, and what it was converted or loaded from
// (sort.Slice(words, …) gets the slice as an interface, often loaded from a captured variable).
func (o *orderFlow) markSorted(v ssa.Value) {
	for v != nil {
		o.sorted[v] = true
		switch x := v.(type) {
		case *ssa.MakeInterface:
			v = x.X
		case *ssa.ChangeInterface:
			v = x.X
		case *ssa.ChangeType:
			v = x.X
		case *ssa.Convert:
			v = x.X
		case *ssa.Slice:
			v = x.X
		case *ssa.FieldAddr:
			v = x.X // sort.Strings(out.Lines): the struct holding the field
		case *ssa.UnOp:
			if x.Op != token.MUL {
				return
			}
			v = x.X
		default:
			return
		}
	}
}

// seedReceives marks the values received from ch (directly, or loaded from the variable that
// holds it) as arriving in completion order.
func (o *orderFlow) seedReceives(r ssa.Instruction, ch ssa.Value) {
	switch r := r.(type) {
	case *ssa.UnOp:
		switch r.Op {
		case token.ARROW:
			o.arrivals[r.Pos()] = true
			if r.CommaOk {
				for _, er := range *r.Referrers() {
					if ex, ok := er.(*ssa.Extract); ok && ex.Index == 0 {
						o.mark(ex, r.Pos())
					}
				}
				return
			}
			o.mark(r, r.Pos())
		case token.MUL: // the channel is in a variable (captured by the goroutines)
			for _, lr := range *r.Referrers() {
				o.seedReceives(lr, r)
			}
		}
	}
}

// calleesOf returns the functions a call may run (static, or from the call graph).
func (o *orderFlow) calleesOf(call ssa.CallInstruction) []*ssa.Function {
	if fn := call.Common().StaticCallee(); fn != nil {
		return []*ssa.Function{fn}
	}
	return o.p.callees[call]
}

func (o *orderFlow) mark(v ssa.Value, source token.Pos) {
	if v == nil || o.sorted[v] {
		return
	}
	if _, done := o.taint[v]; done {
		return
	}
	o.taint[v] = source
	o.queue = append(o.queue, v)
}

func (o *orderFlow) sink(source token.Pos, where string) {
	if o.sunk[source] {
		return
	}
	o.sunk[source] = true
	o.s.sinks = append(o.s.sinks, orderSink{source: source, kind: o.kindOf(source), message: o.p.orderMessage(source, o.arrivals[source], where)})
}

// flow moves the order of v (tainted) through one instruction that uses it.
func (o *orderFlow) flow(v ssa.Value, instr ssa.Instruction) {
	src := o.taint[v]
	switch r := instr.(type) {
	case *ssa.BinOp:
		switch r.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return
		}
		if o.isAccumulation(r, r.Op) {
			return // sum += v over integers: order-free
		}
		o.mark(r, src)
	case *ssa.UnOp:
		if r.Op != token.ARROW {
			o.mark(r, src)
		}
	case *ssa.Phi, *ssa.Convert, *ssa.ChangeType, *ssa.MakeInterface, *ssa.ChangeInterface, *ssa.TypeAssert,
		*ssa.Extract, *ssa.Field, *ssa.Index, *ssa.Slice, *ssa.FieldAddr, *ssa.IndexAddr, *ssa.Lookup:
		val := instr.(ssa.Value)
		if o.key[v] {
			switch instr.(type) {
			case *ssa.Convert, *ssa.ChangeType, *ssa.MakeInterface:
				o.key[val] = true
			}
		}
		o.mark(val, src)
	case *ssa.Store:
		if r.Val != v {
			return
		}
		if ia, ok := r.Addr.(*ssa.IndexAddr); ok && o.key[ia.Index] {
			return // out[k] = …: each key's own slot
		}
		o.taintMemory(r.Addr, src)
	case *ssa.MapUpdate:
		if r.Map == v || o.key[r.Key] {
			return // m2[k] = …: each key's own slot
		}
		o.taintMemory(r.Map, src)
	case *ssa.Send:
		if r.X == v {
			o.sink(src, "a channel send")
		}
	case *ssa.Return:
		if !o.returned[src] {
			o.returned[src] = true
			o.s.returns = append(o.s.returns, src)
			if o.arrivals[src] {
				o.s.arrivalReturns = append(o.s.arrivalReturns, src)
			}
		}
	case *ssa.Call:
		o.call(v, r, src)
	}
}

// orderFreeIntegerOp reports whether folding values with op gives the same result in any
// order: integer +, -, *, &, |, ^ (floating-point sums round differently by order).
func orderFreeIntegerOp(op token.Token, t types.Type) bool {
	switch op {
	case token.ADD, token.SUB, token.MUL, token.AND, token.OR, token.XOR:
		return isInteger(t)
	}
	return false
}

// isAccumulation reports whether b folds a value into a loop-carried integer (sum += v,
// n |= v): the result does not depend on the order the values come in.
func (o *orderFlow) isAccumulation(b ssa.Value, op token.Token) bool {
	if !orderFreeIntegerOp(op, b.Type()) {
		return false
	}
	refs := b.Referrers()
	if refs == nil {
		return false
	}
	for _, r := range *refs {
		if phi, ok := r.(*ssa.Phi); ok {
			for _, e := range phi.Edges {
				if e == b {
					return true
				}
			}
		}
	}
	return false
}

func (o *orderFlow) call(v ssa.Value, call *ssa.Call, src token.Pos) {
	cc := &call.Call
	if cc.Value == v && !cc.IsInvoke() {
		o.sink(src, "a loop over the map's iterator")
		return
	}
	if b, ok := cc.Value.(*ssa.Builtin); ok {
		switch b.Name() {
		case "append":
			o.mark(call, src)
		case "copy":
			if len(cc.Args) == 2 && cc.Args[1] == v {
				o.taintMemory(cc.Args[0], src)
			}
		case "min", "max":
			if !o.isAccumulation(call, token.ADD) {
				o.mark(call, src)
			}
		}
		return
	}
	for _, callee := range o.calleesOf(call) {
		name := fullName(callee)
		if isSortCall(name) || strings.HasPrefix(name, "slices.Sorted") || isLogging(name) {
			return
		}
	}
	if call.Type() != nil {
		if t, ok := call.Type().(*types.Tuple); !ok || t.Len() > 0 {
			o.mark(call, src)
		}
	}
	// The callee may write the order into memory it was given (b.WriteString(k)), also
	// behind an interface (fmt.Fprintf(&b, "%s", k) writes through an io.Writer).
	for _, arg := range callArgs(cc) {
		if mi, ok := arg.(*ssa.MakeInterface); ok {
			arg = mi.X
		}
		if arg != v && mayAlias(arg.Type()) {
			if _, isPtr := arg.Type().Underlying().(*types.Pointer); isPtr {
				o.taintMemory(arg, src)
			}
		}
	}
}

// taintMemory marks the memory at addr as holding an order-dependent value; memory the caller
// can see (globals, parameters, captured variables) is a sink.
func (o *orderFlow) taintMemory(addr ssa.Value, src token.Pos) {
	base := addr
	for {
		switch b := base.(type) {
		case *ssa.FieldAddr:
			base = b.X
			continue
		case *ssa.IndexAddr:
			base = b.X
			continue
		case *ssa.UnOp:
			if b.Op == token.MUL {
				base = b.X
				continue
			}
		}
		break
	}
	switch base.(type) {
	case *ssa.Global:
		o.sink(src, "a package variable")
		return
	case *ssa.Parameter, *ssa.FreeVar:
		o.sink(src, "memory the caller passed in")
		return
	}
	if o.sorted[base] {
		return
	}
	o.mark(base, src)
	if addr != base {
		o.mark(addr, src)
	}
}

// isLogging reports whether a call only logs (fmt.Print*, log.*, log/slog).
func isLogging(name string) bool {
	return strings.HasPrefix(name, "fmt.Print") || strings.HasPrefix(name, "log.") ||
		strings.HasPrefix(name, "log/slog.") || strings.HasPrefix(name, "(*log/slog.Logger).") ||
		strings.HasPrefix(name, "(*log.Logger).")
}
