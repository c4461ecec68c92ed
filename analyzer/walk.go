package analyzer

import (
	"fmt"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/ssa"

	"github.com/serverless-blueprint/blueprint/job"
)

// A node is one function walked in one context: which of its parameters and free variables
// point into memory reachable from a package-level variable. The same function called with a
// pointer to a global and with a local pointer is two nodes, because a write through the
// parameter is a global write in the first and nothing in the second.
type node struct {
	fn     *ssa.Function
	in     []*ssa.Global       // per parameter, then per free variable; nil when not global memory
	consts map[int][]constText // constant strings the caller passed, by parameter (then free variable) index
	// fields are the constant string fields of structs pointer parameters point to, by
	// [parameter index, field index].
	fields   map[[2]int]constText
	analyzed bool

	effects []effect
	edges   []edge
	writes  map[*ssa.Global]token.Pos // package-level variables this function writes
	stored  []ssa.Value               // values it stores into package-level memory (reach.go)
	// made holds the function values and interface types its live code makes (reach.go).
	made map[any]bool
	live []*ssa.BasicBlock // the blocks that can run in its context (liveBlocks)
}

type nodeKey struct {
	fn    *ssa.Function
	taint string
}

// effect is one thing a function does, before it is turned into a finding with a chain.
type effect struct {
	kind    string
	message string
	pos     token.Pos
	tail    string      // the summarized function called, appended to the chain
	host    string      // network host; "" when the effect names none
	read    *ssa.Global // a global read: it only counts when the variable is mutable
	// returnedOnly marks a read whose value only leaves through the function's results: it
	// does not count when the caller drops them (defer counter.Hit()).
	returnedOnly bool
}

// edge is a call (or a callback handed to summarized code) from one node to another.
type edge struct {
	to         *node
	callback   bool // a function value passed to summarized code, which may call it
	dropResult bool // the caller ignores what the call returns (go, defer, unused results)
	gate       gate // a dynamic call: followed once the target is available to the job (reach.go)
}

func (p *program) node(fn *ssa.Function, in []*ssa.Global) *node {
	return p.nodeWith(fn, in, nil, nil)
}

