package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// TestEnvironmentSealed: a function's environment is what it runs with, but the host's disk
// holds it only sealed and its API only a digest.
func TestEnvironmentSealed(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	data := t.TempDir()
	th := startHost(t, host.Config{DataDir: data})
	sha := th.upload(fx.Plain)
	env := map[string]string{"SECRET": "hunter2", "MODE": "fast"}
	f := th.deploy("env", map[string]any{"code_sha256": sha, "entry": "env", "environment": env})
	if f.EnvironmentSHA256 != wasm.EnvironmentDigest(env) || f.Environment != nil {
		t.Fatalf("deploy answered %+v", f)
	}
	for _, path := range []string{"/v1/functions/env", "/v1/functions"} {
		if body := th.mustStatus(th.do("GET", path, nil), http.StatusOK).body; bytes.Contains(body, []byte("hunter2")) || !bytes.Contains(body, []byte(f.EnvironmentSHA256)) {
			t.Fatalf("GET %s shows the secret or no digest: %s", path, body)
		}
	}
	invokeEnv := func(th *testHost) string {
		t.Helper()
		return string(th.mustStatus(th.do("POST", "/v1/functions/env/invoke", []byte(`["SECRET","MODE"]`)), http.StatusOK).body)
	}
	if got := invokeEnv(th); got != `"hunter2,fast"` {
		t.Fatalf("the function runs with %s", got)
	}
	file, _ := os.ReadFile(filepath.Join(data, "functions", "env.json"))
	if bytes.Contains(file, []byte("hunter2")) || !bytes.Contains(file, []byte("environment_sealed")) {
		t.Fatalf("the function file holds the secret in clear:\n%s", file)
	}
	if fi, err := os.Stat(filepath.Join(data, host.EnvironmentKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("environment key: %v %v", fi, err)
	}
	th.srv.Close()
	th.h.Close(context.Background())

	// A function file from before sealing is sealed at start and keeps working.
	legacy := map[string]any{"name": "legacy", "region": "test-1", "version": "1", "code_sha256": sha, "entry": "env",
		"timeout_ms": 5000, "environment": map[string]string{"SECRET": "old"}}
	raw, _ := json.Marshal(legacy)
	if err := os.WriteFile(filepath.Join(data, "functions", "legacy.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	again := startHost(t, host.Config{DataDir: data})
	if got := invokeEnv(again); got != `"hunter2,fast"` {
		t.Fatalf("after restart the function runs with %s", got)
	}
	if got := again.mustStatus(again.do("POST", "/v1/functions/legacy/invoke", []byte(`["SECRET"]`)), http.StatusOK).body; string(got) != `"old"` {
		t.Fatalf("the legacy function runs with %s", got)
	}
	if file, _ := os.ReadFile(filepath.Join(data, "functions", "legacy.json")); bytes.Contains(file, []byte(`"old"`)) {
		t.Fatalf("the legacy file was not sealed:\n%s", file)
	}
	again.srv.Close()
	again.h.Close(context.Background())

	// Another key does not open them: the host says so instead of running without them.
	other := filepath.Join(t.TempDir(), "other.key")
	os.WriteFile(other, bytes.Repeat([]byte{7}, 32), 0o600)
	_, err := host.New(context.Background(), host.Config{Region: "test-1", DataDir: data, Token: token, Runtime: runtimeFor(t), EnvironmentKeyFile: other})
	if err == nil || !strings.Contains(err.Error(), "does not open with this host's key") {
		t.Fatalf("another key: %v", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("short"), 0o600)
	if _, err := host.New(context.Background(), host.Config{Region: "test-1", DataDir: t.TempDir(), Token: token, Runtime: runtimeFor(t), EnvironmentKeyFile: short}); err == nil || !strings.Contains(err.Error(), "32 random bytes") {
		t.Fatalf("a short key: %v", err)
	}
}
