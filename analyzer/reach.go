package analyzer

import (
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Per-job precision for calls through function values and interfaces. The VTA call graph is
// built for the whole program, so a call of a Handler value inside a shared middleware chain
// may, by VTA, run every Handler any job builds, and a Notifier's Notify every Notifier any job
// makes. A job can only call a closure that was created while it ran (its MakeClosure
// executed in code the job reaches), a function it took as a value, or a method of a type
// it converted to an interface — or one that exists before the job runs: made while the
// package initialized, or of a type that some job stores in package-level memory (where an
// earlier call may have left it; the type is all the analyzer keeps of that). Edges from
// dynamic calls carry that condition, and the walk from each job follows one only once its
// target is available (walk.go). A job that makes values by reflection (reflect.New,
// reflect.MakeFunc) is not gated.

// gate says what makes a dynamic call's target available.
type gate uint8

const (
	gateNone      gate = iota // a static call, or a callback handed over here: always followed
	gateValue                 // a function value: the closure must be created, the function referenced
	gateInterface             // an interface method: a value of the receiver's type must be made
)

// availability indexes, for the whole program, where each function value is created and where
// each type is converted to an interface, and what exists before a job runs.
type availability struct {
	valueMadeIn map[*ssa.Function]map[*ssa.Function]bool // function value → functions creating it
	typeMadeIn  map[*types.TypeName]map[*ssa.Function]bool
	reflective  map[*ssa.Function]bool // functions that make values by reflection
	initMade    map[any]bool           // what package initialization makes (see node.made)
	// storedFuncs and storedIfaces are the function and interface types of values that code
	// reachable from the jobs stores into package-level memory (computeMutable fills them).
	storedFuncs  []*types.Signature
	storedIfaces []*types.Interface
	storedNamed  map[*types.TypeName]bool // concrete types of interface values stored there
}

// receiverTypeName returns the named type a method's receiver is (through one pointer).
func receiverTypeName(t types.Type) *types.TypeName {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj()
	}
	return nil
}

// reflectMakers are the standard functions that make values of types the code does not name
// at the call.
var reflectMakers = map[string]bool{
	"reflect.New": true, "reflect.Zero": true, "reflect.MakeFunc": true, "reflect.NewAt": true,
	"(reflect.Value).Interface": true, "(reflect.Value).Method": true, "(reflect.Value).MethodByName": true,
}

// indexAvailability scans the walked code once.
func indexAvailability(funcs map[*ssa.Function]bool) *availability {
	av := &availability{
		valueMadeIn: map[*ssa.Function]map[*ssa.Function]bool{},
		typeMadeIn:  map[*types.TypeName]map[*ssa.Function]bool{},
		reflective:  map[*ssa.Function]bool{},
		storedNamed: map[*types.TypeName]bool{},
	}
	made := map[any]bool{} // reused for each instruction
	for fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if call, ok := instr.(ssa.CallInstruction); ok {
					if callee := call.Common().StaticCallee(); callee != nil && reflectMakers[fullName(callee)] {
						av.reflective[fn] = true
					}
				}
				clear(made)
				madeBy(instr, made)
				for k := range made {
					switch k := k.(type) {
					case *ssa.Function:
						if av.valueMadeIn[k] == nil {
							av.valueMadeIn[k] = map[*ssa.Function]bool{}
						}
						av.valueMadeIn[k][fn] = true
					case *types.TypeName:
						if av.typeMadeIn[k] == nil {
							av.typeMadeIn[k] = map[*ssa.Function]bool{}
						}
						av.typeMadeIn[k][fn] = true
					}
				}
			}
		}
	}
	return av
}

// noteStoredValue records a value that code reachable from a job stores into package-level
// memory: its concrete type when it is an interface value made here, and the function and
// interface types inside it.
func (av *availability) noteStoredValue(v ssa.Value) {
	if mi, ok := v.(*ssa.MakeInterface); ok {
		if tn := receiverTypeName(mi.X.Type()); tn != nil {
			av.storedNamed[tn] = true
		}
		v = mi.X
	}
	av.noteStored(v.Type())
}

// noteStored records the function and interface types inside a value of type t that code
// reachable from a job stores into package-level memory.
func (av *availability) noteStored(t types.Type) {
	seen := map[types.Type]bool{}
	var visit func(t types.Type, depth int)
	visit = func(t types.Type, depth int) {
		if depth > maxFieldDepth || seen[t] {
			return
		}
		seen[t] = true
		switch u := t.Underlying().(type) {
		case *types.Signature:
			av.storedFuncs = append(av.storedFuncs, u)
		case *types.Interface:
			av.storedIfaces = append(av.storedIfaces, u)
		case *types.Pointer:
			visit(u.Elem(), depth+1)
		case *types.Slice:
			visit(u.Elem(), depth+1)
		case *types.Array:
			visit(u.Elem(), depth+1)
		case *types.Map:
			visit(u.Elem(), depth+1)
		case *types.Chan:
			visit(u.Elem(), depth+1)
		case *types.Struct:
			for i := 0; i < u.NumFields(); i++ {
				visit(u.Field(i).Type(), depth+1)
			}
		}
	}
	visit(t, 0)
}

// available reports whether a gated edge's target can be called in a job whose reached code
// made the function values and interface types in made (node.made).
func (av *availability) available(g gate, target *ssa.Function, made map[any]bool) bool {
	var key any
	var makers map[*ssa.Function]bool
	switch g {
	case gateValue:
		for _, sig := range av.storedFuncs {
			if types.Identical(sig, target.Signature) {
				return true
			}
		}
		key, makers = target, av.valueMadeIn[target]
	case gateInterface:
		recv := target.Signature.Recv().Type()
		for _, iface := range av.storedIfaces {
			if types.Implements(recv, iface) || types.Implements(types.NewPointer(recv), iface) {
				return true
			}
		}
		tn := receiverTypeName(recv)
		if tn == nil || av.storedNamed[tn] {
			return true
		}
		key, makers = tn, av.typeMadeIn[tn]
	default:
		return true
	}
	if len(makers) == 0 {
		return true // made where the analyzer does not look: do not hide it
	}
	return made[key] || av.initMade[key]
}

// madeBy adds to out what an instruction makes that a dynamic call may later reach: the
// function it takes as a value (or the closure it creates, not a function it only calls), or
// the named type it converts to an interface.
func madeBy(instr ssa.Instruction, out map[any]bool) {
	for _, op := range instr.Operands(nil) {
		target, ok := (*op).(*ssa.Function)
		if !ok {
			continue
		}
		if call, isCall := instr.(ssa.CallInstruction); isCall && !call.Common().IsInvoke() && op == &call.Common().Value {
			continue
		}
		out[target] = true
	}
	if mi, ok := instr.(*ssa.MakeInterface); ok {
		if tn := receiverTypeName(mi.X.Type()); tn != nil {
			out[tn] = true
		}
	}
}
