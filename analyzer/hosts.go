package analyzer

import (
	"go/constant"
	"go/token"
	"go/types"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// maxValueDepth bounds how far host extraction follows values back.
const maxValueDepth = 12

// valueText reads constant text out of SSA values in one walk context: the constant strings
// the caller passed for the function's parameters and stored in the variables a closure
// captured, so that lib.Get("https://api.example.com") names the host even though http.Get is
// called with lib.Get's parameter; and the constants every store puts in a struct field, so
// that a client whose constructor sets base: "https://api.example.com" names it too.
type valueText struct {
	params map[ssa.Value][]constText // by *ssa.Parameter or *ssa.FreeVar
	// objFields are the constant string fields of the struct a pointer parameter points to, as
	// the caller built it (c := svc.New("https://api.example.com"); c.Get(…)).
	objFields map[objField]constText
	fields    map[*types.Var]constText  // fields only ever given one complete constant
	inits     map[*ssa.Global]ssa.Value // read-only globals and the value initialization gives them
	// summarized says which functions have no walked body (returned does not enter them).
	summarized func(*ssa.Function) bool
	// registry returns what a package-level map holds under each constant key (registry.go).
	registry func(*ssa.Global) registryEntries
}

// constText is the constant text (or constant prefix) of a string value.
type constText struct {
	text     string
	complete bool
	// exact says the value is certainly this text: a constant passed directly, or passed on
	// from a parameter that is exact. Texts found through fields or helpers are good enough to
	// name a host but not to decide which branch runs (liveBlocks).
	exact bool
}

// texts returns every text v may hold: one per phi edge, per value the caller passed, per
// element of a local array of constants; a single prefix (maybe empty) otherwise.
func (t valueText) texts(v ssa.Value, depth int) []constText {
	if v == nil || depth > maxValueDepth {
		return []constText{{}}
	}
	switch x := v.(type) {
	case *ssa.Phi:
		var out []constText
		for _, e := range x.Edges {
			out = append(out, t.texts(e, depth+1)...)
		}
		return out
	case *ssa.Parameter:
		if c, ok := t.params[x]; ok {
			return c
		}
	case *ssa.Lookup:
		// endpoints["billing"] in a table of constant keys: the texts stored under the key.
		if values := t.tableValues(x); len(values) > 0 {
			var out []constText
			for _, val := range values {
				out = append(out, t.texts(val, depth+1)...)
			}
			return out
		}
	case *ssa.UnOp:
		if x.Op == token.MUL {
			if fv, ok := x.X.(*ssa.FreeVar); ok {
				if c, ok := t.params[fv]; ok {
					return c
				}
			}
			if ia, ok := x.X.(*ssa.IndexAddr); ok {
				if elems := t.constElements(ia.X, depth+1); elems != nil {
					return elems
				}
			}
		}
	}
	if callee, results, ok := t.returned(v, depth); ok {
		var out []constText
		for _, r := range results {
			out = append(out, callee.texts(r, depth+1)...)
		}
		return out
	}
	text, complete := t.constPrefix(v, depth)
	return []constText{{text: text, complete: complete}}
}

// tableValues returns the values stored under a lookup's constant key in a package-level map
// that is a table of constant keys; nil otherwise.
func (t valueText) tableValues(l *ssa.Lookup) []ssa.Value {
	if t.registry == nil || l.CommaOk {
		return nil
	}
	g, key, ok := constKeyLookup(l)
	if !ok {
		return nil
	}
	return t.registry(g)[key]
}

// returned follows a value a walked helper returns (buildURL(id), NewRequest(ctx, url, …)):
// it answers the helper's matching return operands and a valueText for the helper's body,
// in which its string parameters hold what this call passed.
func (t valueText) returned(v ssa.Value, depth int) (valueText, []ssa.Value, bool) {
	index := 0
	if ex, ok := v.(*ssa.Extract); ok {
		v, index = ex.Tuple, ex.Index
	}
	call, ok := v.(*ssa.Call)
	if !ok || depth > 4 {
		return valueText{}, nil, false
	}
	fn := call.Call.StaticCallee()
	if fn == nil || fn.Blocks == nil || t.summarized == nil || t.summarized(fn) {
		return valueText{}, nil, false
	}
	inner := valueText{params: map[ssa.Value][]constText{}, objFields: map[objField]constText{}, fields: t.fields, inits: t.inits,
		summarized: t.summarized, registry: t.registry}
	for i, arg := range call.Call.Args {
		if i >= len(fn.Params) {
			break
		}
		if isString(arg.Type()) {
			inner.params[fn.Params[i]] = t.texts(arg, depth+1)
		}
		for f, c := range t.structFields(arg, depth+1) {
			inner.objFields[objField{fn.Params[i], f}] = c
		}
	}
	var results []ssa.Value
	for _, b := range fn.Blocks {
		if ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok && index < len(ret.Results) {
			if c, isConst := ret.Results[index].(*ssa.Const); isConst && c.IsNil() {
				continue // the error path's nil request names no host
			}
			results = append(results, ret.Results[index])
		}
	}
	return inner, results, len(results) > 0
}

// constElements returns the texts stored in the elements of a local array (a slice literal
// of constants), or nil.
func (t valueText) constElements(v ssa.Value, depth int) []constText {
	stored, ok := arrayStores(v)
	if !ok {
		return nil
	}
	var out []constText
	for _, val := range stored {
		out = append(out, t.texts(val, depth+1)...)
	}
	return out
}

// storedTexts returns the texts stored into a captured variable (the Alloc a closure binds).
func (t valueText) storedTexts(v ssa.Value) []constText {
	alloc, ok := v.(*ssa.Alloc)
	if !ok {
		return nil
	}
	var out []constText
	for _, r := range *alloc.Referrers() {
		if st, ok := r.(*ssa.Store); ok && st.Addr == alloc {
			out = append(out, t.texts(st.Val, 0)...)
		}
	}
	return out
}

// constPrefix returns the constant text of a string value, following concatenation,
// fmt.Sprintf's format, read-only string globals and the caller's constant arguments (phis are
// handled by the callers); complete is false when only a prefix is constant
// ("https://api.example.com/v1/" + id).
func (t valueText) constPrefix(v ssa.Value, depth int) (string, bool) {
	if v == nil || depth > maxValueDepth {
		return "", false
	}
	switch x := v.(type) {
	case *ssa.Const:
		if s, ok := constString(x); ok {
			return s, true
		}
	case *ssa.BinOp:
		if x.Op != token.ADD {
			return "", false
		}
		left, complete := t.constPrefix(x.X, depth+1)
		if !complete {
			return left, false
		}
		right, complete := t.constPrefix(x.Y, depth+1)
		return left + right, complete
	case *ssa.Parameter:
		if c, ok := t.params[x]; ok && len(c) == 1 {
			return c[0].text, c[0].complete
		}
	case *ssa.Field:
		if c, ok := t.fields[fieldOf(x.X.Type(), x.Field)]; ok {
			return c.text, c.complete
		}
	case *ssa.Lookup:
		// endpoints["billing"] + path: one value stored under the key in a table.
		if values := t.tableValues(x); len(values) == 1 {
			return t.constPrefix(values[0], depth+1)
		}
	case *ssa.MakeInterface:
		return t.constPrefix(x.X, depth+1)
	case *ssa.ChangeType:
		return t.constPrefix(x.X, depth+1)
	case *ssa.Convert:
		return t.constPrefix(x.X, depth+1)
	case *ssa.UnOp:
		if x.Op != token.MUL {
			return "", false
		}
		switch addr := x.X.(type) {
		case *ssa.Global:
			if init := t.inits[addr]; init != nil {
				return t.constPrefix(init, depth+1)
			}
		case *ssa.FreeVar:
			if c, ok := t.params[addr]; ok && len(c) == 1 {
				return c[0].text, c[0].complete
			}
		case *ssa.FieldAddr:
			if c, ok := t.objFields[objField{addr.X, addr.Field}]; ok {
				return c.text, c.complete
			}
			if c, ok := t.fields[fieldOf(addr.X.Type(), addr.Field)]; ok {
				return c.text, c.complete
			}
		}
	case *ssa.Call:
		// fmt.Sprintf("https://api.example.com/users/%d", id): the text before the first verb.
		if fn := x.Call.StaticCallee(); fn != nil && fullName(fn) == "fmt.Sprintf" && len(x.Call.Args) > 0 {
			format, complete := t.constPrefix(x.Call.Args[0], depth+1)
			if !complete {
				return format, false
			}
			var args []ssa.Value
			if len(x.Call.Args) > 1 {
				args = variadicArgs(x.Call.Args[1])
			}
			return t.sprintfPrefix(format, args, depth)
		}
	}
	return "", false
}

// sprintfPrefix is the constant text fmt.Sprintf(format, args...) starts with: the format with
// its leading %s and %v verbs replaced by the constant strings passed for them
// (fmt.Sprintf("https://%s/v1/%s", "api.example.com", id) starts "https://api.example.com/v1/"),
// up to the first verb whose argument is not constant.
func (t valueText) sprintfPrefix(format string, args []ssa.Value, depth int) (string, bool) {
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(format) && format[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 >= len(format) || (format[i+1] != 's' && format[i+1] != 'v') || next >= len(args) {
			return b.String(), false
		}
		text, complete := t.constPrefix(args[next], depth+1)
		b.WriteString(text)
		if !complete {
			return b.String(), false
		}
		next++
		i++
	}
	return b.String(), true
}

// variadicArgs returns the values a variadic call packed into its slice argument (stored one by
// one into a local array), in order; nil when they cannot be told.
func variadicArgs(v ssa.Value) []ssa.Value {
	slice, ok := v.(*ssa.Slice)
	if !ok {
		return nil
	}
	alloc, ok := slice.X.(*ssa.Alloc)
	if !ok {
		return nil
	}
	arr, ok := types.Unalias(derefType(alloc.Type())).(*types.Array)
	if !ok {
		return nil
	}
	out := make([]ssa.Value, arr.Len())
	for _, r := range *alloc.Referrers() {
		ia, ok := r.(*ssa.IndexAddr)
		if !ok {
			continue
		}
		idx, ok := ia.Index.(*ssa.Const)
		if !ok || idx.Value == nil {
			return nil
		}
		i, exact := constant.Int64Val(constant.ToInt(idx.Value))
		if !exact || i < 0 || int(i) >= len(out) {
			return nil
		}
		for _, ir := range *ia.Referrers() {
			if st, ok := ir.(*ssa.Store); ok && st.Addr == ia {
				out[i] = st.Val
			}
		}
	}
	for _, v := range out {
		if v == nil {
			return nil
		}
	}
	return out
}

// initValues maps each package-level variable that is given a value exactly once, during
// package initialization, and whose address is otherwise only loaded from, to that value
// (var base = "https://…", var logger = log.New(&trail, …)). ssa.Global keeps no referrers,
// so the walked code is scanned once for every use.
func initValues(funcs map[*ssa.Function]bool) map[*ssa.Global]ssa.Value {
	stores := map[*ssa.Global][]*ssa.Store{}
	escapes := map[*ssa.Global]bool{}
	for fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				var ops [8]*ssa.Value
				for _, op := range instr.Operands(ops[:0]) {
					g, ok := (*op).(*ssa.Global)
					if !ok {
						continue
					}
					switch in := instr.(type) {
					case *ssa.Store:
						if in.Addr == g {
							stores[g] = append(stores[g], in)
						} else {
							escapes[g] = true
						}
					case *ssa.UnOp:
						if in.Op != token.MUL {
							escapes[g] = true
						}
					default:
						escapes[g] = true
					}
				}
			}
		}
	}
	out := map[*ssa.Global]ssa.Value{}
	for g, st := range stores {
		if len(st) == 1 && !escapes[g] && inInit(st[0].Parent()) {
			out[g] = st[0].Val
		}
	}
	return out
}

