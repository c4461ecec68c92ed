package analyzer

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Goroutines. Goroutines that each write their own slot of a shared slice or map (indexed by
// a value of their own: a parameter or a per-iteration loop variable) and are joined
// (WaitGroup.Wait, errgroup's Wait, or receiving their results) produce the same result every
// time; goroutines that write the same variable (results = append(results, r) under a mutex,
// last = x) or the same slot, or that are not joined before their results are read, produce
// them in completion order, which changes between runs. Results sent on a shared channel are
// followed by the order analysis (order.go) where the launching function receives them.

// launch is one goroutine start: a go statement, or a call of (*sync.WaitGroup).Go or
// errgroup's Go/TryGo with a function value.
type launch struct {
	body     *ssa.Function
	bindings []ssa.Value // what the closure captured (MakeClosure), by free variable
	args     []ssa.Value // the arguments of a go statement's call, by parameter
	block    *ssa.BasicBlock
}

// goFuncs are the library calls that start their function argument as a goroutine.
var goFuncs = map[string]bool{
	"(*sync.WaitGroup).Go":                      true,
	"(*golang.org/x/sync/errgroup.Group).Go":    true,
	"(*golang.org/x/sync/errgroup.Group).TryGo": true,
}

// joinFuncs wait for the goroutines a function started.
var joinFuncs = map[string]bool{
	"(*sync.WaitGroup).Wait":                   true,
	"(*golang.org/x/sync/errgroup.Group).Wait": true,
}

// launchOf returns the goroutine an instruction starts, if it starts one whose body is walked.
func launchOf(instr ssa.Instruction) (launch, bool) {
	var value ssa.Value
	var args []ssa.Value
	switch in := instr.(type) {
	case *ssa.Go:
		value, args = in.Call.Value, in.Call.Args
	case *ssa.Call:
		fn := in.Call.StaticCallee()
		if fn == nil || !goFuncs[fullName(fn)] || len(in.Call.Args) < 2 {
			return launch{}, false
		}
		value = in.Call.Args[1]
	default:
		return launch{}, false
	}
	l := launch{args: args, block: instr.Block()}
	switch v := value.(type) {
	case *ssa.Function:
		l.body = v
	case *ssa.MakeClosure:
		l.body, l.bindings = v.Fn.(*ssa.Function), v.Bindings
	}
	if l.body == nil || l.body.Blocks == nil {
		return launch{}, false
	}
	return l, true
}

// launches lists the goroutines fn starts.
func launches(fn *ssa.Function) []launch {
	var out []launch
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			if l, ok := launchOf(instr); ok {
				out = append(out, l)
			}
		}
	}
	return out
}

// joins reports whether fn waits for its goroutines (WaitGroup.Wait, errgroup's Wait) or
// receives from a channel, which is how results are usually collected.
func joins(fn *ssa.Function) bool {
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Call:
				if callee := in.Call.StaticCallee(); callee != nil && joinFuncs[fullName(callee)] {
					return true
				}
			case *ssa.UnOp:
				if in.Op == token.ARROW {
					return true
				}
			case *ssa.Select:
				return true
			}
		}
	}
	return false
}

// sendSite is a channel send in a goroutine's body: a send statement or a select case.
type sendSite struct {
	ch, value ssa.Value
	pos       token.Pos
}

func sends(body *ssa.Function) []sendSite {
	var out []sendSite
	for _, b := range body.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Send:
				out = append(out, sendSite{in.Chan, in.X, in.Pos()})
			case *ssa.Select:
				for _, st := range in.States {
					if st.Dir == types.SendOnly {
						out = append(out, sendSite{st.Chan, st.Send, st.Pos})
					}
				}
			}
		}
	}
	return out
}

