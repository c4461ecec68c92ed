package analyzer

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"net"
	"net/url"
	"strings"

	"golang.org/x/tools/go/types/typeutil"

	"github.com/serverless-blueprint/blueprint/job"
)

// scanResult is everything the effects scan learned about one job.
type scanResult struct {
	findings []job.Finding
	hosts    []string
}

// funcNode is one function reached from a job, with the chain of calls that reached it.
type funcNode struct {
	decl  *ast.FuncDecl
	chain []string
	// initRoot marks package initialization: only what it calls runs at load time, so function
	// values and literals it merely stores (handlers, callbacks) are not followed from it.
	initRoot bool
}

// scanEffects walks the job's body and, transitively, every function and method of the same
// package it calls or takes as a value; closures are walked where they are written.
func (ix *packageIndex) scanEffects(j *jobDecl) scanResult {
	return ix.scan([]funcNode{{decl: j.decl, chain: []string{j.decl.Name.Name}}})
}

func (ix *packageIndex) scan(roots []funcNode) scanResult {
	s := &scanner{ix: ix, seenFinding: map[string]bool{}, seenHost: map[string]bool{}, visited: map[*ast.FuncDecl]bool{}}
	for _, r := range roots {
		s.visited[r.decl] = true
	}
	queue := roots
	for len(queue) > 0 {
		node := queue[0]
		queue = queue[1:]
		w := &funcWalker{
			scanner:    s,
			node:       node,
			writeOnly:  map[*ast.Ident]bool{},
			localFuncs: ix.localFuncValues(node.decl),
			sortAfter:  ix.sortCallPositions(node.decl),
			closureSeq: map[string]int{},
			called:     map[ast.Node]bool{},
		}
		if node.decl.Body != nil {
			w.walk(node.decl.Body, node.chain)
		}
		queue = append(queue, w.next...)
	}
	return scanResult{findings: s.findings, hosts: s.hosts}
}

// initChainName stands for package initialization in call chains.
const initChainName = "(package initialization)"

// initFindings scans what runs when the package loads (init functions and package-level
// variable initializers) and keeps what would break on a serverless platform: a config file
// read at init does not exist there. Init effects run once per process, not per call, so they
// do not touch pure or deterministic; they are reported as KindInitEffect.
func (ix *packageIndex) initFindings() []job.Finding {
	if ix.initCache != nil {
		return *ix.initCache
	}
	var roots []funcNode
	initBody := &ast.BlockStmt{}
	for _, f := range ix.pkg.Syntax {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "init" && d.Body != nil {
					roots = append(roots, funcNode{decl: d, chain: []string{initChainName, "init"}, initRoot: true})
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if vs, ok := spec.(*ast.ValueSpec); ok {
						for _, v := range vs.Values {
							initBody.List = append(initBody.List, &ast.ExprStmt{X: v})
						}
					}
				}
			}
		}
	}
	// Variable initializers are walked as the body of one synthetic function.
	synthetic := &ast.FuncDecl{Name: ast.NewIdent("init"), Type: &ast.FuncType{Params: &ast.FieldList{}}, Body: initBody}
	roots = append(roots, funcNode{decl: synthetic, chain: []string{initChainName}, initRoot: true})
	var out []job.Finding
	for _, f := range ix.scan(roots).findings {
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
	ix.initCache = &out
	return out
}

type scanner struct {
	ix          *packageIndex
	findings    []job.Finding
	hosts       []string
	seenFinding map[string]bool
	seenHost    map[string]bool
	visited     map[*ast.FuncDecl]bool
}

func (s *scanner) addHost(h string) {
	if !s.seenHost[h] {
		s.seenHost[h] = true
		s.hosts = append(s.hosts, h)
	}
}

// funcWalker walks one function body (with its closures).
type funcWalker struct {
	*scanner
	node       funcNode
	next       []funcNode
	writeOnly  map[*ast.Ident]bool // identifiers that are only written here (g = x), not read
	localFuncs map[*types.Var]bool // local variables that only ever hold same-package functions or literals
	sortAfter  []token.Pos         // positions of sort calls in this function
	closureSeq map[string]int
	called     map[ast.Node]bool // callee expressions seen so far (used for init roots)
}

