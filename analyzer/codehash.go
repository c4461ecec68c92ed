package analyzer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"go/ast"
	"go/printer"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
)

// codeHashFormat names how code hashes are computed. Bump it when the parts or the way they
// are rendered change: every job's hash changes with it, so every job is redeployed once.
const codeHashFormat = "blueprint-code-v1"

// A job's code is everything that can change what it does once built, as named parts:
//
//	func <name>    the SSA of a function of the user's own modules the job can reach
//	type <name>    the definition of a type of the user's modules the reached code uses
//	var <name>     the declaration of a package variable the reached code reads or writes
//	embed <pkg>    the files a package embeds, when the job uses an embedded variable
//	module <path>  the version of a third-party module the job reaches
//	go             the Go toolchain version (the standard library)
//
// The user's own modules are the main module and modules replaced by a directory; other
// modules are immutable at a version, so their version stands for their code. SSA is used
// rather than source text because it has no comments or positions: moving a function,
// editing a comment or another function of the same file changes nothing.
//
// Reachability is broader than the effect walk's: every function the code refers to (called
// or not), what dynamic calls may run (the VTA call graph), the methods of every type
// converted to an interface (encoding/json and fmt call MarshalJSON or String through
// reflection) and of the job's input and output types (the built artifact decodes and
// encodes them), and the variables and initializers the code uses.
type codeHasher struct {
	p       *program
	modules map[string]*packages.Module // by package path; nil for the standard library
	std     func(pkgPath string) bool
	globals map[*types.Var]globalDecl
	embeds  map[string][]string // package path → absolute paths of its embedded files
	goVer   string

	funcDigests map[*ssa.Function]string
	typeDigests map[*types.TypeName]string
	initUsers   map[*ssa.Package]map[*ssa.Global][]*ssa.Function // initsUsing's, by package
}

// globalDecl is the declaration of one package variable of the user's code.
type globalDecl struct {
	spec   *ast.ValueSpec
	decl   *ast.GenDecl
	info   *types.Info
	embeds bool // declared under a //go:embed directive
}

func newCodeHasher(p *program, all []*packages.Package, std func(string) bool, goVersion string) *codeHasher {
	c := &codeHasher{
		p: p, std: std, goVer: goVersion,
		modules:     map[string]*packages.Module{},
		globals:     map[*types.Var]globalDecl{},
		embeds:      map[string][]string{},
		funcDigests: map[*ssa.Function]string{},
		typeDigests: map[*types.TypeName]string{},
		initUsers:   map[*ssa.Package]map[*ssa.Global][]*ssa.Function{},
	}
	packages.Visit(all, nil, func(pkg *packages.Package) {
		c.modules[pkg.PkgPath] = pkg.Module
		if std(pkg.PkgPath) || !c.own(pkg.PkgPath) {
			return
		}
		c.embeds[pkg.PkgPath] = pkg.EmbedFiles
		for _, f := range pkg.Syntax {
			for _, d := range f.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					embeds := hasEmbedDirective(gd.Doc) || hasEmbedDirective(vs.Doc)
					for _, name := range vs.Names {
						if v, ok := pkg.TypesInfo.Defs[name].(*types.Var); ok {
							c.globals[v] = globalDecl{spec: vs, decl: gd, info: pkg.TypesInfo, embeds: embeds}
						}
					}
				}
			}
		}
	})
	return c
}

func hasEmbedDirective(doc *ast.CommentGroup) bool {
	if doc == nil {
		return false
	}
	for _, c := range doc.List {
		if strings.HasPrefix(c.Text, "//go:embed") {
			return true
		}
	}
	return false
}

// own reports whether a package is the user's code: in the main module or in a module
// replaced by a local directory (neither is pinned by a version).
func (c *codeHasher) own(pkgPath string) bool {
	if c.std(pkgPath) {
		return false
	}
	m := c.modules[pkgPath]
	return m == nil || m.Main || (m.Replace != nil && m.Replace.Version == "")
}

