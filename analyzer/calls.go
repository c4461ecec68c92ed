package analyzer

import (
	"go/constant"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// call handles one call, go or defer: a builtin, a method of job.State, a summarized
// function (standard library and common libraries, by table), or a function with a body,
// which becomes an edge of the walk. Dynamic calls go wherever the VTA call graph says; when it
// knows no callee, the call is "unknown", which is never pure.
func (a *funcAnalysis) call(instr ssa.CallInstruction) {
	cc := instr.Common()
	pos := a.p.callPos(cc.Pos())
	var result ssa.Value // the call's value, when the caller uses it (not for go and defer)
	if call, ok := instr.(*ssa.Call); ok {
		result = call
	}
	if b, ok := cc.Value.(*ssa.Builtin); ok {
		a.builtin(b, cc.Args, pos)
		return
	}
	if cc.IsInvoke() {
		method := cc.Method
		// job.State's Get and Put are the one way a job keeps state; no implementation is in
		// the program, so they are recognised by name.
		if method.Pkg() != nil && method.Pkg().Path() == jobPkgPath && recvNamed(method) == "State" {
			a.stateCall(method.Name(), pos)
			return
		}
		if benignInterfaceMethods[method.FullName()] {
			return // Close releases what was opened; opening was the finding
		}
		callees := a.p.callees[instr]
		if len(callees) == 0 {
			// Benign by the method's interface, or by the value's: hash.Hash64's Write is
			// io.Writer's method.
			if isBenignInterfaceCall(method.FullName()) || benignInterfaces[types.TypeString(cc.Value.Type(), nil)] {
				return
			}
			name := "(" + types.TypeString(cc.Value.Type(), types.RelativeTo(a.p.rootPkg)) + ")." + method.Name()
			a.add(KindUnknown, pos, name, "calls %s through an interface, and no concrete type that the analyzer can see reaches it", name)
			return
		}
		for _, fn := range a.narrowByFactory(cc.Value, a.p.narrowByRegistry(cc.Value, callees)) {
			a.callFunction(fn, cc, pos, result, gateInterface)
		}
		return
	}
	if fn := cc.StaticCallee(); fn != nil {
		a.callFunction(fn, cc, pos, result, gateNone)
		return
	}
	callees := a.p.callees[instr]
	if len(callees) == 0 {
		if isNamed(cc.Value.Type(), "context", "CancelFunc") || isNamed(cc.Value.Type(), "context", "CancelCauseFunc") {
			return // cancelling a context only releases what it holds
		}
		if origin := a.text.dialOrigin(cc.Value); origin != nil && a.onceCall(origin, cc, pos, result) {
			return
		}
		if userFuncType(cc.Value.Type(), a.p.summarized) {
			// No function of this user-defined type reaches the call anywhere in the program
			// (the standard library cannot make one): it can only be nil, never run code.
			return
		}
		if a.p.fromSummarized(cc.Value) {
			// An iterator or function the standard library made (maps.Keys, strings.SplitSeq):
			// its effects are the summarized call's; what it calls back is the loop body.
			for _, v := range cc.Args {
				a.callbacks(v, pos)
			}
			return
		}
		name := valueName(cc.Value)
		a.add(KindUnknown, pos, name, "calls %s, and the analyzer cannot see which function it holds", name)
		return
	}
	for _, fn := range a.p.narrowByRegistry(cc.Value, callees) {
		a.callFunction(fn, cc, pos, result, gateValue)
	}
}

func recvNamed(method *types.Func) string {
	recv := method.Type().(*types.Signature).Recv()
	if recv == nil {
		return ""
	}
	if n, ok := types.Unalias(recv.Type()).(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

func (a *funcAnalysis) stateCall(method string, pos token.Pos) {
	switch method {
	case "Get":
		a.add(KindStateRead, pos, "", "reads the external state store (job.State.Get): the result depends on what earlier calls stored")
	case "Put":
		a.add(KindStateWrite, pos, "", "writes the external state store (job.State.Put)")
	}
}

// callFunction handles a call that runs fn; g says what makes fn available to a job when the
// call is dynamic (reach.go).
func (a *funcAnalysis) callFunction(fn *ssa.Function, cc *ssa.CallCommon, pos token.Pos, result ssa.Value, g gate) {
	if a.p.isSummarized(fn) {
		if fn.Synthetic == "package initializer" {
			return // the tables describe calls made at run time, not the package's own setup
		}
		a.summarizedCall(fn, cc, pos, result)
		return
	}
	if fn.Blocks == nil {
		name := a.p.displayName(fn)
		a.add(KindUnknown, pos, name, "calls %s, which has no Go body (assembly or go:linkname)", name)
		return
	}
	in, consts, fields := a.callContext(fn, cc)
	a.edgeWith(fn, in, consts, fields, false, !used(result), g)
}

// callContext computes what a call tells its callee: the globals each argument points into,
// the constant strings it passes, and the constant string fields of the structs it passes
// pointers to (and, for a closure, what it captured).
func (a *funcAnalysis) callContext(fn *ssa.Function, cc *ssa.CallCommon) ([]*ssa.Global, map[int][]constText, map[[2]int]constText) {
	args := callArgs(cc)
	in := make([]*ssa.Global, len(fn.Params)+len(fn.FreeVars))
	consts := map[int][]constText{}
	var fields map[[2]int]constText
	for i, v := range args {
		if i >= len(fn.Params) {
			break
		}
		in[i] = a.root(v)
		if isString(v.Type()) {
			if texts := a.text.texts(v, 0); informative(texts) {
				consts[i] = a.markExact(v, texts)
			}
		}
		// A client struct built with a constant base URL: its methods name the host.
		if _, isPtr := v.Type().Underlying().(*types.Pointer); isPtr {
			for f, c := range a.text.structFields(v, 0) {
				if fields == nil {
					fields = map[[2]int]constText{}
				}
				fields[[2]int{i, f}] = c
			}
		}
	}
	if mc, ok := cc.Value.(*ssa.MakeClosure); ok && mc.Fn == fn {
		fields = a.captured(mc, fn, in, consts, fields)
	} else if maker, mc := a.closureFactory(cc.Value, fn); mc != nil {
		// statusCheck("https://…")(ctx): what the closure captured, read in the context of
		// the call that made it.
		fields = maker.captured(mc, fn, in, consts, fields)
	}
	return in, consts, fields
}

// closureFactory finds, for a call through the value a static call returns, the closure
// creation of fn that every live return of that call gives, and an analysis of the returning
// function in the call's context; mc is nil when there is no single such creation.
func (a *funcAnalysis) closureFactory(v ssa.Value, fn *ssa.Function) (maker *funcAnalysis, mc *ssa.MakeClosure) {
	n := a.factoryNode(v)
	if n == nil {
		return nil, nil
	}
	for _, b := range n.live {
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok {
			continue
		}
		result := ret.Results[0]
		if ct, isConversion := result.(*ssa.ChangeType); isConversion {
			result = ct.X // returned as a named func type
		}
		made, ok := result.(*ssa.MakeClosure)
		if !ok || made.Fn != fn || (mc != nil && made != mc) {
			return nil, nil
		}
		mc = made
	}
	if mc == nil {
		return nil, nil
	}
	return a.p.analysisOf(n), mc
}

// factoryNode returns, when v is the single result of a static call of walked code, the
// callee's node in that call's context, analyzed (its live blocks known even while a
// recursive factory is still being read); nil otherwise.
func (a *funcAnalysis) factoryNode(v ssa.Value) *node {
	call, ok := v.(*ssa.Call)
	if !ok {
		return nil
	}
	fn := call.Call.StaticCallee()
	if fn == nil || fn == a.n.fn || fn.Blocks == nil || a.p.isSummarized(fn) || fn.Signature.Results().Len() != 1 {
		return nil
	}
	in, consts, fields := a.callContext(fn, &call.Call)
	n := a.p.nodeWith(fn, in, consts, fields)
	a.p.ensure(n)
	return n
}

// narrowByFactory keeps the methods an interface value can run when it is what a function
// returns in this call's context (newCodec("gzip") whose switch returns gzipCodec{} for that
// constant): only the types its live returns convert to the interface. The callees stay as
// they were when a live return gives anything else.
func (a *funcAnalysis) narrowByFactory(v ssa.Value, callees []*ssa.Function) []*ssa.Function {
	n := a.factoryNode(v)
	if n == nil {
		return callees
	}
	made := map[*types.TypeName]bool{}
	for _, b := range n.live {
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok {
			continue
		}
		if c, isConst := ret.Results[0].(*ssa.Const); isConst && c.IsNil() {
			continue // a nil interface runs no method
		}
		mi, ok := ret.Results[0].(*ssa.MakeInterface)
		if !ok {
			return callees
		}
		tn := receiverTypeName(mi.X.Type())
		if tn == nil {
			return callees
		}
		made[tn] = true
	}
	return keepCallees(callees, nil, made)
}

// markExact keeps texts exact only when the argument is a constant itself or a parameter
// whose text is exact in this context.
func (a *funcAnalysis) markExact(v ssa.Value, texts []constText) []constText {
	exact := false
	if _, isConst := constString(v); isConst {
		exact = true
	} else if known, ok := a.text.params[v]; ok && len(known) == 1 && known[0].exact {
		exact = true
	}
	out := make([]constText, len(texts))
	for i, t := range texts {
		t.exact = exact && len(texts) == 1
		out[i] = t
	}
	return out
}

// captured fills a closure's context from what it captured: the globals its free variables
// point into, the constant strings stored in captured string variables, and the constant
// string fields of structs a captured pointer variable holds (a client built outside a
// goroutine and used inside it). It returns fields, allocated when needed.
func (a *funcAnalysis) captured(mc *ssa.MakeClosure, fn *ssa.Function, in []*ssa.Global, consts map[int][]constText, fields map[[2]int]constText) map[[2]int]constText {
	for j, b := range mc.Bindings {
		k := len(fn.Params) + j
		in[k] = a.root(b)
		ptr, ok := b.Type().Underlying().(*types.Pointer)
		if !ok {
			continue
		}
		if isString(ptr.Elem()) {
			if texts := a.text.storedTexts(b); informative(texts) {
				consts[k] = texts
			}
			continue
		}
		if _, holdsPtr := ptr.Elem().Underlying().(*types.Pointer); holdsPtr {
			if alloc, ok := b.(*ssa.Alloc); ok {
				for _, r := range *alloc.Referrers() {
					if st, ok := r.(*ssa.Store); ok && st.Addr == alloc {
						for f, c := range a.text.structFields(st.Val, 0) {
							if fields == nil {
								fields = map[[2]int]constText{}
							}
							fields[[2]int{k, f}] = c
						}
					}
				}
			}
		}
	}
	return fields
}

// callArgs returns the values passed to the callee's parameters: for an interface call the
// receiver comes first, as it does in the method's SSA parameters.
func callArgs(cc *ssa.CallCommon) []ssa.Value {
	if cc.IsInvoke() {
		return append([]ssa.Value{cc.Value}, cc.Args...)
	}
	return cc.Args
}

// summarizedCall applies the tables to a call into the standard library or a summarized
// library: effects (with hosts), writes through arguments that point into globals, and
// callbacks (function values and user types handed over, which the callee may call).
func (a *funcAnalysis) summarizedCall(fn *ssa.Function, cc *ssa.CallCommon, pos token.Pos, result ssa.Value) {
	full := fullName(fn)
	short := a.p.displayName(fn)
	all := callArgs(cc)
	var recv ssa.Value
	args := all
	if fn.Signature.Recv() != nil && len(all) > 0 {
		recv, args = all[0], all[1:]
	}

	if isPoolMethod(full) && recv != nil {
		a.poolCall(full, short, recv, args, pos, result)
		return
	}
	if full == "runtime.GOMAXPROCS" && len(args) == 1 {
		// GOMAXPROCS(0) only reads the setting; any other argument changes it for the process.
		if c, ok := args[0].(*ssa.Const); !ok || c.Value == nil || c.Value.String() != "0" {
			a.add(KindProcess, pos, short, "%s", describe(KindProcess, short))
		}
	}
	if eff, ok := lookupEffect(fn, full); ok && !(full == "time.LoadLocation" && a.p.embedsTZData()) {
		unobserved := (readOnlyLogged(eff.kind) && onlyLogged(result)) ||
			(full == "time.AfterFunc" && afterFuncUnobserved(args, result))
		if !unobserved {
			a.applyEffect(eff, full, short, recv, args, pos)
		}
	}
	// What a summarized call answers may come from the global memory it was handed
	// (cache.Load(k), hits.Add(1), json.Marshal(&config)): a read of that global, which counts
	// when the global is mutable and the answer is used.
	if used(result) {
		for _, arg := range all {
			for _, v := range variadicElements(arg) { // fmt.Sprint(tags): the elements of the variadic slice
				if g := a.root(v); g != nil {
					a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: pos, read: g})
				}
			}
		}
	}
	// fmt.Fprintf(&report, …) with a package-level bytes.Buffer: the callee writes it through
	// the io.Writer it was handed.
	for _, v := range args {
		if mi, ok := v.(*ssa.MakeInterface); ok && isMutatingStdPointer(mi.X.Type()) {
			if g := a.root(mi.X); g != nil {
				a.write(g, pos, "changes (through "+short+")")
			}
		}
	}
	// A *log.Logger built over a package-level buffer writes that buffer, not stdout.
	if recv != nil && strings.HasPrefix(full, "(*log.Logger).") {
		if g := a.root(recv); g != nil {
			if target := a.p.loggerTarget(g); target != nil {
				a.write(target, pos, "changes (through "+short+")")
			}
		}
	}
	if writesThrough, ok := mutatingCall(full, fn); ok {
		for _, i := range writesThrough {
			if i >= len(all) {
				continue
			}
			// fmt.Sscan(s, &a, &b): the destinations are elements of the variadic slice.
			for _, v := range variadicElements(all[i]) {
				if g := a.root(v); g != nil {
					a.write(g, pos, "changes (through "+short+")")
					a.n.stored = append(a.n.stored, all...) // m.Store(k, handler)
				}
			}
		}
	}
	for _, v := range all {
		a.callbacks(v, pos)
	}
}

// stdlibCalledMethods are the methods the standard library calls on values it finds inside
// what it is handed (fmt, encoding/json, encoding/xml, text/template and friends).
var stdlibCalledMethods = map[string]bool{
	"String": true, "GoString": true, "Error": true, "Format": true,
	"MarshalJSON": true, "MarshalText": true, "MarshalXML": true, "MarshalXMLAttr": true, "MarshalBinary": true,
	"UnmarshalJSON": true, "UnmarshalText": true, "UnmarshalXML": true, "UnmarshalBinary": true,
	"AppendText": true, "AppendBinary": true, "Value": true, "Scan": true,
}

// nestedMethodCallbacks adds edges to the stdlibCalledMethods of user types found inside a
// value of type t (its fields, elements, pointed-to values), however it is named itself.
func (a *funcAnalysis) nestedMethodCallbacks(t types.Type, recvRoot *ssa.Global, depth int, seen map[types.Type]bool) {
	if depth > maxFieldDepth || seen[t] {
		return
	}
	seen[t] = true
	if depth > 0 {
		a.methodCallbacks(types.NewPointer(derefType(t)), recvRoot, func(name string) bool { return stdlibCalledMethods[name] })
	}
	switch u := t.Underlying().(type) {
	case *types.Struct:
		for i := 0; i < u.NumFields(); i++ {
			a.nestedMethodCallbacks(u.Field(i).Type(), recvRoot, depth+1, seen)
		}
	case *types.Pointer:
		a.nestedMethodCallbacks(u.Elem(), recvRoot, depth, seen)
	case *types.Slice:
		a.nestedMethodCallbacks(u.Elem(), recvRoot, depth+1, seen)
	case *types.Array:
		a.nestedMethodCallbacks(u.Elem(), recvRoot, depth+1, seen)
	case *types.Map:
		a.nestedMethodCallbacks(u.Key(), recvRoot, depth+1, seen)
		a.nestedMethodCallbacks(u.Elem(), recvRoot, depth+1, seen)
	}
}

// maxFieldDepth bounds how deep fieldCallbacks follows structs stored in structs.
const maxFieldDepth = 4

// fieldCallbacks adds callbacks for what is stored in the fields of a struct allocated here
// (and in structs stored in those fields): function values in it may be called by the code it
// is handed to (http.Transport's DialContext, a Proxy func, a CheckRedirect).
func (a *funcAnalysis) fieldCallbacks(alloc *ssa.Alloc, depth int, pos token.Pos) {
	if depth > maxFieldDepth {
		return
	}
	for _, r := range *alloc.Referrers() {
		fa, ok := r.(*ssa.FieldAddr)
		if !ok || fa.X != alloc {
			continue
		}
		for _, fr := range *fa.Referrers() {
			st, ok := fr.(*ssa.Store)
			if !ok || st.Addr != fa {
				continue
			}
			switch val := st.Val.(type) {
			case *ssa.Alloc:
				a.fieldCallbacks(val, depth+1, pos)
			case *ssa.MakeInterface:
				if inner, ok := val.X.(*ssa.Alloc); ok {
					a.fieldCallbacks(inner, depth+1, pos)
				} else {
					a.callbacks(val, pos)
				}
			default:
				a.callbacks(val, pos)
			}
		}
	}
}

// callbacks adds edges to the code a summarized function may call back: function values and
// the methods of user types passed to it (sort.Slice's less, strings.Map's mapping, a
// fmt.Stringer handed to fmt).
func (a *funcAnalysis) callbacks(v ssa.Value, pos token.Pos) {
	switch v := v.(type) {
	case *ssa.Function:
		if v.Blocks != nil && !a.p.isSummarized(v) {
			a.edge(v, make([]*ssa.Global, len(v.Params)), true)
			return
		}
		// A standard function handed over as a value (template.FuncMap{"env": os.Getenv})
		// has its effects when the code it is handed to calls it.
		full := fullName(v)
		if eff, ok := lookupEffect(v, full); ok && a.p.isSummarized(v) {
			a.applyEffect(eff, full, a.p.displayName(v), nil, nil, pos)
		}
	case *ssa.MakeMap:
		// A map of functions handed over (a template.FuncMap): each value may be called.
		for _, r := range *v.Referrers() {
			if u, ok := r.(*ssa.MapUpdate); ok && u.Map == v {
				a.callbacks(u.Value, pos)
			}
		}
	case *ssa.ChangeType:
		a.callbacks(v.X, pos)
	case *ssa.MakeClosure:
		fn := v.Fn.(*ssa.Function)
		if fn.Blocks == nil || a.p.isSummarized(fn) {
			return
		}
		in := make([]*ssa.Global, len(fn.Params)+len(fn.FreeVars))
		consts := map[int][]constText{}
		fields := a.captured(v, fn, in, consts, nil)
		a.edgeWith(fn, in, consts, fields, true, false, gateNone)
	case *ssa.Slice:
		// A variadic call (fmt.Sprint(a, b)) passes a slice of an array whose elements were
		// stored one by one.
		alloc, ok := v.X.(*ssa.Alloc)
		if !ok {
			return
		}
		for _, r := range *alloc.Referrers() {
			if ia, ok := r.(*ssa.IndexAddr); ok {
				for _, ir := range *ia.Referrers() {
					if st, ok := ir.(*ssa.Store); ok && st.Addr == ia {
						a.callbacks(st.Val, pos)
					}
				}
			}
		}
	case *ssa.Alloc:
		// A struct built here and handed over (an *http.Client whose Transport dials through
		// a closure): the summarized code may call the function values stored in its fields,
		// however deep.
		a.fieldCallbacks(v, 0, pos)
	case *ssa.MakeInterface:
		switch x := v.X.(type) {
		case *ssa.Function, *ssa.MakeClosure:
			a.callbacks(x, pos) // a function stored as any (a FuncMap value)
			return
		case *ssa.Alloc:
			a.fieldCallbacks(x, 0, pos)
		}
		t := v.X.Type()
		recvRoot := a.root(v.X)
		// The standard library also calls the String, MarshalJSON… methods of values inside
		// the one it is handed (a struct's fields, a slice's elements).
		a.nestedMethodCallbacks(t, recvRoot, 0, map[types.Type]bool{})
		a.methodCallbacks(t, recvRoot, func(string) bool { return true })
	}
}

// methodCallbacks adds callback edges to the methods (those keep accepts) of a user type in
// t's method set, whose receiver points into recvRoot.
func (a *funcAnalysis) methodCallbacks(t types.Type, recvRoot *ssa.Global, keep func(name string) bool) {
	named, ok := types.Unalias(derefType(t)).(*types.Named)
	if !ok || named.Obj().Pkg() == nil || a.p.summarized(named.Obj().Pkg().Path()) {
		return
	}
	mset := a.p.prog.MethodSets.MethodSet(t)
	for i := 0; i < mset.Len(); i++ {
		if !keep(mset.At(i).Obj().Name()) {
			continue
		}
		fn := a.p.prog.MethodValue(mset.At(i))
		if fn == nil || fn.Blocks == nil || a.p.isSummarized(fn) {
			continue
		}
		in := make([]*ssa.Global, len(fn.Params)+len(fn.FreeVars))
		if len(in) > 0 {
			in[0] = recvRoot
		}
		a.edge(fn, in, true)
	}
}

// userFuncType reports whether t is a function type named in a package that is walked.
func userFuncType(t types.Type, summarized func(string) bool) bool {
	named, ok := types.Unalias(t).(*types.Named)
	if !ok || named.Obj().Pkg() == nil || summarized(named.Obj().Pkg().Path()) {
		return false
	}
	_, isFunc := named.Underlying().(*types.Signature)
	return isFunc
}

// informative reports whether texts say anything (some constant text).
func informative(texts []constText) bool {
	for _, c := range texts {
		if c.text != "" {
			return true
		}
	}
	return false
}

func isString(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func derefType(t types.Type) types.Type {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// builtin handles copy and clear into global memory; the other builtins have no effect.
func (a *funcAnalysis) builtin(b *ssa.Builtin, args []ssa.Value, pos token.Pos) {
	switch b.Name() {
	case "copy", "clear":
		if len(args) > 0 {
			if g := a.root(args[0]); g != nil {
				a.write(g, pos, "changes (with "+b.Name()+")")
				a.n.stored = append(a.n.stored, args[1:]...)
			}
		}
	case "append":
		// append writes into the slice's backing array when it has spare capacity: appending
		// to a package-level slice, even through a local copy of it, can change memory that
		// the variable and every other copy share.
		if len(args) > 1 {
			if g := a.root(args[0]); g != nil {
				a.write(g, pos, "appends into the backing array of")
				a.n.stored = append(a.n.stored, args[1:]...)
			}
		}
	}
}

// applyEffect records what a table entry says about one call, reading the arguments for hosts
// and modes where the rule says so.
func (a *funcAnalysis) applyEffect(eff stdEffect, full, short string, recv ssa.Value, args []ssa.Value, pos token.Pos) {
	arg := func(i int) ssa.Value {
		if i >= 0 && i < len(args) {
			return args[i]
		}
		return nil
	}
	network := func(host, format string, fmtArgs ...any) {
		a.n.effects = append(a.n.effects, effect{kind: KindNetwork, pos: pos, tail: short, host: host, message: sprintf(format, fmtArgs...)})
	}
	switch eff.rule {
	case plain:
		name := short
		if eff.kind == KindRandom {
			name = full // crypto/rand.Read and math/rand.Read differ in more than their name
		}
		if eff.kind == KindNetwork {
			network("", "%s", describe(eff.kind, name))
			return
		}
		a.add(eff.kind, pos, short, "%s", describe(eff.kind, name))
	case stdStreams:
		if recv != nil && isStdStream(recv) {
			return // logging to stdout/stderr is benign
		}
		a.add(eff.kind, pos, short, "%s", describe(eff.kind, short))
	case openFileArg:
		kind := KindFileWrite
		if c, ok := arg(eff.arg).(*ssa.Const); ok && c.Value != nil {
			if flag, exact := constant.Int64Val(constant.ToInt(c.Value)); exact && flag&0x3 == 0 { // O_RDONLY
				kind = KindFileRead
			}
		}
		a.add(kind, pos, short, "%s", describe(kind, short))
	case urlArg:
		for _, host := range a.text.urlHosts(arg(eff.arg)) {
			network(host, "calls %s to host %s", short, host)
		}
	case requestArg:
		for _, host := range a.text.requestHosts(arg(eff.arg)) {
			network(host, "sends an HTTP request (%s) to host %s", short, host)
		}
	case hostArg:
		host := "*"
		if s, complete := a.text.constPrefix(arg(eff.arg), 0); complete && s != "" {
			host = hostOfAddress(s)
		}
		network(host, "calls %s for host %s", short, host)
	case addrArg:
		netw, known := a.text.constPrefix(arg(eff.arg-1), 0)
		addr, addrKnown := a.text.constPrefix(arg(eff.arg), 0)
		// A computed network with a path-like address is taken as a unix socket too.
		pathLike := !known && addrKnown && (strings.HasPrefix(addr, "/") || strings.HasPrefix(addr, "@"))
		if (known && strings.HasPrefix(netw, "unix")) || pathLike {
			a.add(KindUnixSocket, pos, short, "%s over a unix socket, which only exists on this machine", short)
			return
		}
		if eff.kind == KindNetworkListen {
			a.add(KindNetworkListen, pos, short, "%s accepts inbound connections, which a serverless function cannot", short)
			return
		}
		host := a.text.addressHost(arg(eff.arg))
		network(host, "calls %s to host %s", short, host)
	case connOrigin:
		host := ""
		if origin := a.text.dialOrigin(recv); origin != nil {
			if fn := origin.Call.StaticCallee(); fn != nil {
				args := origin.Call.Args
				switch fullName(fn) {
				case "database/sql.Open":
					host = "*"
					if dsn, complete := a.text.constPrefix(args[1], 0); complete {
						host = dsnHost(dsn)
					}
				case "google.golang.org/grpc.NewClient", "google.golang.org/grpc.Dial":
					host = grpcHostOf(a.text, args[0])
				case "google.golang.org/grpc.DialContext":
					host = grpcHostOf(a.text, args[1])
				}
			}
		} else if strings.HasPrefix(full, "(*database/sql.") {
			host = "*" // a database whose DSN the analyzer cannot trace
		}
		// A gRPC call on a connection made elsewhere names no host here: its dial does.
		network(host, "%s", describe(eff.kind, short))
	case grpcTarget:
		target, complete := a.text.constPrefix(arg(eff.arg), 0)
		if complete && (strings.HasPrefix(target, "unix:") || strings.HasPrefix(target, "unix-abstract:")) {
			a.add(KindUnixSocket, pos, short, "%s dials %q, a unix socket that only exists on this machine", short, target)
			return
		}
		host := "*"
		if complete {
			host = grpcTargetHost(target)
		}
		network(host, "calls %s to dial the gRPC target %s", short, host)
	}
}

// onceCall handles calling a function made by sync.OnceFunc, OnceValue or OnceValues: the
// first call runs the function given to them (walked as a callback) and keeps its result in
// the variable holding the made function, which later calls read back: a write and a read of
// that variable, as with sync.Once (the state changes after package initialization).
func (a *funcAnalysis) onceCall(origin *ssa.Call, cc *ssa.CallCommon, pos token.Pos, result ssa.Value) bool {
	fn := origin.Call.StaticCallee()
	if fn == nil {
		return false
	}
	switch fullName(fn) {
	case "sync.OnceFunc", "sync.OnceValue", "sync.OnceValues":
	default:
		return false
	}
	for _, v := range origin.Call.Args {
		a.callbacks(v, pos)
	}
	if g := a.root(cc.Value); g != nil {
		a.write(g, pos, "initializes on first use (through "+a.p.displayName(fn)+")")
		if used(result) {
			a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: pos, read: g})
		}
	}
	return true
}

// embedsTZData reports whether the program imports time/tzdata, which puts the time-zone
// database in the binary: time.LoadLocation then reads nothing from the machine.
func (p *program) embedsTZData() bool {
	return p.prog.ImportedPackage("time/tzdata") != nil
}

// grpcHostOf returns the host of a gRPC target value, "*" when it is not constant.
func grpcHostOf(t valueText, target ssa.Value) string {
	text, complete := t.constPrefix(target, 0)
	if !complete {
		return "*"
	}
	return grpcTargetHost(text)
}

// isStdStream reports whether v is os.Stdout or os.Stderr (possibly wrapped in an interface).
func isStdStream(v ssa.Value) bool {
	for {
		switch x := v.(type) {
		case *ssa.MakeInterface:
			v = x.X
			continue
		case *ssa.ChangeInterface:
			v = x.X
			continue
		case *ssa.UnOp:
			if g, ok := x.X.(*ssa.Global); ok && x.Op == token.MUL && g.Pkg != nil && g.Pkg.Pkg.Path() == "os" {
				return g.Name() == "Stdout" || g.Name() == "Stderr"
			}
		}
		return false
	}
}

// valueName names a function value for messages (the parameter or variable that holds it).
func valueName(v ssa.Value) string {
	switch x := v.(type) {
	case *ssa.Parameter:
		return "the function value " + x.Name()
	case *ssa.FreeVar:
		return "the function value " + x.Name()
	case *ssa.UnOp:
		return valueName(x.X)
	case *ssa.Global:
		return "the function value " + x.Name()
	case *ssa.FieldAddr:
		if s, ok := types.Unalias(derefType(x.X.Type())).Underlying().(*types.Struct); ok {
			return "the function value in field " + s.Field(x.Field).Name()
		}
	case *ssa.Field:
		if s, ok := x.X.Type().Underlying().(*types.Struct); ok {
			return "the function value in field " + s.Field(x.Field).Name()
		}
	}
	return "a function value"
}

// fromSummarized reports whether a function value was returned by a summarized function.
func (p *program) fromSummarized(v ssa.Value) bool {
	for {
		switch x := v.(type) {
		case *ssa.Extract:
			v = x.Tuple
		case *ssa.ChangeType:
			v = x.X
		case *ssa.Call:
			fn := x.Call.StaticCallee()
			return fn != nil && p.isSummarized(fn)
		default:
			return false
		}
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
	case KindGlobalWrite:
		return "calls " + full + ", which changes process-wide state kept by the standard library"
	}
	return "calls " + full
}

// readOnlyLogged says which kinds only matter through their value: a clock reading, random
// number or environment variable that is only logged cannot change the job's result (a file
// read still needs the file, so it counts however it is used).
func readOnlyLogged(kind string) bool {
	return kind == KindClock || kind == KindRandom || kind == KindEnvRead
}

// afterFuncUnobserved reports whether nothing the job returns can depend on when a
// time.AfterFunc timer fires: the timer is only stopped or reset (and what Stop and Reset
// answer, which says whether it had fired, is dropped), and the function it runs changes
// nothing the job shares with it — it stores through no captured variable and sends on or
// closes no channel. (What the function does beyond that, such as writing a package variable,
// is judged on its own, as any callback's effects are.)
func afterFuncUnobserved(args []ssa.Value, timer ssa.Value) bool {
	if len(args) != 2 {
		return false
	}
	for _, r := range timerRefs(timer) {
		call, ok := r.(ssa.CallInstruction)
		if !ok {
			return false
		}
		fn := call.Common().StaticCallee()
		if fn == nil || (fn.Name() != "Stop" && fn.Name() != "Reset") {
			return false
		}
		if v := call.Value(); v != nil && used(v) {
			return false
		}
	}
	if ct, ok := args[1].(*ssa.ChangeType); ok && isCancelFunc(ct.X.Type()) {
		return true // time.AfterFunc(d, cancel)
	}
	closure, ok := args[1].(*ssa.MakeClosure)
	if !ok {
		_, named := args[1].(*ssa.Function)
		return named // a package-level function shares only package variables with the job
	}
	fn, ok := closure.Fn.(*ssa.Function)
	if !ok {
		return false
	}
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			switch in := instr.(type) {
			case *ssa.Send:
				return false
			case *ssa.Store:
				if capturedMemory(in.Addr) {
					return false
				}
			case ssa.CallInstruction:
				cc := in.Common()
				if cc.IsInvoke() || cc.StaticCallee() == nil {
					if !capturedCancel(cc.Value) {
						return false // an unknown function could change anything it was handed
					}
					continue
				}
				if fullName(cc.StaticCallee()) == "close" {
					return false
				}
				for _, arg := range cc.Args {
					if mayAlias(arg.Type()) && capturedMemory(arg) {
						return false // done.Store(true), append to a captured slice…
					}
				}
			}
		}
	}
	return true
}

