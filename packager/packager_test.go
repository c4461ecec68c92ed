package packager_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// writeModule lays out a throwaway module: files maps relative paths to contents.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		info, _ := d.Info()
		b.WriteString(path)
		if info != nil {
			b.WriteString(" " + info.ModTime().String())
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

var greetJobs = []job.Analysis{{Name: "greet", Function: "Greet"}, {Name: "sum", Function: "Sum"}}

func TestBuildIsReproducibleCachedAndLeavesSourceUntouched(t *testing.T) {
	ctx := testCtx(t)
	// Two copies of the fixture at different paths, built into different caches: -trimpath
	// must keep every machine path out of the module.
	a, b := t.TempDir(), t.TempDir()
	copyDir(t, "testdata/plainjobs", a)
	copyDir(t, "testdata/plainjobs", b)
	before := listTree(t, a)

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Debug})
	cacheA := t.TempDir()
	art1, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: a, Jobs: greetJobs, CacheDir: cacheA, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	art2, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: b, Jobs: greetJobs, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if art1.SHA256 != art2.SHA256 || art1.Size != art2.Size {
		t.Fatalf("same source built twice gave %s (%d bytes) and %s (%d bytes)", art1.SHA256, art1.Size, art2.SHA256, art2.Size)
	}
	if want := filepath.Join(cacheA, art1.SHA256+".wasm"); art1.Path != want {
		t.Fatalf("artifact path %s, want content-addressed %s", art1.Path, want)
	}
	raw, err := os.ReadFile(art1.Path)
	if err != nil || !bytes.HasPrefix(raw, []byte("\x00asm")) || int64(len(raw)) != art1.Size {
		t.Fatalf("artifact is not a %d-byte wasm module: %v", art1.Size, err)
	}
	if after := listTree(t, a); after != before {
		t.Fatalf("build wrote into the source tree:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	logs.Reset()
	art3, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: a, Jobs: greetJobs, CacheDir: cacheA, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if art3 != art1 {
		t.Fatalf("cached build gave %+v, want %+v", art3, art1)
	}
	if !strings.Contains(logs.String(), "served from cache") || strings.Contains(logs.String(), "building wasm module") {
		t.Fatalf("second build should come from the cache without compiling; logs:\n%s", logs.String())
	}

	// A different job list is a different module.
	art4, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: a, Jobs: greetJobs[:1], CacheDir: cacheA})
	if err != nil {
		t.Fatal(err)
	}
	if art4.SHA256 == art1.SHA256 {
		t.Fatal("dropping a job did not change the module")
	}

	// A source change is rebuilt, not served from the cache.
	src := filepath.Join(a, "jobs.go")
	code, _ := os.ReadFile(src)
	os.WriteFile(src, bytes.Replace(code, []byte(`"hello, "`), []byte(`"hi, "`), 1), 0o644)
	art5, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: a, Jobs: greetJobs, CacheDir: cacheA})
	if err != nil {
		t.Fatal(err)
	}
	if art5.SHA256 == art1.SHA256 {
		t.Fatal("changing the job's code did not change the module")
	}
}

