package analyzer

import (
	"go/token"

	"golang.org/x/tools/go/ssa"
)

// A sync.Pool is a cache of allocations: what one call puts back, a later call may get. That
// is observable state only when an object can carry content from one call to the next, which
// takes both a Get whose object is used without being reset first and a Put of an object
// that was not reset. A pool whose every Get resets the object before using it (or whose every
// Put resets it before putting it back) leaks nothing between calls, so its Gets and Puts are
// not findings. Otherwise each Get that does not reset is a read and a write of the pool (what
// an earlier call left in the object reaches this one), and each Put that does not reset is a
// write.

// poolUse says, for one pool, whether some Get uses its object unreset and some Put puts one
// back unreset.
type poolUse struct {
	dirtyGet, dirtyPut bool
}

// poolKey names a pool across the program: the package variable holding it, or the struct
// field (every pool in that field counts as one). Pools reached any other way have no key.
func poolKey(recv ssa.Value) any {
	switch v := recv.(type) {
	case *ssa.Global:
		return v
	case *ssa.FieldAddr:
		if f := fieldOf(v.X.Type(), v.Field); f != nil {
			return f
		}
	}
	return nil
}

// poolUses scans the walked code for the Gets and Puts of each pool.
func poolUses(funcs map[*ssa.Function]bool) map[any]*poolUse {
	uses := map[any]*poolUse{}
	for fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				call, ok := instr.(ssa.CallInstruction)
				if !ok {
					continue
				}
				callee := call.Common().StaticCallee()
				if callee == nil || len(call.Common().Args) == 0 {
					continue
				}
				name := fullName(callee)
				if name != "(*sync.Pool).Get" && name != "(*sync.Pool).Put" {
					continue
				}
				key := poolKey(call.Common().Args[0])
				if key == nil {
					continue
				}
				u := uses[key]
				if u == nil {
					u = &poolUse{}
					uses[key] = u
				}
				c, isCall := call.(*ssa.Call) // a deferred or spawned Get or Put counts as not reset
				if name == "(*sync.Pool).Get" {
					u.dirtyGet = u.dirtyGet || !isCall || !resetBeforeUse(c)
				} else {
					u.dirtyPut = u.dirtyPut || !isCall || !resetBeforePut(c)
				}
			}
		}
	}
	return uses
}

// poolLeaks reports whether a pool may carry content between calls (unknown pools may).
func (p *program) poolLeaks(recv ssa.Value) bool {
	key := poolKey(recv)
	if key == nil {
		return true
	}
	u := p.pools[key]
	return u == nil || (u.dirtyGet && u.dirtyPut)
}

// poolCall handles (*sync.Pool).Get and Put on a pool rooted at a package variable.
func (a *funcAnalysis) poolCall(full, short string, recv ssa.Value, args []ssa.Value, pos token.Pos, result ssa.Value) {
	g := a.root(recv)
	if g == nil || !a.p.poolLeaks(recv) {
		return
	}
	switch full {
	case "(*sync.Pool).Get":
		if c, ok := result.(*ssa.Call); ok && resetBeforeUse(c) {
			return
		}
		a.write(g, pos, "takes an object that an earlier call may have filled (through "+short+", not reset before use) from")
		if used(result) {
			a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: pos, read: g})
		}
	case "(*sync.Pool).Put":
		if c, ok := result.(*ssa.Call); ok && resetBeforePut(c) {
			return
		}
		a.write(g, pos, "puts an object that was not reset back into (through "+short+")")
	}
}

// resetBeforeUse reports whether the object a Get returns is reset before anything else uses
// it: b := pool.Get().(*bytes.Buffer); b.Reset(), or buf := pool.Get().([]byte)[:0].
func resetBeforeUse(get *ssa.Call) bool {
	obj := assertedObject(get)
	if obj == nil {
		return false
	}
	if s, ok := obj.(*ssa.Slice); ok {
		return isZeroLengthSlice(s)
	}
	var reset ssa.Instruction
	for _, r := range *obj.Referrers() {
		if isResetOf(r, obj) {
			reset = r
			break
		}
	}
	if reset == nil {
		return false
	}
	for _, r := range *obj.Referrers() {
		if r != reset && !isResetOf(r, obj) && !dominates(reset, r) {
			return false
		}
	}
	return true
}

// resetBeforePut reports whether the object handed to Put was reset just before, with
// nothing using it in between: b.Reset(); pool.Put(b).
func resetBeforePut(put *ssa.Call) bool {
	args := put.Call.Args
	if len(args) != 2 {
		return false
	}
	mi, ok := args[1].(*ssa.MakeInterface)
	if !ok || mi.Block() != put.Block() {
		return false
	}
	obj := mi.X
	reset := false
	for _, instr := range put.Block().Instrs {
		if instr == mi {
			return reset
		}
		if uses(instr, obj) {
			reset = isResetOf(instr, obj)
		}
	}
	return false
}

// uses reports whether instr takes v as an operand.
func uses(instr ssa.Instruction, v ssa.Value) bool {
	for _, op := range instr.Operands(nil) {
		if *op == v {
			return true
		}
	}
	return false
}

// assertedObject returns the value a Get's result is used as: the type assertion of it, or
// the zero-length reslice of that assertion when that is its only use.
func assertedObject(get *ssa.Call) ssa.Value {
	refs := get.Referrers()
	if refs == nil || len(*refs) != 1 {
		return nil
	}
	ta, ok := (*refs)[0].(*ssa.TypeAssert)
	if !ok || ta.CommaOk {
		return nil
	}
	if refs := ta.Referrers(); refs != nil && len(*refs) == 1 {
		if s, ok := (*refs)[0].(*ssa.Slice); ok {
			return s
		}
	}
	return ta
}

// isResetOf reports whether instr empties obj: obj.Reset(), obj.Truncate(0), or, for a
// pointer to a slice, *obj = (*obj)[:0].
func isResetOf(instr ssa.Instruction, obj ssa.Value) bool {
	switch in := instr.(type) {
	case *ssa.Call:
		fn := in.Call.StaticCallee()
		args := in.Call.Args
		if fn == nil || fn.Signature.Recv() == nil || len(args) == 0 || args[0] != obj {
			return false
		}
		switch fn.Name() {
		case "Reset":
			return len(args) == 1
		case "Truncate":
			return len(args) == 2 && isConstZero(args[1])
		}
	case *ssa.Store:
		if s, ok := in.Val.(*ssa.Slice); ok && in.Addr == obj {
			return isZeroLengthSlice(s)
		}
	}
	return false
}

func isZeroLengthSlice(s *ssa.Slice) bool {
	return s.High != nil && isConstZero(s.High)
}

func isConstZero(v ssa.Value) bool {
	c, ok := v.(*ssa.Const)
	return ok && c.Value != nil && c.Value.String() == "0"
}

// dominates reports whether a runs before b on every path to b (both in one function).
func dominates(a, b ssa.Instruction) bool {
	if a.Block() != b.Block() {
		return a.Block().Dominates(b.Block())
	}
	for _, instr := range a.Block().Instrs {
		switch instr {
		case a:
			return true
		case b:
			return false
		}
	}
	return false
}

// isPoolMethod reports whether a summarized call is a pool's Get or Put.
func isPoolMethod(full string) bool {
	return full == "(*sync.Pool).Get" || full == "(*sync.Pool).Put"
}