func (w *funcWalker) add(kind string, pos token.Pos, chain []string, format string, args ...any) {
	position := w.ix.position(pos)
	message := fmt.Sprintf(format, args...)
	// The same effect reached the same way is one finding (at its first position), so a loop
	// of ten src.At calls does not drown the reasons that matter.
	key := kind + "\x00" + message + "\x00" + strings.Join(chain, "\x00")
	if w.seenFinding[key] {
		return
	}
	w.seenFinding[key] = true
	w.findings = append(w.findings, job.Finding{
		Kind:     kind,
		Message:  message,
		Position: position,
		Chain:    append([]string(nil), chain...),
	})
}

// walk visits n; chain ends with the name of the function (or closure) being walked.
func (w *funcWalker) walk(root ast.Node, chain []string) {
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			if w.node.initRoot && !w.called[n] {
				return false // stored for later, not run at load time
			}
			w.walk(n.Body, append(chain[:len(chain):len(chain)], w.closureName(chain[len(chain)-1])))
			return false
		case *ast.CallExpr:
			w.noteCallee(n.Fun)
			w.call(n, chain)
		case *ast.AssignStmt:
			w.assign(n, chain)
		case *ast.IncDecStmt:
			w.writeTo(n.X, chain, "changes")
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				if v := w.globalRoot(n.X); v != nil {
					w.markWriteOnly(n.X)
					w.add(KindGlobalWrite, n.Pos(), chain, "takes the address of package-level variable %s, so it may be changed through the pointer", v.Name())
				}
			}
		case *ast.RangeStmt:
			if n.Tok == token.ASSIGN {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if e != nil {
						w.markWriteOnly(e)
						w.writeTo(e, chain, "assigns to")
					}
				}
			}
			w.rangeStmt(n, chain)
		case *ast.SelectStmt:
			w.add(KindSelect, n.Pos(), chain, "select statement: which ready case runs is chosen at random, so the result may differ between runs")
		case *ast.Ident:
			w.ident(n, chain)
		}
		return true
	})
}

// noteCallee remembers the expression a call runs: a literal, a function name or a method.
func (w *funcWalker) noteCallee(fun ast.Expr) {
	switch f := ast.Unparen(fun).(type) {
	case *ast.IndexExpr: // generic instantiation F[T](…)
		w.noteCallee(f.X)
	case *ast.IndexListExpr:
		w.noteCallee(f.X)
	case *ast.SelectorExpr:
		w.called[f.Sel] = true
	default:
		w.called[f] = true
	}
}

// closureName follows the Go runtime's naming: F.func1, F.func2, and F.func1.1 inside it.
func (w *funcWalker) closureName(parent string) string {
	w.closureSeq[parent]++
	if strings.Contains(parent, ".func") {
		return fmt.Sprintf("%s.%d", parent, w.closureSeq[parent])
	}
	return fmt.Sprintf("%s.func%d", parent, w.closureSeq[parent])
}

// ident handles uses of package-level variables and of same-package functions as values.
func (w *funcWalker) ident(id *ast.Ident, chain []string) {
	obj := w.ix.info.Uses[id]
	switch obj := obj.(type) {
	case *types.Func:
		fn := obj.Origin()
		if fn.Pkg() != w.ix.pkg.Types {
			return
		}
		decl, ok := w.ix.decls[fn]
		if !ok || w.visited[decl] || (w.node.initRoot && !w.called[id]) {
			return
		}
		w.visited[decl] = true
		w.next = append(w.next, funcNode{decl: decl, chain: append(chain[:len(chain):len(chain)], funcDisplayName(fn))})
	case *types.Var:
		if !isPackageLevel(obj) || w.writeOnly[id] {
			return
		}
		if obj.Pkg() == w.ix.pkg.Types {
			if first, mutable := w.ix.mutableGlobals[obj]; mutable {
				w.add(KindGlobalRead, id.Pos(), chain, "reads package-level variable %s, which is changed outside init (at %s): implicit state that stays on one machine", obj.Name(), w.ix.position(first))
			}
			return
		}
		if kind, ok := stdGlobalReads[obj.Pkg().Path()+"."+obj.Name()]; ok {
			w.add(kind, id.Pos(), chain, "reads %s.%s", obj.Pkg().Name(), obj.Name())
		}
	case *types.TypeName, *types.Builtin:
		if obj.Pkg() != nil && obj.Pkg().Path() == "unsafe" {
			switch obj.Name() {
			case "Pointer", "Add", "Slice", "String", "StringData", "SliceData":
				w.add(KindUnsafe, id.Pos(), chain, "uses unsafe.%s; the analyzer cannot follow what the pointer reaches", obj.Name())
			}
		}
	}
}