func sortedFieldKeys(m map[[2]int]constText) [][2]int {
	keys := make([][2]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	return keys
}

// nodeWith returns the node of fn in a context: globals behind parameters and free
// variables, and constant strings passed for parameters (they name hosts).
func (p *program) nodeWith(fn *ssa.Function, in []*ssa.Global, consts map[int][]constText, fields map[[2]int]constText) *node {
	var key strings.Builder
	for i, g := range in {
		if g != nil {
			fmt.Fprintf(&key, "%d=%p;", i, g)
		}
	}
	for i := range len(fn.Params) + len(fn.FreeVars) {
		for _, c := range consts[i] {
			fmt.Fprintf(&key, "%d:%t:%t:%q;", i, c.complete, c.exact, c.text)
		}
	}
	for _, k := range sortedFieldKeys(fields) {
		fmt.Fprintf(&key, "%d.%d=%q;", k[0], k[1], fields[k].text)
	}
	k := nodeKey{fn: fn, taint: key.String()}
	if n, ok := p.nodes[k]; ok {
		return n
	}
	n := &node{fn: fn, in: in, consts: consts, fields: fields, writes: map[*ssa.Global]token.Pos{}}
	p.nodes[k] = n
	return n
}

// ensure analyzes a node's body once.
func (p *program) ensure(n *node) {
	if n.analyzed {
		return
	}
	n.analyzed = true
	a := p.analysisOf(n)
	n.made = map[any]bool{}
	n.live = a.liveBlocks()
	for _, b := range n.live {
		for _, instr := range b.Instrs {
			madeBy(instr, n.made)
			a.instr(instr)
		}
	}
}

// analysisOf sets up the reading of a node's body: its context's globals, constant strings
// and constant fields.
func (p *program) analysisOf(n *node) *funcAnalysis {
	a := &funcAnalysis{p: p, n: n, roots: map[ssa.Value]*ssa.Global{}, seenEdge: map[edgeKey]bool{}}
	a.text.fields = p.fields
	a.text.inits = p.inits
	a.text.summarized = p.isSummarized
	a.text.registry = p.registryOf
	a.text.params = map[ssa.Value][]constText{}
	// What every caller passes holds in any context; what this context's caller passed
	// (below) is more precise.
	for _, v := range n.fn.Params {
		if c, ok := p.constParams[v]; ok {
			a.text.params[v] = []constText{c}
		}
	}
	for _, v := range n.fn.FreeVars {
		if c, ok := p.constParams[v]; ok {
			a.text.params[v] = []constText{c}
		}
	}
	a.text.objFields = map[objField]constText{}
	for k, c := range n.fields {
		switch {
		case k[0] < len(n.fn.Params):
			a.text.objFields[objField{n.fn.Params[k[0]], k[1]}] = c
		case k[0]-len(n.fn.Params) < len(n.fn.FreeVars):
			a.text.objFields[objField{n.fn.FreeVars[k[0]-len(n.fn.Params)], k[1]}] = c
		}
	}
	for i, c := range n.consts {
		switch {
		case i < len(n.fn.Params):
			a.text.params[n.fn.Params[i]] = c
		case i-len(n.fn.Params) < len(n.fn.FreeVars):
			a.text.params[n.fn.FreeVars[i-len(n.fn.Params)]] = c
		}
	}
	return a
}

// liveBlocks returns the blocks that can run in this node's context: a branch on a string
// parameter compared with a constant, where the caller passed a known constant
// (newCodec("gzip") with switch kind { case "gzip": … }), takes only its matching edge.
func (a *funcAnalysis) liveBlocks() []*ssa.BasicBlock {
	fn := a.n.fn
	if len(fn.Blocks) == 0 || len(a.text.params) == 0 {
		return fn.Blocks
	}
	live := make([]bool, len(fn.Blocks))
	var out []*ssa.BasicBlock
	var visit func(b *ssa.BasicBlock)
	visit = func(b *ssa.BasicBlock) {
		if live[b.Index] {
			return
		}
		live[b.Index] = true
		out = append(out, b)
		if taken, ok := a.decidedBranch(b); ok {
			visit(taken)
			return
		}
		for _, s := range b.Succs {
			visit(s)
		}
	}
	visit(fn.Blocks[0])
	if fn.Recover != nil {
		visit(fn.Recover)
	}
	return out
}

// decidedBranch returns the successor a block's if takes when its condition compares a
// parameter of known constant text with a constant.
func (a *funcAnalysis) decidedBranch(b *ssa.BasicBlock) (*ssa.BasicBlock, bool) {
	if len(b.Instrs) == 0 || len(b.Succs) != 2 {
		return nil, false
	}
	cond, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If)
	if !ok {
		return nil, false
	}
	cmp, ok := cond.Cond.(*ssa.BinOp)
	if !ok || (cmp.Op != token.EQL && cmp.Op != token.NEQ) {
		return nil, false
	}
	param, other := cmp.X, cmp.Y
	if _, isConst := param.(*ssa.Const); isConst {
		param, other = other, param
	}
	text, isConst := constString(other)
	known, ok := a.text.params[param]
	if !isConst || !ok || len(known) != 1 || !known[0].complete || !known[0].exact {
		return nil, false
	}
	equal := known[0].text == text
	if (cmp.Op == token.EQL) == equal {
		return b.Succs[0], true
	}
	return b.Succs[1], true
}

