package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

// localFuncValues returns the local variables of decl that only ever hold function literals or
// same-package functions, so calling them runs code the scan already walks.
func (ix *packageIndex) localFuncValues(decl *ast.FuncDecl) map[*types.Var]bool {
	if known, ok := ix.localFuncsCache[decl]; ok {
		return known
	}
	known := map[*types.Var]bool{}
	ix.localFuncsCache[decl] = known
	if decl.Body == nil {
		return known
	}
	isKnownFunc := func(e ast.Expr) bool {
		switch x := ast.Unparen(e).(type) {
		case *ast.FuncLit:
			return true
		case *ast.Ident:
			fn, ok := ix.info.Uses[x].(*types.Func)
			return ok && ix.decls[fn.Origin()] != nil
		case *ast.SelectorExpr:
			fn, ok := ix.info.Uses[x.Sel].(*types.Func)
			return ok && ix.decls[fn.Origin()] != nil
		}
		return false
	}
	record := func(id *ast.Ident, value ast.Expr) {
		obj := ix.info.Defs[id]
		if obj == nil {
			obj = ix.info.Uses[id]
		}
		v, ok := obj.(*types.Var)
		if !ok || isPackageLevel(v) {
			return
		}
		if _, isFunc := v.Type().Underlying().(*types.Signature); !isFunc {
			return
		}
		good := value != nil && isKnownFunc(value)
		if prev, seen := known[v]; seen {
			known[v] = prev && good
		} else {
			known[v] = good
		}
	}
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				id, ok := ast.Unparen(lhs).(*ast.Ident)
				if !ok {
					continue
				}
				var value ast.Expr
				if len(n.Lhs) == len(n.Rhs) {
					value = n.Rhs[i]
				}
				record(id, value)
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if i < len(n.Values) {
					record(id, n.Values[i])
				}
				// `var f func()` with no value holds nil until assigned; the assignments decide.
			}
		case *ast.UnaryExpr:
			if id, ok := ast.Unparen(n.X).(*ast.Ident); ok && n.Op == token.AND {
				record(id, nil) // its address escapes: anything may be stored through it
			}
		}
		return true
	})
	return known
}

// sortCallPositions lists where decl calls a sort function; a map range followed by one of
// them is taken as order-independent.
func (ix *packageIndex) sortCallPositions(decl *ast.FuncDecl) []token.Pos {
	if out, ok := ix.sortCallsCache[decl]; ok {
		return out
	}
	var out []token.Pos
	defer func() { ix.sortCallsCache[decl] = out }()
	if decl.Body == nil {
		return out
	}
	ast.Inspect(decl.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if fn, ok := typeutil.Callee(ix.info, call).(*types.Func); ok && fn.Pkg() != nil && isSortCall(fn.FullName()) {
				out = append(out, call.Pos())
			}
		}
		return true
	})
	return out
}

// rangeStmt flags iteration over a map (or maps.Keys/Values/All of one) whose order may reach
// the output: not followed by a sort in the same function, and with a body that does more than
// order-independent accumulation (counting, integer sums, writing to the same key elsewhere).
func (w *funcWalker) rangeStmt(r *ast.RangeStmt, chain []string) {
	if !w.isMapIteration(r.X) {
		return
	}
	for _, pos := range w.sortAfter {
		if pos > r.End() {
			return
		}
	}
	var key types.Object
	if id, ok := r.Key.(*ast.Ident); ok && id.Name != "_" {
		key = w.ix.info.ObjectOf(id)
	}
	if w.orderFree(r.Body.List, key) {
		return
	}
	w.add(KindMapOrder, r.Pos(), chain, "ranges over a map and no sort follows in this function: Go's map order is random, so the output may differ between runs (sort the keys first)")
}

func (w *funcWalker) isMapIteration(x ast.Expr) bool {
	t := w.ix.info.TypeOf(x)
	if t == nil {
		return false
	}
	if _, ok := t.Underlying().(*types.Map); ok {
		return true
	}
	if call, ok := ast.Unparen(x).(*ast.CallExpr); ok {
		if fn, ok := typeutil.Callee(w.ix.info, call).(*types.Func); ok && fn.Pkg() != nil && fn.Pkg().Path() == "maps" {
			switch fn.Name() {
			case "Keys", "Values", "All":
				return true
			}
		}
	}
	return false
}

// orderFree reports whether statements give the same result in any iteration order.
func (w *funcWalker) orderFree(stmts []ast.Stmt, key types.Object) bool {
	for _, s := range stmts {
		if !w.orderFreeStmt(s, key) {
			return false
		}
	}
	return true
}

func (w *funcWalker) orderFreeStmt(s ast.Stmt, key types.Object) bool {
	switch s := s.(type) {
	case *ast.IncDecStmt:
		return true
	case *ast.BranchStmt:
		return s.Tok == token.CONTINUE
	case *ast.BlockStmt:
		return w.orderFree(s.List, key)
	case *ast.IfStmt:
		if s.Init != nil && !w.orderFreeStmt(s.Init, key) {
			return false
		}
		if !w.orderFree(s.Body.List, key) {
			return false
		}
		return s.Else == nil || w.orderFreeStmt(s.Else, key)
	case *ast.ExprStmt:
		call, ok := s.X.(*ast.CallExpr)
		if !ok {
			return false
		}
		b, ok := w.ix.info.Uses[calleeIdent(call.Fun)].(*types.Builtin)
		return ok && b.Name() == "delete"
	case *ast.AssignStmt:
		switch s.Tok {
		case token.DEFINE:
			return true // fresh variables in each iteration
		case token.ADD_ASSIGN, token.SUB_ASSIGN, token.MUL_ASSIGN, token.OR_ASSIGN, token.AND_ASSIGN, token.XOR_ASSIGN:
			// Integer arithmetic commutes; float sums and string concatenation do not.
			for _, lhs := range s.Lhs {
				t := w.ix.info.TypeOf(lhs)
				if t == nil {
					return false
				}
				b, ok := t.Underlying().(*types.Basic)
				if !ok || b.Info()&types.IsInteger == 0 {
					return false
				}
			}
			return true
		case token.ASSIGN:
			// out[k] = … with k the range key writes each slot once, in any order.
			for _, lhs := range s.Lhs {
				idx, ok := ast.Unparen(lhs).(*ast.IndexExpr)
				if !ok || key == nil {
					return false
				}
				id, ok := ast.Unparen(idx.Index).(*ast.Ident)
				if !ok || w.ix.info.Uses[id] != key {
					return false
				}
			}
			return true
		}
	}
	return false
}
