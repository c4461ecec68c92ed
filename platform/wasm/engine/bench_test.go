package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// BenchmarkRuntimeInvokeWarm is an in-process call of a pure job on a resident instance:
// JSON in through linear memory, the job, JSON out.
func BenchmarkRuntimeInvokeWarm(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	opts := engine.InvokeOptions{Pure: true, Timeout: 10 * time.Second}
	if _, err := m.Invoke(ctx, "greet", input, opts); err != nil {
		b.Fatal(err)
	}
	lat := make(wasmtest.Latencies, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, opts); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.Report(b)
}

// BenchmarkRuntimeInvokeWarmUnchecked is the same call on a runtime built without
// termination checks (RuntimeConfig.SkipTerminationChecks): the price of safe timeouts.
func BenchmarkRuntimeInvokeWarmUnchecked(b *testing.B) {
	fx := wasmtest.Fixtures(b)
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: fx.WazeroCache, SkipTerminationChecks: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	opts := engine.InvokeOptions{Pure: true}
	lat := make(wasmtest.Latencies, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, opts); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.Report(b)
}

// BenchmarkRuntimeInvokeFresh is the cost of a job the analysis could not prove pure: a new
// instance (Go runtime start-up) per call.
func BenchmarkRuntimeInvokeFresh(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	lat := make(wasmtest.Latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, engine.InvokeOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.Report(b)
}

// BenchmarkRuntimeInvokeFreshSpaced is a job that is not pure called every 20 ms: each call
// gets a never-used spare instance that was started in the background after the previous one.
func BenchmarkRuntimeInvokeFreshSpaced(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	lat := make(wasmtest.Latencies, 0, b.N)
	for i := 0; i < b.N; i++ {
		time.Sleep(20 * time.Millisecond) // time for the spare to start; not measured
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, engine.InvokeOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.Report(b)
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(len(lat)), "call-ns")
}

// BenchmarkQuickstartNativeVsWASM runs the quickstart's jobs on their sample inputs in a
// resident wasm instance, to compare with their native benchmark and sample profile
// (examples/terraform/quickstart/jobs): the analyzer profiles natively, so this is the factor
// between its max_duration_ms and what the wasm platform takes.
func BenchmarkQuickstartNativeVsWASM(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join("..", "..", "..", "examples", "terraform", "quickstart", "jobs")
	art, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: dir, CacheDir: b.TempDir(),
		Jobs: []job.Analysis{{Name: "resize_image", Function: "ResizeImage"}, {Name: "top_words", Function: "TopWords"}}})
	if err != nil {
		b.Fatal(err)
	}
	code, err := os.ReadFile(art.Path)
	if err != nil {
		b.Fatal(err)
	}
	rt := newRuntime(b)
	m, err := rt.Load(ctx, code)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ entry, sample string }{
		{"resize_image", "resize_image/256_to_64.json"},
		{"top_words", "top_words/dickens.json"},
	} {
		b.Run(c.entry, func(b *testing.B) {
			input, err := os.ReadFile(filepath.Join(dir, "testdata", c.sample))
			if err != nil {
				b.Fatal(err)
			}
			opts := engine.InvokeOptions{Pure: true, Timeout: 10 * time.Second}
			if _, err := m.Invoke(ctx, c.entry, input, opts); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := m.Invoke(ctx, c.entry, input, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