// moduleVersion renders a third-party module's identity: path@version, and its replacement.
func moduleVersion(m *packages.Module) string {
	v := m.Version
	if m.Replace != nil {
		v += " => " + m.Replace.Path + "@" + m.Replace.Version
	}
	return v
}

// jobCode returns the parts of a job's code and their digest, "sha256:<hex>".
func (c *codeHasher) jobCode(root *ssa.Function) (string, map[string]string) {
	r := &codeReach{c: c, parts: map[string]string{"go": c.goVer}, funcs: map[*ssa.Function]bool{},
		types: map[types.Type]bool{}, methodsOf: map[types.Type]bool{}, globals: map[*ssa.Global]bool{}}
	r.addFunc(root)
	sig := root.Signature
	for i := 0; i < sig.Params().Len(); i++ {
		r.addMethods(sig.Params().At(i).Type())
	}
	for i := 0; i < sig.Results().Len(); i++ {
		r.addMethods(sig.Results().At(i).Type())
	}
	for len(r.queue) > 0 {
		fn := r.queue[0]
		r.queue = r.queue[1:]
		r.visit(fn)
	}
	h := sha256.New()
	h.Write([]byte(codeHashFormat + "\n"))
	for _, k := range slices.Sorted(maps.Keys(r.parts)) {
		h.Write([]byte(k + "=" + r.parts[k] + "\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), r.parts
}

// codeReach is one job's walk over the code it can reach.
type codeReach struct {
	c         *codeHasher
	parts     map[string]string
	funcs     map[*ssa.Function]bool
	queue     []*ssa.Function
	types     map[types.Type]bool
	methodsOf map[types.Type]bool
	globals   map[*ssa.Global]bool
}

func (r *codeReach) addFunc(fn *ssa.Function) {
	if fn == nil || r.funcs[fn] {
		return
	}
	r.funcs[fn] = true
	r.queue = append(r.queue, fn)
}

// visit records fn's part and queues what it refers to.
func (r *codeReach) visit(fn *ssa.Function) {
	pkg := funcPackage(fn)
	if pkg != nil && !r.c.own(pkg.Path()) {
		r.addModuleOf(pkg.Path())
		if r.c.p.summarized(pkg.Path()) {
			return // no bodies: the version stands for everything it does
		}
	}
	if pkg != nil && r.c.own(pkg.Path()) {
		r.parts["func "+fn.String()] = r.c.funcDigest(fn)
	}
	for _, v := range fn.Params {
		r.addType(v.Type())
	}
	for _, v := range fn.FreeVars {
		r.addType(v.Type())
	}
	var ops []*ssa.Value
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			if v, ok := instr.(ssa.Value); ok {
				r.addType(v.Type())
			}
			if call, ok := instr.(ssa.CallInstruction); ok && call.Common().StaticCallee() == nil {
				for _, callee := range r.c.p.callees[call] {
					r.addFunc(callee)
				}
			}
			if mi, ok := instr.(*ssa.MakeInterface); ok {
				r.addMethods(mi.X.Type())
			}
			ops = instr.Operands(ops[:0])
			for _, op := range ops {
				if op == nil || *op == nil {
					continue
				}
				switch v := (*op).(type) {
				case *ssa.Function:
					r.addFunc(v)
				case *ssa.Global:
					r.addGlobal(v)
				}
			}
		}
	}
	for _, anon := range fn.AnonFuncs {
		r.addFunc(anon)
	}
}

func (r *codeReach) addModuleOf(pkgPath string) {
	if r.c.std(pkgPath) {
		return // the Go version covers it
	}
	if m := r.c.modules[pkgPath]; m != nil {
		r.parts["module "+m.Path] = moduleVersion(m)
	}
}

// addType records the named types of the user's code that t is built from.
func (r *codeReach) addType(t types.Type) {
	if t == nil || r.types[t] {
		return
	}
	r.types[t] = true
	switch t := t.(type) {
	case *types.Named:
		obj := t.Origin().Obj()
		if obj.Pkg() != nil {
			if r.c.own(obj.Pkg().Path()) {
				r.parts["type "+obj.Pkg().Path()+"."+obj.Name()] = r.c.typeDigest(t.Origin())
			} else {
				r.addModuleOf(obj.Pkg().Path())
			}
		}
		for i := 0; i < t.TypeArgs().Len(); i++ {
			r.addType(t.TypeArgs().At(i))
		}
		r.addType(t.Underlying())
	case *types.Alias:
		r.addType(types.Unalias(t))
	case *types.Pointer:
		r.addType(t.Elem())
	case *types.Slice:
		r.addType(t.Elem())
	case *types.Array:
		r.addType(t.Elem())
	case *types.Map:
		r.addType(t.Key())
		r.addType(t.Elem())
	case *types.Chan:
		r.addType(t.Elem())
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			r.addType(t.Field(i).Type())
		}
	case *types.Signature:
		for i := 0; i < t.Params().Len(); i++ {
			r.addType(t.Params().At(i).Type())
		}
		for i := 0; i < t.Results().Len(); i++ {
			r.addType(t.Results().At(i).Type())
		}
	case *types.Tuple:
		for i := 0; i < t.Len(); i++ {
			r.addType(t.At(i).Type())
		}
	}
}