// goroutine checks the code a goroutine starts with (its own body, not what it calls) for
// writes to memory other goroutines share.
func (a *funcAnalysis) goroutine(l launch) {
	if a.p.isSummarized(l.body) {
		return
	}
	// several reports whether more than one goroutine writes the memory at base: this start is
	// in a loop, or another goroutine of the function writes it too.
	several := func(base ssa.Value) bool {
		outer := l.outer(base)
		return outer != nil && writers(a.n.fn, outer) > 1
	}
	joined := joins(a.n.fn)
	for _, b := range l.body.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Store:
				base, own := sharedTarget(in.Addr, l.body)
				switch {
				case base == nil:
				case !joined:
					a.add(KindRace, in.Pos(), "", "goroutines write results that the function does not wait for (no WaitGroup.Wait or receive): what it reads depends on timing")
				case !own && several(base) && !integerAccumulation(in):
					a.add(KindRace, in.Pos(), "", "goroutines write the same variable: the result depends on which one finishes last (give each goroutine its own slot, results[i] = …)")
				}
			case *ssa.MapUpdate:
				base, _ := sharedTarget(in.Map, l.body)
				if base != nil && several(base) && !goroutinePrivate(stripConvert(in.Key), l.body) {
					a.add(KindRace, in.Pos(), "", "goroutines write map keys that are not their own: the result depends on which one finishes last")
				}
			}
		}
	}
	// Results received by the launching function are followed by the order analysis
	// (order.go): sorted, summed or put in place they are fine. Only a channel the launcher
	// does not read from is reported here.
	for _, sd := range sends(l.body) {
		base, _ := sharedTarget(sd.ch, l.body)
		if base != nil && several(base) && !carriesIndex(sd.value, l.body) && !receivesFrom(a.n.fn, l.outer(base)) {
			a.add(KindRace, sd.pos, "", "goroutines send results on one channel: they arrive in completion order, which changes between runs (collect them by index instead)")
		}
	}
}

// writers counts the goroutines fn starts that write (store to, update or send on) the
// launcher's value outer; one started in a loop counts as two.
func writers(fn *ssa.Function, outer ssa.Value) int {
	n := 0
	for _, l := range launches(fn) {
		if !l.writesTo(outer) {
			continue
		}
		n++
		if inLoop(l.block) {
			n++
		}
	}
	return n
}

// writesTo reports whether a goroutine's body writes or sends to the launcher's value outer.
func (l launch) writesTo(outer ssa.Value) bool {
	hits := func(addr ssa.Value) bool {
		base, _ := sharedTarget(addr, l.body)
		return base != nil && l.outer(base) == outer
	}
	for _, sd := range sends(l.body) {
		if hits(sd.ch) {
			return true
		}
	}
	for _, b := range l.body.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Store:
				if hits(in.Addr) {
					return true
				}
			case *ssa.MapUpdate:
				if hits(in.Map) {
					return true
				}
			}
		}
	}
	return false
}

// sharedTarget returns the captured variable or parameter that addr points into (nil for the
// goroutine's own memory), and whether the write goes to the goroutine's own slot: an element
// indexed by a value private to the goroutine (a parameter, a per-iteration loop variable).
// out[i%2] is not one: two goroutines share each slot.
func sharedTarget(addr ssa.Value, body *ssa.Function) (base ssa.Value, own bool) {
	for {
		switch x := addr.(type) {
		case *ssa.IndexAddr:
			if goroutinePrivate(stripConvert(x.Index), body) {
				own = true
			}
			addr = x.X
		case *ssa.FieldAddr:
			addr = x.X
		case *ssa.UnOp:
			addr = x.X
		case *ssa.Slice:
			addr = x.X
		case *ssa.FreeVar, *ssa.Parameter:
			return x, own
		default:
			return nil, own
		}
	}
}

// stripConvert removes integer conversions around an index.
func stripConvert(v ssa.Value) ssa.Value {
	for {
		switch x := v.(type) {
		case *ssa.Convert:
			v = x.X
		case *ssa.ChangeType:
			v = x.X
		default:
			return v
		}
	}
}

// outer returns the launcher's value behind a goroutine's free variable or parameter.
func (l launch) outer(base ssa.Value) ssa.Value {
	switch b := base.(type) {
	case *ssa.FreeVar:
		for i, fv := range l.body.FreeVars {
			if fv == b && i < len(l.bindings) {
				return stripLoad(l.bindings[i])
			}
		}
	case *ssa.Parameter:
		for i, p := range l.body.Params {
			if p == b && i < len(l.args) {
				return stripLoad(l.args[i])
			}
		}
	}
	return nil
}

func stripLoad(v ssa.Value) ssa.Value {
	if u, ok := v.(*ssa.UnOp); ok && u.Op == token.MUL {
		return u.X
	}
	return v
}