func isPackageLevel(v *types.Var) bool {
	return v.Pkg() != nil && !v.IsField() && v.Parent() == v.Pkg().Scope()
}

// globalRoot returns the package-level variable that expression e writes into, if any:
// g, g.f, g[i], g.f[i].h, *g … (through pointers too, since that memory is reachable from g).
func (w *funcWalker) globalRoot(e ast.Expr) *types.Var {
	id := rootIdent(w.ix.info, e)
	if id == nil {
		return nil
	}
	if v, ok := w.ix.info.Uses[id].(*types.Var); ok && isPackageLevel(v) {
		return v
	}
	return nil
}

// rootIdent strips selectors, index and dereference down to the variable an lvalue is rooted at.
func rootIdent(info *types.Info, e ast.Expr) *ast.Ident {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.SelectorExpr:
			if _, qualified := info.Uses[x.Sel].(*types.Var); qualified && info.Selections[x] == nil {
				return x.Sel // pkg.Var
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.Ident:
			return x
		default:
			return nil
		}
	}
}

func (w *funcWalker) markWriteOnly(e ast.Expr) {
	if id := rootIdent(w.ix.info, e); id != nil {
		w.writeOnly[id] = true
	}
}

func (w *funcWalker) assign(a *ast.AssignStmt, chain []string) {
	plainAssign := a.Tok == token.ASSIGN || a.Tok == token.DEFINE
	for _, lhs := range a.Lhs {
		if plainAssign {
			w.markWriteOnly(lhs) // an op-assign (g += 1) also reads g, so leave it to ident
		}
		w.writeTo(lhs, chain, "assigns to")
	}
}

func (w *funcWalker) writeTo(lhs ast.Expr, chain []string, verb string) {
	if v := w.globalRoot(lhs); v != nil {
		w.add(KindGlobalWrite, lhs.Pos(), chain, "%s package-level variable %s: state shared by every run on the machine", verb, v.Name())
	}
}

// call classifies one call: same-package calls are followed (through ident), known
// standard-library effects are recorded, and code the analyzer cannot see is "unknown".
func (w *funcWalker) call(call *ast.CallExpr, chain []string) {
	info := w.ix.info
	if tv, ok := info.Types[call.Fun]; ok && tv.IsType() {
		return // a conversion
	}
	fun := ast.Unparen(call.Fun)
	switch callee := typeutil.Callee(info, call).(type) {
	case *types.Builtin:
		switch callee.Name() {
		case "delete", "clear", "copy":
			if len(call.Args) > 0 {
				w.markWriteOnly(call.Args[0])
				w.writeTo(call.Args[0], chain, callee.Name()+" changes")
			}
		}
	case *types.Func:
		w.funcCall(call, fun, callee, chain)
	default:
		w.valueCall(call, fun, chain)
	}
}

