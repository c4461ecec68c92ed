package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"
)

// findMutableGlobals returns this package's variables that some code other than init (and
// other than their own initializer) writes, with the first such write. Reading any of them
// makes a job depend on state that lives in one process.
func (ix *packageIndex) findMutableGlobals() map[*types.Var]token.Pos {
	mutable := map[*types.Var]token.Pos{}
	note := func(e ast.Expr, pos token.Pos) {
		id := rootIdent(ix.info, e)
		if id == nil {
			return
		}
		v, ok := ix.info.Uses[id].(*types.Var)
		if !ok || !isPackageLevel(v) || v.Pkg() != ix.pkg.Types {
			return
		}
		if _, seen := mutable[v]; !seen {
			mutable[v] = pos
		}
	}
	visit := func(root ast.Node) {
		ast.Inspect(root, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				if n.Tok != token.DEFINE {
					for _, lhs := range n.Lhs {
						note(lhs, lhs.Pos())
					}
				}
			case *ast.IncDecStmt:
				note(n.X, n.Pos())
			case *ast.UnaryExpr:
				if n.Op == token.AND {
					note(n.X, n.Pos())
				}
			case *ast.RangeStmt:
				if n.Tok == token.ASSIGN {
					if n.Key != nil {
						note(n.Key, n.Key.Pos())
					}
					if n.Value != nil {
						note(n.Value, n.Value.Pos())
					}
				}
			case *ast.CallExpr:
				ix.noteCallWrites(n, note)
			}
			return true
		})
	}
	for _, f := range ix.pkg.Syntax {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" {
					continue // runs once before any job: its writes are initialization
				}
				if d.Body != nil {
					visit(d.Body)
				}
			case *ast.GenDecl:
				// Function literals stored in package-level variables run later, like any function.
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, val := range vs.Values {
							ast.Inspect(val, func(n ast.Node) bool {
								if lit, ok := n.(*ast.FuncLit); ok {
									visit(lit.Body)
									return false
								}
								return true
							})
						}
					}
				}
			}
		}
	}
	return mutable
}

// noteCallWrites reports writes a call makes to its operands: delete/clear/copy destinations
// and pointer-receiver methods called on a package-level value.
func (ix *packageIndex) noteCallWrites(call *ast.CallExpr, note func(ast.Expr, token.Pos)) {
	if b, ok := ix.info.Uses[calleeIdent(call.Fun)].(*types.Builtin); ok {
		switch b.Name() {
		case "delete", "clear", "copy":
			if len(call.Args) > 0 {
				note(call.Args[0], call.Pos())
			}
		}
		return
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	selection := ix.info.Selections[sel]
	if selection == nil || selection.Kind() != types.MethodVal {
		return
	}
	fn, ok := selection.Obj().(*types.Func)
	if !ok {
		return
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return
	}
	if _, ptr := types.Unalias(recv.Type()).(*types.Pointer); !ptr {
		return
	}
	xIsPtr := false
	if t := ix.info.TypeOf(sel.X); t != nil {
		_, xIsPtr = t.Underlying().(*types.Pointer)
	}
	if !xIsPtr || fn.Pkg() == ix.pkg.Types {
		note(sel.X, call.Pos())
	}
}

func calleeIdent(e ast.Expr) *ast.Ident {
	id, _ := ast.Unparen(e).(*ast.Ident)
	return id
}
