package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

const profiledJobs = `package profiled

import "context"

//blueprint:job
func Sum(ctx context.Context, n int) (int, error) {
	total := 0
	for i := 0; i < n; i++ {
		total += i
	}
	return total, nil
}

//blueprint:job memory=512
func Fixed(ctx context.Context, n int) (int, error) { return n, nil }

//blueprint:job
func Unmeasured(ctx context.Context, n int) (int, error) { return n, nil }
`

const profiledTests = `package profiled

import (
	"context"
	"testing"
	"time"
)

func BenchmarkSum(b *testing.B) {
	for b.Loop() {
		Sum(context.Background(), 1000)
		time.Sleep(2 * time.Millisecond)
	}
}

func BenchmarkFixed(b *testing.B) {
	for b.Loop() {
		Fixed(context.Background(), 1)
	}
}
`

func writeProfiledModule(t *testing.T, tests string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"go.mod": "module example.com/profiled\n\ngo 1.26\n", "jobs.go": profiledJobs, "jobs_test.go": tests}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func findingOf(a job.Analysis, kind string) (job.Finding, bool) {
	for _, f := range a.Findings {
		if f.Kind == kind {
			return f, true
		}
	}
	return job.Finding{}, false
}

func TestProfileFromBenchmarks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := writeProfiledModule(t, profiledTests)
	pa, err := New(WithoutCache(), WithProfiling(true)).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := pa.Find("sum")
	// BenchmarkSum sleeps 2 ms per call: 3× gives at least 6 ms.
	if sum.MaxDurationMS < 6 || sum.MaxDurationMS >= DefaultMaxDurationMS {
		t.Errorf("sum max_duration_ms = %d, want measured (>= 6, well below the default)", sum.MaxDurationMS)
	}
	if sum.MemoryMB < MinMemoryMB || sum.MemoryMB%ProfileMemoryStepMB != 0 {
		t.Errorf("sum memory_mb = %d, want a %d MB step of at least %d", sum.MemoryMB, ProfileMemoryStepMB, MinMemoryMB)
	}
	f, ok := findingOf(sum, KindProfile)
	if !ok || !strings.Contains(f.Position, "jobs_test.go:") || !strings.Contains(f.Message, "measured natively by BenchmarkSum") {
		t.Errorf("sum profile finding = %+v (ok %v)", f, ok)
	}
	if _, ok := findingOf(sum, KindDefaultProfile); ok {
		t.Errorf("sum still has a default_profile finding: %+v", sum.Findings)
	}

	fixed, _ := pa.Find("fixed")
	if fixed.MemoryMB != 512 {
		t.Errorf("fixed memory_mb = %d, want the directive's 512", fixed.MemoryMB)
	}
	if _, ok := findingOf(fixed, KindProfile); !ok {
		t.Errorf("fixed has no profile finding: %+v", fixed.Findings)
	}

	unmeasured, _ := pa.Find("unmeasured")
	f, ok = findingOf(unmeasured, KindDefaultProfile)
	if !ok || unmeasured.MaxDurationMS != DefaultMaxDurationMS || !strings.Contains(f.Message, "BenchmarkUnmeasured") {
		t.Errorf("unmeasured = %+v, want defaults with a finding naming the benchmark to add", unmeasured)
	}
}

func TestProfileTurnedOff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := writeProfiledModule(t, profiledTests)
	t.Setenv(NoProfileEnv, "1")
	pa, err := New(WithoutCache()).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range pa.Jobs {
		if _, ok := findingOf(j, KindProfile); ok || j.MaxDurationMS != DefaultMaxDurationMS {
			t.Errorf("%s was profiled with %s=1: %+v", j.Name, NoProfileEnv, j)
		}
	}
}

func TestProfileFailuresKeepDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The tests do not compile: the analysis still succeeds, with defaults and the reason.
	dir := writeProfiledModule(t, "package profiled\n\nimport \"testing\"\n\nfunc BenchmarkSum(b *testing.B) { undefinedThing() }\n")
	pa, err := New(WithoutCache(), WithProfiling(true)).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := pa.Find("sum")
	f, ok := findingOf(sum, KindDefaultProfile)
	if !ok || !strings.Contains(f.Message, "do not build") || sum.MaxDurationMS != DefaultMaxDurationMS {
		t.Errorf("sum = %+v, want defaults and a finding saying the tests do not build", sum)
	}

	// A benchmark that fails is reported too.
	dir = writeProfiledModule(t, "package profiled\n\nimport \"testing\"\n\nfunc BenchmarkSum(b *testing.B) { b.Fatal(\"boom\") }\n")
	pa, err = New(WithoutCache(), WithProfiling(true)).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ = pa.Find("sum")
	if f, ok := findingOf(sum, KindDefaultProfile); !ok || !strings.Contains(f.Message, "BenchmarkSum did not give a measurement") {
		t.Errorf("sum findings = %+v, want the failed benchmark explained", sum.Findings)
	}
}