// timerRefs returns the uses of a timer; none when it is dropped.
func timerRefs(timer ssa.Value) []ssa.Instruction {
	if timer == nil {
		return []ssa.Instruction{}
	}
	refs := timer.Referrers()
	if refs == nil {
		return []ssa.Instruction{}
	}
	return *refs
}

// capturedMemory reports whether an address is reached from a closure's captured variables.
func capturedMemory(addr ssa.Value) bool {
	for depth := 0; depth < maxValueDepth; depth++ {
		switch v := addr.(type) {
		case *ssa.FreeVar:
			return true
		case *ssa.FieldAddr:
			addr = v.X
		case *ssa.IndexAddr:
			addr = v.X
		case *ssa.UnOp:
			addr = v.X
		default:
			return false
		}
	}
	return true
}

// capturedCancel reports whether v is a context.CancelFunc the closure captured (by value, or
// loaded from the captured variable).
func capturedCancel(v ssa.Value) bool {
	if load, ok := v.(*ssa.UnOp); ok && load.Op == token.MUL {
		v = load.X
		if _, isFree := v.(*ssa.FreeVar); !isFree {
			return false
		}
		return isCancelFunc(load.Type())
	}
	_, isFree := v.(*ssa.FreeVar)
	return isFree && isCancelFunc(v.Type())
}