// addMethods queues the methods of t and of every named type inside it: code that only sees
// the value as an interface (encoding/json, fmt, sort) may call any of them.
func (r *codeReach) addMethods(t types.Type) {
	if t == nil || r.methodsOf[t] {
		return
	}
	r.methodsOf[t] = true
	r.addType(t)
	prog := r.c.p.prog
	if _, isInterface := t.Underlying().(*types.Interface); !isInterface {
		for _, recv := range []types.Type{t, types.NewPointer(t)} {
			if named, ok := recv.(*types.Named); ok && named.TypeParams().Len() > 0 && named.TypeArgs().Len() == 0 {
				continue // a generic type's methods exist only for its instances
			}
			mset := prog.MethodSets.MethodSet(recv)
			for i := 0; i < mset.Len(); i++ {
				r.addFunc(prog.MethodValue(mset.At(i)))
			}
		}
	}
	switch u := types.Unalias(t).(type) {
	case *types.Named:
		r.addMethods(u.Underlying())
	case *types.Pointer:
		r.addMethods(u.Elem())
	case *types.Slice:
		r.addMethods(u.Elem())
	case *types.Array:
		r.addMethods(u.Elem())
	case *types.Map:
		r.addMethods(u.Key())
		r.addMethods(u.Elem())
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			r.addMethods(u.Field(i).Type())
		}
	}
}

// addGlobal records a package variable the code uses: its declaration (the initializer
// decides its value) with what that refers to, the user's init functions that touch it, and
// the package's embedded files when the variable is embedded.
func (r *codeReach) addGlobal(g *ssa.Global) {
	if r.globals[g] {
		return
	}
	r.globals[g] = true
	r.addType(g.Type())
	v, ok := g.Object().(*types.Var)
	if !ok || g.Pkg == nil {
		return
	}
	path := g.Pkg.Pkg.Path()
	if !r.c.own(path) {
		r.addModuleOf(path)
		return
	}
	d, ok := r.c.globals[v]
	if !ok {
		return
	}
	r.parts["var "+path+"."+v.Name()] = digestString(r.c.declText(d))
	if d.embeds {
		r.parts["embed "+path] = r.c.embedDigest(path)
	}
	ast.Inspect(d.spec, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		switch obj := d.info.Uses[id].(type) {
		case *types.Func:
			r.addFunc(r.c.p.prog.FuncValue(obj))
		case *types.Var:
			if gv := r.c.p.prog.Package(obj.Pkg()); gv != nil && obj.Parent() == obj.Pkg().Scope() {
				if member, ok := gv.Members[obj.Name()].(*ssa.Global); ok {
					r.addGlobal(member)
				}
			}
		case *types.TypeName:
			r.addType(obj.Type())
		}
		return true
	})
	// init functions (ssa names them init#1, init#2…) that refer to the variable may change
	// it before any job runs.
	for _, fn := range r.c.initsUsing(g) {
		r.addFunc(fn)
	}
}

