package analyzer

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestMain keeps every test's results out of the user's cache: entries go to a directory that
// lives as long as the test binary.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "blueprint-analysis-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv(CacheDirEnv, dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const cacheModGo = "module example.com/cachejobs\n\ngo 1.26\n"

const cachePureJob = `package cachejobs

import "context"

//blueprint:job
func Double(ctx context.Context, n int) (int, error) { return 2 * n, nil }
`

const cacheImpureJob = `package cachejobs

import (
	"context"
	"os"
)

//blueprint:job
func Double(ctx context.Context, n int) (int, error) {
	return 2 * n, os.WriteFile("/tmp/double.txt", []byte("x"), 0o644)
}
`

// writeCacheModule writes a one-job module into a fresh directory and returns it.
func writeCacheModule(t *testing.T, source string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": cacheModGo, "jobs.go": source} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func cacheEntries(t *testing.T, cacheDir string) []string {
	t.Helper()
	entries, err := filepath.Glob(filepath.Join(cacheDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func TestCacheServesStoredEntry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	dir := writeCacheModule(t, cachePureJob)
	a := New(WithCacheDir(cacheDir))
	first, err := a.Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	entries := cacheEntries(t, cacheDir)
	if len(entries) != 1 {
		t.Fatalf("cache entries after one analysis = %v, want one", entries)
	}

	// Rewrite the stored entry with a marker: a second analysis must return it, which proves
	// it came from the cache and not from a new load.
	var e cacheEntry
	data, err := os.ReadFile(entries[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.Analysis, first) {
		t.Fatalf("stored analysis differs from the returned one:\n%+v\n%+v", e.Analysis, first)
	}
	e.Analysis.Package = "served-from-cache"
	if err := writeFileAtomic(entries[0], e); err != nil {
		t.Fatal(err)
	}
	second, err := a.Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if second.Package != "served-from-cache" {
		t.Errorf("second analysis package = %q, want the cached marker", second.Package)
	}

	// A fresh analyzer with the same settings finds the same entry (the cache is on disk).
	third, err := New(WithCacheDir(cacheDir)).Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if third.Package != "served-from-cache" {
		t.Errorf("fresh analyzer package = %q, want the cached marker", third.Package)
	}
}

func TestCacheKeyFollowsContent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	dir := writeCacheModule(t, cachePureJob)
	a := New(WithCacheDir(cacheDir))
	pure, err := a.Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !pure.Jobs[0].Pure {
		t.Fatalf("Double before the edit = %+v, want pure", pure.Jobs[0])
	}
	if err := os.WriteFile(filepath.Join(dir, "jobs.go"), []byte(cacheImpureJob), 0o644); err != nil {
		t.Fatal(err)
	}
	impure, err := a.Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if impure.Jobs[0].Pure || impure.Jobs[0].Eligible {
		t.Errorf("Double after adding a file write = %+v, want impure and ineligible", impure.Jobs[0])
	}
	if n := len(cacheEntries(t, cacheDir)); n != 2 {
		t.Errorf("cache entries = %d, want one per content", n)
	}

	// Build flags change what is compiled, so they change the key.
	if _, err := New(WithCacheDir(cacheDir), WithBuildFlags("-tags=other")).Analyze(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if n := len(cacheEntries(t, cacheDir)); n != 3 {
		t.Errorf("cache entries after other build flags = %d, want 3", n)
	}
}

func TestCacheIgnoresAndRewritesCorruptEntries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	dir := writeCacheModule(t, cachePureJob)
	a := New(WithCacheDir(cacheDir))
	want, err := a.Analyze(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	entry := cacheEntries(t, cacheDir)[0]
	for _, garbage := range []string{"", "{not json", `{"format":"other","key":"x","analysis":{}}`, "null"} {
		if err := os.WriteFile(entry, []byte(garbage), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := a.Analyze(ctx, dir)
		if err != nil {
			t.Fatalf("with cache entry %q: %v", garbage, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("with cache entry %q: got %+v, want %+v", garbage, got, want)
		}
		var e cacheEntry
		data, _ := os.ReadFile(entry)
		if err := json.Unmarshal(data, &e); err != nil || e.Format != cacheFormat || e.Analysis == nil {
			t.Errorf("entry not rewritten after %q: %s", garbage, data)
		}
	}
}

func TestCacheDirectoryChoice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := writeCacheModule(t, cachePureJob)

	envDir := t.TempDir()
	t.Setenv(CacheDirEnv, envDir)
	if _, err := New().Analyze(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if n := len(cacheEntries(t, envDir)); n != 1 {
		t.Errorf("entries in %s = %d, want 1", CacheDirEnv, n)
	}

	optionDir := t.TempDir()
	if _, err := New(WithCacheDir(optionDir)).Analyze(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if n := len(cacheEntries(t, optionDir)); n != 1 {
		t.Errorf("entries in the WithCacheDir directory = %d, want 1", n)
	}

	off := t.TempDir()
	t.Setenv(CacheDirEnv, off)
	if _, err := New(WithoutCache()).Analyze(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if n := len(cacheEntries(t, off)); n != 0 {
		t.Errorf("WithoutCache wrote %d entries", n)
	}
}

func TestCacheNeverStoresErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cacheDir := t.TempDir()
	dir := writeCacheModule(t, "package cachejobs\n\nfunc Broken() int { return \"no\" }\n")
	if _, err := New(WithCacheDir(cacheDir)).Analyze(ctx, dir); err == nil {
		t.Fatal("analyzing a package that does not compile succeeded")
	}
	if n := len(cacheEntries(t, cacheDir)); n != 0 {
		t.Errorf("cache entries after a failed analysis = %d, want 0", n)
	}
}

// BenchmarkAnalyzeCached measures what terraform plan pays for an unchanged package: the
// dependency listing and hash, then one file read.
func BenchmarkAnalyzeCached(b *testing.B) {
	ctx := context.Background()
	a := New(WithCacheDir(b.TempDir()))
	dir := filepath.Join("testdata", "src", "jobs")
	if _, err := a.Analyze(ctx, dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Analyze(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
}