// stringValues returns the possible string values of v when they fan out through phis
// (a URL picked from two constants); a single element otherwise.
func stringValues(v ssa.Value) []ssa.Value {
	var out []ssa.Value
	seen := map[ssa.Value]bool{}
	var visit func(ssa.Value, int)
	visit = func(v ssa.Value, depth int) {
		if seen[v] {
			return
		}
		seen[v] = true
		if phi, ok := v.(*ssa.Phi); ok && depth < maxValueDepth {
			for _, e := range phi.Edges {
				visit(e, depth+1)
			}
			return
		}
		out = append(out, v)
	}
	if v != nil {
		visit(v, 0)
	}
	return out
}

// urlHosts returns the hosts a URL value may name, "*" for any that is not constant. It
// follows url.Parse, (*url.URL).String and JoinPath back to their text.
func (t valueText) urlHosts(v ssa.Value) []string {
	var hosts []string
	for _, h := range t.urlHost(v, 0) {
		hosts = appendHost(hosts, h)
	}
	if len(hosts) == 0 {
		return []string{"*"}
	}
	return hosts
}

func appendHost(hosts []string, h string) []string {
	if !slices.Contains(hosts, h) {
		hosts = append(hosts, h)
	}
	return hosts
}

func (t valueText) urlHost(v ssa.Value, depth int) []string {
	if v == nil || depth > maxValueDepth {
		return []string{"*"}
	}
	if call, ok := v.(*ssa.Call); ok {
		if fn := call.Call.StaticCallee(); fn != nil {
			switch fullName(fn) {
			case "(*net/url.URL).String", "(*net/url.URL).JoinPath", "net/url.JoinPath":
				return t.urlHost(call.Call.Args[0], depth+1)
			}
		}
	}
	if ex, ok := v.(*ssa.Extract); ok && ex.Index == 0 {
		if call, ok := ex.Tuple.(*ssa.Call); ok {
			if fn := call.Call.StaticCallee(); fn != nil {
				switch fullName(fn) {
				case "net/url.Parse", "net/url.ParseRequestURI", "net/url.JoinPath":
					return t.urlHost(call.Call.Args[0], depth+1)
				}
			}
		}
	}
	if alloc, ok := v.(*ssa.Alloc); ok {
		// url.URL{Scheme: "https", Host: "api.example.com", Path: …}: the constant its Host
		// field is given, when every store gives the same.
		if host, ok := t.urlStructHost(alloc, depth); ok {
			return []string{host}
		}
	}
	var hosts []string
	for _, c := range t.texts(v, 0) {
		hosts = appendHost(hosts, hostOfURLText(c.text, c.complete))
	}
	return hosts
}

