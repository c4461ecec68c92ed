package runtimeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent/wasmlocal"
)

// spinN is the fixture's Spin job (nativeJobsSource), called in-process: the baseline.
func spinN(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// doubleJob is the fixture's Double job, called in-process: the trivial baseline.
//
//go:noinline
func doubleJob(ctx context.Context, n int) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("negative: %d", n)
	}
	return n * 2, nil
}

// spinRounds makes Spin take about 20 ms on this machine (2 vCPU AMD EPYC, go1.26.8).
const spinRounds = 12_000_000

// nativeAgent serves an agent whose only jobs run natively here, from a manifest file.
func nativeAgent(b *testing.B) string {
	store, sha := nativeFixture(b)
	var jobs []manifest.Job
	for _, name := range []string{"spin", "double"} {
		jobs = append(jobs, manifest.Job{Name: name, Eligible: false, Artifacts: map[platform.ArtifactKind]string{platform.ArtifactNative: sha},
			ArtifactStore: store, Analysis: job.Analysis{Name: name, Mode: job.ModeLocal, TimeoutMS: 60_000}})
	}
	raw, _ := json.Marshal(manifest.Manifest{Version: manifest.Version, Jobs: jobs})
	path := filepath.Join(b.TempDir(), "manifest.json")
	os.WriteFile(path, raw, 0o600)
	x, err := NewNativeExecutor(NativeExecutorConfig{CacheDir: b.TempDir(), Workers: 2, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(x.Close)
	a, err := New(context.Background(), Config{StatePath: path, Policy: router.Policy{LocalCapacity: 2}, Local: x,
		Platforms: fakePlatforms(b, nil), MemoBytes: -1, HedgeRatio: -1, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	b.Cleanup(srv.Close)
	return srv.URL
}

func postRun(b *testing.B, client *http.Client, url, input string) {
	resp, err := client.Post(url, "application/json", strings.NewReader(input))
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// BenchmarkNativeCPU compares a CPU-bound job (about 20 ms) called in-process with the same
// job run locally through the agent's HTTP API in a native worker.
//
//	go test -run '^$' -bench 'BenchmarkNative' -count 6 ./runtimeagent
func BenchmarkNativeCPU(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			spinN(spinRounds)
		}
	})
	b.Run("agent-native", func(b *testing.B) {
		url := nativeAgent(b) + "/v1/jobs/spin:run"
		client := &http.Client{}
		input := fmt.Sprintf(`{"n":%d}`, spinRounds)
		postRun(b, client, url, input) // start the worker
		b.ResetTimer()
		for b.Loop() {
			postRun(b, client, url, input)
		}
	})
}

// BenchmarkNativeTrivial is the round trip of a trivial job through the agent to a native
// worker, against calling a trivial function in-process.
func BenchmarkNativeTrivial(b *testing.B) {
	b.Run("in-process", func(b *testing.B) {
		var l []time.Duration
		ctx := context.Background()
		for b.Loop() {
			t0 := time.Now()
			out, err := doubleJob(ctx, 21)
			if err != nil || out != 42 {
				b.Fatal(out, err)
			}
			l = append(l, time.Since(t0))
		}
		reportPercentiles(b, l)
	})
	b.Run("executor", func(b *testing.B) {
		store, sha := nativeFixture(b)
		x, err := NewNativeExecutor(NativeExecutorConfig{CacheDir: b.TempDir(), Workers: 1, Logger: hclog.NewNullLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(x.Close)
		j := nativeJob("double", store, sha, time.Minute)
		m := &manifest.Manifest{}
		if _, err := x.Execute(context.Background(), m, j, []byte(`{"n":21}`)); err != nil {
			b.Fatal(err)
		}
		l := make([]time.Duration, 0, 1<<16)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			if _, err := x.Execute(context.Background(), m, j, []byte(`{"n":21}`)); err != nil {
				b.Fatal(err)
			}
			l = append(l, time.Since(t0))
		}
		reportPercentiles(b, l)
	})
	b.Run("agent-native", func(b *testing.B) {
		url := nativeAgent(b) + "/v1/jobs/double:run"
		client := &http.Client{}
		postRun(b, client, url, `{"n":21}`)
		l := make([]time.Duration, 0, 1<<16)
		b.ResetTimer()
		for b.Loop() {
			t0 := time.Now()
			postRun(b, client, url, `{"n":21}`)
			l = append(l, time.Since(t0))
		}
		reportPercentiles(b, l)
	})
}

// BenchmarkLocalAuto is the trivial pure job (the plainjobs fixture's greet) with both a wasm
// module and a native bootstrap, run locally through the agent's HTTP API: the agent measures
// both and settles on the faster, a resident wasm instance.
func BenchmarkLocalAuto(b *testing.B) {
	ctx := context.Background()
	wasmArt := buildFixture(b)
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "packager", "testdata", "plainjobs")
	nativeArt, err := packager.BuildNative(ctx, packager.NativeBuild{Dir: dir, Jobs: e2eJobs})
	if err != nil {
		b.Fatal(err)
	}
	storeDir := b.TempDir()
	store, _ := artifactstore.Open(storeDir)
	if err := store.Put(ctx, nativeArt.Path, nativeArt.SHA256); err != nil {
		b.Fatal(err)
	}
	// The wasm executor finds the module in its cache, as after a first fetch from a host.
	modCache := b.TempDir()
	code, _ := os.ReadFile(wasmArt.Path)
	os.WriteFile(filepath.Join(modCache, wasmArt.SHA256+".wasm"), code, 0o600)
	rt, err := engine.NewRuntime(ctx, engine.RuntimeConfig{CacheDir: filepath.Join(os.TempDir(), "blueprint-agent-test-wazero")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rt.Close(context.Background()) })
	platforms := fakePlatforms(b, nil)
	wasmLocal, err := wasmlocal.New(wasmlocal.Config{Runtime: rt, Fetcher: platforms, CacheDir: modCache})
	if err != nil {
		b.Fatal(err)
	}
	nativeLocal, err := NewNativeExecutor(NativeExecutorConfig{CacheDir: b.TempDir(), Workers: 2, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nativeLocal.Close)
	j := manifest.Job{Name: "greet", Eligible: false, ArtifactStore: store.URL(),
		Artifacts: map[platform.ArtifactKind]string{platform.ArtifactNative: nativeArt.SHA256, platform.ArtifactWASM: wasmArt.SHA256},
		Analysis:  job.Analysis{Name: "greet", Pure: true, Deterministic: true, Mode: job.ModeLocal, TimeoutMS: 60_000}}
	raw, _ := json.Marshal(manifest.Manifest{Version: manifest.Version, Jobs: []manifest.Job{j}})
	path := filepath.Join(b.TempDir(), "manifest.json")
	os.WriteFile(path, raw, 0o600)
	local := &LocalExecutors{Native: nativeLocal, WASM: wasmLocal}
	a, err := New(ctx, Config{StatePath: path, Policy: router.Policy{LocalCapacity: 2}, Local: local,
		Platforms: platforms, MemoBytes: -1, HedgeRatio: -1, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	b.Cleanup(srv.Close)
	url := srv.URL + "/v1/jobs/greet:run"
	client := &http.Client{}
	// Measure both executors before timing: the wasm module compiles in the background first.
	for deadline := time.Now().Add(time.Minute); ; {
		postRun(b, client, url, `{"name":"bench"}`)
		local.mu.Lock()
		settled := len(local.speed) == 1
		for _, c := range local.speed {
			settled = settled && c.nWASM >= speedSamples
		}
		local.mu.Unlock()
		if settled {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the executors were not both measured within a minute")
		}
	}
	for k, c := range local.speed {
		b.Logf("%s measured: native %v, wasm %v", k.job, c.native, c.wasm)
	}
	l := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		postRun(b, client, url, `{"name":"bench"}`)
		l = append(l, time.Since(t0))
	}
	reportPercentiles(b, l)
}
