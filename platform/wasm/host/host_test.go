package host_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wasmtest.Cleanup()
	os.Exit(code)
}

const token = "test-token"

// sharedRuntime keeps one compiled copy of the fixture for all hosts of the test binary.
var (
	rtOnce sync.Once
	rt     *engine.Runtime
)

func runtimeFor(t *testing.T) *engine.Runtime {
	fx := wasmtest.Fixtures(t)
	rtOnce.Do(func() {
		var err error
		rt, err = engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: fx.WazeroCache})
		if err != nil {
			t.Fatal(err)
		}
	})
	return rt
}

type testHost struct {
	t    *testing.T
	h    *host.Host
	srv  *httptest.Server
	data string
}

func startHost(t *testing.T, cfg host.Config) *testHost {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Region = "test-1"
	cfg.Token = token
	if cfg.Runtime == nil {
		cfg.Runtime = runtimeFor(t)
	}
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(func() { srv.Close(); h.Close(context.Background()) })
	return &testHost{t: t, h: h, srv: srv, data: cfg.DataDir}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorCode() string {
	var b struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

func (th *testHost) call(method, path string, body []byte, tok string) response {
	th.t.Helper()
	req, _ := http.NewRequest(method, th.srv.URL+path, bytes.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		th.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, raw}
}

func (th *testHost) do(method, path string, body []byte) response {
	th.t.Helper()
	return th.call(method, path, body, token)
}

func (th *testHost) mustStatus(r response, want int) response {
	th.t.Helper()
	if r.status != want {
		th.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

func (th *testHost) upload(code []byte) string {
	th.t.Helper()
	sum := sha256.Sum256(code)
	sha := hex.EncodeToString(sum[:])
	r := th.do("PUT", "/v1/blobs/"+sha, code)
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		th.t.Fatalf("upload: %d %s", r.status, r.body)
	}
	return sha
}

func (th *testHost) deploy(name string, cfg map[string]any) host.Function {
	th.t.Helper()
	body, _ := json.Marshal(cfg)
	r := th.mustStatus(th.do("PUT", "/v1/functions/"+name, body), http.StatusOK)
	var f host.Function
	if err := json.Unmarshal(r.body, &f); err != nil {
		th.t.Fatal(err)
	}
	return f
}

func TestAuth(t *testing.T) {
	th := startHost(t, host.Config{})
	r := th.mustStatus(th.call("GET", "/healthz", nil, ""), http.StatusOK)
	if !bytes.Contains(r.body, []byte(`"status":"ok"`)) || !bytes.Contains(r.body, []byte(`"region":"test-1"`)) {
		t.Fatalf("healthz body %s", r.body)
	}
	for _, tok := range []string{"", "wrong"} {
		for _, ep := range [][2]string{{"GET", "/v1/functions"}, {"PUT", "/v1/blobs/" + strings.Repeat("a", 64)}, {"POST", "/v1/functions/x/invoke"}, {"DELETE", "/v1/functions/x"}} {
			r := th.call(ep[0], ep[1], []byte("{}"), tok)
			if r.status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
				t.Fatalf("%s %s with token %q: %d %s", ep[0], ep[1], tok, r.status, r.body)
			}
		}
	}
	if _, err := host.New(context.Background(), host.Config{Region: "r", DataDir: t.TempDir()}); err == nil {
		t.Fatal("a host without token must be refused")
	}
}

func TestBlobs(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{})
	other := strings.Repeat("0", 64)
	r := th.mustStatus(th.do("PUT", "/v1/blobs/"+other, fx.Plain), http.StatusBadRequest)
	if r.errorCode() != "hash_mismatch" || !bytes.Contains(r.body, []byte(other)) || !bytes.Contains(r.body, []byte(fx.PlainSHA)) {
		t.Fatalf("hash mismatch answer must name both hashes: %s", r.body)
	}
	junk := []byte("definitely not wasm")
	sum := sha256.Sum256(junk)
	r = th.mustStatus(th.do("PUT", "/v1/blobs/"+hex.EncodeToString(sum[:]), junk), http.StatusBadRequest)
	if r.errorCode() != "invalid_module" {
		t.Fatalf("junk module: %s", r.body)
	}
	th.mustStatus(th.do("PUT", "/v1/blobs/"+fx.PlainSHA, fx.Plain), http.StatusCreated)
	th.mustStatus(th.do("PUT", "/v1/blobs/"+fx.PlainSHA, fx.Plain), http.StatusOK) // idempotent
	r = th.mustStatus(th.do("GET", "/v1/blobs/"+fx.PlainSHA, nil), http.StatusOK)
	if !bytes.Equal(r.body, fx.Plain) {
		t.Fatal("GET returned other bytes than were uploaded")
	}
	r = th.mustStatus(th.do("HEAD", "/v1/blobs/"+fx.PlainSHA, nil), http.StatusOK)
	if r.header.Get("Content-Length") != strconv.Itoa(len(fx.Plain)) || len(r.body) != 0 {
		t.Fatalf("HEAD: length %s, body %d bytes", r.header.Get("Content-Length"), len(r.body))
	}
	th.mustStatus(th.do("GET", "/v1/blobs/"+other, nil), http.StatusNotFound)
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+other, nil), http.StatusNotFound)
}

