package wasm_test

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

// The fixture modules are built once per test binary by the real packager: the runtime is
// tested against exactly what `blueprint build` produces.
var (
	fixtureOnce  sync.Once
	fixtureErr   error
	plainModule  []byte
	stateModule  []byte
	fixtureCache string
)

var plainJobs = []job.Analysis{
	{Name: "greet", Function: "Greet"}, {Name: "sum", Function: "Sum"}, {Name: "fail", Function: "Fail"},
	{Name: "explode", Function: "Explode"}, {Name: "spin", Function: "Spin"}, {Name: "hog", Function: "Hog"},
	{Name: "env", Function: "Env"}, {Name: "count", Function: "Count"},
}

func fixtureDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "packager", "testdata", name)
}

func fixtures(tb testing.TB) (plain, state []byte) {
	tb.Helper()
	fixtureOnce.Do(func() {
		fixtureCache, fixtureErr = os.MkdirTemp("", "blueprint-wasm-fixture-")
		if fixtureErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := func(dir string, jobs []job.Analysis) ([]byte, error) {
			art, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: fixtureDir(dir), Jobs: jobs, CacheDir: filepath.Join(fixtureCache, "artifacts")})
			if err != nil {
				return nil, fmt.Errorf("building fixture %s: %w", dir, err)
			}
			return os.ReadFile(art.Path)
		}
		if plainModule, fixtureErr = build("plainjobs", plainJobs); fixtureErr != nil {
			return
		}
		stateModule, fixtureErr = build("statejobs", []job.Analysis{{Name: "tally", Function: "Tally", RequiresState: true}})
	})
	if fixtureErr != nil {
		tb.Fatal(fixtureErr)
	}
	return plainModule, stateModule
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureCache != "" {
		os.RemoveAll(fixtureCache)
	}
	os.Exit(code)
}
