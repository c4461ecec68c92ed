package wasm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// latencies records one duration per op and reports the median and 99th percentile beside
// ns/op, since a mean hides the tail that hedging and routing care about.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkRuntimeInvokeWarm is an in-process call of a pure job on a resident instance:
// JSON in through linear memory, the job, JSON out.
func BenchmarkRuntimeInvokeWarm(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	opts := wasm.InvokeOptions{Pure: true, Timeout: 10 * time.Second}
	if _, err := m.Invoke(ctx, "greet", input, opts); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
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
	lat.report(b)
}

// BenchmarkRuntimeInvokeWarmUnchecked is the same call on a runtime built without
// termination checks (RuntimeConfig.SkipTerminationChecks): the price of safe timeouts.
func BenchmarkRuntimeInvokeWarmUnchecked(b *testing.B) {
	fx := wasmtest.Fixtures(b)
	rt, err := wasm.NewRuntime(context.Background(), wasm.RuntimeConfig{CacheDir: fx.WazeroCache, SkipTerminationChecks: true})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(context.Background())
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	opts := wasm.InvokeOptions{Pure: true}
	lat := make(latencies, 0, b.N)
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
	lat.report(b)
}

// BenchmarkRuntimeInvokeFresh is the cost of a job the analysis could not prove pure: a new
// instance (Go runtime start-up) per call.
func BenchmarkRuntimeInvokeFresh(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	lat := make(latencies, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, wasm.InvokeOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.report(b)
}

// BenchmarkRuntimeInvokeFreshSpaced is a job that is not pure called every 20 ms: each call
// gets a never-used spare instance that was started in the background after the previous one.
func BenchmarkRuntimeInvokeFreshSpaced(b *testing.B) {
	rt := newRuntime(b)
	m := loadPlain(b, rt)
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	lat := make(latencies, 0, b.N)
	for i := 0; i < b.N; i++ {
		time.Sleep(20 * time.Millisecond) // time for the spare to start; not measured
		start := time.Now()
		if _, err := m.Invoke(ctx, "greet", input, wasm.InvokeOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(len(lat)), "call-ns")
}

// BenchmarkHostInvokeWarm is an HTTP invocation of a pure trivial job through the client
// against a real host on 127.0.0.1 (keep-alive connection, resident instance).
func BenchmarkHostInvokeWarm(b *testing.B) {
	benchmarkHostInvoke(b, wasm.RuntimeConfig{})
}

// BenchmarkHostInvokeWarmUnchecked is the same against a host whose runtime skips termination
// checks (not what `blueprint host` does: shown to split the cost).
func BenchmarkHostInvokeWarmUnchecked(b *testing.B) {
	benchmarkHostInvoke(b, wasm.RuntimeConfig{SkipTerminationChecks: true})
}

func benchmarkHostInvoke(b *testing.B, cfg wasm.RuntimeConfig) {
	fx := wasmtest.Fixtures(b)
	c, _ := startHostsWith(b, cfg, "bench-1")
	ctx := context.Background()
	d, err := c.Deploy(ctx, platform.DeployRequest{
		Region:       "bench-1",
		Function:     platform.Function{Name: "greet", Entry: "greet", Pure: true, TimeoutMS: 10000},
		ArtifactPath: fx.PlainPath, ArtifactSHA256: fx.PlainSHA,
	})
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(`{"name":"bench"}`)
	if _, err := c.Invoke(ctx, d, input); err != nil {
		b.Fatal(err)
	}
	lat := make(latencies, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := c.Invoke(ctx, d, input); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.report(b)
}

// BenchmarkHTTPBaseline is the client and net/http round trip alone (a handler that answers
// at once, no wasm): what BenchmarkHostInvokeWarm costs beyond BenchmarkRuntimeInvokeWarm.
func BenchmarkHTTPBaseline(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"greeting":"hello, bench"}`))
	}))
	defer srv.Close()
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"base": srv.URL}, Token: "tok"})
	if err != nil {
		b.Fatal(err)
	}
	d := platform.Deployment{Platform: "wasm", Region: "base", FunctionID: "greet", Endpoint: srv.URL}
	ctx := context.Background()
	input := []byte(`{"name":"bench"}`)
	lat := make(latencies, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := c.Invoke(ctx, d, input); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	lat.report(b)
}

// BenchmarkQuickstartNativeVsWASM runs the quickstart's jobs on their sample inputs in a
// resident wasm instance, to compare with their native benchmark and sample profile
// (examples/terraform/quickstart/jobs): the analyzer profiles natively, so this is the factor
// between its max_duration_ms and what the wasm platform takes.
func BenchmarkQuickstartNativeVsWASM(b *testing.B) {
	ctx := context.Background()
	dir := filepath.Join("..", "..", "examples", "terraform", "quickstart", "jobs")
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
			opts := wasm.InvokeOptions{Pure: true, Timeout: 10 * time.Second}
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