func (w *funcWalker) funcCall(call *ast.CallExpr, fun ast.Expr, fn *types.Func, chain []string) {
	sig := fn.Type().(*types.Signature)
	full := fn.FullName()
	short := shortFuncName(fn, w.ix.pkg.Types)
	if recv := sig.Recv(); recv != nil && types.IsInterface(recv.Type()) {
		w.interfaceCall(call, full, short, chain)
		return
	}
	// A pointer method called on a package-level variable may change it (mu.Lock, n.Add(1)).
	if sel, ok := fun.(*ast.SelectorExpr); ok && sig.Recv() != nil {
		if _, ptrRecv := types.Unalias(sig.Recv().Type()).(*types.Pointer); ptrRecv {
			if v := w.globalRoot(sel.X); v != nil {
				xIsPtr := false
				if t := w.ix.info.TypeOf(sel.X); t != nil {
					_, xIsPtr = t.Underlying().(*types.Pointer)
				}
				if !xIsPtr || fn.Pkg() == w.ix.pkg.Types {
					w.markWriteOnly(sel.X)
					w.add(KindGlobalWrite, call.Pos(), chain, "calls %s on package-level variable %s, which may change it", short, v.Name())
				}
			}
		}
	}
	if isSortCall(full) {
		return
	}
	pkg := fn.Pkg()
	if pkg == nil {
		return
	}
	switch {
	case pkg == w.ix.pkg.Types:
		if _, ok := w.ix.decls[fn.Origin()]; !ok {
			w.add(KindUnknown, call.Pos(), append(chain, funcDisplayName(fn)), "calls %s, which has no Go body (assembly or linkname); the analyzer cannot see what it does", funcDisplayName(fn))
		}
		// Calls with a body are followed through ident.
	case w.ix.isStd(pkg.Path()):
		w.stdCall(call, fn, full, short, chain)
	case pkg.Path() == "golang.org/x/sys/unix" || pkg.Path() == "golang.org/x/sys/windows":
		w.add(KindSyscall, call.Pos(), append(chain, short), "calls %s: a raw system call", short)
	default:
		w.add(KindUnknown, call.Pos(), append(chain, short), "calls %s from package %s; this analyzer does not look into other packages yet, so it cannot vouch for it", short, pkg.Path())
	}
}

func (w *funcWalker) interfaceCall(call *ast.CallExpr, full, short string, chain []string) {
	switch full {
	case "(" + jobPkgPath + ".State).Get":
		w.add(KindStateRead, call.Pos(), append(chain, "job.State.Get"), "reads job.State: the result depends on stored state, not only on the input")
		return
	case "(" + jobPkgPath + ".State).Put":
		w.add(KindStateWrite, call.Pos(), append(chain, "job.State.Put"), "writes job.State: an effect beyond the return value (external, so the job can still run anywhere)")
		return
	}
	if isBenignInterfaceCall(full) {
		return
	}
	w.add(KindUnknown, call.Pos(), append(chain, short), "calls %s through an interface; the analyzer cannot see which implementation runs", short)
}

// valueCall handles calls through function values: literals and local variables that only
// hold same-package functions are known; parameters, fields and results are not.
func (w *funcWalker) valueCall(call *ast.CallExpr, fun ast.Expr, chain []string) {
	switch f := fun.(type) {
	case *ast.FuncLit:
		return // walked in place
	case *ast.Ident:
		if v, ok := w.ix.info.Uses[f].(*types.Var); ok && w.localFuncs[v] {
			return
		}
	}
	w.add(KindUnknown, call.Pos(), chain, "calls the function value %s; the analyzer cannot see which function runs", exprString(fun))
}

func exprString(e ast.Expr) string {
	return types.ExprString(e)
}

