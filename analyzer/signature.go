package analyzer

import (
	"fmt"
	"go/ast"
	"go/types"
	"reflect"
	"strings"
)

// checkSignature checks the types of a job whose shape internal/jobsig accepted: the first
// parameter is context.Context, the last result error, and In and Out are JSON-serializable.
func (ix *packageIndex) checkSignature(j *jobDecl, probs *problems) {
	sig := j.fn.Type().(*types.Signature)
	fd := j.decl
	params, results := sig.Params(), sig.Results()
	paramPos := func(i int) string { return ix.position(paramExpr(fd.Type.Params, i).Pos()) }
	if !isNamed(params.At(0).Type(), "context", "Context") {
		probs.add(paramPos(0), "the first parameter of job %s must be context.Context, not %s", fd.Name.Name, ix.typeString(params.At(0).Type()))
	}
	inIndex := params.Len() - 1
	in := params.At(inIndex)
	if !types.Identical(results.At(1).Type(), types.Universe.Lookup("error").Type()) {
		probs.add(ix.position(resultExpr(fd.Type.Results, 1).Pos()), "the last result of job %s must be error, not %s", fd.Name.Name, ix.typeString(results.At(1).Type()))
	}
	j.input, j.output = in.Type(), results.At(0).Type()
	ix.checkJSON(j.input, true, paramPos(inIndex), "input "+ix.typeString(j.input), probs)
	ix.checkJSON(j.output, false, ix.position(resultExpr(fd.Type.Results, 0).Pos()), "output "+ix.typeString(j.output), probs)
}

func (ix *packageIndex) typeString(t types.Type) string {
	return types.TypeString(t, types.RelativeTo(ix.pkg.Types))
}

// isNamed reports whether t is the named type pkgPath.name (looking through aliases).
func isNamed(t types.Type, pkgPath, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkgPath && n.Obj().Name() == name
}

// paramExpr returns the type expression of the i-th parameter (fields may declare several names).
func paramExpr(list *ast.FieldList, i int) ast.Expr {
	n := 0
	for _, f := range list.List {
		count := max(len(f.Names), 1)
		if i < n+count {
			return f.Type
		}
		n += count
	}
	return list.List[len(list.List)-1].Type
}

func resultExpr(list *ast.FieldList, i int) ast.Expr {
	if list == nil {
		return &ast.BadExpr{}
	}
	return paramExpr(list, i)
}

// checkJSON walks t the way encoding/json does and reports every part that cannot cross the
// wire: channels, functions, complex numbers, unsafe.Pointer, unsupported map keys, and (for
// input) interfaces with methods, which json cannot decode into.
func (ix *packageIndex) checkJSON(t types.Type, input bool, fallbackPos, what string, probs *problems) {
	w := jsonWalker{ix: ix, input: input, seen: map[types.Type]bool{}, fallbackPos: fallbackPos, what: what, probs: probs}
	w.walk(t, "", fallbackPos, 0)
}

type jsonWalker struct {
	ix          *packageIndex
	input       bool
	seen        map[types.Type]bool
	fallbackPos string
	what        string
	probs       *problems
	reported    int
}

const maxJSONProblems = 10

func (w *jsonWalker) fail(pos, path, format string, args ...any) {
	w.reported++
	if w.reported > maxJSONProblems {
		return
	}
	where := w.what
	if path != "" {
		where += " at " + strings.TrimPrefix(path, ".")
	}
	w.probs.add(pos, "%s: %s, which cannot be encoded as JSON", where, fmt.Sprintf(format, args...))
}

func (w *jsonWalker) walk(t types.Type, path, pos string, depth int) {
	if depth > 64 {
		return
	}
	t = types.Unalias(t)
	if _, named := t.(*types.Named); named {
		if w.seen[t] {
			return // a recursive type: its parts are checked on the first visit
		}
		w.seen[t] = true
		if w.hasCustomCodec(t) {
			return
		}
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Info()&types.IsComplex != 0:
			w.fail(pos, path, "%s is a complex number", w.ix.typeString(t))
		case u.Kind() == types.UnsafePointer:
			w.fail(pos, path, "it is an unsafe.Pointer")
		}
	case *types.Chan:
		w.fail(pos, path, "%s is a channel", w.ix.typeString(t))
	case *types.Signature:
		w.fail(pos, path, "%s is a function", w.ix.typeString(t))
	case *types.Pointer:
		w.walk(u.Elem(), path, pos, depth+1)
	case *types.Slice:
		w.walk(u.Elem(), path+"[]", pos, depth+1)
	case *types.Array:
		w.walk(u.Elem(), path+"[]", pos, depth+1)
	case *types.Map:
		if !w.validMapKey(u.Key()) {
			w.fail(pos, path, "map key type %s is not a string, an integer or a text marshaler", w.ix.typeString(u.Key()))
		}
		w.walk(u.Elem(), path+"[key]", pos, depth+1)
	case *types.Interface:
		if w.input && u.NumMethods() > 0 {
			w.fail(pos, path, "interface %s has methods, and json cannot decode into it", w.ix.typeString(t))
		}
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			f := u.Field(i)
			tag := reflect.StructTag(u.Tag(i)).Get("json")
			if tag == "-" {
				continue
			}
			if !f.Exported() && !f.Embedded() {
				continue // encoding/json ignores unexported fields
			}
			fieldPos := pos
			if f.Pkg() == w.ix.pkg.Types && f.Pos().IsValid() {
				fieldPos = w.ix.position(f.Pos())
			}
			w.walk(f.Type(), path+"."+f.Name(), fieldPos, depth+1)
		}
	}
}

func (w *jsonWalker) hasCustomCodec(t types.Type) bool {
	methods := []string{"MarshalJSON", "MarshalText"}
	if w.input {
		methods = []string{"UnmarshalJSON", "UnmarshalText"}
	}
	ms := types.NewMethodSet(types.NewPointer(t))
	for _, m := range methods {
		if ms.Lookup(nil, m) != nil {
			return true
		}
	}
	return false
}

func (w *jsonWalker) validMapKey(k types.Type) bool {
	if b, ok := k.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 {
		return true
	}
	name := "MarshalText"
	if w.input {
		name = "UnmarshalText"
	}
	return types.NewMethodSet(types.NewPointer(k)).Lookup(nil, name) != nil
}
