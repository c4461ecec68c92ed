package analyzer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeGeneratedPackage writes a module with n jobs that mix pure arithmetic, clock reads,
// global writes, map ranges and network calls, so the benchmark pays for every kind of scan.
func writeGeneratedPackage(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	var src strings.Builder
	src.WriteString("package gen\n\nimport (\n\t\"context\"\n\t\"net/http\"\n\t\"sort\"\n\t\"time\"\n)\n\nvar counter int\n\n")
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&src, "//blueprint:job\nfunc Job%d(ctx context.Context, in []int) (int, error) {\n\treturn helper%d(in), nil\n}\n\nfunc helper%d(in []int) int {\n\ts := 0\n\tfor _, v := range in {\n\t\ts += v * %d\n\t}\n\treturn s\n}\n\n", i, i, i, i)
		case 1:
			fmt.Fprintf(&src, "//blueprint:job\nfunc Job%d(ctx context.Context, in string) (string, error) {\n\treturn in + time.Now().String(), nil\n}\n\n", i)
		case 2:
			fmt.Fprintf(&src, "//blueprint:job\nfunc Job%d(ctx context.Context, in map[string]int) ([]string, error) {\n\tcounter++\n\tkeys := make([]string, 0, len(in))\n\tfor k := range in {\n\t\tkeys = append(keys, k)\n\t}\n\tsort.Strings(keys)\n\treturn keys, nil\n}\n\n", i)
		case 3:
			fmt.Fprintf(&src, "//blueprint:job\nfunc Job%d(ctx context.Context, in string) (int, error) {\n\tresp, err := http.Get(\"https://api%d.example.com/v1\")\n\tif err != nil {\n\t\treturn 0, err\n\t}\n\tdefer resp.Body.Close()\n\treturn resp.StatusCode, nil\n}\n\n", i, i)
		}
	}
	files := map[string]string{"go.mod": "module example.com/gen\n\ngo 1.26\n", "gen.go": src.String()}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestGeneratedPackage(t *testing.T) {
	dir := writeGeneratedPackage(t, 100)
	pa, err := New(WithoutCache()).Analyze(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(pa.Jobs) != 100 {
		t.Fatalf("jobs = %d, want 100", len(pa.Jobs))
	}
	for i, j := range pa.Jobs {
		var want bool
		switch i % 4 {
		case 0:
			want = j.Pure && j.Deterministic && j.Eligible
		case 1:
			want = j.Pure && !j.Deterministic
		case 2:
			want = !j.Pure && j.RequiresState && !j.Eligible
		case 3:
			want = !j.Pure && len(j.NetworkCalls) == 1 && j.NetworkCalls[0] == fmt.Sprintf("api%d.example.com", i)
		}
		if !want {
			t.Errorf("%s labels = %+v", j.Name, j)
		}
	}
}

// BenchmarkAnalyze100Jobs is a changed package of 100 jobs (warm Go build cache, no result
// cache): what terraform plan pays after an edit.
func BenchmarkAnalyze100Jobs(b *testing.B) {
	dir := writeGeneratedPackage(b, 100)
	a := New(WithoutCache())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAnalyze100JobsCached is the same package unchanged: the result comes from the cache.
func BenchmarkAnalyze100JobsCached(b *testing.B) {
	dir := writeGeneratedPackage(b, 100)
	a := New(WithCacheDir(b.TempDir()))
	if _, err := a.Analyze(context.Background(), dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}