func TestParseNsPerOp(t *testing.T) {
	out := "goos: linux\nBenchmarkSumX-2 5 1 ns/op\nBenchmarkSum-2   \t       5\t   2741000 ns/op\t  1024 B/op\nPASS\n"
	ns, err := parseNsPerOp(out, "BenchmarkSum")
	if err != nil || ns != 2741000 {
		t.Errorf("parseNsPerOp = %v, %v; want 2741000", ns, err)
	}
	if _, err := parseNsPerOp("PASS\n", "BenchmarkSum"); err == nil {
		t.Error("no error for output without a result line")
	}
}

func TestRoundMemoryMB(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want int64
	}{{0, 128}, {10, 128}, {128, 128}, {129, 192}, {300.5, 320}, {10240, 10240}, {10241, 10304}} {
		if got := roundMemoryMB(c.in); got != c.want {
			t.Errorf("roundMemoryMB(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}

// samplesJobs has jobs measured by sample inputs in testdata/<job name>/*.json.
const samplesJobs = `package samples

import (
	"context"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

type Req struct {
	Sleep int ` + "`json:\"sleep_ms\"`" + `
	Grow  int ` + "`json:\"grow_mb\"`" + `
}

var sink [][]byte

//blueprint:job
func Slow(ctx context.Context, in Req) (int, error) {
	time.Sleep(time.Duration(in.Sleep) * time.Millisecond)
	return in.Sleep, nil
}

//blueprint:job
func Hog(ctx context.Context, in Req) (int, error) {
	for i := 0; i < in.Grow; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		sink = append(sink, b)
	}
	return len(sink), nil
}

//blueprint:job
func Broken(ctx context.Context, in Req) (int, error) { return 0, nil }

//blueprint:job
func Keeps(ctx context.Context, st job.State, in Req) (int, error) { return 0, nil }
`

func writeSamplesModule(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                         "module example.com/samples\n\ngo 1.26\n\nrequire github.com/serverless-blueprint/blueprint v0.0.0\n\nreplace github.com/serverless-blueprint/blueprint => " + root + "\n",
		"jobs.go":                        samplesJobs,
		"testdata/slow/short.json":       `{"sleep_ms": 1}`,
		"testdata/slow/long.json":        `{"sleep_ms": 12}`,
		"testdata/hog/big.json":          `{"grow_mb": 200}`,
		"testdata/broken/not-input.json": `{"sleep_ms": "soon"}`,
		"testdata/keeps/one.json":        `{}`,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestProfileFromSamples runs jobs on their sample inputs through the generated runner: the
// slowest sample sets the duration, a job passing the memory cap is stopped, an input that
// does not decode and a stateful job keep the defaults with the reason.
func TestProfileFromSamples(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	prev := profileMemoryCapMB
	profileMemoryCapMB = 100
	t.Cleanup(func() { profileMemoryCapMB = prev })
	dir := writeSamplesModule(t)
	pa, err := New(WithoutCache(), WithProfiling(true), WithEnv(append(os.Environ(), "GOFLAGS=-mod=mod"))).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}

	slow, _ := pa.Find("slow")
	// long.json sleeps 12 ms per call: 3× is at least 36 ms.
	if slow.MaxDurationMS < 36 || slow.MaxDurationMS >= DefaultMaxDurationMS {
		t.Errorf("slow max_duration_ms = %d, want at least 36 from the slowest sample", slow.MaxDurationMS)
	}
	f, ok := findingOf(slow, KindProfile)
	if !ok || !strings.Contains(f.Message, "2 sample inputs (slowest: testdata/slow/long.json") || !strings.Contains(f.Position, "testdata/slow/") {
		t.Errorf("slow profile finding = %+v (ok %v)", f, ok)
	}
	if slow.MemoryMB != MinMemoryMB {
		t.Errorf("slow memory_mb = %d, want %d (a few MB measured)", slow.MemoryMB, MinMemoryMB)
	}

	hog, _ := pa.Find("hog")
	if f, ok := findingOf(hog, KindDefaultProfile); !ok || !strings.Contains(f.Message, "past the 100 MB profiling cap") {
		t.Errorf("hog findings = %+v, want it stopped at the memory cap", hog.Findings)
	}
	broken, _ := pa.Find("broken")
	if f, ok := findingOf(broken, KindDefaultProfile); !ok || !strings.Contains(f.Message, "decoding") || !strings.Contains(f.Message, "not-input.json") {
		t.Errorf("broken findings = %+v, want the decoding error named", broken.Findings)
	}
	keeps, _ := pa.Find("keeps")
	if f, ok := findingOf(keeps, KindDefaultProfile); !ok || !strings.Contains(f.Message, "takes job.State") {
		t.Errorf("keeps findings = %+v, want the stateful job explained", keeps.Findings)
	}
}
