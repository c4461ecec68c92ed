package analyzer

import (
	"fmt"
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// argRule says how to read more out of a known call's arguments.
type argRule int

const (
	plain       argRule = iota
	urlArg              // network call; args[arg] is a URL
	addrArg             // dial or listen; args[arg-1] is the network ("tcp", "unix"…), args[arg] the address
	hostArg             // DNS lookup; args[arg] is a host name
	requestArg          // http Client.Do / RoundTrip; args[arg] is an *http.Request
	openFileArg         // os.OpenFile; args[1] is the flag: read-only is a read, anything else a write
	stdStreams          // a *os.File method: writes to os.Stdout/os.Stderr are logging, others are file effects
	grpcTarget          // gRPC dial; args[arg] is the target ("dns:///host:443", "host:443", "unix:/path")
	connOrigin          // a call on a connection (database, gRPC): the host comes from what made the receiver
)

// stdEffect is what one standard-library function does, as far as the labels care.
type stdEffect struct {
	kind string
	rule argRule
	arg  int
}

// stdEffects lists the standard-library calls with an effect, keyed by types.Func.FullName.
// Everything else in the standard library is treated as effect-free (see the package doc);
// calls through interfaces are handled apart, since no table can say which code runs.
var stdEffects = map[string]stdEffect{}

func init() {
	add := func(kind string, rule argRule, arg int, names ...string) {
		for _, n := range names {
			stdEffects[n] = stdEffect{kind: kind, rule: rule, arg: arg}
		}
	}
	add(KindFileWrite, plain, 0,
		"os.WriteFile", "os.Create", "os.CreateTemp", "os.Remove", "os.RemoveAll", "os.Rename",
		"os.Mkdir", "os.MkdirAll", "os.MkdirTemp", "os.Chmod", "os.Chown", "os.Lchown", "os.Chtimes",
		"os.Link", "os.Symlink", "os.Truncate", "os.CopyFS",
		"io/ioutil.WriteFile", "io/ioutil.TempFile", "io/ioutil.TempDir",
		"(*os.Root).Create", "(*os.Root).Mkdir", "(*os.Root).MkdirAll", "(*os.Root).Remove", "(*os.Root).RemoveAll",
		"(*os.Root).Rename", "(*os.Root).WriteFile", "(*os.Root).Chmod", "(*os.Root).Chown", "(*os.Root).Chtimes",
		"(*os.Root).Link", "(*os.Root).Symlink", "(*os.Root).Lchown",
		"(*os.File).Truncate", "(*os.File).Chmod", "(*os.File).Chown", "(*os.File).Sync",
		"(*os.File).ReadFrom",
	)
	add(KindFileWrite, stdStreams, 0,
		"(*os.File).Write", "(*os.File).WriteString", "(*os.File).WriteAt")
	add(KindFileRead, stdStreams, 0,
		"(*os.File).Read", "(*os.File).ReadAt", "(*os.File).WriteTo")
	add(KindFileRead, openFileArg, 1, "os.OpenFile", "(*os.Root).OpenFile")
	add(KindFileRead, plain, 0,
		"os.ReadFile", "os.Open", "os.OpenRoot", "os.OpenInRoot", "os.ReadDir", "os.Stat", "os.Lstat", "os.Readlink",
		"os.DirFS", "os.SameFile",
		"io/ioutil.ReadFile", "io/ioutil.ReadDir",
		"path/filepath.Walk", "path/filepath.WalkDir", "path/filepath.Glob", "path/filepath.EvalSymlinks", "path/filepath.Abs",
		"(*os.Root).Open", "(*os.Root).ReadFile", "(*os.Root).Stat", "(*os.Root).Lstat", "(*os.Root).Readlink", "(*os.Root).OpenRoot",
		"(*os.File).ReadDir", "(*os.File).Readdir", "(*os.File).Readdirnames", "(*os.File).Stat", "(*os.File).Seek",
		"os/user.Current", "os/user.Lookup", "os/user.LookupId", "os/user.LookupGroup", "os/user.LookupGroupId",
		// Functions that read files on the caller's behalf.
		"text/template.ParseFiles", "text/template.ParseGlob", "(*text/template.Template).ParseFiles",
		"(*text/template.Template).ParseGlob", "html/template.ParseFiles", "html/template.ParseGlob",
		"(*html/template.Template).ParseFiles", "(*html/template.Template).ParseGlob",
		"crypto/x509.SystemCertPool", "crypto/tls.LoadX509KeyPair", "net/http.ServeFile",
		"mime.TypeByExtension",
		// The machine's time-zone database (unless the program embeds time/tzdata, see calls.go):
		// wasm has none to read, so the job fails there.
		"time.LoadLocation",
	)
	add(KindExec, plain, 0,
		"os.StartProcess", "os.FindProcess", "(*os.Process).Kill", "(*os.Process).Signal", "(*os.Process).Wait")
	// LookPath only searches $PATH: a read of the machine's files, not a process.
	add(KindFileRead, plain, 0, "os/exec.LookPath", "(*os/exec.Cmd).Environ")
	add(KindEnvRead, plain, 0,
		"os.Getenv", "os.LookupEnv", "os.Environ", "os.ExpandEnv", "os.Hostname", "os.Getwd", "os.Executable",
		"os.Getpid", "os.Getppid", "os.Getuid", "os.Geteuid", "os.Getgid", "os.Getegid", "os.Getgroups",
		"os.UserHomeDir", "os.UserCacheDir", "os.UserConfigDir", "os.TempDir", "os.Getpagesize",
		"runtime.NumGoroutine", "runtime.ReadMemStats")
	// runtime.NumCPU and GOMAXPROCS are not here: jobs use them to size worker pools, and a job
	// whose result depended on the core count would be wrong on any machine.
	// Reflection and plugins run code that no table can name.
	add(KindUnknown, plain, 0, "(reflect.Value).Call", "(reflect.Value).CallSlice", "plugin.Open", "(*plugin.Plugin).Lookup")
	add(KindEnvWrite, plain, 0, "os.Setenv", "os.Unsetenv", "os.Clearenv")
	// Process-wide registries and settings: what one call sets, every later call sees. They
	// are global state the standard library keeps (so during initialization they are setup,
	// not an init effect).
	add(KindGlobalWrite, plain, 0, "net/http.Handle", "net/http.HandleFunc", "expvar.Publish", "expvar.NewInt",
		"expvar.NewFloat", "expvar.NewMap", "expvar.NewString", "flag.Set", "flag.Parse", "log.SetOutput",
		"log.SetFlags", "log.SetPrefix", "log/slog.SetDefault", "log/slog.SetLogLoggerLevel")
	add(KindProcess, plain, 0, "os.Exit", "os.Chdir", "(*os.File).Chdir", "os/signal.Notify", "os/signal.NotifyContext",
		"os/signal.Ignore", "os/signal.Reset", "runtime/debug.SetGCPercent", "runtime/debug.SetMemoryLimit",
		"runtime/debug.SetMaxThreads", "runtime.LockOSThread", "runtime.GC")
	add(KindClock, plain, 0,
		"time.Now", "time.Since", "time.Until", "time.After", "time.Tick", "time.NewTimer", "time.NewTicker", "time.AfterFunc")
	add(KindRandom, plain, 0, "hash/maphash.MakeSeed", "hash/maphash.String", "hash/maphash.Bytes", "hash/maphash.Comparable")
	add(KindNetwork, urlArg, 0,
		"net/http.Get", "net/http.Head", "net/http.Post", "net/http.PostForm",
		"(*net/http.Client).Get", "(*net/http.Client).Head", "(*net/http.Client).Post", "(*net/http.Client).PostForm")
	add(KindNetwork, requestArg, 0, "(*net/http.Client).Do", "(*net/http.Transport).RoundTrip")
	add(KindNetwork, addrArg, 1, "net.Dial", "net.DialTimeout", "(*net.Dialer).Dial", "crypto/tls.Dial", "net/rpc.Dial",
		"net/rpc.DialHTTP")
	add(KindNetwork, addrArg, 2, "(*net.Dialer).DialContext", "(*crypto/tls.Dialer).DialContext", "crypto/tls.DialWithDialer")
	add(KindNetwork, hostArg, 0, "net.LookupHost", "net.LookupIP", "net.LookupAddr", "net.LookupCNAME", "net.LookupMX",
		"net.LookupTXT", "net.LookupNS", "net.LookupPort", "net/smtp.Dial", "net/smtp.SendMail")
	add(KindNetwork, hostArg, 1, "(*net.Resolver).LookupHost", "(*net.Resolver).LookupIPAddr", "(*net.Resolver).LookupIP",
		"(*net.Resolver).LookupAddr", "(*net.Resolver).LookupCNAME", "(*net.Resolver).LookupMX", "(*net.Resolver).LookupTXT")
	add(KindNetwork, plain, 0, "net.DialTCP", "net.DialUDP", "net.DialIP")
	// database/sql talks to a database server: the host is the one in the DSN given to sql.Open.
	add(KindNetwork, connOrigin, 0,
		"(*database/sql.DB).Query", "(*database/sql.DB).QueryContext", "(*database/sql.DB).QueryRow",
		"(*database/sql.DB).QueryRowContext", "(*database/sql.DB).Exec", "(*database/sql.DB).ExecContext",
		"(*database/sql.DB).Begin", "(*database/sql.DB).BeginTx", "(*database/sql.DB).Ping", "(*database/sql.DB).PingContext",
		"(*database/sql.DB).Prepare", "(*database/sql.DB).PrepareContext", "(*database/sql.DB).Conn")
	add(KindUnixSocket, plain, 0, "net.DialUnix", "net.ListenUnix", "net.ListenUnixgram", "net.ResolveUnixAddr")
	add(KindNetworkListen, addrArg, 1, "net.Listen", "net.ListenPacket", "(*net.ListenConfig).Listen", "crypto/tls.Listen")
	add(KindNetworkListen, plain, 0, "net.ListenTCP", "net.ListenUDP", "net.ListenIP", "net.ListenMulticastUDP",
		"net/http.ListenAndServe", "net/http.ListenAndServeTLS", "net/http.Serve", "net/http.ServeTLS",
		"(*net/http.Server).ListenAndServe", "(*net/http.Server).ListenAndServeTLS", "(*net/http.Server).Serve")
}

// readOnlySyscalls are the package syscall functions that only read file and file system
// metadata, as os.Stat does. Other raw system calls stay effects the analyzer cannot judge.
var readOnlySyscalls = map[string]bool{
	"Statfs": true, "Fstatfs": true, "Stat": true, "Lstat": true, "Fstat": true, "Getwd": true,
}

// stdPackageEffect covers whole packages where every function has the same effect.
func stdPackageEffect(pkgPath, funcName string, isMethod bool) (string, bool) {
	switch pkgPath {
	case "os/exec":
		return KindExec, true
	case "syscall":
		if readOnlySyscalls[funcName] {
			// Reading the file system's facts changes nothing: a read of this machine (not
			// deterministic, and not on a platform), not an effect.
			return KindFileRead, true
		}
		return KindSyscall, true
	case "crypto/rand":
		return KindRandom, true
	case "math/rand", "math/rand/v2":
		// Methods on a *rand.Rand are as deterministic as its seed (a constant seed is fine;
		// a clock seed shows up as a clock finding). Top-level functions use the global source.
		if isMethod || strings.HasPrefix(funcName, "New") {
			return "", false
		}
		return KindRandom, true
	}
	return "", false
}

// benignInterfaces are standard-library interfaces for values and computations (errors,
// contexts, hashes, images, colors, sorting): calls through them are taken as effect-free.
// Any other interface call is an "unknown" finding, since a writer or reader may be a file or
// a socket. The risk, accepted and documented, is a user type implementing one of these with
// side effects.
var benignInterfaces = map[string]bool{
	"error":                    true,
	"context.Context":          true,
	"fmt.Stringer":             true,
	"hash.Hash":                true,
	"hash.Hash32":              true,
	"hash.Hash64":              true,
	"image.Image":              true,
	"image.PalettedImage":      true,
	"image/draw.Image":         true,
	"image/color.Color":        true,
	"image/color.Model":        true,
	"sort.Interface":           true,
	"container/heap.Interface": true,
	"io/fs.FileInfo":           true, // describes a file; reading it was the finding
	"io/fs.DirEntry":           true,
}

// benignInterfaceMethods are single methods taken as effect-free: closing only releases what
// was opened, and opening a file or a connection is itself a finding.
var benignInterfaceMethods = map[string]bool{
	"(io.Closer).Close": true,
	"(net.Conn).Close":  true,
}

// isBenignInterfaceCall reports whether a call through an interface, named by
// types.Func.FullName as "(pkg/path.Iface).Method", is taken as effect-free.
func isBenignInterfaceCall(fullName string) bool {
	if benignInterfaceMethods[fullName] {
		return true
	}
	iface, _, ok := strings.Cut(strings.TrimPrefix(fullName, "("), ").")
	return ok && benignInterfaces[iface]
}

// stdGlobalReads are package-level variables of the standard library whose reading is itself
// an effect.
var stdGlobalReads = map[string]string{
	"os.Args":            KindEnvRead,
	"os.Stdin":           KindFileRead,
	"crypto/rand.Reader": KindRandom,
}

// isSortCall reports whether a call sorts, which makes an earlier map range order-independent.
func isSortCall(fullName string) bool {
	switch fullName {
	case "slices.Sort", "slices.SortFunc", "slices.SortStableFunc", "slices.Sorted", "slices.SortedFunc",
		"slices.SortedStableFunc":
		return true
	}
	return strings.HasPrefix(fullName, "sort.")
}

// lookupEffect returns the table entry for a summarized function: the standard library's
// table, whole-package rules, then the common libraries (libraries.go).
func lookupEffect(fn *ssa.Function, full string) (stdEffect, bool) {
	if eff, ok := stdEffects[full]; ok {
		return eff, true
	}
	if eff, ok := libraryEffects[full]; ok {
		return eff, true
	}
	pkg := funcPackage(fn)
	if pkg == nil {
		return stdEffect{}, false
	}
	name := fn.Name()
	if o := fn.Origin(); o != nil {
		name = o.Name()
	}
	if kind, ok := stdPackageEffect(pkg.Path(), name, fn.Signature.Recv() != nil); ok {
		return stdEffect{kind: kind}, true
	}
	if kind, ok := libraryPackageEffect(pkg.Path()); ok {
		return stdEffect{kind: kind}, true
	}
	return stdEffect{}, false
}

// mutatingFuncs are standard-library functions that write through some of their arguments
// (indexes count the receiver first for methods). Passing them memory of a package-level
// variable writes that variable.
var mutatingFuncs = map[string][]int{
	// Scanners write every destination after the source (or the format).
	"fmt.Scan": {0, 1, 2, 3, 4, 5, 6, 7}, "fmt.Scanln": {0, 1, 2, 3, 4, 5, 6, 7}, "fmt.Scanf": {1, 2, 3, 4, 5, 6, 7, 8},
	"fmt.Sscan": {1, 2, 3, 4, 5, 6, 7, 8}, "fmt.Sscanln": {1, 2, 3, 4, 5, 6, 7, 8}, "fmt.Sscanf": {2, 3, 4, 5, 6, 7, 8, 9},
	"fmt.Fscan": {1, 2, 3, 4, 5, 6, 7, 8}, "fmt.Fscanln": {1, 2, 3, 4, 5, 6, 7, 8}, "fmt.Fscanf": {2, 3, 4, 5, 6, 7, 8, 9},
	"(*encoding/gob.Decoder).Decode": {1}, "(*encoding/gob.Decoder).DecodeValue": {1},
	"(*encoding/base64.Encoding).Decode": {1}, "(*encoding/base64.Encoding).Encode": {1},
	"(*encoding/base32.Encoding).Decode": {1}, "(*encoding/base32.Encoding).Encode": {1},
	"encoding/hex.Decode": {0}, "encoding/hex.Encode": {0},
	"(*bytes.Reader).Read": {1}, "(*strings.Reader).Read": {1}, "(*bufio.Reader).Read": {1},
	"(*math/rand.Rand).Read": {1}, "math/rand.Read": {0}, "crypto/rand.Read": {0},
	"(*os.File).Read": {1}, "(*os.File).ReadAt": {1},
	"(encoding/binary.ByteOrder).PutUint16": {1}, "(encoding/binary.ByteOrder).PutUint32": {1},
	"(encoding/binary.ByteOrder).PutUint64": {1}, "(encoding/binary.bigEndian).PutUint16": {1},
	"(encoding/binary.bigEndian).PutUint32": {1}, "(encoding/binary.bigEndian).PutUint64": {1},
	"(encoding/binary.littleEndian).PutUint16": {1}, "(encoding/binary.littleEndian).PutUint32": {1},
	"(encoding/binary.littleEndian).PutUint64": {1}, "encoding/binary.PutUvarint": {0}, "encoding/binary.PutVarint": {0},
	"(io.Reader).Read": {1},
	"sort.Ints":        {0}, "sort.Strings": {0}, "sort.Float64s": {0}, "sort.Sort": {0}, "sort.Stable": {0},
	"sort.Slice": {0}, "sort.SliceStable": {0},
	"slices.Sort": {0}, "slices.SortFunc": {0}, "slices.SortStableFunc": {0}, "slices.Reverse": {0},
	"encoding/json.Unmarshal": {1}, "encoding/xml.Unmarshal": {1}, "encoding/binary.Read": {2},
	"io.ReadFull": {1}, "io.ReadAtLeast": {1},
	"container/heap.Init": {0}, "container/heap.Push": {0}, "container/heap.Pop": {0},
	"container/heap.Fix": {0}, "container/heap.Remove": {0},
	"(*encoding/json.Decoder).Decode": {1},
}

// mutatingTypes are standard-library types whose pointer methods change the value, except
// the read-only ones listed in readOnlyMethods.
var mutatingTypes = map[string]bool{
	"bytes.Buffer": true, "strings.Builder": true, "sync.Map": true, "sync.Once": true, "sync.WaitGroup": true,
	"sync.Pool": true, "net/http.ServeMux": true,
	"sync/atomic.Int32": true, "sync/atomic.Int64": true, "sync/atomic.Uint32": true, "sync/atomic.Uint64": true,
	"sync/atomic.Uintptr": true, "sync/atomic.Bool": true, "sync/atomic.Pointer": true, "sync/atomic.Value": true,
	"math/rand.Rand": true, "math/rand/v2.Rand": true, "container/list.List": true, "container/ring.Ring": true,
	"bufio.Reader": true, "bufio.Writer": true, "bufio.Scanner": true, "encoding/json.Decoder": true,
	"encoding/json.Encoder": true, "math/big.Int": true, "math/big.Float": true, "math/big.Rat": true,
}

var readOnlyMethods = map[string]bool{
	"Len": true, "Cap": true, "String": true, "Bytes": true, "Available": true, "Load": true, "Range": true,
	"Wait": true, "Front": true, "Back": true, "Cmp": true, "CmpAbs": true, "Sign": true, "BitLen": true,
	"Int64": true, "Uint64": true, "IsInt64": true, "IsUint64": true, "Text": true, "Append": true,
	"Float64": true, "Buffered": true, "Size": true, "Err": true,
}

// mutatingCall returns which arguments a summarized call writes through.
func mutatingCall(full string, fn *ssa.Function) ([]int, bool) {
	if idx, ok := mutatingFuncs[full]; ok {
		return idx, true
	}
	pkg := funcPackage(fn)
	if pkg == nil {
		return nil, false
	}
	name := fn.Name()
	if o := fn.Origin(); o != nil {
		name = o.Name()
	}
	if pkg.Path() == "sync/atomic" && fn.Signature.Recv() == nil {
		for _, prefix := range []string{"Add", "Store", "Swap", "CompareAndSwap", "And", "Or"} {
			if strings.HasPrefix(name, prefix) {
				return []int{0}, true
			}
		}
	}
	recv := fn.Signature.Recv()
	if recv == nil {
		return nil, false
	}
	if pkg.Path() == "reflect" && strings.HasPrefix(name, "Set") {
		return []int{0}, true // (reflect.Value).Set*: the receiver points at what is set
	}
	ptr, ok := types.Unalias(recv.Type()).(*types.Pointer)
	if !ok {
		return nil, false
	}
	named, ok := types.Unalias(ptr.Elem()).(*types.Named)
	if !ok || named.Obj().Pkg() == nil {
		return nil, false
	}
	if mutatingTypes[named.Obj().Pkg().Path()+"."+named.Obj().Name()] && !readOnlyMethods[name] {
		return []int{0}, true
	}
	return nil, false
}

// reflectAliases return a reflect.Value that points into their argument's memory.
var reflectAliases = map[string]bool{
	"reflect.ValueOf": true, "(reflect.Value).Elem": true, "(reflect.Value).Field": true,
	"(reflect.Value).FieldByName": true, "(reflect.Value).Index": true, "(reflect.Value).MapIndex": true,
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
