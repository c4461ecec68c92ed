package packager

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"

	"github.com/serverless-blueprint/blueprint/internal/jobsig"
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
	stateful, problem := jobsig.Check(fn, jobsig.SyntaxIsState(jobImport))
	sig.stateful = stateful
	if problem != nil {
		sig.problem = problem.Message
	}
	return sig
}