// urlStructHost reads the Host field stored into a url.URL built here.
func (t valueText) urlStructHost(alloc *ssa.Alloc, depth int) (string, bool) {
	named, ok := types.Unalias(derefType(alloc.Type())).(*types.Named)
	if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != "net/url" || named.Obj().Name() != "URL" {
		return "", false
	}
	st := named.Underlying().(*types.Struct)
	host := ""
	found := false
	for _, r := range *alloc.Referrers() {
		if whole, ok := r.(*ssa.Store); ok && whole.Addr == alloc && depth < maxValueDepth {
			// u := url.URL{…} builds the literal apart and copies it in.
			if load, ok := whole.Val.(*ssa.UnOp); ok && load.Op == token.MUL {
				if lit, ok := load.X.(*ssa.Alloc); ok {
					return t.urlStructHost(lit, depth+1)
				}
			}
			return "", false
		}
		fa, ok := r.(*ssa.FieldAddr)
		if !ok || fa.X != alloc || st.Field(fa.Field).Name() != "Host" {
			continue
		}
		for _, fr := range *fa.Referrers() {
			store, ok := fr.(*ssa.Store)
			if !ok || store.Addr != fa {
				continue
			}
			text, complete := t.constPrefix(store.Val, depth+1)
			if !complete || (found && text != host) {
				return "", false
			}
			host, found = hostOfAddress(text), true
		}
	}
	return host, found && host != ""
}

