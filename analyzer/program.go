package analyzer

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/callgraph/cha"
	"golang.org/x/tools/go/callgraph/vta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"

	"github.com/serverless-blueprint/blueprint/job"
)

// program is the whole program a job package builds into, in SSA form, with a call graph.
// Everything the effect walk needs to know about code outside one function lives here.
type program struct {
	fset    *token.FileSet
	prog    *ssa.Program
	root    *ssa.Package
	rootPkg *types.Package
	// summarized reports whether a package's code is described by the effect tables instead of
	// being walked (the standard library and the libraries in libraries.go).
	summarized func(pkgPath string) bool

	// callees maps each dynamic call site (interface method or function value) to the
	// functions the VTA call graph says it may run.
	callees map[ssa.CallInstruction][]*ssa.Function

	// callStarts maps a call's opening parenthesis to the start of the call expression, so
	// findings point at `os.ReadFile(…)`, not at its `(`.
	callStarts map[token.Pos]token.Pos

	// fields holds the string fields every store gives one constant (hosts.go).
	fields map[*types.Var]constText
	// keyFields holds the struct fields a map range's key is stored into (sortties.go).
	keyFields map[*types.Var]bool
	// pools says, per sync.Pool, whether its objects may carry content between calls (pool.go).
	pools map[any]*poolUse
	// avail says which function values and interface types each job can call (reach.go).
	avail *availability
	// registries holds the package-level maps read as tables of constant keys (registry.go).
	registries map[*ssa.Global]registryEntries
	// funcs are the functions with bodies the analyzer walks; globalUses and callers index
	// their uses of package-level variables and their static call sites (indexCode, when
	// first needed).
	funcs      map[*ssa.Function]bool
	globalUses map[*ssa.Global][]ssa.Instruction
	callers    map[*ssa.Function][]ssa.CallInstruction
	// constParams holds the string parameters and free variables the whole program gives one
	// constant (hosts.go).
	constParams map[ssa.Value]constText
	// inits holds the globals given one value at initialization and never written again.
	inits map[*ssa.Global]ssa.Value

	nodes map[nodeKey]*node
	order map[*ssa.Function]*orderSummary
	// returns memoizes returnedGlobal by function and the globals its parameters point into.
	returns map[string]*ssa.Global

	// mutable holds the package-level variables that code reachable from the jobs writes, with
	// the position of one such write; a variable written only during initialization is not here.
	mutable map[*ssa.Global]token.Pos
}

// buildProgram turns the loaded packages into SSA and builds a VTA call graph over the code
// that is walked (summarized packages have no bodies, see load).
func buildProgram(pkgs []*packages.Package, root *packages.Package, summarized func(string) bool) *program {
	// ssautil.AllPackages skips packages with type errors; summarized packages always have some
	// (unused imports once bodies are dropped), so the packages are created here.
	prog := ssa.NewProgram(root.Fset, ssa.InstantiateGenerics)
	var rootSSA *ssa.Package
	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		if pkg.Types == nil || pkg.TypesInfo == nil {
			return
		}
		created := prog.CreatePackage(pkg.Types, pkg.Syntax, pkg.TypesInfo, true)
		if pkg == root {
			rootSSA = created
		}
	})
	prog.Build()
	p := &program{
		fset:       root.Fset,
		prog:       prog,
		rootPkg:    root.Types,
		summarized: summarized,
		callees:    map[ssa.CallInstruction][]*ssa.Function{},
		callStarts: map[token.Pos]token.Pos{},
		nodes:      map[nodeKey]*node{},
		order:      map[*ssa.Function]*orderSummary{},
		returns:    map[string]*ssa.Global{},
		registries: map[*ssa.Global]registryEntries{},
	}
	p.root = rootSSA

	// Summarized packages have no bodies left to resolve calls in; VTA runs over the rest.
	funcs := map[*ssa.Function]bool{}
	for fn := range ssautil.AllFunctions(prog) {
		if !p.isSummarized(fn) {
			funcs[fn] = true
		}
	}
	p.funcs = funcs
	p.fields = constantFields(funcs)
	p.inits = initValues(funcs)
	p.keyFields = mapKeyFields(funcs)
	p.pools = poolUses(funcs)
	p.avail = indexAvailability(funcs)
	cg := vta.CallGraph(funcs, cha.CallGraph(prog))
	for fn, n := range cg.Nodes {
		if fn == nil || !funcs[fn] {
			continue
		}
		for _, e := range n.Out {
			if e.Site != nil && e.Site.Common().StaticCallee() == nil {
				p.callees[e.Site] = append(p.callees[e.Site], e.Callee.Func)
			}
		}
	}

	packages.Visit(pkgs, nil, func(pkg *packages.Package) {
		if summarized(pkg.PkgPath) {
			return
		}
		for _, f := range pkg.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					p.callStarts[c.Lparen] = c.Pos()
				}
				return true
			})
		}
	})
	return p
}

