package runtimeagent

import (
	"context"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
)

// timedLocal answers after a fixed time and counts its runs.
type timedLocal struct {
	kind  platform.ArtifactKind
	takes time.Duration
	runs  int
}

func (t *timedLocal) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	t.runs++
	time.Sleep(t.takes)
	return []byte(`"` + string(t.kind) + `"`), nil
}

func (t *timedLocal) ArtifactKind(*manifest.Job) platform.ArtifactKind { return t.kind }

func TestLocalExecutors_fasterWins(t *testing.T) {
	native := &timedLocal{kind: platform.ArtifactNative, takes: 3 * time.Millisecond}
	wasm := &timedLocal{kind: platform.ArtifactWASM, takes: 100 * time.Microsecond}
	l := &LocalExecutors{Native: native, WASM: wasm}
	both := map[platform.ArtifactKind]string{platform.ArtifactNative: "n1", platform.ArtifactWASM: "w1"}
	pure := &manifest.Job{Name: "tiny", Artifacts: both, Analysis: job.Analysis{Pure: true}}
	ctx := context.Background()
	kinds := map[platform.ArtifactKind]int{}
	for range 60 {
		_, kind, err := l.ExecuteReporting(ctx, nil, pure, nil)
		if err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
	}
	// Five runs each to measure, then the faster one.
	if native.runs != speedSamples || wasm.runs != 60-speedSamples || kinds[platform.ArtifactWASM] != wasm.runs {
		t.Fatalf("native ran %d, wasm %d (reported %v)", native.runs, wasm.runs, kinds)
	}
	// A job that is not pure never switches: a worker process and a wasm instance are not
	// the same place for whatever a run leaves behind.
	impure := &manifest.Job{Name: "stateful", Artifacts: both}
	for range 20 {
		if _, kind, _ := l.ExecuteReporting(ctx, nil, impure, nil); kind != platform.ArtifactNative {
			t.Fatalf("a job that is not pure ran as %s", kind)
		}
	}
	// Without a native artifact (a state from before native builds), wasm.
	old := &manifest.Job{Name: "old", Artifacts: map[platform.ArtifactKind]string{platform.ArtifactWASM: "w"}, Analysis: job.Analysis{Pure: true}}
	if _, kind, _ := l.ExecuteReporting(ctx, nil, old, nil); kind != platform.ArtifactWASM {
		t.Fatalf("a job with only a wasm artifact ran as %s", kind)
	}
}