// hostOfURLText returns the host a URL's text names, "*" when it does not say.
func hostOfURLText(s string, complete bool) string {
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

// fieldOf returns the field of a struct (or pointer to struct) type.
func fieldOf(t types.Type, index int) *types.Var {
	if p, ok := types.Unalias(t).Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	st, ok := types.Unalias(t).Underlying().(*types.Struct)
	if !ok || index >= st.NumFields() {
		return nil
	}
	return st.Field(index)
}

// constantFields finds the string fields that every store in the walked code gives the same
// complete constant.
func constantFields(funcs map[*ssa.Function]bool) map[*types.Var]constText {
	values := map[*types.Var]constText{}
	varies := map[*types.Var]bool{}
	forEachFieldStore(funcs, func(field *types.Var, st *ssa.Store) {
		if !isString(st.Val.Type()) || varies[field] {
			return
		}
		text, complete := valueText{}.constPrefix(st.Val, 0)
		prev, seen := values[field]
		if !complete || (seen && prev.text != text) {
			varies[field] = true
			delete(values, field)
			return
		}
		values[field] = constText{text: text, complete: true}
	})
	return values
}

// forEachFieldStore calls visit for every store into a struct field in the walked code.
func forEachFieldStore(funcs map[*ssa.Function]bool, visit func(field *types.Var, st *ssa.Store)) {
	for fn := range funcs {
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				st, ok := instr.(*ssa.Store)
				if !ok {
					continue
				}
				fa, ok := st.Addr.(*ssa.FieldAddr)
				if !ok {
					continue
				}
				if field := fieldOf(fa.X.Type(), fa.Field); field != nil {
					visit(field, st)
				}
			}
		}
	}
}