func TestFunctionLifecycleAndVersions(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{})
	cfg := map[string]any{"code_sha256": fx.PlainSHA, "entry": "greet", "memory_mb": 128, "timeout_ms": 5000, "pure": true,
		"tags": map[string]string{"blueprint:job": "greet"}}
	body, _ := json.Marshal(cfg)
	r := th.mustStatus(th.do("PUT", "/v1/functions/greet", body), http.StatusConflict)
	if r.errorCode() != "blob_missing" {
		t.Fatalf("deploy before upload: %s", r.body)
	}
	th.upload(fx.Plain)
	for _, bad := range []map[string]any{
		{"code_sha256": "xyz", "entry": "greet"},
		{"code_sha256": fx.PlainSHA, "entry": ""},
		{"code_sha256": fx.PlainSHA, "entry": "greet", "memory_mb": -1},
		{"code_sha256": fx.PlainSHA, "entry": "greet", "surprise": 1},
	} {
		b, _ := json.Marshal(bad)
		th.mustStatus(th.do("PUT", "/v1/functions/greet", b), http.StatusBadRequest)
	}
	th.mustStatus(th.do("PUT", "/v1/functions/bad%20name", body), http.StatusBadRequest)

	th.upload(fx.Plain) // the refused deploys released it (TestRejectedDeployLeavesNoModule)
	f := th.deploy("greet", cfg)
	if f.Version != "1" || f.Region != "test-1" || f.Name != "greet" || f.CodeSHA256 != fx.PlainSHA || f.Tags["blueprint:job"] != "greet" {
		t.Fatalf("first deploy: %+v", f)
	}
	if f = th.deploy("greet", cfg); f.Version != "1" {
		t.Fatalf("unchanged deploy moved the version to %s", f.Version)
	}
	cfg["memory_mb"] = 256
	if f = th.deploy("greet", cfg); f.Version != "2" || f.MemoryMB != 256 {
		t.Fatalf("config change: %+v", f)
	}
	cfg["tags"] = map[string]string{"blueprint:job": "greet", "team": "a"}
	if f = th.deploy("greet", cfg); f.Version != "3" {
		t.Fatalf("tag change: %+v", f)
	}
	var got host.Function
	json.Unmarshal(th.mustStatus(th.do("GET", "/v1/functions/greet", nil), http.StatusOK).body, &got)
	if got.Version != "3" || got.Tags["team"] != "a" {
		t.Fatalf("GET: %+v", got)
	}
	var list struct{ Functions []host.Function }
	json.Unmarshal(th.mustStatus(th.do("GET", "/v1/functions", nil), http.StatusOK).body, &list)
	if len(list.Functions) != 1 || list.Functions[0].Name != "greet" {
		t.Fatalf("list: %+v", list)
	}
	th.mustStatus(th.do("GET", "/v1/functions/absent", nil), http.StatusNotFound)
	th.mustStatus(th.do("DELETE", "/v1/functions/absent", nil), http.StatusNotFound)
}

