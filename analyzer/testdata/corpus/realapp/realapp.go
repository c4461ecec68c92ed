// Package realapp holds corpus jobs for the hard cases of issue "Analyzer: the hard cases of
// real application code": callbacks stored in structs handed to the standard library, writes
// through a global slice's spare capacity, hooks registered at init, hosts built with
// url.URL and fmt.Sprintf. Labels follow DESIGN.md's definitions and were written before the
// analyzer ran on the package.
package realapp

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"
)

// In is the input of every job in this package.
type In struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Out is the output of every job in this package.
type Out struct {
	Text string `json:"text"`
}

func statusOf(resp *http.Response, err error) (Out, error) {
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Text: resp.Status}, nil
}

// DockerPing talks HTTP over a unix socket dialled inside the transport's DialContext: the
// socket only exists on this machine.
// expect: pure=false deterministic=false state=false eligible=false hosts=docker
//
//blueprint:job
func DockerPing(ctx context.Context, in In) (Out, error) {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", "/var/run/docker.sock")
		},
	}}
	return statusOf(client.Get("http://docker/_ping"))
}

// ProxyFromEnvironment sets a Proxy callback that reads the environment: not deterministic,
// still eligible (environment variables are allowed on the platforms).
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func ProxyFromEnvironment(ctx context.Context, in In) (Out, error) {
	client := &http.Client{Transport: &http.Transport{
		Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(os.Getenv("ORDERS_PROXY")) },
	}}
	return statusOf(client.Get("https://api.example.com/orders/" + in.ID))
}

// URLStruct builds its URL with url.URL and a constant host.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func URLStruct(ctx context.Context, in In) (Out, error) {
	u := url.URL{Scheme: "https", Host: "api.example.com", Path: "/v1/users/" + in.ID}
	return statusOf(http.Get(u.String()))
}

// SprintfHost puts a constant host into a URL with fmt.Sprintf.
// expect: pure=false deterministic=false state=false eligible=true hosts=billing.example.com
//
//blueprint:job
func SprintfHost(ctx context.Context, in In) (Out, error) {
	return statusOf(http.Get(fmt.Sprintf("https://%s/v2/invoices/%s", "billing.example.com", in.ID)))
}

// SprintfComputedHost puts the caller's region into the host: not constant.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func SprintfComputedHost(ctx context.Context, in In) (Out, error) {
	return statusOf(http.Get(fmt.Sprintf("https://%s.example.com/v1/%s", in.Name, in.ID)))
}

// scratch has spare capacity: an append through a local copy writes into the memory the
// package variable shares.
var scratch = make([]string, 0, 64)

// AppendScratch appends into a package-level slice through a local copy.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func AppendScratch(ctx context.Context, in In) (Out, error) {
	local := scratch
	local = append(local, in.Name)
	return Out{Text: strings.Join(local, ",")}, nil
}

// AppendLocal appends to a slice of its own: pure.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func AppendLocal(ctx context.Context, in In) (Out, error) {
	local := make([]string, 0, 4)
	local = append(local, in.Name, in.ID)
	return Out{Text: strings.Join(local, ",")}, nil
}

var (
	hooks    = map[string]func(string) string{}
	accessed int
)

func init() {
	hooks["audit"] = func(name string) string {
		accessed++ // counts calls in the package: state that outlives the call
		return strings.ToUpper(name)
	}
	hooks["upper"] = strings.ToUpper
}

// AuditHook runs a hook that init registered, which writes a package-level counter. The
// counter does not reach the output, so it stays deterministic (as DeferredEffect in dispatch).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func AuditHook(ctx context.Context, in In) (Out, error) {
	return Out{Text: hooks["audit"](in.Name)}, nil
}

type stamp struct{ at time.Time }

// String reads the clock: fmt calls it.
func (s stamp) String() string { return time.Now().Format(time.RFC3339) }

// StampedGreeting formats a value whose String method reads the clock.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func StampedGreeting(ctx context.Context, in In) (Out, error) {
	return Out{Text: fmt.Sprintf("hello %s at %v", in.Name, stamp{})}, nil
}

// MapIntoBuilder writes a map's entries straight into a strings.Builder through fmt.Fprintf:
// the text follows the iteration order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func MapIntoBuilder(ctx context.Context, in In) (Out, error) {
	counts := map[string]int{}
	for _, w := range strings.Fields(in.Name) {
		counts[w]++
	}
	var b strings.Builder
	for w, n := range counts {
		fmt.Fprintf(&b, "%s=%d ", w, n)
	}
	return Out{Text: b.String()}, nil
}

// SortedIntoBuilder writes the same entries after sorting the words: deterministic.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortedIntoBuilder(ctx context.Context, in In) (Out, error) {
	counts := map[string]int{}
	for _, w := range strings.Fields(in.Name) {
		counts[w]++
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Strings(words)
	var b strings.Builder
	for _, w := range words {
		fmt.Fprintf(&b, "%s=%d ", w, counts[w])
	}
	return Out{Text: b.String()}, nil
}

// DiskFree reads the file system's free space: a read of this machine (not deterministic,
// and it only means something on the VM), not an effect.
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func DiskFree(ctx context.Context, in In) (Out, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/", &st); err != nil {
		return Out{}, err
	}
	return Out{Text: fmt.Sprint(st.Bavail * uint64(st.Bsize))}, nil
}
