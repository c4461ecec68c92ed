package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// startHosts runs one real host per region on 127.0.0.1 and returns a client for them.
func startHosts(t testing.TB, regions ...string) (*wasm.Client, map[string]string) {
	return startHostsWith(t, engine.RuntimeConfig{}, regions...)
}

func startHostsWith(t testing.TB, cfg engine.RuntimeConfig, regions ...string) (*wasm.Client, map[string]string) {
	t.Helper()
	fx := wasmtest.Fixtures(t)
	cfg.CacheDir = fx.WazeroCache
	rt, err := engine.NewRuntime(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	urls := map[string]string{}
	for _, region := range regions {
		h, err := host.New(context.Background(), host.Config{Region: region, DataDir: t.TempDir(), Token: "tok", Runtime: rt})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h.Handler())
		t.Cleanup(func() { srv.Close(); h.Close(context.Background()) })
		urls[region] = srv.URL
	}
	c, err := wasm.NewClient(wasm.Config{Hosts: urls, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	return c, urls
}

func TestClientDeployInvokeDelete(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	c, urls := startHosts(t, "eu-1", "us-1")
	ctx := context.Background()
	if c.Name() != "wasm" || strings.Join(c.Regions(), ",") != "eu-1,us-1" {
		t.Fatalf("name %s regions %v", c.Name(), c.Regions())
	}
	req := platform.DeployRequest{
		Region: "eu-1",
		Function: platform.Function{Name: "greet-fn", Entry: "greet", MemoryMB: 128, TimeoutMS: 5000, Pure: true,
			Tags: map[string]string{platform.TagJob: "greet"}},
		ArtifactPath: fx.PlainPath, ArtifactSHA256: fx.PlainSHA,
	}
	d, err := c.Deploy(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := platform.Deployment{Platform: "wasm", Region: "eu-1", FunctionID: "greet-fn", Version: "1", Endpoint: urls["eu-1"], CodeSHA256: fx.PlainSHA}
	if d.Tags[platform.TagJob] != "greet" {
		t.Fatalf("tags %v", d.Tags)
	}
	cmp := d
	cmp.Tags = nil
	if !reflect.DeepEqual(cmp, want) {
		t.Fatalf("deployment %+v, want %+v", d, want)
	}
	again, err := c.Deploy(ctx, req)
	if err != nil || again.Version != "1" {
		t.Fatalf("redeploy: %+v, %v", again, err)
	}
	got, err := c.Get(ctx, "eu-1", "greet-fn")
	if err != nil || got.Version != "1" || got.Tags[platform.TagJob] != "greet" {
		t.Fatalf("get: %+v, %v", got, err)
	}
	out, err := c.Invoke(ctx, d, []byte(`{"name":"eve"}`))
	if err != nil || string(out) != `{"greeting":"hello, eve"}` {
		t.Fatalf("invoke: %s, %v", out, err)
	}
	code, err := c.FetchModule(ctx, d.Endpoint, fx.PlainSHA)
	if err != nil || len(code) != len(fx.Plain) {
		t.Fatalf("fetch module: %d bytes, %v", len(code), err)
	}
	if _, err := c.FetchModule(ctx, d.Endpoint, fx.StateSHA); err == nil {
		t.Fatal("fetching a module the host lacks must fail")
	}

	req.Function = platform.Function{Name: "fail-fn", Entry: "fail"}
	fd, err := c.Deploy(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Invoke(ctx, fd, []byte(`{}`))
	var fe *platform.FunctionError
	if !errors.As(err, &fe) || fe.Type != "ValidationError" {
		t.Fatalf("job error: %v", err)
	}

	if _, err := c.Get(ctx, "us-1", "greet-fn"); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("get in the other region: %v, want ErrNotFound", err)
	}
	if err := c.Delete(ctx, "eu-1", "greet-fn"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "eu-1", "greet-fn"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := c.Get(ctx, "eu-1", "greet-fn"); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := c.Invoke(ctx, d, []byte(`{}`)); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("invoke after delete: %v", err)
	}
	if _, err := c.Deploy(ctx, platform.DeployRequest{Region: "mars", Function: req.Function}); err == nil || !strings.Contains(err.Error(), `"mars"`) {
		t.Fatalf("unknown region: %v", err)
	}
	// A hosts map that sends a region to a host of another region is caught, not recorded.
	swapped, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": urls["us-1"]}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := swapped.Deploy(ctx, req); err == nil || !strings.Contains(err.Error(), `serves region "us-1", not "eu-1"`) {
		t.Fatalf("swapped region: %v", err)
	}
	if _, err := c.Get(ctx, "us-1", req.Function.Name); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the refused deploy changed the other region's host: %v", err)
	}
}

func TestClientErrorsNameRegionAndURL(t *testing.T) {
	if _, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": "ftp://x"}}); err == nil || !strings.Contains(err.Error(), "eu-1") {
		t.Fatalf("bad URL: %v", err)
	}
	if _, err := wasm.NewClient(wasm.Config{}); err == nil {
		t.Fatal("no hosts must be an error")
	}
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": dead}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "eu-1", "f")
	if err == nil || !strings.Contains(err.Error(), "eu-1") || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("unreachable host: %v", err)
	}

	// Status codes the router acts on come back as sentinels.
	for status, want := range map[int]error{429: wasm.ErrThrottled, 504: context.DeadlineExceeded, 404: platform.ErrNotFound} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(`{"error":{"code":"x","message":"y"}}`))
		}))
		c, _ := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": srv.URL}})
		_, err := c.Invoke(context.Background(), platform.Deployment{Region: "eu-1", FunctionID: "f", Endpoint: srv.URL}, []byte(`{}`))
		srv.Close()
		if !errors.Is(err, want) {
			t.Errorf("status %d: got %v, want %v", status, err, want)
		}
	}

	// A 429 carries the host's Retry-After, so the router can leave the region out until then.
	for header, want := range map[string]time.Duration{"3": 3 * time.Second, "": 0, "soon": 0} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if header != "" {
				w.Header().Set("Retry-After", header)
			}
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		c, _ := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": srv.URL}})
		_, err := c.Invoke(context.Background(), platform.Deployment{Region: "eu-1", FunctionID: "f", Endpoint: srv.URL}, []byte(`{}`))
		srv.Close()
		var te *platform.ThrottledError
		if !errors.As(err, &te) || te.RetryAfter != want || !errors.Is(err, wasm.ErrThrottled) {
			t.Errorf("429 with Retry-After %q: got %v (%#v), want a throttled error with RetryAfter %v", header, err, te, want)
		}
	}

	_, urls := startHosts(t, "eu-1")
	c, _ = wasm.NewClient(wasm.Config{Hosts: urls, Token: "not-the-token"})
	if _, err := c.Get(context.Background(), "eu-1", "f"); err == nil || !strings.Contains(err.Error(), "refused the token") {
		t.Fatalf("wrong token: %v", err)
	}
}

// TestClientUploadsSharedModuleOnce: ten jobs of one package deployed at once to a host send
// their shared module once; the other nine deploys wait for that upload.
func TestClientUploadsSharedModuleOnce(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: fx.WazeroCache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	h, err := host.New(context.Background(), host.Config{Region: "eu-1", DataDir: t.TempDir(), Token: "tok", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	var puts atomic.Int64
	handler := h.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/blobs/") {
			puts.Add(1)
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); h.Close(context.Background()) })
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"eu-1": srv.URL}, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Deploy(context.Background(), platform.DeployRequest{Region: "eu-1",
				Function:     platform.Function{Name: fmt.Sprintf("greet-%d", i), Entry: "greet", MemoryMB: 128, TimeoutMS: 5000, Pure: true},
				ArtifactPath: fx.PlainPath, ArtifactSHA256: fx.PlainSHA})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := puts.Load(); n != 1 {
		t.Errorf("the shared module was uploaded %d times, want once", n)
	}
}