// requestHosts follows an *http.Request back to http.NewRequest(…, url, …).
func (t valueText) requestHosts(v ssa.Value) []string {
	var hosts []string
	for _, r := range stringValues(v) {
		found := []string{"*"}
		// req.WithContext(ctx) and req.Clone(ctx) keep the URL of req.
		for depth := 0; depth < maxValueDepth; depth++ {
			call, ok := r.(*ssa.Call)
			if !ok {
				break
			}
			fn := call.Call.StaticCallee()
			if fn == nil || (fullName(fn) != "(*net/http.Request).WithContext" && fullName(fn) != "(*net/http.Request).Clone") {
				break
			}
			r = call.Call.Args[0]
		}
		if ex, ok := r.(*ssa.Extract); ok && ex.Index == 0 {
			if call, ok := ex.Tuple.(*ssa.Call); ok {
				if fn := call.Call.StaticCallee(); fn != nil {
					switch fullName(fn) {
					case "net/http.NewRequest":
						found = t.urlHost(call.Call.Args[1], 0)
					case "net/http.NewRequestWithContext":
						found = t.urlHost(call.Call.Args[2], 0)
					default:
						// A helper that builds the request: follow what it returns.
						if inner, results, ok := t.returned(r, 0); ok {
							found = nil
							for _, res := range results {
								found = append(found, inner.requestHosts(res)...)
							}
						}
					}
				}
			}
		}
		for _, h := range found {
			hosts = appendHost(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return []string{"*"}
	}
	return hosts
}

// addressHost returns the host of a "host:port" address value, "*" when it is computed.
func (t valueText) addressHost(v ssa.Value) string {
	s, complete := t.constPrefix(v, 0)
	if complete {
		return hostOfAddress(s)
	}
	if i := strings.LastIndex(s, ":"); i > 0 {
		return hostOfAddress(s[:i] + ":0")
	}
	return "*"
}

// grpcTargetHost returns the host of a gRPC target: "dns:///orders.internal:443",
// "dns://resolver/orders:443", "passthrough:///10.0.0.1:50051" or plain "orders:443".
func grpcTargetHost(target string) string {
	if scheme, rest, ok := strings.Cut(target, "://"); ok && !strings.Contains(scheme, "/") {
		// The endpoint is the path after the authority (which names a resolver, not the host).
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			target = rest[i+1:]
		} else {
			target = rest
		}
	}
	return hostOfAddress(target)
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

// dialOrigin follows a connection-like value (a *sql.DB, a *grpc.ClientConn) back to the call
// that made it: a local sql.Open(…), or the one a read-only package variable was given.
func (t valueText) dialOrigin(v ssa.Value) *ssa.Call {
	for depth := 0; depth < maxValueDepth; depth++ {
		switch x := v.(type) {
		case *ssa.Extract:
			v = x.Tuple
		case *ssa.UnOp:
			g, ok := x.X.(*ssa.Global)
			if !ok || x.Op != token.MUL || t.inits[g] == nil {
				return nil
			}
			v = t.inits[g]
		case *ssa.MakeInterface:
			v = x.X
		case *ssa.Call:
			if inner, results, ok := t.returned(x, depth); ok && len(results) == 1 {
				origin := inner.dialOrigin(results[0])
				if origin == nil {
					return nil
				}
				return origin
			}
			return x
		default:
			return nil
		}
	}
	return nil
}

// dsnHost returns the host a database DSN names: URL form (postgres://u:p@host:5432/db),
// MySQL form (u:p@tcp(host:3306)/db) or key/value form (host=… port=…); "*" otherwise.
func dsnHost(dsn string) string {
	if strings.Contains(dsn, "://") {
		if u, err := url.Parse(dsn); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
		return "*"
	}
	if _, rest, ok := strings.Cut(dsn, "@tcp("); ok {
		if addr, _, ok := strings.Cut(rest, ")"); ok {
			return hostOfAddress(addr)
		}
	}
	for _, field := range strings.Fields(dsn) {
		if host, ok := strings.CutPrefix(field, "host="); ok && host != "" {
			return host
		}
	}
	return "*"
}

// objField names a field of the struct a parameter points to.
type objField struct {
	param ssa.Value
	field int
}

// structFields returns the string fields of the struct v points to that hold one complete
// constant: built here (&Client{base: "https://…"}), by a walked constructor (svc.New(url) with
// a constant url), or known of a parameter from the caller.
func (t valueText) structFields(v ssa.Value, depth int) map[int]constText {
	if depth > 4 {
		return nil
	}
	switch x := v.(type) {
	case *ssa.Alloc:
		out := map[int]constText{}
		t.overrideFields(x, out, depth)
		return out
	case *ssa.Parameter:
		return t.fieldsOf(x)
	case *ssa.UnOp:
		// A captured pointer variable: *fv holds the struct pointer.
		if fv, ok := x.X.(*ssa.FreeVar); ok && x.Op == token.MUL {
			return t.fieldsOf(fv)
		}
	case *ssa.Call, *ssa.Extract:
		inner, results, ok := t.returned(v, depth)
		if !ok || len(results) != 1 {
			return nil
		}
		out := inner.structFields(results[0], depth+1)
		if out == nil {
			out = map[int]constText{}
		}
		// c := newClient(); c.base = "https://eu.example.com": the caller's own stores into
		// the struct it got override what the constructor set.
		t.overrideFields(v, out, depth)
		return out
	}
	return nil
}

// overrideFields applies the stores this function makes into the string fields of the struct
// ptr points to. Several stores into one field give the last one when it follows all the
// others on every path (a default, then an override); otherwise the field is not known.
func (t valueText) overrideFields(ptr ssa.Value, out map[int]constText, depth int) {
	stores := map[int][]*ssa.Store{}
	for _, r := range *ptr.Referrers() {
		fa, ok := r.(*ssa.FieldAddr)
		if !ok {
			continue
		}
		for _, fr := range *fa.Referrers() {
			if st, ok := fr.(*ssa.Store); ok && st.Addr == fa && isString(st.Val.Type()) {
				stores[fa.Field] = append(stores[fa.Field], st)
			}
		}
	}
	for field, list := range stores {
		last := lastStore(list)
		if last == nil {
			delete(out, field)
			continue
		}
		texts := t.texts(last.Val, depth+1)
		if len(texts) != 1 || !texts[0].complete {
			delete(out, field)
			continue
		}
		out[field] = texts[0]
	}
}

// lastStore returns the store that every other store in the list precedes on every path, or
// nil when there is no such one.
func lastStore(list []*ssa.Store) *ssa.Store {
	for _, candidate := range list {
		last := true
		for _, other := range list {
			if other != candidate && !dominates(other, candidate) {
				last = false
				break
			}
		}
		if last {
			return candidate
		}
	}
	return nil
}

// fieldsOf returns the known constant fields of the struct a parameter (or a captured
// variable) points to.
func (t valueText) fieldsOf(v ssa.Value) map[int]constText {
	out := map[int]constText{}
	for k, c := range t.objFields {
		if k.param == v {
			out[k.field] = c
		}
	}
	return out
}

// maxConstantRounds bounds how many times constantParams passes over the program: each round
// carries constants one call (or one closure) deeper.
const maxConstantRounds = 4

// constantParams finds the string parameters that every caller passes the same complete
// constant (func RequireToken(verifyURL string) called only as RequireToken("https://…")),
// and the string free variables every closure creation binds to one (the closures such a
// function returns). Functions taken as values, methods and closures' own parameters may be
// called where the analyzer sees no arguments, so their parameters are left out, and so are
// the jobs' own (the platform calls them with any input, whatever other code passes).
func (p *program) constantParams(jobs []*ssa.Function) map[ssa.Value]constText {
	entry := map[*ssa.Function]bool{}
	for _, j := range jobs {
		entry[j] = true
	}
	consts := map[ssa.Value]constText{}
	varies := map[ssa.Value]bool{}
	textOf := func(v ssa.Value) (constText, bool) {
		if s, ok := constString(v); ok {
			return constText{text: s, complete: true, exact: true}, true
		}
		c, ok := consts[v]
		return c, ok
	}
	// agree records what one place gives v; it reports whether v's constant changed.
	agree := func(v ssa.Value, given []ssa.Value) bool {
		if varies[v] || len(given) == 0 {
			return false
		}
		first, ok := textOf(given[0])
		for _, g := range given[1:] {
			c, known := textOf(g)
			ok = ok && known && c == first
		}
		if !ok {
			delete(consts, v)
			return false // unknown yet, or varying; a later round may know more
		}
		if prev, was := consts[v]; was && prev == first {
			return false
		}
		consts[v] = first
		return true
	}
	for round := 0; round < maxConstantRounds; round++ {
		changed := false
		for fn := range p.funcs {
			if fn.Parent() == nil && fn.Signature.Recv() == nil && len(p.avail.valueMadeIn[fn]) == 0 && !entry[fn] {
				sites := p.staticCallers(fn)
				for i, param := range fn.Params {
					if !isString(param.Type()) || len(sites) == 0 {
						continue
					}
					var given []ssa.Value
					for _, call := range sites {
						if args := call.Common().Args; i < len(args) {
							given = append(given, args[i])
						}
					}
					changed = agree(param, given) || changed
				}
			}
			for _, b := range fn.Blocks {
				for _, instr := range b.Instrs {
					mc, ok := instr.(*ssa.MakeClosure)
					if !ok {
						continue
					}
					closure := mc.Fn.(*ssa.Function)
					for j := range mc.Bindings {
						if j >= len(closure.FreeVars) || !capturesString(closure.FreeVars[j].Type()) {
							continue
						}
						if storedThrough(closure.FreeVars[j]) {
							varies[closure.FreeVars[j]] = true // the closure changes the variable
							continue
						}
						changed = agree(closure.FreeVars[j], p.bindingsOf(closure, j)) || changed
					}
				}
			}
		}
		if !changed {
			break
		}
	}
	return consts
}

// storedThrough reports whether code stores through a pointer (a captured variable).
func storedThrough(v ssa.Value) bool {
	refs := v.Referrers()
	if refs == nil {
		return false
	}
	for _, r := range *refs {
		if st, ok := r.(*ssa.Store); ok && st.Addr == v {
			return true
		}
	}
	return false
}

// capturesString reports whether a free variable holds a string: by value, or (as go/ssa
// captures variables) as the address of a string variable.
func capturesString(t types.Type) bool {
	if ptr, ok := t.Underlying().(*types.Pointer); ok {
		return isString(ptr.Elem())
	}
	return isString(t)
}

// bindingsOf returns what every creation of a closure gives its free variable j: for a
// captured variable (an Alloc), every value stored into it; for a free variable passed on by
// an enclosing closure, that free variable.
func (p *program) bindingsOf(closure *ssa.Function, j int) []ssa.Value {
	var out []ssa.Value
	for maker := range p.avail.valueMadeIn[closure] {
		for _, b := range maker.Blocks {
			for _, instr := range b.Instrs {
				mc, ok := instr.(*ssa.MakeClosure)
				if !ok || mc.Fn != closure || j >= len(mc.Bindings) {
					continue
				}
				alloc, isVar := mc.Bindings[j].(*ssa.Alloc)
				if !isVar {
					out = append(out, mc.Bindings[j])
					continue
				}
				for _, r := range *alloc.Referrers() {
					if st, ok := r.(*ssa.Store); ok && st.Addr == alloc {
						out = append(out, st.Val)
					}
				}
				if len(out) == 0 {
					out = append(out, alloc) // never stored: not a constant
				}
			}
		}
	}
	return out
}
