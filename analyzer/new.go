package analyzer

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"

	"github.com/serverless-blueprint/blueprint/job"
)

// Option configures an Analyzer; the zero configuration works.
type Option func(*config)

type config struct {
	logger     hclog.Logger
	env        []string
	buildFlags []string
	cacheDir   string // "" disables the result cache
	cacheSet   bool   // WithCacheDir or WithoutCache was given
	profile    bool   // run the package's benchmarks for duration and memory
	profileSet bool   // WithProfiling was given
	progress   func(step string)
}

// WithProgress has the analyzer report its long steps (loading the program, building and
// running each profile) as short sentences, for a CLI or a plan to show.
func WithProgress(report func(step string)) Option {
	return func(c *config) { c.progress = report }
}

// step reports one long step, when someone listens.
func (c *config) step(format string, args ...any) {
	if c.progress != nil {
		c.progress(fmt.Sprintf(format, args...))
	}
}

// WithLogger sends the analyzer's debug logs (load times, jobs found) to logger.
func WithLogger(logger hclog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithEnv sets the environment of the go command that loads packages (GOFLAGS, GOCACHE,
// GOOS…). nil, the default, means this process's environment.
func WithEnv(env []string) Option {
	return func(c *config) { c.env = append([]string(nil), env...) }
}

// WithBuildFlags passes flags such as -tags to the go command that loads packages.
func WithBuildFlags(flags ...string) Option {
	return func(c *config) { c.buildFlags = append([]string(nil), flags...) }
}

// New returns the whole-program analyzer: it loads the package and everything it imports with
// go/packages, builds SSA and a call graph, and walks what each job can reach (see the
// package doc for what it covers).
func New(opts ...Option) Analyzer {
	c := config{logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&c)
	}
	if c.logger == nil {
		c.logger = hclog.NewNullLogger()
	}
	if !c.profileSet {
		c.profile = os.Getenv(NoProfileEnv) != "1"
	}
	if !c.cacheSet {
		c.cacheDir = defaultCacheDir()
	}
	return &ssaAnalyzer{cfg: c, goroots: map[string]string{}}
}

var _ Analyzer = (*ssaAnalyzer)(nil)

// ssaAnalyzer loads the whole program from source, builds SSA and a VTA call graph, and walks
// everything each job can reach (see doc.go).
type ssaAnalyzer struct {
	cfg config

	mu      sync.Mutex
	goroots map[string]string // package dir → GOROOT of the toolchain the go command picks there
}

// loadMode loads every package from source: the job package, the user's other packages and
// third-party code are walked; the standard library and summarized libraries are loaded
// without function bodies (parseFile), which keeps a cold analysis free of compiling export
// data and a warm one well under a second.
const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports |
	packages.NeedDeps | packages.NeedModule | packages.NeedEmbedFiles

func (a *ssaAnalyzer) Analyze(ctx context.Context, dir string) (*job.PackageAnalysis, error) {
	start := time.Now()
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{Problems: []Problem{{Position: dir, Message: fmt.Sprintf("cannot resolve the directory: %v", err)}}}
	}
	info, err := os.Stat(absDir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, &Error{Problems: []Problem{{Position: absDir, Message: "directory does not exist; pass the directory of the Go package that holds the jobs"}}}
	case err != nil:
		return nil, &Error{Problems: []Problem{{Position: absDir, Message: fmt.Sprintf("cannot read the directory: %v", err)}}}
	case !info.IsDir():
		return nil, &Error{Problems: []Problem{{Position: absDir, Message: "not a directory; pass the directory of the Go package, not a file"}}}
	}

	// The cache key needs only `go list`, not type checking: an unchanged package (the common
	// case under terraform plan) is answered without loading it.
	var cacheKey string
	if a.cfg.cacheDir != "" {
		key, err := a.cacheKey(ctx, absDir)
		if err != nil {
			// The load below reports the same problem with positions; only speed is lost.
			a.cfg.logger.Debug("analysis cache not used", "dir", absDir, "error", err)
		} else if cached := a.readCache(a.cfg.cacheDir, key); cached != nil {
			a.cfg.step("unchanged since the last analysis: answered from the cache")
			a.cfg.logger.Debug("analysis cache hit", "dir", absDir, "key", key,
				"total_ms", time.Since(start).Milliseconds())
			return cached, nil
		} else {
			cacheKey = key
		}
	}

	isStd, goroot, err := a.stdlibChecker(ctx, absDir)
	if err != nil {
		return nil, err
	}
	summarized := func(path string) bool { return isStd(path) || isSummarizedModule(path) }
	a.cfg.step("loading %s and what it imports", absDir)
	all, pkg, err := a.load(ctx, absDir, goroot, summarized)
	if err != nil {
		return nil, err
	}
	loaded := time.Now()
	ix := newPackageIndex(pkg, isStd)
	jobs, probs := ix.discoverJobs()
	for _, j := range jobs {
		ix.checkSignature(j, &probs)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}

	a.cfg.step("building SSA and the call graph of %s", pkg.PkgPath)
	prog := buildProgram(all, pkg, summarized)
	built := time.Now()
	jobFuncs := make([]*ssa.Function, len(jobs))
	for i, j := range jobs {
		jobFuncs[i] = prog.jobFunction(j.fn)
	}
	prog.constParams = prog.constantParams(jobFuncs)
	prog.computeMutable(jobFuncs)
	prog.avail.initMade = prog.madeFrom(prog.initFunction())
	goVersion, err := a.goCommand(ctx, absDir, "env", "GOVERSION")
	if err != nil {
		return nil, fmt.Errorf("reading the Go version: %w", err)
	}
	hasher := newCodeHasher(prog, all, isStd, strings.TrimSpace(string(goVersion)))
	initFindings := prog.initFindings()
	result := &job.PackageAnalysis{Package: pkg.PkgPath, Dir: absDir, Jobs: make([]job.Analysis, 0, len(jobs))}
	for i, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("analyzing %s: %w", pkg.PkgPath, err)
		}
		analysis := ix.analyzeJob(j, prog.walk(jobFuncs[i], true, true), initFindings)
		analysis.CodeHash, analysis.Code = hasher.jobCode(jobFuncs[i])
		result.Jobs = append(result.Jobs, analysis)
	}
	a.cfg.logger.Debug("walked jobs", "package", pkg.PkgPath, "ssa_ms", built.Sub(loaded).Milliseconds(),
		"walk_ms", time.Since(built).Milliseconds(), "functions", len(prog.nodes))
	if a.cfg.profile {
		profiled := time.Now()
		memoryFromDirective := map[string]bool{}
		for _, j := range jobs {
			memoryFromDirective[j.name] = j.directive.MemoryMB > 0
		}
		a.profileJobs(ctx, absDir, pkg.PkgPath, result.Jobs, memoryFromDirective)
		a.cfg.logger.Debug("profiled jobs", "package", pkg.PkgPath, "profile_ms", time.Since(profiled).Milliseconds())
	}
	a.cfg.logger.Debug("analyzed package", "package", pkg.PkgPath, "jobs", len(result.Jobs),
		"load_ms", loaded.Sub(start).Milliseconds(), "total_ms", time.Since(start).Milliseconds())
	if cacheKey != "" {
		a.writeCache(a.cfg.cacheDir, cacheKey, result)
	}
	return result, nil
}