func TestInvoke(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{MaxBodyBytes: 64})
	sha := th.upload(fx.Plain)
	for _, entry := range []string{"greet", "fail", "spin"} {
		th.deploy(entry, map[string]any{"code_sha256": sha, "entry": entry, "timeout_ms": 300, "pure": true})
	}
	r := th.mustStatus(th.do("PUT", "/v1/functions/ghost", []byte(`{"code_sha256":"`+sha+`","entry":"no_such_job"}`)), http.StatusBadRequest)
	if r.errorCode() != "unknown_entry" || !bytes.Contains(r.body, []byte("greet, hog")) {
		t.Fatalf("deploying an entry the module lacks: %s", r.body)
	}

	r = th.mustStatus(th.do("POST", "/v1/functions/greet/invoke", []byte(`{"name":"ada"}`)), http.StatusOK)
	if string(r.body) != `{"greeting":"hello, ada"}` || r.header.Get(host.FunctionErrorHeader) != "" {
		t.Fatalf("greet: %s", r.body)
	}
	r = th.mustStatus(th.do("POST", "/v1/functions/fail/invoke", []byte(`{}`)), http.StatusOK)
	if r.header.Get(host.FunctionErrorHeader) != "Unhandled" || !bytes.Contains(r.body, []byte(`"errorType":"ValidationError"`)) {
		t.Fatalf("fail: header %q body %s", r.header.Get(host.FunctionErrorHeader), r.body)
	}
	th.mustStatus(th.do("POST", "/v1/functions/greet/invoke", []byte(`{not json`)), http.StatusBadRequest)
	th.mustStatus(th.do("POST", "/v1/functions/greet/invoke", []byte(`{"name":"`+strings.Repeat("a", 100)+`"}`)), http.StatusRequestEntityTooLarge)
	th.mustStatus(th.do("POST", "/v1/functions/absent/invoke", []byte(`{}`)), http.StatusNotFound)
	r = th.mustStatus(th.do("POST", "/v1/functions/spin/invoke", []byte(`1`)), http.StatusGatewayTimeout)
	if r.errorCode() != "timeout" {
		t.Fatalf("spin: %s", r.body)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{MaxConcurrency: 1})
	sha := th.upload(fx.Plain)
	th.deploy("spin", map[string]any{"code_sha256": sha, "entry": "spin", "timeout_ms": 4000})
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "pure": true})
	done := make(chan string, 1)
	go func() {
		// The probing greet calls below may hold the slot for a moment: retry until the spin
		// call gets in.
		for attempt := 0; ; attempt++ {
			req, _ := http.NewRequest("POST", th.srv.URL+"/v1/functions/spin/invoke", strings.NewReader("1"))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- err.Error()
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || attempt == 100 {
				done <- resp.Status
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	deadline := time.Now().Add(3 * time.Second)
	var r response
	for time.Now().Before(deadline) {
		if r = th.do("POST", "/v1/functions/greet/invoke", []byte(`{}`)); r.status == http.StatusTooManyRequests {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		spin := "still running"
		select {
		case spin = <-done:
		default:
		}
		t.Fatalf("while the only slot is busy: %d %s (Retry-After %q); spin call: %s", r.status, r.body, r.header.Get("Retry-After"), spin)
	}
	if status := <-done; !strings.HasPrefix(status, "504") {
		t.Fatalf("spin: %s, want 504", status)
	}
	th.mustStatus(th.do("POST", "/v1/functions/greet/invoke", []byte(`{}`)), http.StatusOK)
}

func TestPersistenceAcrossRestart(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	data := t.TempDir()
	th := startHost(t, host.Config{DataDir: data})
	sha := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "tags": map[string]string{"k": "v"}})
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet", "memory_mb": 64, "tags": map[string]string{"k": "v"}})
	orphan := th.upload(fx.State) // uploaded, never deployed
	th.srv.Close()
	th.h.Close(context.Background())

	// A new host with its own runtime: nothing is shared with the first but the directory.
	again := startHost(t, host.Config{DataDir: data, Runtime: mustRuntime(t, wasmtest.Fixtures(t).WazeroCache)})
	var f host.Function
	json.Unmarshal(again.mustStatus(again.do("GET", "/v1/functions/greet", nil), http.StatusOK).body, &f)
	if f.Version != "2" || f.MemoryMB != 64 || f.Tags["k"] != "v" {
		t.Fatalf("after restart: %+v", f)
	}
	r := again.mustStatus(again.do("POST", "/v1/functions/greet/invoke", []byte(`{"name":"bo"}`)), http.StatusOK)
	if string(r.body) != `{"greeting":"hello, bo"}` {
		t.Fatalf("after restart: %s", r.body)
	}
	again.mustStatus(again.do("HEAD", "/v1/blobs/"+orphan, nil), http.StatusNotFound)
	if !bytes.Contains(again.mustStatus(again.call("GET", "/healthz", nil, ""), 200).body, []byte(`"functions":1`)) {
		t.Fatal("healthz does not count the restored function")
	}
}

// TestFunctionFileNamesItsFunction: a stored function file whose content names another
// function is refused at start, with the file to fix, rather than shadowing that function.
func TestFunctionFileNamesItsFunction(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	data := t.TempDir()
	th := startHost(t, host.Config{DataDir: data})
	sha := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet"})
	th.srv.Close()
	th.h.Close(context.Background())
	files, _ := filepath.Glob(filepath.Join(data, "*", "greet.json"))
	if len(files) != 1 {
		t.Fatalf("function files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if err := os.WriteFile(filepath.Join(filepath.Dir(files[0]), "other.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := host.New(context.Background(), host.Config{Region: "r", DataDir: data, Token: token, Runtime: runtimeFor(t)})
	if err == nil || !strings.Contains(err.Error(), `holds function "greet", not "other"`) {
		t.Fatalf("start with a misnamed function file: %v", err)
	}
}

// TestAbandonedUploadIsSwept: a module uploaded but never deployed (the client died between the
// two calls) is removed by a later deploy once it is older than the grace period; a fresh
// upload waiting for its deploy stays.
func TestAbandonedUploadIsSwept(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{})
	abandoned := th.upload(fx.State)
	files, _ := filepath.Glob(filepath.Join(th.data, "*", abandoned+".wasm"))
	if len(files) != 1 {
		t.Fatalf("blob files: %v", files)
	}
	old := time.Now().Add(-11 * time.Minute)
	if err := os.Chtimes(files[0], old, old); err != nil {
		t.Fatal(err)
	}
	fresh := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": fresh, "entry": "greet"})
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+abandoned, nil), http.StatusNotFound)
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+fresh, nil), http.StatusOK)
}