// computeMutable finds every package-level variable that code reachable from the jobs
// writes. Only the jobs (and what they call) run after initialization, so a variable written
// only while the package initializes is read-only.
func (p *program) computeMutable(jobs []*ssa.Function) {
	p.mutable = map[*ssa.Global]token.Pos{}
	var queue []*node
	seen := map[*node]bool{}
	for _, fn := range jobs {
		n := p.node(fn, nil)
		seen[n] = true
		queue = append(queue, n)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		p.ensure(n)
		for g, pos := range n.writes {
			if prev, ok := p.mutable[g]; !ok || pos < prev {
				p.mutable[g] = pos
			}
		}
		for _, v := range n.stored {
			p.avail.noteStoredValue(v)
		}
		for _, e := range n.edges {
			if !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
}

// walkResult is what one walk from a root found.
type walkResult struct {
	findings []job.Finding
	hosts    []string
}

// walk visits everything reachable from root breadth first, so each effect is reported with
// the shortest call chain that reaches it. isJob says the root is a job: order-dependent
// values it returns are its output. followCallbacks is off for package initialization, which
// only stores the handlers and callbacks it is given.
func (p *program) walk(root *ssa.Function, isJob, followCallbacks bool) walkResult {
	type item struct {
		n          *node
		chain      []string
		dropResult bool
	}
	type visit struct {
		n          *node
		dropResult bool
	}
	var res walkResult
	seenFinding := map[string]bool{}
	seenHost := map[string]bool{}
	add := func(kind, message string, pos token.Pos, chain []string) {
		key := kind + "\x00" + message + "\x00" + strings.Join(chain, "\x00")
		if seenFinding[key] {
			return
		}
		seenFinding[key] = true
		res.findings = append(res.findings, job.Finding{Kind: kind, Message: message, Position: p.position(pos), Chain: chain})
	}

	if isJob && root.Blocks == nil {
		add(KindUnknown, "the job has no Go body (assembly or go:linkname): the analyzer cannot see what it does", root.Pos(), []string{p.displayName(root)})
		return res
	}
	start := p.node(root, nil)
	queue := []item{{n: start, chain: []string{p.displayName(root)}}}
	seen := map[visit]bool{{start, false}: true}
	// A job follows a dynamic call's edge only once the target is available to it (reach.go):
	// edges wait in pending until the code that makes their target is reached.
	type waiting struct {
		from item
		e    edge
	}
	var pending []waiting
	gating := isJob
	made := map[any]bool{} // what the nodes reached so far make (reach.go)
	follow := func(it item, e edge) {
		v := visit{e.to, e.dropResult}
		if seen[v] {
			return
		}
		seen[v] = true
		chain := it.chain
		if !isWrapper(e.to.fn) {
			chain = append(chain[:len(chain):len(chain)], p.displayName(e.to.fn))
		}
		queue = append(queue, item{n: e.to, chain: chain, dropResult: e.dropResult})
	}
	for {
		if len(queue) == 0 {
			var still []waiting
			for _, w := range pending {
				if !gating || p.avail.available(w.e.gate, w.e.to.fn, made) {
					follow(w.from, w.e)
				} else {
					still = append(still, w)
				}
			}
			pending = still
			if len(queue) == 0 {
				break
			}
		}
		it := queue[0]
		queue = queue[1:]
		p.ensure(it.n)
		for k := range it.n.made {
			made[k] = true
		}
		if p.avail.reflective[it.n.fn] {
			gating = false // values made by reflection can be of any type
		}
		for _, e := range it.n.effects {
			message := e.message
			if e.read != nil {
				changed, mutable := p.mutable[e.read]
				if !mutable || (e.returnedOnly && it.dropResult) {
					continue
				}
				message = fmt.Sprintf("reads package variable %s, which is changed at %s: the result depends on earlier calls on this machine",
					p.globalName(e.read), p.shortPosition(changed))
			}
			chain := it.chain
			if e.tail != "" {
				chain = append(chain[:len(chain):len(chain)], e.tail)
			}
			add(e.kind, message, e.pos, chain)
			if e.host != "" && !seenHost[e.host] {
				seenHost[e.host] = true
				res.hosts = append(res.hosts, e.host)
			}
		}
		summary := p.orderOf(it.n.fn)
		for _, s := range summary.sinks {
			add(s.kind, s.message, s.source, it.chain)
		}
		if isJob && it.n == start {
			for _, s := range summary.returns {
				kind := KindMapOrder
				if summary.isArrival(s) {
					kind = KindRace
				}
				add(kind, p.orderMessage(s, kind == KindRace, "the job's result"), s, it.chain)
			}
		}
		for _, e := range it.n.edges {
			if e.callback && !followCallbacks {
				continue
			}
			if gating && e.gate != gateNone && !p.avail.available(e.gate, e.to.fn, made) {
				pending = append(pending, waiting{it, e})
				continue
			}
			follow(it, e)
		}
	}
	return res
}

// madeFrom returns what the code reachable from root makes (node.made; callbacks it only
// stores are not followed, as for package initialization).
func (p *program) madeFrom(root *ssa.Function) map[any]bool {
	out := map[any]bool{}
	if root == nil {
		return out
	}
	start := p.node(root, nil)
	seen := map[*node]bool{start: true}
	queue := []*node{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		p.ensure(n)
		for k := range n.made {
			out[k] = true
		}
		for _, e := range n.edges {
			if !e.callback && !seen[e.to] {
				seen[e.to] = true
				queue = append(queue, e.to)
			}
		}
	}
	return out
}

// shortPosition renders pos as file.go:line for messages.
func (p *program) shortPosition(pos token.Pos) string {
	position := p.fset.Position(pos)
	name := position.Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return fmt.Sprintf("%s:%d", name, position.Line)
}

// globalName names a package-level variable for messages: counter, or other.Counter.
func (p *program) globalName(g *ssa.Global) string {
	if g.Pkg != nil && g.Pkg.Pkg != p.rootPkg {
		return g.Pkg.Pkg.Name() + "." + g.Name()
	}
	return g.Name()
}

// funcAnalysis reads one function body for one node.
type funcAnalysis struct {
	p        *program
	n        *node
	text     valueText
	roots    map[ssa.Value]*ssa.Global
	seenEdge map[edgeKey]bool
	// rooting holds the values whose root is being computed; cycled says a computation met
	// one of them (through a phi or a field stored from its own load), so a nil it found may
	// be incomplete and is not remembered.
	rooting map[ssa.Value]bool
	cycled  bool
}

func (a *funcAnalysis) add(kind string, pos token.Pos, tail, format string, args ...any) {
	a.n.effects = append(a.n.effects, effect{kind: kind, pos: pos, tail: tail, message: fmt.Sprintf(format, args...)})
}

func (a *funcAnalysis) edge(fn *ssa.Function, in []*ssa.Global, callback bool) {
	a.edgeWith(fn, in, nil, nil, callback, false, gateNone)
}

func (a *funcAnalysis) edgeWith(fn *ssa.Function, in []*ssa.Global, consts map[int][]constText, fields map[[2]int]constText, callback, dropResult bool, g gate) {
	to := a.p.nodeWith(fn, in, consts, fields)
	key := edgeKey{to, dropResult, g}
	if a.seenEdge[key] {
		return
	}
	a.seenEdge[key] = true
	a.n.edges = append(a.n.edges, edge{to: to, callback: callback, dropResult: dropResult, gate: g})
}

type edgeKey struct {
	to         *node
	dropResult bool
	gate       gate
}

// onlyReturned reports whether a loaded value only leaves the function as a result.
func onlyReturned(v ssa.Value) bool {
	refs := v.Referrers()
	if refs == nil || len(*refs) == 0 {
		return false
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.Return:
		case *ssa.MakeInterface, *ssa.Convert, *ssa.ChangeType:
			if !onlyReturned(r.(ssa.Value)) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (a *funcAnalysis) write(g *ssa.Global, pos token.Pos, how string) {
	if _, ok := a.n.writes[g]; !ok {
		a.n.writes[g] = pos
	}
	a.add(KindGlobalWrite, pos, "", "%s package variable %s: the change outlives the call and is not seen by other machines", how, a.p.globalName(g))
}

func (a *funcAnalysis) instr(instr ssa.Instruction) {
	switch in := instr.(type) {
	case *ssa.Store:
		if g := a.root(in.Addr); g != nil {
			a.write(g, in.Pos(), "writes")
			a.n.stored = append(a.n.stored, in.Val)
		}
	case *ssa.MapUpdate:
		if g := a.root(in.Map); g != nil {
			a.write(g, in.Pos(), "writes to a map in")
			a.n.stored = append(a.n.stored, in.Value)
		}
	case *ssa.UnOp:
		if in.Op == token.MUL {
			a.load(in)
		}
	case *ssa.Lookup:
		// cache[k] on a map reached through a global: the entry is global state (but not
		// counts[k]++, which only writes it back).
		if g := a.root(in.X); g != nil && used(in) && !mapReadModifyWrite(in) {
			a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: in.Pos(), read: g})
		}
	case *ssa.Range:
		if g := a.root(in.X); g != nil {
			a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: in.Pos(), read: g})
		}
	case *ssa.Return:
		// A result that refers to global memory (a slice sharing a global array, a copy of a
		// struct whose map is global) hands its current contents to the caller: a read, which
		// counts when the caller uses the result.
		for _, r := range in.Results {
			if mayAlias(r.Type()) {
				if g := a.root(r); g != nil {
					a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: in.Pos(), read: g, returnedOnly: true})
				}
			}
		}
	case *ssa.Send:
		if g := a.root(in.Chan); g != nil {
			a.write(g, in.Pos(), "sends on a channel in")
			a.n.stored = append(a.n.stored, in.X) // a later call may receive it
		}
	case *ssa.Select:
		for _, st := range in.States {
			if g := a.root(st.Chan); g != nil && st.Dir == types.SendOnly {
				a.write(g, st.Pos, "sends on a channel in")
				a.n.stored = append(a.n.stored, st.Send)
			}
		}
		if racySelect(in) {
			a.add(KindSelect, in.Pos(), "", "select between several channels: which case wins depends on timing")
		}
	case *ssa.Convert:
		if isUnsafePointer(in.Type()) || isUnsafePointer(in.X.Type()) {
			a.add(KindUnsafe, in.Pos(), "", "converts through unsafe.Pointer: the analyzer cannot follow what the pointer reaches")
		}
	case *ssa.Go:
		if l, ok := launchOf(in); ok {
			a.goroutine(l)
		}
		a.call(in)
	case *ssa.Call:
		if l, ok := launchOf(in); ok {
			a.goroutine(l) // wg.Go(f), errgroup's Go(f)
		}
		// len and cap of a map or slice that is global memory read its state (a local copy
		// of a struct shares its maps and slices).
		if b, ok := in.Call.Value.(*ssa.Builtin); ok && (b.Name() == "len" || b.Name() == "cap") && used(in) {
			if g := a.root(in.Call.Args[0]); g != nil {
				a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: in.Pos(), read: g})
			}
		}
		a.call(in)
	case *ssa.Defer:
		a.call(in)
	}
}

