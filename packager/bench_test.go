package packager_test

import (
	"context"
	"testing"

	"github.com/serverless-blueprint/blueprint/packager"
)

// BenchmarkBuildWASMCached is a build whose module is already in the cache: what every
// `terraform plan` pays per job package when nothing changed (go list, hashing, no compiler).
func BenchmarkBuildWASMCached(b *testing.B) {
	ctx := context.Background()
	build := packager.WASMBuild{Dir: "testdata/plainjobs", Jobs: greetJobs, CacheDir: b.TempDir()}
	if _, err := packager.BuildWASM(ctx, build); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := packager.BuildWASM(ctx, build); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSourceHash is the content hash of a job package and its in-module dependencies.
func BenchmarkSourceHash(b *testing.B) {
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		if _, err := packager.SourceHash(ctx, "testdata/plainjobs"); err != nil {
			b.Fatal(err)
		}
	}
}
