package packager_test

import (
	"context"
	"fmt"
	"os"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

// Build two jobs of a package into one module; the artifact is named by its SHA-256.
func ExampleBuildWASM() {
	cache, _ := os.MkdirTemp("", "artifacts-")
	defer os.RemoveAll(cache)
	art, err := packager.BuildWASM(context.Background(), packager.WASMBuild{
		Dir:      "testdata/plainjobs",
		Jobs:     []job.Analysis{{Name: "greet", Function: "Greet"}, {Name: "sum", Function: "Sum"}},
		CacheDir: cache,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(art.SHA256), art.Size > 0)
	// Output: 64 true
}