// load records a read of package-level memory (kept when the variable turns out mutable) and
// the standard-library variables whose reading is itself an effect (os.Args, os.Stdin).
func (a *funcAnalysis) load(u *ssa.UnOp) {
	if g, ok := u.X.(*ssa.Global); ok && g.Pkg != nil {
		if kind, ok := stdGlobalReads[g.Pkg.Pkg.Path()+"."+g.Name()]; ok {
			a.add(kind, u.Pos(), "", "reads %s.%s: it depends on how the process was started", g.Pkg.Pkg.Name(), g.Name())
			return
		}
	}
	g := a.root(u.X)
	if g == nil || readModifyWrite(u) || addressOnly(u, 0) {
		return
	}
	// The message is written by the walk, once it is known whether and where g changes.
	a.n.effects = append(a.n.effects, effect{kind: KindGlobalRead, pos: u.Pos(), read: g, returnedOnly: onlyReturned(u)})
}

// addressOnly reports whether a loaded pointer, map or interface is only used to reach further
// memory (a field, an element, a map entry to write, a call's argument): those accesses are
// reads or writes of their own, found where they happen; loading the reference itself does not
// put the global's state into the result. svc := Service{Store: sessions}; svc.Save(k, v)
// writes sessions, and reads nothing from it.
func addressOnly(v ssa.Value, depth int) bool {
	if !mayAlias(v.Type()) || depth > maxValueDepth {
		return false
	}
	refs := v.Referrers()
	if refs == nil || len(*refs) == 0 {
		return false
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.FieldAddr, *ssa.IndexAddr, *ssa.Lookup, *ssa.Range:
			// Reaching into the memory; a lookup or a range is judged as a read itself.
		case *ssa.MapUpdate:
			if r.Map != v {
				return false
			}
		case *ssa.Store:
			if r.Addr != v {
				if _, local := storeBase(r.Addr).(*ssa.Alloc); !local {
					return false // stored somewhere that is not a local variable
				}
			}
		case *ssa.MakeInterface, *ssa.ChangeType:
			if !addressOnly(r.(ssa.Value), depth+1) {
				return false
			}
		case *ssa.MakeClosure:
			// Bound into a closure (record := audit.record): what the closure does with it is
			// judged in the closure, as for a call's argument.
		case ssa.CallInstruction:
			if b, ok := r.Common().Value.(*ssa.Builtin); ok && b.Name() != "delete" {
				return false // len, cap, append, copy read it
			}
			if callee := r.Common().StaticCallee(); callee != nil && len(callee.Blocks) == 0 {
				if isSortCall(fullName(callee)) {
					continue // a sort reorders what it is given in place; nothing read leaves it
				}
				return false // a summarized callee reads what it is given (its answer is the read)
			}
		default:
			return false
		}
	}
	return true
}

