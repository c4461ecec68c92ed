package analyzer

import (
	"go/constant"
	"go/token"
	"net"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// maxValueDepth bounds how far host extraction follows values back.
const maxValueDepth = 12

// valueText reads constant text out of SSA values in one walk context: the constant strings
// the caller passed for the function's parameters, so that lib.Get("https://api.example.com")
// names the host even though http.Get is called with lib.Get's parameter.
type valueText struct {
	params map[*ssa.Parameter]constText
}

// constText is the constant text (or constant prefix) of a string argument.
type constText struct {
	text     string
	complete bool
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
		if x.Value != nil && x.Value.Kind() == constant.String {
			return constant.StringVal(x.Value), true
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
		if c, ok := t.params[x]; ok {
			return c.text, c.complete
		}
	case *ssa.MakeInterface:
		return t.constPrefix(x.X, depth+1)
	case *ssa.ChangeType:
		return t.constPrefix(x.X, depth+1)
	case *ssa.Convert:
		return t.constPrefix(x.X, depth+1)
	case *ssa.UnOp:
		if g, ok := x.X.(*ssa.Global); ok && x.Op == token.MUL {
			if init := onlyInitStore(g); init != nil {
				return t.constPrefix(init, depth+1)
			}
		}
	case *ssa.Call:
		// fmt.Sprintf("https://api.example.com/users/%d", id): the text before the first verb.
		if fn := x.Call.StaticCallee(); fn != nil && fullName(fn) == "fmt.Sprintf" && len(x.Call.Args) > 0 {
			format, complete := t.constPrefix(x.Call.Args[0], depth+1)
			if !complete {
				return format, false
			}
			if i := strings.IndexByte(format, '%'); i >= 0 {
				return format[:i], false
			}
			return format, true
		}
	}
	return "", false
}

// onlyInitStore returns the value a package-level variable is given when the only stores to
// it are in package initialization and there is exactly one (var base = "https://…").
func onlyInitStore(g *ssa.Global) ssa.Value {
	var value ssa.Value
	refs := g.Referrers()
	if refs == nil {
		return nil
	}
	for _, r := range *refs {
		switch r := r.(type) {
		case *ssa.Store:
			if value != nil || !inInit(r.Parent()) {
				return nil
			}
			value = r.Val
		case *ssa.UnOp:
		default:
			return nil // its address escapes
		}
	}
	return value
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
	for _, s := range stringValues(v) {
		hosts = appendHost(hosts, t.urlHost(s, 0))
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

func (t valueText) urlHost(v ssa.Value, depth int) string {
	if depth > maxValueDepth {
		return "*"
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
	s, complete := t.constPrefix(v, 0)
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

// requestHosts follows an *http.Request back to http.NewRequest(…, url, …).
func (t valueText) requestHosts(v ssa.Value) []string {
	var hosts []string
	for _, r := range stringValues(v) {
		host := "*"
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
						host = t.urlHost(call.Call.Args[1], 0)
					case "net/http.NewRequestWithContext":
						host = t.urlHost(call.Call.Args[2], 0)
					}
				}
			}
		}
		hosts = appendHost(hosts, host)
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
