package runtimeagent

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/router"
)

// TestDocsCoverEveryCodeAndReason keeps docs/agent-api.md and docs/openapi.yaml in step with
// the code: every error code the agent emits and every router decision must be documented.
func TestDocsCoverEveryCodeAndReason(t *testing.T) {
	var docs []string
	for _, name := range []string{"agent-api.md", "openapi.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	var wanted []string
	for r := router.Reason(0); r.String() != "unknown"; r++ {
		wanted = append(wanted, r.String())
	}
	for _, c := range ErrorCodes {
		wanted = append(wanted, string(c))
	}
	for _, w := range wanted {
		if !strings.Contains(docs[1], w) {
			t.Errorf("docs/openapi.yaml does not mention %q", w)
		}
		if !strings.Contains(docs[0], "`"+w+"`") && w != "bad_request" && w != "invalid_output" && w != "not_found" && w != "internal" {
			t.Errorf("docs/agent-api.md does not document %q", w)
		}
	}
	// The metrics table names every outcome its counters carry.
	for metric, outcomes := range map[string][]Outcome{"blueprint_agent_runs_total": RunOutcomes, "blueprint_agent_remote_attempts_total": AttemptOutcomes} {
		line := ""
		for _, l := range strings.Split(docs[0], "\n") {
			if strings.Contains(l, "`"+metric+"`") {
				line = l
			}
		}
		for _, o := range outcomes {
			if !regexp.MustCompile(`\b` + string(o) + `\b`).MatchString(line) {
				t.Errorf("docs/agent-api.md: the row of %s does not name outcome %q", metric, o)
			}
		}
	}
}