// storeBase returns the variable an address belongs to.
func storeBase(addr ssa.Value) ssa.Value {
	for {
		switch a := addr.(type) {
		case *ssa.FieldAddr:
			addr = a.X
		case *ssa.IndexAddr:
			addr = a.X
		default:
			return addr
		}
	}
}

// readModifyWrite reports whether a load only feeds a store back to the same place
// (counter++, total += n): the value read never reaches the job's result, so the read does
// not make the job nondeterministic; the store is the (global write) finding.
func readModifyWrite(u *ssa.UnOp) bool {
	refs := u.Referrers()
	if refs == nil || len(*refs) == 0 {
		return false
	}
	for _, r := range *refs {
		var result ssa.Value
		switch r := r.(type) {
		case *ssa.BinOp:
			result = r
		case *ssa.Call:
			// log = append(log, entry)
			if b, ok := r.Call.Value.(*ssa.Builtin); !ok || b.Name() != "append" || r.Call.Args[0] != u {
				return false
			}
			result = r
		default:
			return false
		}
		rrefs := result.Referrers()
		if rrefs == nil || len(*rrefs) != 1 {
			return false
		}
		st, ok := (*rrefs)[0].(*ssa.Store)
		if !ok || !sameAddress(st.Addr, u.X) || st.Val != result {
			return false
		}
	}
	return true
}

