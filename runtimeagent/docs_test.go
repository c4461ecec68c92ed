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
	codeRE := regexp.MustCompile(`code: +"([a-z_]+)"|writeError\([^,]+, [^,]+, "([a-z_]+)"|httpError\("([a-z_]+)"\)`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range codeRE.FindAllStringSubmatch(string(src), -1) {
			wanted = append(wanted, m[1]+m[2]+m[3])
		}
	}
	if len(wanted) < 15 {
		t.Fatalf("found only %d codes and reasons; the pattern no longer matches the source", len(wanted))
	}
	for _, w := range wanted {
		if !strings.Contains(docs[1], w) {
			t.Errorf("docs/openapi.yaml does not mention %q", w)
		}
		if !strings.Contains(docs[0], "`"+w+"`") && w != "bad_request" && w != "invalid_output" && w != "not_found" && w != "internal" {
			t.Errorf("docs/agent-api.md does not document %q", w)
		}
	}
}
