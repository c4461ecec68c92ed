package analyzer

import (
	"archive/zip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// codeJobs is a package whose jobs share some code and not other: the test edits one piece at a
// time and checks which jobs' code hashes change.
const codeJobs = `package codejobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"example.com/dep"
)

// Input is what Upper and Shout take.
type Input struct {
	Name string ` + "`json:\"name\"`" + `
}

func helper(s string) string { return strings.ToUpper(s) }

var greeting = "hello"

// Upper says the name louder.
//
//blueprint:job
func Upper(ctx context.Context, in Input) (string, error) { return helper(in.Name), nil }

//blueprint:job
func Shout(ctx context.Context, in Input) (string, error) { return helper(in.Name) + "!", nil }

//blueprint:job
func Greet(ctx context.Context, name string) (string, error) { return greeting + " " + name, nil }

//blueprint:job
func Length(ctx context.Context, s string) (int, error) { return len(s), nil }

//blueprint:job
func Scaled(ctx context.Context, n int) (int, error) { return dep.Scale(n), nil }

// Stamp prints itself through fmt, which calls String by reflection.
type Stamp struct{ N int }

func (s Stamp) String() string { return "n=" + strconv.Itoa(s.N) }

//blueprint:job
func Describe(ctx context.Context, n int) (string, error) { return fmt.Sprint(Stamp{n}), nil }

var prefix string

func init() { prefix = "> " }

//blueprint:job
func Prefixed(ctx context.Context, s string) (string, error) { return prefix + s, nil }
`

// writeModuleProxy lays out example.com/dep at each version in a GOPROXY directory, as the
// go command reads it over file://; Scale multiplies by the version's factor.
func writeModuleProxy(t *testing.T, factors map[string]string) string {
	t.Helper()
	root := t.TempDir()
	at := filepath.Join(root, "example.com", "dep", "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var list []string
	for version, factor := range factors {
		list = append(list, version)
		mod := "module example.com/dep\n\ngo 1.26\n"
		files := map[string]string{
			".info": `{"Version":"` + version + `","Time":"2026-01-01T00:00:00Z"}`,
			".mod":  mod,
		}
		for ext, text := range files {
			if err := os.WriteFile(filepath.Join(at, version+ext), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f, err := os.Create(filepath.Join(at, version+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		prefix := "example.com/dep@" + version + "/"
		for name, text := range map[string]string{
			"go.mod": mod,
			"dep.go": "package dep\n\n// Scale multiplies n.\nfunc Scale(n int) int { return n * " + factor + " }\n",
		} {
			w, err := zw.Create(prefix + name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(text))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	slices.Sort(list)
	if err := os.WriteFile(filepath.Join(at, "list"), []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// codeHashes analyzes the module in dir and returns each job's code hash by function name.
func codeHashes(t *testing.T, dir string, env []string) (map[string]string, map[string]map[string]string) {
	t.Helper()
	pa, err := New(WithoutCache(), WithProfiling(false), WithEnv(env)).Analyze(context.Background(), filepath.Join(dir, "codejobs"))
	if err != nil {
		t.Fatal(err)
	}
	hashes, parts := map[string]string{}, map[string]map[string]string{}
	for _, j := range pa.Jobs {
		if !strings.HasPrefix(j.CodeHash, "sha256:") {
			t.Fatalf("job %s has code hash %q", j.Function, j.CodeHash)
		}
		hashes[j.Function], parts[j.Function] = j.CodeHash, j.Code
	}
	return hashes, parts
}

func changedJobs(before, after map[string]string) []string {
	var out []string
	for fn, h := range after {
		if before[fn] != h {
			out = append(out, fn)
		}
	}
	slices.Sort(out)
	return out
}

// TestCodeHashFollowsWhatEachJobReaches edits one piece of a package at a time: only the jobs
// that reach the edited code (a helper, a variable's initializer or init function, a type's
// tags, a method called through reflection, a dependency's version) get a new hash; comments,
// blank lines and moving code around change none.
func TestCodeHashFollowsWhatEachJobReaches(t *testing.T) {
	proxy := writeModuleProxy(t, map[string]string{"v1.0.0": "2", "v1.1.0": "3"})
	dir := t.TempDir()
	env := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+filepath.Join(dir, "modcache"), "GOWORK=off")
	write := func(t *testing.T, name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := func(version string) string {
		return "module example.com/codejobs\n\ngo 1.26\n\nrequire example.com/dep " + version + "\n"
	}
	// setModule writes the package and go.mod (the dependency at version) and tidies them.
	setModule := func(t *testing.T, source, version string) {
		t.Helper()
		write(t, "go.mod", gomod(version))
		write(t, "codejobs/jobs.go", source)
		tidy := exec.Command("go", "mod", "tidy")
		tidy.Dir, tidy.Env = dir, env
		if out, err := tidy.CombinedOutput(); err != nil {
			t.Fatalf("go mod tidy: %v\n%s", err, out)
		}
	}
	setModule(t, codeJobs, "v1.0.0")
	base, parts := codeHashes(t, dir, env)
	if len(base) != 7 {
		t.Fatalf("jobs = %v", base)
	}
	for _, want := range []string{"func example.com/codejobs/codejobs.helper", "type example.com/codejobs/codejobs.Input", "go"} {
		if parts["Upper"][want] == "" {
			t.Errorf("Upper's code has no part %q: %v", want, parts["Upper"])
		}
	}
	if parts["Scaled"]["module example.com/dep"] != "v1.0.0" {
		t.Errorf("Scaled's code does not name the dependency's version: %v", parts["Scaled"])
	}
	if parts["Length"]["func example.com/codejobs/codejobs.helper"] != "" || parts["Length"]["module example.com/dep"] != "" {
		t.Errorf("Length is charged with code it does not reach: %v", parts["Length"])
	}

	edits := []struct {
		name    string
		old     string
		new     string
		version string // go.mod's dependency version; "" keeps v1.0.0
		want    []string
	}{
		{name: "comments, blank lines and order", old: "// Upper says the name louder.", new: "// Upper shouts.\n// It has a longer comment now.\n\n// And moves down a little.",
			want: nil},
		{name: "a helper two jobs call", old: "strings.ToUpper(s)", new: "strings.ToUpper(strings.TrimSpace(s))", want: []string{"Shout", "Upper"}},
		{name: "a variable's initializer", old: `var greeting = "hello"`, new: `var greeting = "hi"`, want: []string{"Greet"}},
		{name: "a field's JSON tag", old: "`json:\"name\"`", new: "`json:\"who\"`", want: []string{"Shout", "Upper"}},
		{name: "a method fmt calls by reflection", old: `"n=" + strconv.Itoa(s.N)`, new: `"N=" + strconv.Itoa(s.N)`, want: []string{"Describe"}},
		{name: "an init function that sets a variable", old: `prefix = "> "`, new: `prefix = ">> "`, want: []string{"Prefixed"}},
		{name: "one job's own body", old: "return len(s), nil", new: "return len(s) + 1, nil", want: []string{"Length"}},
		{name: "a dependency's version", old: "", new: "", version: "v1.1.0", want: []string{"Scaled"}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			source := codeJobs
			if e.old != "" {
				if !strings.Contains(source, e.old) {
					t.Fatalf("the source has no %q", e.old)
				}
				source = strings.Replace(source, e.old, e.new, 1)
			}
			version := "v1.0.0"
			if e.version != "" {
				version = e.version
			}
			setModule(t, source, version)
			got, _ := codeHashes(t, dir, env)
			if changed := changedJobs(base, got); !slices.Equal(changed, e.want) {
				t.Errorf("changed jobs = %v, want %v", changed, e.want)
			}
		})
	}
}