// mapReadModifyWrite reports whether a map lookup only feeds an update of the same entry
// (counts[k]++, totals[k] += n).
func mapReadModifyWrite(l *ssa.Lookup) bool {
	for _, r := range *l.Referrers() {
		b, ok := r.(*ssa.BinOp)
		if !ok {
			return false
		}
		brefs := b.Referrers()
		if brefs == nil || len(*brefs) != 1 {
			return false
		}
		up, ok := (*brefs)[0].(*ssa.MapUpdate)
		if !ok || up.Value != b || up.Key != l.Index || storeBase(stripLoad(up.Map)) != storeBase(stripLoad(l.X)) {
			return false
		}
	}
	return true
}

// sameAddress reports whether two address values name the same variable (the same global,
// or the same field of the same base).
func sameAddress(a, b ssa.Value) bool {
	if a == b {
		return true
	}
	fa, ok1 := a.(*ssa.FieldAddr)
	fb, ok2 := b.(*ssa.FieldAddr)
	return ok1 && ok2 && fa.Field == fb.Field && sameAddress(fa.X, fb.X)
}

// root returns the package-level variable whose memory v may point into, or nil. Memory
// reachable from a global (its fields, elements, what its pointers, slices and maps reach)
// counts as the global's.
func (a *funcAnalysis) root(v ssa.Value) *ssa.Global {
	if g, ok := a.roots[v]; ok {
		return g
	}
	if a.rooting == nil {
		a.rooting = map[ssa.Value]bool{}
	}
	if a.rooting[v] {
		a.cycled = true // cycles through phis and self-referring fields end here
		return nil
	}
	a.rooting[v] = true
	outer := a.cycled
	a.cycled = false
	g := a.computeRoot(v)
	delete(a.rooting, v)
	if g != nil || !a.cycled || len(a.rooting) == 0 {
		a.roots[v] = g
	}
	a.cycled = a.cycled || outer
	if len(a.rooting) == 0 {
		a.cycled = false
	}
	return g
}

func (a *funcAnalysis) computeRoot(v ssa.Value) *ssa.Global {
	switch v := v.(type) {
	case *ssa.Global:
		return v
	case *ssa.Parameter:
		for i, param := range a.n.fn.Params {
			if param == v && i < len(a.n.in) {
				return a.n.in[i]
			}
		}
	case *ssa.FreeVar:
		for i, fv := range a.n.fn.FreeVars {
			if j := len(a.n.fn.Params) + i; fv == v && j < len(a.n.in) {
				return a.n.in[j]
			}
		}
	case *ssa.FieldAddr:
		return a.root(v.X)
	case *ssa.IndexAddr:
		return a.root(v.X)
	case *ssa.Field:
		return a.rootIfAliasing(v, v.X)
	case *ssa.Index:
		return a.rootIfAliasing(v, v.X)
	case *ssa.Slice:
		return a.root(v.X)
	case *ssa.Lookup:
		return a.rootIfAliasing(v, v.X)
	case *ssa.UnOp:
		if v.Op == token.MUL || v.Op == token.ARROW {
			if g := a.rootIfAliasing(v, v.X); g != nil || !mayAlias(v.Type()) {
				return g
			}
			return a.heldGlobal(v.X)
		}
	case *ssa.ChangeType:
		return a.root(v.X)
	case *ssa.Convert:
		return a.rootIfAliasing(v, v.X)
	case *ssa.MakeInterface:
		return a.rootIfAliasing(v, v.X)
	case *ssa.ChangeInterface:
		return a.root(v.X)
	case *ssa.TypeAssert:
		return a.rootIfAliasing(v, v.X)
	case *ssa.Extract:
		return a.rootIfAliasing(v, v.Tuple)
	case *ssa.Phi:
		for _, e := range v.Edges {
			if g := a.root(e); g != nil {
				return g
			}
		}
	case *ssa.Call:
		// reflect.ValueOf(&g).Elem() and friends stay pointers into g.
		if fn := v.Call.StaticCallee(); fn != nil && reflectAliases[fullName(fn)] && len(v.Call.Args) > 0 {
			return a.root(v.Call.Args[0])
		}
		// append's result shares its first argument's backing array while capacity lasts.
		if b, ok := v.Call.Value.(*ssa.Builtin); ok && b.Name() == "append" && len(v.Call.Args) > 0 {
			return a.root(v.Call.Args[0])
		}
		// A helper's result refers to the global memory it returns (func defaults() config
		// { return cfg }), judged with the globals its arguments point into.
		if fn := v.Call.StaticCallee(); fn != nil && fn.Blocks != nil && !a.p.isSummarized(fn) && mayAlias(v.Type()) {
			in := make([]*ssa.Global, len(fn.Params)+len(fn.FreeVars))
			for i, arg := range v.Call.Args {
				if i < len(fn.Params) {
					in[i] = a.root(arg)
				}
			}
			if mc, ok := v.Call.Value.(*ssa.MakeClosure); ok {
				for j, b := range mc.Bindings {
					in[len(fn.Params)+j] = a.root(b)
				}
			}
			return a.p.returnedGlobal(fn, in)
		}
	}
	return nil
}

