package analyzer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzAnalyzeSource analyzes arbitrary source as a package's only file: the analyzer must not
// panic, and every failure must be an *Error whose problems each say where and what. Seeds are
// in testdata/fuzz/FuzzAnalyzeSource; each input costs a go command run, so fuzz with -parallel 2.
func FuzzAnalyzeSource(f *testing.F) {
	f.Add("package p\n\nimport \"context\"\n\n//blueprint:job\nfunc A(ctx context.Context, n int) (int, error) { return n, nil }\n")
	a := New(WithoutCache(), WithProfiling(false))
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/fuzzed\n\ngo 1.26\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pa, err := a.Analyze(ctx, dir)
		if err == nil {
			for _, j := range pa.Jobs {
				if j.Name == "" || j.Function == "" || j.NetworkCalls == nil {
					t.Errorf("incomplete analysis %+v", j)
				}
			}
			return
		}
		var aerr *Error
		if !errors.As(err, &aerr) {
			t.Fatalf("error is not an *analyzer.Error: %v", err)
		}
		if len(aerr.Problems) == 0 {
			t.Fatalf("error without problems: %v", err)
		}
		for _, p := range aerr.Problems {
			if p.Position == "" || p.Message == "" {
				t.Errorf("problem without position or message: %+v", p)
			}
		}
	})
}
