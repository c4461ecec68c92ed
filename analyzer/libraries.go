package analyzer

import "strings"

// Common libraries whose code is summarized like the standard library's: their bodies are not
// loaded (loading gRPC and protobuf from source would triple the analysis time, and walking
// their internals yields findings about the library, not the job: HTTP/2's transport, lazily
// built tables, timers), and the calls below carry their effects. Any other call into them is
// taken as effect-free (options, status codes, message types, text tables) — the accepted risk,
// as for the standard library, is an effect of theirs missing from the table below. The
// golang.org/x repositories are the Go team's extended standard library and are treated like
// it (x/exp is walked from source: its generic helpers carry map order and callbacks). A
// library not listed here is walked from source like the user's own code.
var summarizedModules = []string{
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"google.golang.org/genproto",
	"golang.org/x/net",
	"golang.org/x/sys",
	"golang.org/x/text",
	"golang.org/x/crypto",
	"golang.org/x/sync",
}

// libraryEffects are the effects of calls into summarized libraries, keyed like stdEffects.
var libraryEffects = map[string]stdEffect{
	"google.golang.org/grpc.NewClient":                       {kind: KindNetwork, rule: grpcTarget, arg: 0},
	"google.golang.org/grpc.Dial":                            {kind: KindNetwork, rule: grpcTarget, arg: 0},
	"google.golang.org/grpc.DialContext":                     {kind: KindNetwork, rule: grpcTarget, arg: 1},
	"(*google.golang.org/grpc.ClientConn).Invoke":            {kind: KindNetwork, rule: connOrigin},
	"(*google.golang.org/grpc.ClientConn).NewStream":         {kind: KindNetwork, rule: connOrigin},
	"(google.golang.org/grpc.ClientConnInterface).Invoke":    {kind: KindNetwork, rule: plain},
	"(google.golang.org/grpc.ClientConnInterface).NewStream": {kind: KindNetwork, rule: plain},

	"(*golang.org/x/net/http2.Transport).RoundTrip":       {kind: KindNetwork, rule: requestArg, arg: 0},
	"(*golang.org/x/net/http2.ClientConn).RoundTrip":      {kind: KindNetwork, rule: requestArg, arg: 0},
	"golang.org/x/net/websocket.Dial":                     {kind: KindNetwork, rule: urlArg, arg: 0},
	"golang.org/x/net/websocket.DialConfig":               {kind: KindNetwork, rule: plain},
	"(golang.org/x/net/proxy.Dialer).Dial":                {kind: KindNetwork, rule: addrArg, arg: 1},
	"(golang.org/x/net/proxy.ContextDialer).DialContext":  {kind: KindNetwork, rule: addrArg, arg: 2},
	"golang.org/x/crypto/ssh.Dial":                        {kind: KindNetwork, rule: addrArg, arg: 1},
	"golang.org/x/net/context/ctxhttp.Do":                 {kind: KindNetwork, rule: requestArg, arg: 2},
	"golang.org/x/net/context/ctxhttp.Get":                {kind: KindNetwork, rule: urlArg, arg: 2},
	"golang.org/x/net/context/ctxhttp.Head":               {kind: KindNetwork, rule: urlArg, arg: 2},
	"golang.org/x/net/context/ctxhttp.Post":               {kind: KindNetwork, rule: urlArg, arg: 2},
	"golang.org/x/net/context/ctxhttp.PostForm":           {kind: KindNetwork, rule: urlArg, arg: 2},
	"(golang.org/x/crypto/acme/autocert.DirCache).Get":    {kind: KindFileRead, rule: plain},
	"(golang.org/x/crypto/acme/autocert.DirCache).Put":    {kind: KindFileWrite, rule: plain},
	"(golang.org/x/crypto/acme/autocert.DirCache).Delete": {kind: KindFileWrite, rule: plain},
}

// libraryPackageEffect covers whole summarized packages with one effect, like
// stdPackageEffect: golang.org/x/sys/unix and windows are raw system calls.
func libraryPackageEffect(pkgPath string) (string, bool) {
	switch pkgPath {
	case "golang.org/x/sys/unix", "golang.org/x/sys/windows", "golang.org/x/sys/execabs":
		if pkgPath == "golang.org/x/sys/execabs" {
			return KindExec, true
		}
		return KindSyscall, true
	}
	return "", false
}

// isSummarizedModule reports whether an import path belongs to a summarized library.
func isSummarizedModule(path string) bool {
	for _, m := range summarizedModules {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return false
}

// summarizedInModuleCache reports whether a file path lies in the module cache copy of a
// summarized library (…/google.golang.org/grpc@v1.2.3/…), whose bodies are not loaded.
func summarizedInModuleCache(filename string) bool {
	slashed := strings.ReplaceAll(filename, `\`, "/")
	for _, m := range summarizedModules {
		if strings.Contains(slashed, "/"+m+"@") {
			return true
		}
	}
	return false
}