// heldGlobal returns a package-level variable whose memory a local variable (or the field of
// one that addr names, however deeply nested) was given: after svc := Service{Store: sessions},
// loading svc.Store yields a pointer into sessions, and after s := &server{cfg: defaults},
// s.cfg.limits is defaults' map (a shallow copy shares it).
func (a *funcAnalysis) heldGlobal(addr ssa.Value) *ssa.Global {
	switch x := addr.(type) {
	case *ssa.Alloc:
		// Loading the whole value: any store into it carries memory along.
		for _, r := range *x.Referrers() {
			switch r := r.(type) {
			case *ssa.Store:
				// A whole value stored (s := gs, a value receiver spilled to memory) carries
				// every field of it.
				if r.Addr == x {
					if g := a.root(r.Val); g != nil {
						return g
					}
				}
			case *ssa.FieldAddr:
				if g := a.storedGlobal(r); g != nil {
					return g
				}
			}
		}
	case *ssa.IndexAddr:
		// An element of a local array copied from a global one (local := rules; local[0]).
		if _, isArray := derefType(x.X.Type()).Underlying().(*types.Array); !isArray {
			return nil
		}
		if _, local := fieldBase(x.X).(*ssa.Alloc); !local {
			return nil
		}
		return a.wholeStoredGlobal(x.X)
	case *ssa.FieldAddr:
		if _, local := fieldBase(x).(*ssa.Alloc); !local {
			return nil
		}
		for _, r := range *x.X.Referrers() {
			if fa, ok := r.(*ssa.FieldAddr); ok && fa.Field == x.Field {
				if g := a.storedGlobal(fa); g != nil {
					return g
				}
			}
		}
		if a.fieldOverwritten(x) {
			return nil // c := defaults; c.limits = map[string]int{}: the copy has its own map
		}
		return a.wholeStoredGlobal(x.X)
	}
	return nil
}

// storedGlobal returns a global whose memory is stored through addr (a field's address).
func (a *funcAnalysis) storedGlobal(addr *ssa.FieldAddr) *ssa.Global {
	for _, r := range *addr.Referrers() {
		if st, ok := r.(*ssa.Store); ok && st.Addr == addr {
			if g := a.root(st.Val); g != nil {
				return g
			}
		}
	}
	return nil
}

// wholeStoredGlobal returns a global whose memory the struct at addr (or a struct it is a
// field of) was given as a whole value.
func (a *funcAnalysis) wholeStoredGlobal(addr ssa.Value) *ssa.Global {
	for _, r := range *addr.Referrers() {
		if st, ok := r.(*ssa.Store); ok && st.Addr == addr {
			if g := a.root(st.Val); g != nil {
				return g
			}
		}
	}
	switch x := addr.(type) {
	case *ssa.FieldAddr:
		for _, r := range *x.X.Referrers() {
			if other, ok := r.(*ssa.FieldAddr); ok && other.Field == x.Field && other != x {
				if g := a.storedGlobal(other); g != nil {
					return g
				}
			}
		}
		return a.wholeStoredGlobal(x.X)
	case *ssa.IndexAddr:
		if _, isArray := derefType(x.X.Type()).Underlying().(*types.Array); isArray {
			return a.wholeStoredGlobal(x.X)
		}
	}
	return nil
}