// position renders pos as file:line:col.
func (p *program) position(pos token.Pos) string {
	if !pos.IsValid() {
		return ""
	}
	return p.fset.Position(pos).String()
}

// callPos returns where the call expression of a call instruction starts.
func (p *program) callPos(pos token.Pos) token.Pos {
	if start, ok := p.callStarts[pos]; ok {
		return start
	}
	return pos
}

// funcPackage returns the package a function's code belongs to (closures and instances
// belong to the package of the function they come from); nil for synthetic wrappers.
func funcPackage(fn *ssa.Function) *types.Package {
	for fn.Parent() != nil {
		fn = fn.Parent()
	}
	if o := fn.Origin(); o != nil {
		fn = o
	}
	if obj := fn.Object(); obj != nil {
		return obj.Pkg()
	}
	if fn.Pkg != nil {
		return fn.Pkg.Pkg
	}
	return nil
}

// isSummarized reports whether fn's effects come from the tables rather than its body.
func (p *program) isSummarized(fn *ssa.Function) bool {
	pkg := funcPackage(fn)
	return pkg != nil && p.summarized(pkg.Path())
}

// isWrapper reports whether fn is a synthetic wrapper (bound method, thunk, promotion) that
// only forwards to the function that matters; wrappers do not appear in call chains.
func isWrapper(fn *ssa.Function) bool {
	return fn.Synthetic != "" && fn.Synthetic != "package initializer" && fn.Origin() == nil
}

// displayName names a function for people, the way stack traces do: F, (*T).M, pkg.F, and
// F.func1 for the first closure in F; package initialization has its own name.
func (p *program) displayName(fn *ssa.Function) string {
	if fn.Synthetic == "package initializer" {
		return initChainName
	}
	if parent := fn.Parent(); parent != nil {
		// SSA names closures F$1, F$1$2…; Go's stack traces say F.func1, F.func1.2.
		name := fn.Name()
		i := strings.IndexByte(name, '$')
		if i < 0 {
			return p.displayName(parent) + "." + name
		}
		suffix := name[i:]
		parts := strings.Split(strings.TrimPrefix(suffix, "$"), "$")
		out := p.displayName(topParent(fn))
		for i, part := range parts {
			if i == 0 {
				out += ".func" + part
			} else {
				out += "." + part
			}
		}
		return out
	}
	if o := fn.Origin(); o != nil {
		fn = o
	}
	if obj, ok := fn.Object().(*types.Func); ok {
		if obj.Name() == "init" && obj.Type().(*types.Signature).Recv() == nil {
			return "init"
		}
		return shortFuncName(obj, p.rootPkg)
	}
	return fn.Name()
}

func topParent(fn *ssa.Function) *ssa.Function {
	for fn.Parent() != nil {
		fn = fn.Parent()
	}
	return fn
}

// inInit reports whether fn is package initialization or a closure written inside it.
func inInit(fn *ssa.Function) bool {
	top := topParent(fn)
	if top.Synthetic == "package initializer" {
		return true
	}
	obj, ok := top.Object().(*types.Func)
	return ok && obj.Name() == "init" && obj.Type().(*types.Signature).Recv() == nil
}

// jobFunction returns the SSA function of a job declared in the root package.
func (p *program) jobFunction(obj *types.Func) *ssa.Function {
	return p.prog.FuncValue(obj)
}

// initFunction returns the root package's initializer (it runs every imported package's
// initializer first).
func (p *program) initFunction() *ssa.Function {
	if p.root == nil {
		return nil
	}
	return p.root.Func("init")
}

// initChainName stands for package initialization in call chains.
const initChainName = "(package initialization)"

// initFindings walks what runs when the package loads (init functions, variable
// initializers, and those of every imported package that is not summarized) and keeps what
// would break on a serverless platform: a config file read at init does not exist there.
// Init effects run once per process, not per call, so they do not touch pure or
// deterministic; they are reported as KindInitEffect. Handlers and callbacks that
// initialization only stores are not followed.
func (p *program) initFindings() []job.Finding {
	init := p.initFunction()
	if init == nil {
		return nil
	}
	var out []job.Finding
	for _, f := range p.walk(init, false, false).findings {
		switch f.Kind {
		case KindGlobalRead, KindGlobalWrite:
			continue // initializing globals is what init is for
		}
		if !kindEffects[f.Kind].ineligible {
			continue
		}
		out = append(out, job.Finding{
			Kind:     KindInitEffect,
			Message:  fmt.Sprintf("when the package loads, it %s (%s); that happens wherever the job runs", f.Message, f.Kind),
			Position: f.Position,
			Chain:    f.Chain,
		})
	}
	return out
}
