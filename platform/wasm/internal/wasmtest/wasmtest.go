// Package wasmtest builds the packager's fixture job packages into modules, once per test
// binary, so runtime, host and client tests run exactly what `blueprint build` produces.
package wasmtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

// PlainJobs are the jobs of packager/testdata/plainjobs.
var PlainJobs = []job.Analysis{
	{Name: "greet", Function: "Greet"}, {Name: "sum", Function: "Sum"}, {Name: "fail", Function: "Fail"},
	{Name: "explode", Function: "Explode"}, {Name: "spin", Function: "Spin"}, {Name: "hog", Function: "Hog"},
	{Name: "env", Function: "Env"}, {Name: "count", Function: "Count"},
}

// Modules are the built fixtures.
type Modules struct {
	Plain, State         []byte
	PlainPath, StatePath string
	PlainSHA, StateSHA   string
	// Dir is a scratch directory for the test binary.
	Dir string
	// WazeroCache is a compilation cache shared by all test binaries on this machine, so only
	// the first one pays the second or two that compiling a Go module takes.
	WazeroCache string
}

var (
	once sync.Once
	mods Modules
	err  error
)

func fixtureDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "packager", "testdata", name)
}

// Fixtures builds the fixture modules on first use.
func Fixtures(tb testing.TB) Modules {
	tb.Helper()
	once.Do(func() {
		mods.WazeroCache = filepath.Join(os.TempDir(), "blueprint-wasmtest-wazero-cache")
		mods.Dir, err = os.MkdirTemp("", "blueprint-wasmtest-")
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := func(dir string, jobs []job.Analysis) (packager.Artifact, []byte, error) {
			art, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: fixtureDir(dir), Jobs: jobs, CacheDir: filepath.Join(mods.Dir, "artifacts")})
			if err != nil {
				return art, nil, fmt.Errorf("building fixture %s: %w", dir, err)
			}
			code, err := os.ReadFile(art.Path)
			return art, code, err
		}
		var a packager.Artifact
		if a, mods.Plain, err = build("plainjobs", PlainJobs); err != nil {
			return
		}
		mods.PlainPath, mods.PlainSHA = a.Path, a.SHA256
		if a, mods.State, err = build("statejobs", []job.Analysis{{Name: "tally", Function: "Tally", RequiresState: true}}); err != nil {
			return
		}
		mods.StatePath, mods.StateSHA = a.Path, a.SHA256
	})
	if err != nil {
		tb.Fatal(err)
	}
	return mods
}

// Cleanup removes the scratch directory; call it from TestMain after m.Run.
func Cleanup() {
	if mods.Dir != "" {
		os.RemoveAll(mods.Dir)
	}
}