// arrivalChannels returns the channels (MakeChan values, or the variables holding them) of fn
// on which several goroutines fn starts send results without their own index.
func arrivalChannels(fn *ssa.Function) map[ssa.Value]bool {
	out := map[ssa.Value]bool{}
	for _, l := range launches(fn) {
		for _, sd := range sends(l.body) {
			if carriesIndex(sd.value, l.body) {
				continue
			}
			base, _ := sharedTarget(sd.ch, l.body)
			if outer := l.outer(base); base != nil && outer != nil && writers(fn, outer) > 1 {
				out[outer] = true
			}
		}
	}
	return out
}

// inLoop reports whether block b is inside a loop (it can reach itself).
func inLoop(b *ssa.BasicBlock) bool {
	seen := map[*ssa.BasicBlock]bool{}
	stack := append([]*ssa.BasicBlock(nil), b.Succs...)
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == b {
			return true
		}
		if seen[x] {
			continue
		}
		seen[x] = true
		stack = append(stack, x.Succs...)
	}
	return false
}

// carriesIndex reports whether a value sent by a goroutine is a struct that carries the
// goroutine's own index (ch <- result{i, v}): the receiver can put results back in place, so
// arrival order need not reach the output. The receiver is trusted to do so.
func carriesIndex(x ssa.Value, fn *ssa.Function) bool {
	load, ok := x.(*ssa.UnOp)
	if !ok || load.Op != token.MUL {
		return false
	}
	alloc, ok := load.X.(*ssa.Alloc)
	if !ok {
		return false
	}
	for _, r := range *alloc.Referrers() {
		fa, ok := r.(*ssa.FieldAddr)
		if !ok {
			continue
		}
		for _, fr := range *fa.Referrers() {
			st, ok := fr.(*ssa.Store)
			if ok && st.Addr == fa && isInteger(st.Val.Type()) && goroutinePrivate(st.Val, fn) {
				return true
			}
		}
	}
	return false
}

// goroutinePrivate reports whether v is a parameter of the goroutine's function, a captured
// variable it only reads (a per-iteration loop variable), or a work item it received.
func goroutinePrivate(v ssa.Value, fn *ssa.Function) bool {
	if ex, ok := v.(*ssa.Extract); ok && ex.Index == 0 {
		v = ex.Tuple // for i := range work: the comma-ok receive
	}
	switch x := v.(type) {
	case *ssa.Parameter:
		return x.Parent() == fn
	case *ssa.UnOp:
		if x.Op == token.ARROW {
			// A work item received from a queue: a worker pool hands each index to one worker
			// (the feeder is trusted to send each once).
			return x.Parent() == fn
		}
		fv, ok := x.X.(*ssa.FreeVar)
		if !ok || x.Op != token.MUL {
			return false
		}
		for _, r := range *fv.Referrers() {
			if st, ok := r.(*ssa.Store); ok && st.Addr == fv {
				return false
			}
		}
		return true
	}
	return false
}

func isInteger(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

// integerAccumulation reports whether a store adds into the integer it read from the same
// place (sum += x under a mutex): the total does not depend on which goroutine comes first.
func integerAccumulation(st *ssa.Store) bool {
	b, ok := st.Val.(*ssa.BinOp)
	if !ok || !orderFreeIntegerOp(b.Op, b.Type()) {
		return false
	}
	for _, operand := range []ssa.Value{b.X, b.Y} {
		if load, ok := operand.(*ssa.UnOp); ok && load.Op == token.MUL && sameAddress(load.X, st.Addr) {
			return true
		}
	}
	return false
}

// receivesFrom reports whether fn receives from the channel ch (or the variable holding it).
func receivesFrom(fn *ssa.Function, ch ssa.Value) bool {
	if ch == nil || ch.Parent() != fn {
		return false
	}
	var found func(v ssa.Value) bool
	found = func(v ssa.Value) bool {
		for _, r := range *v.Referrers() {
			if u, ok := r.(*ssa.UnOp); ok {
				if u.Op == token.ARROW {
					return true
				}
				if u.Op == token.MUL && found(u) {
					return true
				}
			}
		}
		return false
	}
	return found(ch)
}
