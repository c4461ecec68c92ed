package wasm_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/platformtest"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// TestConformance runs the platform suite against a real `blueprint host`. Throttling is
// injected by a proxy in front of it that answers as a host with every slot busy does (429,
// Retry-After, the host's error body): filling a real host's slots on demand would need a job
// that blocks, and what is under test is how the client reads that answer.
func TestConformance(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	ctx := context.Background()
	rt, err := engine.NewRuntime(ctx, engine.RuntimeConfig{CacheDir: fx.WazeroCache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	h, err := host.New(ctx, host.Config{Region: "conf-1", DataDir: t.TempDir(), Token: "tok", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	hostSrv := httptest.NewServer(h.Handler())
	t.Cleanup(func() { hostSrv.Close(); h.Close(context.Background()) })
	proxy := newThrottleProxy(t, hostSrv.URL)

	settings := platform.Settings{"hosts": map[string]string{"conf-1": proxy.URL}, "token": "tok"}
	d := wasm.Platform()
	deployer, err := d.NewDeployer(settings)
	if err != nil {
		t.Fatal(err)
	}
	invoker, err := d.NewInvoker(settings)
	if err != nil {
		t.Fatal(err)
	}
	operator, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"conf-1": hostSrv.URL}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	platformtest.Run(t, platformtest.Harness{
		Platform: d, Deployer: deployer, Invoker: invoker, Region: "conf-1", CacheDir: filepath.Join(fx.Dir, "artifacts"),
		DeleteOutOfBand: operator.Delete,
		Throttle:        proxy.Throttle,
	})
}

// throttleProxy passes everything to the host, except invocations of throttled functions.
type throttleProxy struct {
	*httptest.Server
	platformtest.Throttles
}

func newThrottleProxy(t *testing.T, target string) *throttleProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &throttleProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/invoke") || strings.HasSuffix(r.URL.Path, "/invoke-batch")) {
			fn := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/functions/"), "/")[0]
			if after, ok := p.RetryAfter(fn); ok {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", fmt.Sprint(int(after.Seconds())))
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"code":"too_many_requests","message":"all 2 invocation slots are busy: retry later"}}`)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}