// load returns every package of the program and the one package in dir, or an *Error with
// the go command's and the compiler's complaints at their positions.
func (a *ssaAnalyzer) load(ctx context.Context, dir, goroot string, summarized func(string) bool) ([]*packages.Package, *packages.Package, error) {
	goSrc := filepath.Join(goroot, "src") + string(filepath.Separator)
	cfg := &packages.Config{
		Mode:       loadMode,
		Context:    ctx,
		Dir:        dir,
		Env:        a.cfg.env,
		BuildFlags: a.cfg.buildFlags,
		Logf: func(format string, args ...any) {
			a.cfg.logger.Trace(fmt.Sprintf(format, args...))
		},
		ParseFile: func(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
			if strings.HasPrefix(filename, goSrc) || summarizedInModuleCache(filename) {
				f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
				if f != nil {
					dropBodies(f)
				}
				return f, err
			}
			return parser.ParseFile(fset, filename, src, parser.AllErrors|parser.ParseComments|parser.SkipObjectResolution)
		},
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("loading package in %s: %w", dir, ctx.Err())
		}
		return nil, nil, &Error{Problems: []Problem{{Position: dir, Message: "loading the package: " + strings.TrimSpace(err.Error())}}}
	}
	if len(pkgs) == 0 {
		// go/packages hides the go command's complaint (no go.mod, go.mod needs tidying…);
		// ask the go command directly so the user sees what to fix.
		return nil, nil, &Error{Problems: []Problem{{Position: dir, Message: a.goListComplaint(ctx, dir)}}}
	}
	if len(pkgs) != 1 {
		return nil, nil, &Error{Problems: []Problem{{Position: dir, Message: fmt.Sprintf("expected one Go package in the directory, found %d", len(pkgs))}}}
	}
	pkg := pkgs[0]
	// Problems of the job package and of the user's other packages it imports; summarized
	// packages are type-checked without bodies, so their complaints (unused imports) are noise.
	var probs problems
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if len(p.Errors) == 0 || (p != pkg && summarized(p.PkgPath)) {
			return
		}
		hasTypeErrors := false
		for _, e := range p.Errors {
			hasTypeErrors = hasTypeErrors || e.Kind == packages.TypeError
		}
		for _, e := range p.Errors {
			if hasTypeErrors && e.Kind == packages.ListError && strings.HasPrefix(e.Msg, "# ") {
				continue // the compiler's output again, without positions the type errors carry
			}
			pos := e.Pos
			if pos == "" || pos == "-" {
				pos = dir
			}
			probs.add(pos, "%s", loadErrorMessage(e))
		}
	})
	if err := probs.err(); err != nil {
		return nil, nil, err
	}
	if err := rejectCgo(pkgs, summarized); err != nil {
		return nil, nil, err
	}
	if len(pkg.Syntax) == 0 || pkg.Types == nil {
		return nil, nil, &Error{Problems: []Problem{{Position: dir, Message: "no Go files in the directory; pass the directory of the package that holds the jobs"}}}
	}
	if pkg.Name == "main" {
		return nil, nil, &Error{Problems: []Problem{{Position: dir, Message: "package main cannot hold jobs: the builder imports the job package, so move the jobs into a library package"}}}
	}
	return pkgs, pkg, nil
}

