package packager

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
)

// jobSignature is what the wrapper needs to know about a job function's shape.
type jobSignature struct {
	stateful bool
	position string
	problem  string // non-empty when the function cannot be a job; says what to fix
}

// jobSignatures reads the top-level functions of a package (syntax only; the compiler checks
// the types) and classifies each as a plain job func(ctx, In) (Out, error) or a stateful job
// func(ctx, job.State, In) (Out, error).
func jobSignatures(dir string, files []string) (map[string]jobSignature, error) {
	fset := token.NewFileSet()
	sigs := map[string]jobSignature{}
	for _, name := range files {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, name), err)
		}
		jobImport := ""
		for _, imp := range f.Imports {
			if imp.Path.Value == `"github.com/serverless-blueprint/blueprint/job"` {
				jobImport = "job"
				if imp.Name != nil {
					jobImport = imp.Name.Name
				}
			}
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil {
				continue
			}
			sigs[fn.Name.Name] = classify(fset, fn, jobImport)
		}
	}
	return sigs, nil
}

func classify(fset *token.FileSet, fn *ast.FuncDecl, jobImport string) jobSignature {
	pos := fset.Position(fn.Pos())
	sig := jobSignature{position: fmt.Sprintf("%s:%d", filepath.Base(pos.Filename), pos.Line)}
	const want = "a job must be func(context.Context, In) (Out, error) or func(context.Context, job.State, In) (Out, error)"
	if !fn.Name.IsExported() {
		sig.problem = fmt.Sprintf("function %s is not exported: rename it with a capital letter so the wrapper can call it", fn.Name.Name)
		return sig
	}
	if fn.Type.TypeParams != nil && len(fn.Type.TypeParams.List) > 0 {
		sig.problem = fmt.Sprintf("function %s is generic: %s", fn.Name.Name, want)
		return sig
	}
	params := flatten(fn.Type.Params)
	results := flatten(fn.Type.Results)
	if len(results) != 2 {
		sig.problem = fmt.Sprintf("function %s returns %d values: %s", fn.Name.Name, len(results), want)
		return sig
	}
	switch len(params) {
	case 2:
	case 3:
		sel, ok := params[1].(*ast.SelectorExpr)
		if !ok || jobImport == "" || sel.Sel.Name != "State" {
			sig.problem = fmt.Sprintf("function %s has three parameters but the second is not job.State: %s", fn.Name.Name, want)
			return sig
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != jobImport {
			sig.problem = fmt.Sprintf("function %s has three parameters but the second is not job.State: %s", fn.Name.Name, want)
			return sig
		}
		sig.stateful = true
	default:
		sig.problem = fmt.Sprintf("function %s takes %d parameters: %s", fn.Name.Name, len(params), want)
	}
	return sig
}

// flatten expands "a, b int" into one type expression per parameter.
func flatten(fl *ast.FieldList) []ast.Expr {
	if fl == nil {
		return nil
	}
	var out []ast.Expr
	for _, f := range fl.List {
		n := len(f.Names)
		if n == 0 {
			n = 1
		}
		for range n {
			out = append(out, f.Type)
		}
	}
	return out
}
