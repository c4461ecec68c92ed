package analyzer

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/packages"

	"github.com/serverless-blueprint/blueprint/internal/jobsig"
)

// jobPkgPath is the package job authors import for job.State.
const jobPkgPath = "github.com/serverless-blueprint/blueprint/job"

// packageIndex is what every job analysis of one package shares: syntax, types and the
// package-wide facts (which functions have bodies, which globals are mutable).
type packageIndex struct {
	pkg   *packages.Package
	info  *types.Info
	fset  *token.FileSet
	isStd func(importPath string) bool

	decls map[*types.Func]*ast.FuncDecl
}

// jobDecl is one function carrying //blueprint:job.
type jobDecl struct {
	decl      *ast.FuncDecl
	fn        *types.Func
	directive Directive
	name      string // final job name
	stateful  bool   // takes job.State
	input     types.Type
	output    types.Type
}

func newPackageIndex(pkg *packages.Package, isStd func(string) bool) *packageIndex {
	ix := &packageIndex{
		pkg:   pkg,
		info:  pkg.TypesInfo,
		fset:  pkg.Fset,
		isStd: isStd,
		decls: map[*types.Func]*ast.FuncDecl{},
	}
	for _, f := range pkg.Syntax {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				if fn, ok := ix.info.Defs[fd.Name].(*types.Func); ok {
					ix.decls[fn] = fd
				}
			}
		}
	}
	return ix
}

func (ix *packageIndex) position(pos token.Pos) string {
	if !pos.IsValid() {
		return ix.pkg.Dir
	}
	return ix.fset.Position(pos).String()
}

// discoverJobs finds every //blueprint:job and reports directives in the wrong place, bad
// options, unexported or generic functions and duplicate names, all at once.
func (ix *packageIndex) discoverJobs() ([]*jobDecl, problems) {
	var probs problems
	var jobs []*jobDecl
	byName := map[string]*jobDecl{}
	for _, file := range ix.pkg.Syntax {
		placed := map[*ast.Comment]bool{} // directives sitting on a top-level function's doc
		for _, d := range file.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Doc == nil {
				continue
			}
			var found []*ast.Comment
			var dir Directive
			for _, c := range fd.Doc.List {
				parsed, isDirective, err := ParseDirective(c.Text)
				if !isDirective {
					continue
				}
				placed[c] = true
				found = append(found, c)
				if err != nil {
					probs.add(ix.position(c.Slash), "//blueprint:job on %s: %v", fd.Name.Name, err)
					continue
				}
				dir = parsed
			}
			if len(found) == 0 {
				continue
			}
			if fd.Recv != nil {
				probs.add(ix.position(found[0].Slash), "//blueprint:job is on method %s: a job must be a top-level function, not a method", funcDisplayName(ix.info.Defs[fd.Name]))
				continue
			}
			if len(found) > 1 {
				probs.add(ix.position(found[1].Slash), "%s has more than one //blueprint:job line; merge the options into one", fd.Name.Name)
				continue
			}
			// The shape rule is shared with the packager (internal/jobsig); the types of the
			// parameters and results are checked in checkSignature.
			stateful, shape := jobsig.Check(fd, func(e ast.Expr) bool { return isNamed(ix.info.TypeOf(e), jobPkgPath, "State") })
			if shape != nil {
				probs.add(ix.position(shape.Pos), "%s", shape.Message)
				continue
			}
			fn, _ := ix.info.Defs[fd.Name].(*types.Func)
			if fn == nil {
				continue // the type checker already failed; load reported it
			}
			name := dir.Name
			if name == "" {
				name = snakeCase(fd.Name.Name)
				if !jobNamePattern.MatchString(name) {
					probs.add(ix.position(found[0].Slash), "the default job name %q of %s is not valid; give one with name=... (lowercase letters, digits, '_' or '-')", name, fd.Name.Name)
					continue
				}
			}
			j := &jobDecl{decl: fd, fn: fn, directive: dir, name: name, stateful: stateful}
			if prev, dup := byName[name]; dup {
				probs.add(ix.position(fd.Name.Pos()), "job name %q is used twice: by %s (at %s) and by %s; give one of them another name=...", name, prev.decl.Name.Name, ix.position(prev.decl.Name.Pos()), fd.Name.Name)
				continue
			}
			byName[name] = j
			jobs = append(jobs, j)
		}
		for _, group := range file.Comments {
			for _, c := range group.List {
				if placed[c] {
					continue
				}
				if _, isDirective, _ := ParseDirective(c.Text); isDirective {
					probs.add(ix.position(c.Slash), "//blueprint:job must be in the doc comment of a top-level function (directly above `func`)")
				}
			}
		}
	}
	return jobs, probs
}

// funcDisplayName names a function or method the way Go stack traces do: F, T.M or (*T).M.
func funcDisplayName(obj types.Object) string {
	fn, ok := obj.(*types.Func)
	if !ok || fn == nil {
		if obj == nil {
			return "?"
		}
		return obj.Name()
	}
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		return fn.Name()
	}
	recv := types.Unalias(sig.Recv().Type())
	ptr := false
	if p, ok := recv.(*types.Pointer); ok {
		recv, ptr = types.Unalias(p.Elem()), true
	}
	name := "?"
	switch r := recv.(type) {
	case *types.Named:
		name = r.Obj().Name()
	case *types.Interface:
		name = "interface"
	}
	if ptr {
		return "(*" + name + ")." + fn.Name()
	}
	return name + "." + fn.Name()
}

// shortFuncName names a function for people: http.Get, (*http.Client).Do, (io.Closer).Close,
// and without a package for the analyzed package's own functions.
func shortFuncName(fn *types.Func, current *types.Package) string {
	qualifier := func(p *types.Package) string {
		if p == current {
			return ""
		}
		return p.Name()
	}
	sig, _ := fn.Type().(*types.Signature)
	if sig == nil || sig.Recv() == nil {
		if fn.Pkg() == nil || fn.Pkg() == current {
			return fn.Name()
		}
		return fn.Pkg().Name() + "." + fn.Name()
	}
	return "(" + types.TypeString(sig.Recv().Type(), qualifier) + ")." + fn.Name()
}