// rejectCgo reports every import "C" in the job package and the code it brings in (other
// than summarized packages, whose cgo has pure-Go fallbacks): jobs are built with
// CGO_ENABLED=0 for wasm and Lambda, so C code cannot go with them.
func rejectCgo(pkgs []*packages.Package, summarized func(string) bool) error {
	var probs problems
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		if summarized(p.PkgPath) {
			return
		}
		fset := token.NewFileSet()
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
			if err != nil {
				continue
			}
			for _, imp := range f.Imports {
				if imp.Path.Value == `"C"` {
					probs.add(fset.Position(imp.Pos()).String(), "package %s uses cgo (import \"C\"): jobs are built with CGO_ENABLED=0 for wasm and Lambda, so move the C code out of what the jobs import (or behind a build tag)", p.PkgPath)
				}
			}
		}
	})
	return probs.err()
}

// dropBodies removes the bodies of a summarized package's functions and the contents of its
// package-level composite literals (unicode's tables alone are most of the standard library's
// initialization): their effects come from the tables, and type-checking and building
// signatures only is several times faster. Generic functions keep their bodies (the type
// checker requires them), init keeps an empty one, and arrays sized by their contents
// ([...]T{…}) keep theirs.
func dropBodies(f *ast.File) {
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, spec := range gd.Specs {
				for _, v := range spec.(*ast.ValueSpec).Values {
					emptyCompositeLiteral(v)
				}
			}
			continue
		}
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || fd.Type.TypeParams != nil || hasGenericReceiver(fd) {
			continue
		}
		if fd.Recv == nil && fd.Name.Name == "init" {
			fd.Body = &ast.BlockStmt{Lbrace: fd.Body.Lbrace, Rbrace: fd.Body.Lbrace}
			continue
		}
		fd.Body = nil
	}
}

// emptyCompositeLiteral drops the elements of T{…} or &T{…} when T names the type.
func emptyCompositeLiteral(e ast.Expr) {
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = u.X
	}
	lit, ok := e.(*ast.CompositeLit)
	if !ok || lit.Type == nil {
		return
	}
	if arr, ok := lit.Type.(*ast.ArrayType); ok {
		if _, sized := arr.Len.(*ast.Ellipsis); sized {
			return
		}
	}
	lit.Elts = nil
}

func hasGenericReceiver(fd *ast.FuncDecl) bool {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return false
	}
	t := fd.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch t.(type) {
	case *ast.IndexExpr, *ast.IndexListExpr:
		return true
	}
	return false
}

// goListComplaint returns what `go list` says about dir when go/packages found nothing.
func (a *ssaAnalyzer) goListComplaint(ctx context.Context, dir string) string {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.ImportPath}}", ".")
	cmd.Dir = dir
	cmd.Env = a.cfg.env
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err == nil || msg == "" {
		return "no Go package found in the directory; pass the directory of the package that holds the jobs"
	}
	return "the go command cannot load this directory: " + msg
}

func loadErrorMessage(e packages.Error) string {
	msg := strings.TrimSpace(e.Msg)
	if e.Kind == packages.TypeError {
		return "does not compile: " + msg
	}
	return msg
}

// stdlibChecker reports whether an import path belongs to the standard library of the
// toolchain the go command uses in dir (a user's module may pin another toolchain).
func (a *ssaAnalyzer) stdlibChecker(ctx context.Context, dir string) (func(string) bool, string, error) {
	a.mu.Lock()
	goroot, ok := a.goroots[dir]
	a.mu.Unlock()
	if !ok {
		cmd := exec.CommandContext(ctx, "go", "env", "GOROOT")
		cmd.Dir = dir
		cmd.Env = a.cfg.env
		out, err := cmd.Output()
		if err != nil {
			return nil, "", fmt.Errorf("finding GOROOT with `go env GOROOT` in %s: %w", dir, err)
		}
		goroot = strings.TrimSpace(string(out))
		a.mu.Lock()
		a.goroots[dir] = goroot
		a.mu.Unlock()
	}
	var cache sync.Map
	return func(path string) bool {
		if v, ok := cache.Load(path); ok {
			return v.(bool)
		}
		first, _, _ := strings.Cut(path, "/")
		std := false
		if !strings.Contains(first, ".") {
			st, err := os.Stat(filepath.Join(goroot, "src", filepath.FromSlash(path)))
			std = err == nil && st.IsDir()
		}
		cache.Store(path, std)
		return std
	}, goroot, nil
}