// initsUsing returns the init functions of g's package that use g. Each package's init
// functions are scanned once per analysis, not once per job and variable.
func (c *codeHasher) initsUsing(g *ssa.Global) []*ssa.Function {
	users, ok := c.initUsers[g.Pkg]
	if !ok {
		users = map[*ssa.Global][]*ssa.Function{}
		for _, member := range g.Pkg.Members {
			fn, ok := member.(*ssa.Function)
			if !ok || !strings.HasPrefix(fn.Name(), "init#") {
				continue
			}
			for used := range globalsUsed(fn, map[*ssa.Global]bool{}) {
				users[used] = append(users[used], fn)
			}
		}
		c.initUsers[g.Pkg] = users
	}
	return users[g]
}

// globalsUsed adds the package variables fn or a closure inside it uses to seen.
func globalsUsed(fn *ssa.Function, seen map[*ssa.Global]bool) map[*ssa.Global]bool {
	var ops []*ssa.Value
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			ops = instr.Operands(ops[:0])
			for _, op := range ops {
				if op == nil {
					continue
				}
				if g, ok := (*op).(*ssa.Global); ok {
					seen[g] = true
				}
			}
		}
	}
	for _, anon := range fn.AnonFuncs {
		globalsUsed(anon, seen)
	}
	return seen
}

// funcDigest hashes a function's SSA without its position line.
func (c *codeHasher) funcDigest(fn *ssa.Function) string {
	if d, ok := c.funcDigests[fn]; ok {
		return d
	}
	var buf bytes.Buffer
	fn.WriteTo(&buf)
	var kept strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if !strings.HasPrefix(line, "# Location:") {
			kept.WriteString(line)
		}
	}
	d := digestString(kept.String())
	c.funcDigests[fn] = d
	return d
}

// typeDigest hashes a type's definition: type parameters and underlying type, with field
// names and tags (which decide how it is encoded).
func (c *codeHasher) typeDigest(t *types.Named) string {
	obj := t.Obj()
	if d, ok := c.typeDigests[obj]; ok {
		return d
	}
	qualifier := func(p *types.Package) string { return p.Path() }
	var b strings.Builder
	for i := 0; i < t.TypeParams().Len(); i++ {
		tp := t.TypeParams().At(i)
		b.WriteString(tp.Obj().Name() + " " + types.TypeString(tp.Constraint(), qualifier) + ";")
	}
	b.WriteString(types.TypeString(t.Underlying(), qualifier))
	d := digestString(b.String())
	c.typeDigests[obj] = d
	return d
}

// declText renders a variable's declaration without comments, its directives aside.
func (c *codeHasher) declText(d globalDecl) string {
	var buf bytes.Buffer
	if d.embeds {
		for _, doc := range []*ast.CommentGroup{d.decl.Doc, d.spec.Doc} {
			if doc == nil {
				continue
			}
			for _, cm := range doc.List {
				if strings.HasPrefix(cm.Text, "//go:embed") {
					buf.WriteString(cm.Text + "\n")
				}
			}
		}
	}
	spec := *d.spec
	spec.Doc, spec.Comment = nil, nil
	printer.Fprint(&buf, token.NewFileSet(), &spec)
	return buf.String()
}

// embedDigest hashes the files a package embeds, by name and content.
func (c *codeHasher) embedDigest(pkgPath string) string {
	files := slices.Clone(c.embeds[pkgPath])
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			data = []byte("unreadable: " + err.Error()) // changes the hash once it can be read again
		}
		h.Write([]byte(filepath.Base(f) + "\n"))
		sum := sha256.Sum256(data)
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func digestString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:16]
}
