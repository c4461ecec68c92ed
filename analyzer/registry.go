package analyzer

import (
	"go/constant"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Registries chosen by a constant key. A package-level map filled only with constant keys
// (a map literal, or m["name"] = v) and otherwise only read is a table: formatters["upper"]
// holds exactly what was stored under "upper", so a call through it runs those values' code,
// not that of every value in the map. Any other use of the map (a store under a computed
// key, the map handed to a function, the variable reassigned) makes it an ordinary map, and
// its calls keep every target the call graph gives.

// registryEntries lists, per constant key, the values stored under it; nil when the map is
// not such a table.
type registryEntries map[string][]ssa.Value

// registryOf returns the table a package-level map variable holds, computed once.
func (p *program) registryOf(g *ssa.Global) registryEntries {
	if r, ok := p.registries[g]; ok {
		return r
	}
	r := registryEntries{}
	ok := true
	addUpdates := func(m ssa.Value) {
		for _, ref := range *m.Referrers() {
			switch u := ref.(type) {
			case *ssa.MapUpdate:
				if u.Map != m {
					ok = false
					continue
				}
				if k, isConst := constString(u.Key); isConst {
					r[k] = append(r[k], u.Value)
					continue
				}
				// register(name, v) { m[name] = v }: the keys and values its callers pass.
				if !p.registerCalls(u, r) {
					ok = false
				}
			case *ssa.Lookup, *ssa.Range:
			case *ssa.Store:
				if u.Val == m && u.Addr != ssa.Value(g) {
					ok = false // the map is kept somewhere else too
				}
			case *ssa.Call:
				if b, isBuiltin := u.Call.Value.(*ssa.Builtin); !isBuiltin || b.Name() != "len" {
					ok = false
				}
			default:
				ok = false
			}
		}
	}
	for _, ref := range p.usesOf(g) {
		switch u := ref.(type) {
		case *ssa.UnOp: // a load of the map
			addUpdates(u)
		case *ssa.Store:
			if mm, isMake := u.Val.(*ssa.MakeMap); isMake {
				addUpdates(mm)
			} else {
				ok = false // assigned some other map
			}
		default:
			ok = false // its address taken: anything may change it
		}
	}
	if !ok {
		r = nil
	}
	p.registries[g] = r
	return r
}

// constString returns the text of a constant string.
func constString(v ssa.Value) (string, bool) {
	c, ok := v.(*ssa.Const)
	if !ok || c.Value == nil || c.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(c.Value), true
}

// registerCalls handles a store under a key that is a parameter of a registering function
// (func register(name string, c codec) { codecs[name] = c }): when every caller calls it
// directly with a constant key, each call adds its value under its key to r. It reports
// false when some call does not (or the function is also used as a value).
func (p *program) registerCalls(u *ssa.MapUpdate, r registryEntries) bool {
	fn := u.Parent()
	keyParam, isParam := u.Key.(*ssa.Parameter)
	if !isParam || fn.Parent() != nil || len(p.avail.valueMadeIn[fn]) > 0 {
		return false
	}
	keyIndex, valueIndex := -1, -1
	for i, param := range fn.Params {
		if param == keyParam {
			keyIndex = i
		}
		if param == u.Value {
			valueIndex = i
		}
	}
	sites := p.staticCallers(fn)
	if keyIndex < 0 || len(sites) == 0 {
		return false
	}
	for _, call := range sites {
		args := call.Common().Args
		k, isConst := constString(args[keyIndex])
		if !isConst {
			return false
		}
		value := u.Value
		if valueIndex >= 0 {
			value = args[valueIndex]
		}
		r[k] = append(r[k], value)
	}
	return true
}

// staticCallers returns the call instructions in the walked code that call fn directly.
func (p *program) staticCallers(fn *ssa.Function) []ssa.CallInstruction {
	p.indexCode()
	return p.callers[fn]
}

// usesOf returns the instructions of the walked code that use a package-level variable (the
// SSA keeps no referrers for globals).
func (p *program) usesOf(g *ssa.Global) []ssa.Instruction {
	p.indexCode()
	return p.globalUses[g]
}

// indexCode indexes, in one pass over the walked code when first needed, the static call
// sites of each function and the uses of each package-level variable.
func (p *program) indexCode() {
	if p.callers != nil {
		return
	}
	p.callers = map[*ssa.Function][]ssa.CallInstruction{}
	p.globalUses = map[*ssa.Global][]ssa.Instruction{}
	for fn := range p.funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if call, ok := instr.(ssa.CallInstruction); ok {
					if callee := call.Common().StaticCallee(); callee != nil {
						p.callers[callee] = append(p.callers[callee], call)
					}
				}
				for _, op := range instr.Operands(nil) {
					if used, ok := (*op).(*ssa.Global); ok {
						p.globalUses[used] = append(p.globalUses[used], instr)
					}
				}
			}
		}
	}
}

// registryValues returns the values a dynamic call's callee (a function value or interface
// value) can be when it is read from a table under a constant key: formatters["upper"], or
// f, ok := factories["upper"]. ok is false when the callee is not such a read.
func (p *program) registryValues(v ssa.Value) ([]ssa.Value, bool) {
	if ex, isExtract := v.(*ssa.Extract); isExtract && ex.Index == 0 {
		v = ex.Tuple
	}
	lookup, isLookup := v.(*ssa.Lookup)
	if !isLookup {
		return nil, false
	}
	g, key, ok := constKeyLookup(lookup)
	if !ok {
		return nil, false
	}
	r := p.registryOf(g)
	if r == nil {
		return nil, false
	}
	return r[key], true
}

// constKeyLookup recognises m["key"] on a package-level map variable.
func constKeyLookup(l *ssa.Lookup) (g *ssa.Global, key string, ok bool) {
	key, isConst := constString(l.Index)
	load, isLoad := l.X.(*ssa.UnOp)
	if !isConst || !isLoad {
		return nil, "", false
	}
	g, isGlobal := load.X.(*ssa.Global)
	return g, key, isGlobal
}

// narrowByRegistry keeps the callees a table read can hold: the functions and closures stored
// under the key, or the methods of the types whose values are. The callees stay as they were
// when any stored value is not one of those.
func (p *program) narrowByRegistry(callee ssa.Value, callees []*ssa.Function) []*ssa.Function {
	values, ok := p.registryValues(callee)
	if !ok {
		return callees
	}
	funcs := map[*ssa.Function]bool{}
	recvTypes := map[*types.TypeName]bool{}
	for _, v := range values {
		for {
			ct, isConversion := v.(*ssa.ChangeType) // a literal stored as a named func type
			if !isConversion {
				break
			}
			v = ct.X
		}
		if fn := staticFunc(v); fn != nil { // a named function or a closure
			funcs[fn] = true
			continue
		}
		switch x := v.(type) {
		case *ssa.MakeInterface:
			tn := receiverTypeName(x.X.Type())
			if tn == nil {
				return callees
			}
			recvTypes[tn] = true
		default:
			return callees
		}
	}
	return keepCallees(callees, funcs, recvTypes)
}

// keepCallees keeps the callees that are among funcs or are methods of one of the types.
func keepCallees(callees []*ssa.Function, funcs map[*ssa.Function]bool, recvTypes map[*types.TypeName]bool) []*ssa.Function {
	var kept []*ssa.Function
	for _, fn := range callees {
		if funcs[fn] {
			kept = append(kept, fn)
			continue
		}
		if recv := fn.Signature.Recv(); recv != nil && recvTypes[receiverTypeName(recv.Type())] {
			kept = append(kept, fn)
		}
	}
	return kept
}
