// Package initeffects reads a file while it loads: every job in it is ineligible, although
// the jobs themselves are pure.
package initeffects

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"time"
)

var (
	config, _ = os.ReadFile("/etc/initeffects.conf")
	pattern   = regexp.MustCompile(`^[a-z]+$`)
	started   = time.Now() // once per process: not an eligibility problem
	// Stored, not run at load time: must not count as an init effect.
	lazy = func() ([]byte, error) { return os.ReadFile("/etc/lazy.conf") }
)

func init() {
	http.HandleFunc("/", handler) // registers handler; does not run it
	loadMore()
}

func loadMore() { _ = os.Getenv("INIT_ONLY") }

func handler(w http.ResponseWriter, r *http.Request) { _ = os.WriteFile("/tmp/x", nil, 0o600) }

//blueprint:job
func Match(ctx context.Context, in string) (bool, error) {
	return pattern.MatchString(in), nil
}
