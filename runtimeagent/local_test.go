package runtimeagent

import (
	"context"
	"sync"
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
	// Far apart, so that sleeping on a busy machine (and under -race) cannot blur them.
	native := &timedLocal{kind: platform.ArtifactNative, takes: 5 * time.Millisecond}
	wasm := &timedLocal{kind: platform.ArtifactWASM, takes: 50 * time.Microsecond}
	l := &LocalExecutors{Native: native, WASM: wasm, ProbeWASMBelow: time.Second}
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
	// A job that takes longer natively than wasm could ever win is not tried there.
	heavyNative := &timedLocal{kind: platform.ArtifactNative, takes: 5 * time.Millisecond}
	heavyWASM := &timedLocal{kind: platform.ArtifactWASM}
	h := &LocalExecutors{Native: heavyNative, WASM: heavyWASM}
	for range 30 {
		h.ExecuteReporting(ctx, nil, pure, nil)
	}
	if heavyWASM.runs != 0 {
		t.Fatalf("a 3 ms job was tried in wasm %d times", heavyWASM.runs)
	}
	// Without a native artifact (a state from before native builds), wasm.
	old := &manifest.Job{Name: "old", Artifacts: map[platform.ArtifactKind]string{platform.ArtifactWASM: "w"}, Analysis: job.Analysis{Pure: true}}
	if _, kind, _ := l.ExecuteReporting(ctx, nil, old, nil); kind != platform.ArtifactWASM {
		t.Fatalf("a job with only a wasm artifact ran as %s", kind)
	}
}

// coldLocal is a wasm executor whose module compiles in the background when warmed.
type coldLocal struct {
	timedLocal
	mu    sync.Mutex
	ready bool
}

func (c *coldLocal) Ready(*manifest.Job) bool { c.mu.Lock(); defer c.mu.Unlock(); return c.ready }

func (c *coldLocal) Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error {
	time.Sleep(50 * time.Millisecond) // compiling
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
	return nil
}

// No caller waits for the wasm module to compile: runs stay native until it is ready.
func TestLocalExecutors_probesWASMOnlyWhenReady(t *testing.T) {
	native := &timedLocal{kind: platform.ArtifactNative, takes: 5 * time.Millisecond}
	wasm := &coldLocal{timedLocal: timedLocal{kind: platform.ArtifactWASM, takes: 50 * time.Microsecond}}
	l := &LocalExecutors{Native: native, WASM: wasm, ProbeWASMBelow: time.Second}
	j := &manifest.Job{Name: "tiny", Analysis: job.Analysis{Pure: true},
		Artifacts: map[platform.ArtifactKind]string{platform.ArtifactNative: "n", platform.ArtifactWASM: "w"}}
	for range speedSamples + 3 {
		if _, kind, _ := l.ExecuteReporting(context.Background(), nil, j, nil); kind != platform.ArtifactNative {
			t.Fatalf("ran as %s before the module was ready", kind)
		}
	}
	waitFor(t, "module ready", func() bool { return wasm.Ready(j) })
	kinds := map[platform.ArtifactKind]int{}
	for range 20 {
		_, kind, _ := l.ExecuteReporting(context.Background(), nil, j, nil)
		kinds[kind]++
	}
	if kinds[platform.ArtifactWASM] < 15 {
		t.Fatalf("once ready, the faster wasm ran %v", kinds)
	}
}