func (w *funcWalker) stdCall(call *ast.CallExpr, fn *types.Func, full, short string, chain []string) {
	sig := fn.Type().(*types.Signature)
	eff, ok := stdEffects[full]
	if !ok {
		kind, whole := stdPackageEffect(fn.Pkg().Path(), fn.Name(), sig.Recv() != nil)
		if !whole {
			return
		}
		eff = stdEffect{kind: kind}
	}
	chain = append(chain[:len(chain):len(chain)], short)
	arg := func(i int) ast.Expr {
		if i < len(call.Args) {
			return call.Args[i]
		}
		return nil
	}
	switch eff.rule {
	case plain:
		name := short
		if eff.kind == KindRandom {
			name = full // crypto/rand.Read and math/rand.Read differ in more than their name
		}
		w.add(eff.kind, call.Pos(), chain, "%s", describe(eff.kind, name))
	case stdStreams:
		if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && w.isStdStream(sel.X) {
			return // logging to stdout/stderr is benign
		}
		w.add(eff.kind, call.Pos(), chain, "%s", describe(eff.kind, short))
	case openFileArg:
		kind := KindFileWrite
		if tv, ok := w.ix.info.Types[arg(eff.arg)]; ok && tv.Value != nil {
			if flag, exact := constant.Int64Val(tv.Value); exact && flag&0x3 == 0 { // O_RDONLY, no O_WRONLY/O_RDWR
				kind = KindFileRead
			}
		}
		w.add(kind, call.Pos(), chain, "%s", describe(kind, short))
	case urlArg:
		host := w.urlHost(arg(eff.arg))
		w.addHost(host)
		w.add(KindNetwork, call.Pos(), chain, "calls %s to host %s", short, host)
	case requestArg:
		host := w.requestHost(arg(eff.arg))
		w.addHost(host)
		w.add(KindNetwork, call.Pos(), chain, "sends an HTTP request (%s) to host %s", short, host)
	case hostArg:
		host := "*"
		if s, complete := w.staticPrefix(arg(eff.arg), 0); complete && s != "" {
			host = hostOfAddress(s)
		}
		w.addHost(host)
		w.add(KindNetwork, call.Pos(), chain, "calls %s for host %s", short, host)
	case addrArg:
		network, known := w.staticPrefix(arg(eff.arg-1), 0)
		if known && strings.HasPrefix(network, "unix") {
			w.add(KindUnixSocket, call.Pos(), chain, "%s over a unix socket, which only exists on this machine", short)
			return
		}
		host := "*"
		if s, complete := w.staticPrefix(arg(eff.arg), 0); complete {
			host = hostOfAddress(s)
		} else if i := strings.LastIndex(s, ":"); i > 0 {
			host = hostOfAddress(s[:i] + ":0")
		}
		if eff.kind == KindNetworkListen {
			w.add(KindNetworkListen, call.Pos(), chain, "%s accepts inbound connections, which a serverless function cannot", short)
			return
		}
		w.addHost(host)
		w.add(KindNetwork, call.Pos(), chain, "calls %s to host %s", short, host)
	}
}

func describe(kind, full string) string {
	switch kind {
	case KindFileWrite:
		return "calls " + full + ", which changes local files that only exist on this machine"
	case KindFileRead:
		return "calls " + full + ", which reads local files that only exist on this machine"
	case KindExec:
		return "calls " + full + ", which runs another process"
	case KindEnvRead:
		return "calls " + full + ": the result depends on the machine and its environment"
	case KindEnvWrite:
		return "calls " + full + ", which changes the process environment"
	case KindProcess:
		return "calls " + full + ", which changes the whole process"
	case KindClock:
		return "calls " + full + ": the result depends on the clock"
	case KindRandom:
		return "calls " + full + ": unseeded or crypto randomness (seed a local rand.New(rand.NewSource(n)) to be deterministic)"
	case KindSyscall:
		return "calls " + full + ": a raw system call"
	case KindUnixSocket:
		return "calls " + full + " on a unix socket, which only exists on this machine"
	case KindNetworkListen:
		return "calls " + full + ", which accepts inbound connections that a serverless function cannot"
	case KindNetwork:
		return "calls " + full + " over the network"
	case KindUnknown:
		return "calls " + full + ", which runs code the analyzer cannot see"
	}
	return "calls " + full
}

// isStdStream reports whether e is os.Stdout or os.Stderr.
func (w *funcWalker) isStdStream(e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	v, ok := w.ix.info.Uses[sel.Sel].(*types.Var)
	return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr")
}

