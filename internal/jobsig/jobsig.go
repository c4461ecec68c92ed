// Package jobsig is the one rule for the shape of a job function, applied by the analyzer
// (which then checks the types) and by the packager (which leaves the types to the compiler).
package jobsig

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
)

// Want is the shape every message names.
const Want = "func(context.Context, In) (Out, error) or func(context.Context, job.State, In) (Out, error)"

// Problem is what is wrong with a job function's shape, and where.
type Problem struct {
	Pos     token.Pos
	Message string // says what to fix
}

// Check checks the shape of fn from its syntax: exported, not generic, not variadic, two or
// three parameters of which the second of three is job.State (isState tells, from the
// parameter's type expression), and two results. It reports whether the job is stateful and
// the first problem, nil when the shape is right. The parameter and result types themselves
// (context.Context, JSON-serializable In and Out, error) are the caller's to check.
func Check(fn *ast.FuncDecl, isState func(ast.Expr) bool) (stateful bool, p *Problem) {
	name := fn.Name.Name
	if fn.Type.TypeParams != nil && len(fn.Type.TypeParams.List) > 0 {
		return false, &Problem{fn.Name.Pos(), fmt.Sprintf("job %s is generic; a job needs concrete input and output types", name)}
	}
	if !fn.Name.IsExported() {
		return false, &Problem{fn.Name.Pos(), fmt.Sprintf("job function %s must be exported (start with an upper-case letter): the generated entry point calls it from another package", name)}
	}
	params := flatten(fn.Type.Params)
	if n := len(params); n > 0 {
		if _, ok := params[n-1].(*ast.Ellipsis); ok {
			return false, &Problem{fn.Type.Pos(), fmt.Sprintf("job %s is variadic; its signature must be %s", name, Want)}
		}
	}
	if len(params) < 2 || len(params) > 3 {
		return false, &Problem{fn.Type.Params.Pos(), fmt.Sprintf("job %s takes %d parameter(s); its signature must be %s", name, len(params), Want)}
	}
	last := params[len(params)-1]
	if len(params) == 3 {
		if !isState(params[1]) {
			return false, &Problem{params[1].Pos(), fmt.Sprintf("the second of three parameters of job %s must be job.State, not %s", name, types.ExprString(params[1]))}
		}
		stateful = true
	}
	if isState(last) {
		return false, &Problem{last.Pos(), fmt.Sprintf("job %s takes job.State but no input; add an input parameter after it (an empty struct is fine)", name)}
	}
	if results := flatten(fn.Type.Results); len(results) != 2 {
		return false, &Problem{fn.Type.Pos(), fmt.Sprintf("job %s returns %d values; it must return (Out, error)", name, len(results))}
	}
	return stateful, nil
}

// flatten expands "a, b int" into one type expression per parameter.
func flatten(fl *ast.FieldList) []ast.Expr {
	if fl == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range fl.List {
		for range max(len(f.Names), 1) {
			out = append(out, f.Type)
		}
	}
	return out
}

// SyntaxIsState is isState for callers without type information: the expression is
// State selected from the name the file imports the job package under ("" = not imported).
func SyntaxIsState(jobImport string) func(ast.Expr) bool {
	return func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok || jobImport == "" || sel.Sel.Name != "State" {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && x.Name == jobImport
	}
}
