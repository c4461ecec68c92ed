package callgen_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/internal/callgen"
)

func TestGenerate(t *testing.T) {
	src, err := callgen.Generate(filepath.Join("testdata", "jobs"), "jobcalls")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "gen.go", src, 0); err != nil {
		t.Fatalf("not Go: %v\n%s", err, src)
	}
	for _, want := range []string{
		"package jobcalls",
		`var plainJob = jobcall.Define("plain", jobs.Plain)`,
		"func Plain(ctx context.Context, in jobs.Request, opts ...jobcall.Option) (jobs.Reply, error) {",
		`var renamedJob = jobcall.Define("wait-for", jobs.Renamed)`,
		"func Renamed(ctx context.Context, in time.Duration, opts ...jobcall.Option) ([]map[string]jobs.Reply, error) {",
		`var counterJob = jobcall.DefineStateful("counter", jobs.Counter)`,
		"func Counter(ctx context.Context, in jobs.Request, opts ...jobcall.Option) (*jobs.Reply, error) {",
		`"time"`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("missing %q in\n%s", want, src)
		}
	}
	// Standard packages in the first group, the others in the second, as goimports has them.
	if want := "import (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/serverless-blueprint/blueprint/internal/callgen/testdata/jobs\"\n\t\"github.com/serverless-blueprint/blueprint/sdk/go/jobcall\"\n)"; !strings.Contains(string(src), want) {
		t.Errorf("imports not grouped as\n%s\nin\n%s", want, src)
	}
	if strings.Contains(string(src), "NotAJob") {
		t.Errorf("a function without the directive got a wrapper:\n%s", src)
	}
}

func TestGenerate_errors(t *testing.T) {
	dir := t.TempDir()
	if _, err := callgen.Generate(dir, "x"); err == nil {
		t.Fatal("an empty directory gave wrappers")
	}
	_, err := callgen.Generate(filepath.Join("testdata", "bad"), "x")
	if err == nil || !strings.Contains(err.Error(), "bad.go:6") || !strings.Contains(err.Error(), "signature must be") {
		t.Fatalf("got %v", err)
	}
}