// staticPrefix returns the constant text of e, following + and local variables assigned once;
// complete is false when only a prefix is constant ("https://api.example.com/v1/" + id).
func (w *funcWalker) staticPrefix(e ast.Expr, depth int) (string, bool) {
	if e == nil || depth > 8 {
		return "", false
	}
	e = ast.Unparen(e)
	if tv, ok := w.ix.info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
		return constant.StringVal(tv.Value), true
	}
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		left, complete := w.staticPrefix(x.X, depth+1)
		if !complete {
			return left, false
		}
		right, complete := w.staticPrefix(x.Y, depth+1)
		return left + right, complete
	case *ast.Ident:
		if rhs := w.singleAssignment(x); rhs != nil {
			return w.staticPrefix(rhs, depth+1)
		}
	case *ast.CallExpr:
		// fmt.Sprintf("https://api.example.com/users/%d", id): the text before the first verb.
		if fn, ok := typeutil.Callee(w.ix.info, x).(*types.Func); ok && fn.FullName() == "fmt.Sprintf" && len(x.Args) > 0 {
			format, complete := w.staticPrefix(x.Args[0], depth+1)
			if !complete {
				return format, false
			}
			if i := strings.IndexByte(format, '%'); i >= 0 {
				return format[:i], false
			}
			return format, len(x.Args) == 1
		}
	}
	return "", false
}

// singleAssignment returns the expression a local variable is given when it is assigned
// exactly once (at its definition) in the function being walked.
func (w *funcWalker) singleAssignment(id *ast.Ident) ast.Expr {
	v, ok := w.ix.info.Uses[id].(*types.Var)
	if !ok || isPackageLevel(v) {
		return nil
	}
	var rhs ast.Expr
	count := 0
	ast.Inspect(w.node.decl, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				lid, ok := ast.Unparen(lhs).(*ast.Ident)
				if !ok || (w.ix.info.Defs[lid] != v && w.ix.info.Uses[lid] != v) {
					continue
				}
				count++
				if len(n.Lhs) == len(n.Rhs) {
					rhs = n.Rhs[i]
				} else if i == 0 && len(n.Rhs) == 1 {
					rhs = n.Rhs[0] // v, err := f(...): v is the call's first result
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if w.ix.info.Defs[name] == v {
					count++
					if i < len(n.Values) {
						rhs = n.Values[i]
					}
				}
			}
		case *ast.UnaryExpr:
			if n.Op == token.AND {
				if lid, ok := ast.Unparen(n.X).(*ast.Ident); ok && w.ix.info.Uses[lid] == v {
					count += 2 // its address escapes: it may change
				}
			}
		}
		return true
	})
	if count != 1 {
		return nil
	}
	return rhs
}

// urlHost returns the host of a URL argument, or "*" when it is not a constant.
func (w *funcWalker) urlHost(e ast.Expr) string {
	s, complete := w.staticPrefix(e, 0)
	if complete {
		if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
		return "*"
	}
	// A constant prefix names the host when the authority is already closed: "https://h/…" + x.
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "*"
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		return "*"
	}
	if u, err := url.Parse(s[:len(s)-len(rest)+end]); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "*"
}

// requestHost follows req back to http.NewRequest(…, url, …) in the same function.
func (w *funcWalker) requestHost(e ast.Expr) string {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return "*"
	}
	call, ok := ast.Unparen(w.singleAssignmentOrNil(id)).(*ast.CallExpr)
	if !ok {
		return "*"
	}
	fn, ok := typeutil.Callee(w.ix.info, call).(*types.Func)
	if !ok {
		return "*"
	}
	switch fn.FullName() {
	case "net/http.NewRequest":
		if len(call.Args) > 1 {
			return w.urlHost(call.Args[1])
		}
	case "net/http.NewRequestWithContext":
		if len(call.Args) > 2 {
			return w.urlHost(call.Args[2])
		}
	}
	return "*"
}

func (w *funcWalker) singleAssignmentOrNil(id *ast.Ident) ast.Expr {
	if rhs := w.singleAssignment(id); rhs != nil {
		return rhs
	}
	return &ast.BadExpr{}
}

// hostOfAddress returns the host of "host:port" (or the text itself when it has no port).
func hostOfAddress(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if host == "" {
			return "*"
		}
		return host
	}
	if addr == "" {
		return "*"
	}
	return addr
}
