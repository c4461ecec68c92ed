package analyzer

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Goroutines. Goroutines that each write their own slot of a shared slice or map (indexed by
// a value of their own) and are joined produce the same result every time; goroutines that
// write the same variable (results = append(results, r) under a mutex, sum += x) or send
// results on a shared channel produce them in completion order, which changes between runs.

// goroutineBody returns the function a go statement starts, when it is one the analyzer walks.
func (p *program) goroutineBody(g *ssa.Go) *ssa.Function {
	var fn *ssa.Function
	switch v := g.Call.Value.(type) {
	case *ssa.Function:
		fn = v
	case *ssa.MakeClosure:
		fn = v.Fn.(*ssa.Function)
	}
	if fn == nil || fn.Blocks == nil || p.isSummarized(fn) {
		return nil
	}
	return fn
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

// goroutine checks the code a go statement starts (its own body, not what it calls) for
// writes to memory other goroutines share.
func (a *funcAnalysis) goroutine(g *ssa.Go) {
	fn := a.p.goroutineBody(g)
	if fn == nil {
		return
	}
	// several reports whether more than one goroutine writes the memory at base: this go
	// statement is in a loop, or another go statement of the function writes it too.
	several := func(base ssa.Value) bool {
		outer := outerValue(g, fn, base)
		return outer != nil && a.p.writers(a.n.fn, outer) > 1
	}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Store:
				if base, slotted := sharedTarget(in.Addr); base != nil && !slotted && several(base) && !integerAccumulation(in) {
					a.add(KindRace, in.Pos(), "", "goroutines write the same variable: the result depends on which one finishes last (give each goroutine its own slot, results[i] = …)")
				}
			case *ssa.MapUpdate:
				if base, _ := sharedTarget(in.Map); base != nil && several(base) {
					if _, constKey := in.Key.(*ssa.Const); constKey {
						a.add(KindRace, in.Pos(), "", "goroutines write the same map key: the result depends on which one finishes last")
					}
				}
			}
		}
	}
	// Results received by the launching function are followed by the order analysis
	// (order.go): sorted, summed or put in place they are fine. Only a channel the launcher
	// does not read from is reported here.
	for _, sd := range sends(fn) {
		base, _ := sharedTarget(sd.ch)
		if base != nil && several(base) && !carriesIndex(sd.value, fn) && !receivesFrom(a.n.fn, outerValue(g, fn, base)) {
			a.add(KindRace, sd.pos, "", "goroutines send results on one channel: they arrive in completion order, which changes between runs (collect them by index instead)")
		}
	}
}

// writers counts the goroutines fn starts that write (store to, update or send on) the
// launcher's value outer; a go statement in a loop counts as two.
func (p *program) writers(fn *ssa.Function, outer ssa.Value) int {
	n := 0
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			g, ok := instr.(*ssa.Go)
			if !ok {
				continue
			}
			body := p.goroutineBody(g)
			if body == nil || !writesTo(g, body, outer) {
				continue
			}
			n++
			if inLoop(g.Block()) {
				n++
			}
		}
	}
	return n
}

// writesTo reports whether a goroutine's body writes or sends to the launcher's value outer.
func writesTo(g *ssa.Go, body *ssa.Function, outer ssa.Value) bool {
	hits := func(addr ssa.Value) bool {
		base, _ := sharedTarget(addr)
		return base != nil && outerValue(g, body, base) == outer
	}
	for _, sd := range sends(body) {
		if hits(sd.ch) {
			return true
		}
	}
	for _, b := range body.Blocks {
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
// goroutine's own memory), and whether the write goes to an indexed slot.
func sharedTarget(addr ssa.Value) (base ssa.Value, slotted bool) {
	for {
		switch x := addr.(type) {
		case *ssa.IndexAddr:
			if _, constIndex := x.Index.(*ssa.Const); !constIndex {
				slotted = true
			}
			addr = x.X
		case *ssa.FieldAddr:
			addr = x.X
		case *ssa.UnOp:
			addr = x.X
		case *ssa.Slice:
			addr = x.X
		case *ssa.FreeVar, *ssa.Parameter:
			return x, slotted
		default:
			return nil, slotted
		}
	}
}

// outerValue returns the launcher's value behind a goroutine's free variable or parameter.
func outerValue(g *ssa.Go, fn *ssa.Function, base ssa.Value) ssa.Value {
	switch b := base.(type) {
	case *ssa.FreeVar:
		if mc, ok := g.Call.Value.(*ssa.MakeClosure); ok {
			for i, fv := range fn.FreeVars {
				if fv == b && i < len(mc.Bindings) {
					return stripLoad(mc.Bindings[i])
				}
			}
		}
	case *ssa.Parameter:
		for i, p := range fn.Params {
			if p == b && i < len(g.Call.Args) {
				return stripLoad(g.Call.Args[i])
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

// goroutinePrivate reports whether v is a parameter of the goroutine's function or a captured
// variable it only reads (a per-iteration loop variable).
func goroutinePrivate(v ssa.Value, fn *ssa.Function) bool {
	switch x := v.(type) {
	case *ssa.Parameter:
		return x.Parent() == fn
	case *ssa.UnOp:
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
	if !ok || !isInteger(b.Type()) {
		return false
	}
	switch b.Op {
	case token.ADD, token.SUB, token.MUL, token.AND, token.OR, token.XOR:
	default:
		return false
	}
	for _, operand := range []ssa.Value{b.X, b.Y} {
		if load, ok := operand.(*ssa.UnOp); ok && load.Op == token.MUL && sameAddress(load.X, st.Addr) {
			return true
		}
	}
	return false
}

// arrivalChannels returns the channels (MakeChan values, or the variables holding them) of fn
// on which several goroutines fn starts send results without their own index.
func (p *program) arrivalChannels(fn *ssa.Function) map[ssa.Value]bool {
	out := map[ssa.Value]bool{}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			g, ok := instr.(*ssa.Go)
			if !ok {
				continue
			}
			body := p.goroutineBody(g)
			if body == nil {
				continue
			}
			for _, sd := range sends(body) {
				if carriesIndex(sd.value, body) {
					continue
				}
				base, _ := sharedTarget(sd.ch)
				if outer := outerValue(g, body, base); base != nil && outer != nil && p.writers(fn, outer) > 1 {
					out[outer] = true
				}
			}
		}
	}
	return out
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