// fieldOverwritten reports whether the field access reads a value stored into that field
// after the struct was last given a whole value: a store to the field comes before the access
// on every path, and no whole-value store to the struct comes after that store.
func (a *funcAnalysis) fieldOverwritten(access *ssa.FieldAddr) bool {
	var wholes []ssa.Instruction
	for _, r := range *access.X.Referrers() {
		if st, ok := r.(*ssa.Store); ok && st.Addr == access.X {
			wholes = append(wholes, st)
		}
	}
	for _, r := range *access.X.Referrers() {
		fa, ok := r.(*ssa.FieldAddr)
		if !ok || fa.Field != access.Field {
			continue
		}
		for _, fr := range *fa.Referrers() {
			st, ok := fr.(*ssa.Store)
			if !ok || st.Addr != fa || !dominates(st, access) {
				continue
			}
			later := false
			for _, w := range wholes {
				if dominates(st, w) {
					later = true
				}
			}
			if !later {
				return true
			}
		}
	}
	return false
}

// fieldBase returns the memory a chain of field addresses (and elements of arrays held by
// value) starts from.
func fieldBase(v ssa.Value) ssa.Value {
	for {
		switch x := v.(type) {
		case *ssa.FieldAddr:
			v = x.X
		case *ssa.IndexAddr:
			if _, isArray := derefType(x.X.Type()).Underlying().(*types.Array); !isArray {
				return v
			}
			v = x.X
		default:
			return v
		}
	}
}

// returnedGlobal returns the package-level variable whose memory fn's results refer to when
// its parameters (then free variables) point into the globals in.
func (p *program) returnedGlobal(fn *ssa.Function, in []*ssa.Global) *ssa.Global {
	var key strings.Builder
	fmt.Fprintf(&key, "%p", fn)
	for i, g := range in {
		if g != nil {
			fmt.Fprintf(&key, ";%d=%p", i, g)
		}
	}
	if g, ok := p.returns[key.String()]; ok {
		return g
	}
	p.returns[key.String()] = nil // a recursive call ends here
	ra := &funcAnalysis{p: p, n: &node{fn: fn, in: in}, roots: map[ssa.Value]*ssa.Global{}}
	var g *ssa.Global
	for _, b := range fn.Blocks {
		ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !ok {
			continue
		}
		for _, r := range ret.Results {
			if g == nil && mayAlias(r.Type()) {
				g = ra.root(r)
			}
		}
	}
	p.returns[key.String()] = g
	return g
}

// rootIfAliasing keeps v in x's memory only when v can point somewhere (a number or a string
// copied out of a global is just a value).
func (a *funcAnalysis) rootIfAliasing(v, x ssa.Value) *ssa.Global {
	if !mayAlias(v.Type()) {
		return nil
	}
	return a.root(x)
}

// mayAlias reports whether a value of type t can refer to other memory.
func mayAlias(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Tuple:
		for i := 0; i < u.Len(); i++ {
			if mayAlias(u.At(i).Type()) {
				return true
			}
		}
		return false
	}
	return true
}

func isUnsafePointer(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Kind() == types.UnsafePointer
}

// fullName is types.Func.FullName of the function (of its generic origin for instances), or
// the SSA name for functions without a declaration.
func fullName(fn *ssa.Function) string {
	if o := fn.Origin(); o != nil {
		fn = o
	}
	if obj, ok := fn.Object().(*types.Func); ok {
		return obj.FullName()
	}
	return fn.String()
}

// racySelect reports whether which case of a select wins can depend on timing. A case that
// waits for a context's cancellation does not count (it decides when to stop, and a cancelled
// job fails rather than answering differently), nor does a channel the function made itself
// when it starts no goroutine (only it can have filled the channel, so a default case is
// reached deterministically).
func racySelect(sel *ssa.Select) bool {
	startsGoroutines := len(launches(sel.Parent())) > 0
	racing := 0
	for _, st := range sel.States {
		if isDoneChannel(st.Chan) {
			continue
		}
		if _, local := st.Chan.(*ssa.MakeChan); local && !startsGoroutines {
			continue
		}
		racing++
	}
	if !sel.Blocking {
		return racing >= 1
	}
	return racing >= 2
}

// isDoneChannel reports whether ch is ctx.Done().
func isDoneChannel(ch ssa.Value) bool {
	call, ok := ch.(*ssa.Call)
	if !ok {
		return false
	}
	if call.Call.IsInvoke() {
		return call.Call.Method.Name() == "Done" && call.Call.Method.Pkg() != nil && call.Call.Method.Pkg().Path() == "context"
	}
	return false
}
