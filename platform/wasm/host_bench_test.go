package wasm_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// BenchmarkHostInvokeWarm is an HTTP invocation of a pure trivial job through the client
// against a real host on 127.0.0.1 (keep-alive connection, resident instance).
func BenchmarkHostInvokeWarm(b *testing.B) {
	benchmarkHostInvoke(b, engine.RuntimeConfig{})
}

// BenchmarkHostInvokeWarmUnchecked is the same against a host whose runtime skips termination
// checks (not what `blueprint host` does: shown to split the cost).
func BenchmarkHostInvokeWarmUnchecked(b *testing.B) {
	benchmarkHostInvoke(b, engine.RuntimeConfig{SkipTerminationChecks: true})
}

func benchmarkHostInvoke(b *testing.B, cfg engine.RuntimeConfig) {
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
	lat := make(wasmtest.Latencies, 0, b.N)
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
	lat.Report(b)
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
	lat := make(wasmtest.Latencies, 0, b.N)
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
	lat.Report(b)
}