// isCancelFunc reports whether t is context.CancelFunc (or a func() of that shape): calling a
// captured cancel makes the job fail at the deadline rather than answer differently.
func isCancelFunc(t types.Type) bool {
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "CancelFunc"
	}
	return false
}

// used reports whether a call's value is used at all.
func used(v ssa.Value) bool {
	if v == nil {
		return false
	}
	refs := v.Referrers()
	return refs != nil && len(*refs) > 0
}

// onlyLogged reports whether a value (a clock reading, an environment variable) only ever
// reaches logging calls (log.Printf("took %s", time.Since(start))): it cannot reach the
// job's result, so it does not make the job nondeterministic.
func onlyLogged(v ssa.Value) bool {
	if !used(v) {
		return false // an unused read says nothing; keep the finding
	}
	seen := map[ssa.Value]bool{}
	var logged func(v ssa.Value, depth int) bool
	logged = func(v ssa.Value, depth int) bool {
		if seen[v] {
			return true
		}
		seen[v] = true
		if depth > maxValueDepth {
			return false
		}
		refs := v.Referrers()
		if refs == nil {
			return true
		}
		for _, r := range *refs {
			switch r := r.(type) {
			case *ssa.MakeInterface, *ssa.Convert, *ssa.ChangeType, *ssa.Extract:
				if !logged(r.(ssa.Value), depth+1) {
					return false
				}
			case *ssa.Store:
				// An element of a variadic argument array: fine when the array only goes to
				// logging calls.
				ia, ok := r.Addr.(*ssa.IndexAddr)
				if !ok || r.Val != v {
					return false
				}
				alloc, ok := ia.X.(*ssa.Alloc)
				if !ok {
					return false
				}
				for _, ar := range *alloc.Referrers() {
					switch ar := ar.(type) {
					case *ssa.IndexAddr:
					case *ssa.Slice:
						if !logged(ar, depth+1) {
							return false
						}
					default:
						return false
					}
				}
			case *ssa.Call:
				fn := r.Call.StaticCallee()
				if fn == nil {
					return false
				}
				name := fullName(fn)
				if isLogging(name) {
					continue
				}
				// elapsed.String(), elapsed.Milliseconds(): a standard function of the value
				// whose answer is used, and only logged. (A call that answers nothing, such
				// as r.Shuffle, acts on the value in other ways.)
				if funcPackage(fn) == nil || !isStdPath(funcPackage(fn).Path()) || !used(r) || !logged(r, depth+1) {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
	return logged(v, 0)
}

// isStdPath reports whether an import path looks like the standard library's (no dot in the
// first element); used only to follow method calls on logged values.
func isStdPath(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// variadicElements returns the values packed into a variadic argument (the stores into the
// array behind the slice, unwrapped from their interfaces), or v itself.
func variadicElements(v ssa.Value) []ssa.Value {
	stored, ok := arrayStores(v)
	if !ok {
		return []ssa.Value{v}
	}
	for i, val := range stored {
		if mi, ok := val.(*ssa.MakeInterface); ok {
			stored[i] = mi.X
		}
	}
	return stored
}

// arrayStores returns the values stored into the elements of a local array (or of the slice
// made from one: a slice literal, a variadic argument).
func arrayStores(v ssa.Value) ([]ssa.Value, bool) {
	if sl, ok := v.(*ssa.Slice); ok {
		v = sl.X
	}
	alloc, ok := v.(*ssa.Alloc)
	if !ok {
		return nil, false
	}
	var out []ssa.Value
	for _, r := range *alloc.Referrers() {
		ia, ok := r.(*ssa.IndexAddr)
		if !ok {
			continue
		}
		for _, ir := range *ia.Referrers() {
			if st, ok := ir.(*ssa.Store); ok && st.Addr == ia {
				out = append(out, st.Val)
			}
		}
	}
	return out, true
}

// isMutatingStdPointer reports whether t is a pointer to a standard type whose methods change
// it (bytes.Buffer, strings.Builder, bufio.Writer…).
func isMutatingStdPointer(t types.Type) bool {
	ptr, ok := types.Unalias(t).(*types.Pointer)
	if !ok {
		return false
	}
	named, ok := types.Unalias(ptr.Elem()).(*types.Named)
	return ok && named.Obj().Pkg() != nil && mutatingTypes[named.Obj().Pkg().Path()+"."+named.Obj().Name()]
}

// loggerTarget returns the package-level variable a package-level logger writes into, when
// its only initialization is log.New(&buffer, …) over such a variable; nil for a logger over
// stdout or stderr (benign), or one the analyzer cannot trace.
func (p *program) loggerTarget(logger *ssa.Global) *ssa.Global {
	init, ok := p.inits[logger].(*ssa.Call)
	if !ok {
		return nil
	}
	fn := init.Call.StaticCallee()
	if fn == nil || fullName(fn) != "log.New" || len(init.Call.Args) == 0 {
		return nil
	}
	w := init.Call.Args[0]
	if mi, ok := w.(*ssa.MakeInterface); ok {
		w = mi.X
	}
	for {
		switch x := w.(type) {
		case *ssa.Global:
			return x
		case *ssa.FieldAddr:
			w = x.X
			continue
		}
		return nil
	}
}
