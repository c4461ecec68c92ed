// Package lib holds the corpus helpers that jobs call; each forwards to lib/deep so the
// analyzer must follow calls across packages to find the effect.
package lib

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib/deep"
)

// Primes is a read-only table initialised in its var initializer; nothing writes it.
var Primes = []int{2, 3, 5, 7, 11, 13}

// Registry is a package-level map that Register writes.
var Registry = map[string]string{}

// Hits is a package-level counter that Hit increments.
var Hits int

// Double is pure: lib -> deep.Add.
func Double(n int) int { return deep.Add(n, n) }

// Normalize is pure: lib -> deep.Trim.
func Normalize(s string) string { return deep.Trim(strings.ToLower(s)) }

// Register writes the package-level Registry through deep.Store and returns its size.
func Register(k, v string) int {
	deep.Store(Registry, k, v)
	return len(Registry)
}

// Hit increments the package-level counter.
func Hit() int {
	Hits++
	return Hits
}

// Bump increments whatever int p points at.
func Bump(p *int) int {
	*p++
	return *p
}

// Record appends to deep.Journal: lib -> deep.Append.
func Record(msg string) int { return deep.Append(msg) }

// Save writes a local file: lib -> saveVia -> deep.WriteFile.
func Save(path, data string) error { return saveVia(path, data) }

func saveVia(path, data string) error { return deep.WriteFile(path, data) }

// Load reads a local file: lib -> deep.ReadFile.
func Load(path string) (string, error) { return deep.ReadFile(path) }

// Setting reads an environment variable: lib -> deep.Getenv.
func Setting(key string) string { return deep.Getenv(key) }

// Stamp formats the current time: lib -> deep.Clock.
func Stamp() string { return deep.Clock().UTC().Format(time.RFC3339) }

// Uname runs a local program: lib -> deep.Output.
func Uname() (string, error) { return deep.Output("uname", "-s") }

// Ping fetches url (a constant at every call site in the corpus): lib -> deep.Status.
func Ping(url string) (int, error) { return deep.Status(url) }

// Get fetches url with ctx through the default client.
func Get(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// Notifier is implemented by one pure type (Echo) and one that writes global state (Journaler).
type Notifier interface {
	Notify(msg string) string
}

// Echo answers without any effect.
type Echo struct{ Prefix string }

// Notify is pure.
func (e Echo) Notify(msg string) string { return e.Prefix + msg }

// Journaler records every message in deep.Journal.
type Journaler struct{}

// Notify writes package-level state and answers with the journal's new length.
func (Journaler) Notify(msg string) string {
	return strconv.Itoa(deep.Append(msg))
}

// MapSlice is a pure generic helper.
func MapSlice[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// Seen is written by the generic Remember.
var Seen = map[string]int{}

// Remember is a generic helper that writes a package-level map and returns its size.
func Remember[T any](key string, _ T) int {
	Seen[key]++
	return len(Seen)
}
