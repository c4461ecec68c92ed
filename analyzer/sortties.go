package analyzer

import (
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ssa"
)

// Sorting removes map order only when the comparison leaves no ties between elements that
// differ. A slice of {name, count} pairs filled in map order and sorted by count alone keeps
// the map's order among equal counts (sort.Slice is deterministic for a given input, so equal
// elements come out in an order that depends on the order they went in). The comparison is
// total when it compares
//   - the elements themselves (keys[i] < keys[j]): equal elements are indistinguishable;
//   - a field that only ever holds a map's key (list[i].name, filled from a range key and from
//     nothing else): keys are unique, so no two elements tie;
//   - every field of the element's struct: elements that tie are equal.
// Anything else (a count, a value looked up by the key, a field run through a function)
// may tie.

// mapKeyFields finds the struct fields that only ever hold a map range's key: every store
// into the field in the walked code stores a key directly (pairs = append(pairs,
// pair{name: k, n: v})). A field also filled from anything else may hold duplicates.
func mapKeyFields(funcs map[*ssa.Function]bool) map[*types.Var]bool {
	fields := map[*types.Var]bool{}
	other := map[*types.Var]bool{}
	forEachFieldStore(funcs, func(field *types.Var, st *ssa.Store) {
		if isMapRangeKey(st.Val) {
			fields[field] = true
		} else {
			other[field] = true
		}
	})
	for f := range other {
		delete(fields, f)
	}
	return fields
}

// isMapRangeKey reports whether v is the key a range over a map produces.
func isMapRangeKey(v ssa.Value) bool {
	key, ok := v.(*ssa.Extract)
	if !ok || key.Index != 1 {
		return false
	}
	next, ok := key.Tuple.(*ssa.Next)
	if !ok || next.IsString {
		return false
	}
	rng, ok := next.Iter.(*ssa.Range)
	if !ok {
		return false
	}
	_, isMap := rng.X.Type().Underlying().(*types.Map)
	return isMap
}

// comparatorOf returns the function that orders the elements of a sort call, or nil when the
// sort compares whole elements (sort.Strings, slices.Sort) or the comparator is not known.
func (p *program) comparatorOf(name string, args []ssa.Value) *ssa.Function {
	switch name {
	case "sort.Slice", "sort.SliceStable", "slices.SortFunc", "slices.SortStableFunc",
		"slices.SortedFunc", "slices.SortedStableFunc":
		if len(args) == 2 {
			return staticFunc(args[1])
		}
	case "sort.Sort", "sort.Stable":
		if len(args) == 1 {
			if mi, ok := args[0].(*ssa.MakeInterface); ok {
				return p.prog.LookupMethod(mi.X.Type(), nil, "Less")
			}
		}
	}
	return nil
}

// staticFunc returns the function a function value is known to be: a named function or a
// closure.
func staticFunc(v ssa.Value) *ssa.Function {
	switch f := v.(type) {
	case *ssa.Function:
		return f
	case *ssa.MakeClosure:
		if fn, ok := f.Fn.(*ssa.Function); ok {
			return fn
		}
	}
	return nil
}

// maxComparatorDepth bounds how far comparisonIsTotal follows a comparator that hands its
// elements to helpers (a method value's wrapper, then the method).
const maxComparatorDepth = 3

// comparisonIsTotal reports whether a comparator leaves no ties between differing elements
// (see the rules above). A comparator without a body is trusted.
func (p *program) comparisonIsTotal(cmp *ssa.Function) bool {
	return p.totalComparison(cmp, 0)
}

func (p *program) totalComparison(cmp *ssa.Function, depth int) bool {
	if cmp == nil || cmp.Blocks == nil {
		return true
	}
	if depth > maxComparatorDepth {
		return false
	}
	// A sort.Slice comparator gets indices (the elements are list[i], list[j]); a SortFunc
	// comparator and a Less method's receiver get the elements or the slice.
	indices := map[ssa.Value]bool{}
	elements := map[ssa.Value]bool{}
	for i, param := range cmp.Params {
		if isInteger(param.Type()) && !(i == 0 && cmp.Signature.Recv() != nil) {
			indices[param] = true
		} else {
			elements[param] = true
		}
	}
	if len(indices) > 0 {
		elements = map[ssa.Value]bool{} // the receiver of Less(i, j) is the slice, not an element
	}
	compared := map[*types.Var]bool{}
	var helpers []*ssa.Function // code the comparator hands its work to
	var element types.Type      // the struct type whose fields are compared
	total := false
	consider := func(v ssa.Value) {
		whole, field, owner := p.elementPart(v, indices, elements)
		switch {
		case whole:
			total = true
		case field != nil:
			if p.keyFields[field] {
				total = true
			}
			compared[field] = true
			element = owner
		}
	}
	for _, b := range cmp.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.BinOp:
				switch in.Op {
				case token.LSS, token.GTR, token.LEQ, token.GEQ, token.EQL, token.NEQ:
					consider(in.X)
					consider(in.Y)
				}
			case *ssa.Call:
				fn := in.Call.StaticCallee()
				switch {
				case fn == nil:
				case comparesArgs(fullName(fn)):
					for _, arg := range callArgs(&in.Call) {
						consider(arg)
					}
				case !p.isSummarized(fn):
					helpers = append(helpers, fn)
				}
			}
		}
	}
	if total {
		return true
	}
	if element == nil {
		for _, h := range helpers {
			if p.totalComparison(h, depth+1) {
				return true
			}
		}
		return false
	}
	if st, ok := types.Unalias(element).(*types.Struct); ok {
		for i := 0; i < st.NumFields(); i++ {
			if !compared[st.Field(i)] {
				return false
			}
		}
		return st.NumFields() > 0
	}
	return false
}

// comparesArgs lists the standard comparison functions a comparator calls.
func comparesArgs(name string) bool {
	switch name {
	case "cmp.Compare", "cmp.Less", "strings.Compare", "bytes.Compare",
		"(time.Time).Compare", "(time.Time).Before", "(time.Time).After", "(time.Time).Equal":
		return true
	}
	return false
}

// elementPart says what part of a sorted element v is: the whole element, one field of it
// (with the struct type that holds the field), or neither.
func (p *program) elementPart(v ssa.Value, indices, elements map[ssa.Value]bool) (whole bool, field *types.Var, owner types.Type) {
	switch x := v.(type) {
	case *ssa.Field:
		if p.isElement(x.X, indices, elements) {
			return false, fieldOf(x.X.Type(), x.Field), x.X.Type().Underlying()
		}
	case *ssa.UnOp:
		if x.Op != token.MUL {
			return false, nil, nil
		}
		if fa, ok := x.X.(*ssa.FieldAddr); ok && p.isElement(fa.X, indices, elements) {
			return false, fieldOf(fa.X.Type(), fa.Field), fa.X.Type().Underlying().(*types.Pointer).Elem().Underlying()
		}
	case *ssa.ChangeType, *ssa.Convert:
		return false, nil, nil
	}
	return p.isElement(v, indices, elements), nil, nil
}

// isElement reports whether v is a sorted element (or a pointer to one): a comparator's
// element parameter, list[i] with i an index parameter, or a load of either.
func (p *program) isElement(v ssa.Value, indices, elements map[ssa.Value]bool) bool {
	switch x := v.(type) {
	case *ssa.Parameter:
		return elements[x]
	case *ssa.IndexAddr:
		return indices[x.Index]
	case *ssa.Index:
		return indices[x.Index]
	case *ssa.UnOp:
		if x.Op == token.MUL {
			return p.isElement(x.X, indices, elements)
		}
	}
	return false
}
