// Package deep is the bottom layer of the corpus helpers: the effects that the jobs reach
// only through two to four calls across packages live here.
package deep

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Add is pure arithmetic, the end of a pure call chain.
func Add(a, b int) int { return a + b }

// Trim is pure string work.
func Trim(s string) string { return strings.TrimSpace(s) }

// Store writes into the map it is given (a package-level map when the caller passes one).
func Store(m map[string]string, k, v string) { m[k] = v }

// Journal is mutable package-level state appended to by Append.
var Journal []string

// Append writes the package-level Journal and returns its new length.
func Append(msg string) int {
	Journal = append(Journal, msg)
	return len(Journal)
}

// WriteFile writes a local file.
func WriteFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

// ReadFile reads a local file.
func ReadFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(b), err
}

// Getenv reads the environment.
func Getenv(key string) string { return os.Getenv(key) }

// Clock reads the wall clock.
func Clock() time.Time { return time.Now() }

// Output runs a local program and returns what it printed.
func Output(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// Status fetches url and returns the HTTP status code.
func Status(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}