func mustRuntime(t *testing.T, dir string) *engine.Runtime {
	r, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	return r
}

func TestBlobCollectedWhenUnused(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{Runtime: mustRuntime(t, wasmtest.Fixtures(t).WazeroCache)})
	plain := th.upload(fx.Plain)
	state := th.upload(fx.State)
	th.deploy("a", map[string]any{"code_sha256": plain, "entry": "greet"})
	th.deploy("b", map[string]any{"code_sha256": plain, "entry": "sum"})
	blobFile := filepath.Join(th.data, "blobs", plain+".wasm")

	th.mustStatus(th.do("DELETE", "/v1/functions/a", nil), http.StatusNoContent)
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+plain, nil), http.StatusOK) // b still uses it
	// Moving b to other code releases the old module.
	th.deploy("b", map[string]any{"code_sha256": state, "entry": "tally"})
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+plain, nil), http.StatusNotFound)
	if _, err := os.Stat(blobFile); !os.IsNotExist(err) {
		t.Fatalf("module file still on disk: %v", err)
	}
	th.mustStatus(th.do("DELETE", "/v1/functions/b", nil), http.StatusNoContent)
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+state, nil), http.StatusNotFound)
	entries, _ := os.ReadDir(filepath.Join(th.data, "blobs"))
	if len(entries) != 0 {
		t.Fatalf("destroy left %d files in the blob store", len(entries))
	}
}

// TestRejectedDeployLeavesNoModule: a module uploaded for a deploy the host then refuses is
// removed with the refusal, so a failed apply followed by a destroy leaves nothing behind.
func TestRejectedDeployLeavesNoModule(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{Runtime: mustRuntime(t, wasmtest.Fixtures(t).WazeroCache)})
	for _, bad := range []map[string]any{
		{"entry": "no_such_job"},
		{"entry": "greet", "memory_mb": 1 << 20},
	} {
		sha := th.upload(fx.Plain)
		bad["code_sha256"] = sha
		body, _ := json.Marshal(bad)
		th.mustStatus(th.do("PUT", "/v1/functions/ghost", body), http.StatusBadRequest)
		th.mustStatus(th.do("HEAD", "/v1/blobs/"+sha, nil), http.StatusNotFound)
	}
	// A module a function uses stays when another deploy of it is refused.
	sha := th.upload(fx.Plain)
	th.deploy("greet", map[string]any{"code_sha256": sha, "entry": "greet"})
	th.mustStatus(th.do("PUT", "/v1/functions/ghost", []byte(`{"code_sha256":"`+sha+`","entry":"no_such_job"}`)), http.StatusBadRequest)
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+sha, nil), http.StatusOK)
	th.mustStatus(th.do("POST", "/v1/functions/greet/invoke", []byte(`{"name":"al"}`)), http.StatusOK)
}