func TestBuildErrorsNameWhatToFix(t *testing.T) {
	ctx := testCtx(t)
	dir := writeModule(t, map[string]string{
		"go.mod": "module example.com/bad\n\ngo 1.26\n",
		"bad.go": `package bad

import "context"

func Typo(ctx context.Context, in int) (int, error) { return "not an int", nil }

func hidden(ctx context.Context, in int) (int, error) { return in, nil }

func TwoArgs(in int) (int, error) { return in, nil }

func ThreeArgs(ctx context.Context, other string, in int) (int, error) { return in, nil }
`,
	})
	cache := t.TempDir()
	tests := []struct {
		jobs []job.Analysis
		want []string
	}{
		{[]job.Analysis{{Name: "missing", Function: "Missing"}}, []string{`job "missing"`, "no top-level function Missing"}},
		{[]job.Analysis{{Name: "hidden", Function: "hidden"}}, []string{"must be exported", "bad.go:7"}},
		{[]job.Analysis{{Name: "two", Function: "TwoArgs"}}, []string{"takes 1 parameter(s)", "func(context.Context, In) (Out, error)"}},
		{[]job.Analysis{{Name: "three", Function: "ThreeArgs"}}, []string{"must be job.State, not string"}},
		{[]job.Analysis{{Name: "a", Function: "Typo"}, {Name: "a", Function: "Typo"}}, []string{`job name "a" is used twice`}},
		{nil, []string{"no jobs given"}},
		// The compiler's own message comes through.
		{[]job.Analysis{{Name: "typo", Function: "Typo"}}, []string{"go build failed", "bad.go:5", "not an int"}},
	}
	for _, tt := range tests {
		_, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: dir, Jobs: tt.jobs, CacheDir: cache})
		if err == nil {
			t.Fatalf("jobs %v: want an error", tt.jobs)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("jobs %v: error %q does not mention %q", tt.jobs, err, w)
			}
		}
	}
	mainPkg := writeModule(t, map[string]string{
		"go.mod":  "module example.com/m\n\ngo 1.26\n",
		"main.go": "package main\n\nimport \"context\"\n\nfunc J(ctx context.Context, in int) (int, error) { return in, nil }\n\nfunc main() {}\n",
	})
	_, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: mainPkg, Jobs: []job.Analysis{{Name: "j", Function: "J"}}, CacheDir: cache})
	if err == nil || !strings.Contains(err.Error(), "main package") {
		t.Fatalf("main package: got %v", err)
	}
}

func TestBuildJobInInternalPackage(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"go.mod":              "module example.com/deep\n\ngo 1.26\n",
		"internal/jobs/j.go":  "package jobs\n\nimport (\n\t\"context\"\n\n\t\"example.com/deep/internal/lib\"\n)\n\nfunc Double(ctx context.Context, in int) (int, error) { return lib.Twice(in), nil }\n",
		"internal/lib/lib.go": "package lib\n\nfunc Twice(x int) int { return 2 * x }\n",
		"cmd/other/unused.go": "package main\n\nfunc main() {}\n",
	})
	_, err := packager.BuildWASM(testCtx(t), packager.WASMBuild{Dir: filepath.Join(dir, "internal", "jobs"), Jobs: []job.Analysis{{Name: "double", Function: "Double"}}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSourceHashCoversDependenciesOnly(t *testing.T) {
	ctx := testCtx(t)
	dir := writeModule(t, map[string]string{
		"go.mod":     "module example.com/h\n\ngo 1.26\n",
		"a/a.go":     "package a\n\nimport \"example.com/h/lib\"\n\nvar X = lib.Y\n",
		"lib/lib.go": "package lib\n\nvar Y = 1\n",
		"b/b.go":     "package b\n\nvar Z = 1\n",
	})
	hashA := func() string {
		t.Helper()
		h, err := packager.SourceHash(ctx, filepath.Join(dir, "a"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
			t.Fatalf("malformed hash %q", h)
		}
		return h
	}
	h0 := hashA()
	if h := hashA(); h != h0 {
		t.Fatalf("hash is not stable: %s then %s", h0, h)
	}
	os.WriteFile(filepath.Join(dir, "b", "b.go"), []byte("package b\n\nvar Z = 2\n"), 0o644)
	if h := hashA(); h != h0 {
		t.Fatal("changing an unrelated package changed the hash")
	}
	os.WriteFile(filepath.Join(dir, "lib", "lib.go"), []byte("package lib\n\nvar Y = 2\n"), 0o644)
	h1 := hashA()
	if h1 == h0 {
		t.Fatal("changing a dependency did not change the hash")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/h\n\ngo 1.26.0\n"), 0o644)
	if h := hashA(); h == h1 {
		t.Fatal("changing go.mod did not change the hash")
	}
	if _, err := packager.SourceHash(ctx, filepath.Join(dir, "nope")); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

func TestGoBuildOverlayIsAvailable(t *testing.T) {
	// The packager depends on go build -overlay creating a package in a directory that does
	// not exist on disk; fail loudly if a toolchain ever stops supporting it.
	out, err := exec.Command("go", "help", "build").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-overlay") {
		t.Fatalf("go build has no -overlay flag: %v", err)
	}
}
