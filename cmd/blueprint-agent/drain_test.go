package main

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

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
)

// TestRun_drainsInFlightExecutions starts the real agent (wasm runtime, remote invoker) on a
// state pointing at an in-process host, starts a job that runs until its 1 s limit, and stops
// the agent meanwhile: the running execution must finish with its answer, new connections must
// be refused, and run must return cleanly.
func TestRun_drainsInFlightExecutions(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	ctx := context.Background()
	state, token := spinState(t)

	o, err := parseOptions([]string{"--state", state, "--listen", "127.0.0.1:0", "--capacity", "2", "--cache", t.TempDir(), "--host-token", token, "--log-level", "error", "--drain-timeout", "60s"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	addrCh := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- run(runCtx, o, func(addr string) { addrCh <- addr }) }()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-runErr:
		t.Fatalf("agent did not start: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("agent did not start within a minute")
	}
	base := addr

	type result struct {
		status int
		body   string
		err    error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := http.Post(base+"/v1/jobs/spin:run", "application/json", strings.NewReader(`1`))
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		inFlight <- result{status: resp.StatusCode, body: string(body)}
	}()
	// Stop once the execution runs locally.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		var health struct {
			LocalInFlight int `json:"local_in_flight"`
		}
		json.NewDecoder(resp.Body).Decode(&health)
		resp.Body.Close()
		if health.LocalInFlight == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the execution never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()

	r := <-inFlight
	if r.err != nil || r.status != http.StatusGatewayTimeout || !strings.Contains(r.body, `"code":"timeout"`) {
		t.Fatalf("in-flight execution during drain: %d %s %v (want its own 504 timeout answer)", r.status, r.body, r.err)
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after draining")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("the agent still accepts connections after stopping")
	}
}

// spinState deploys the plainjobs fixture's spin job (runs until its 1 s limit) to an
// in-process host and writes a state that lists it. It returns the state's path and the
// host's token.
func spinState(t *testing.T) (state, token string) {
	t.Helper()
	ctx := context.Background()
	_, file, _, _ := runtime.Caller(0)
	fixtureDir := filepath.Join(filepath.Dir(file), "..", "..", "packager", "testdata", "plainjobs")
	buildCtx, cancelBuild := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelBuild()
	art, err := packager.BuildWASM(buildCtx, packager.WASMBuild{Dir: fixtureDir, Jobs: []job.Analysis{{Name: "greet", Function: "Greet"}, {Name: "spin", Function: "Spin"}}})
	if err != nil {
		t.Fatal(err)
	}

	token = "drain-test-token"
	h, err := host.New(ctx, host.Config{Region: "local-a", DataDir: t.TempDir(), Token: token, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hostSrv := httptest.NewServer(h.Handler())
	t.Cleanup(func() { hostSrv.Close(); h.Close(ctx) })
	client, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{"local-a": hostSrv.URL}, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	d, err := client.Deploy(ctx, platform.DeployRequest{Region: "local-a", Function: platform.Function{Name: "spin", Entry: "spin", MemoryMB: 128, TimeoutMS: 1000, Pure: true}, ArtifactPath: art.Path, ArtifactSHA256: art.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	deployment, _ := json.Marshal(d)
	state = filepath.Join(t.TempDir(), "terraform.tfstate")
	doc := fmt.Sprintf(`{"version":4,"terraform_version":"1.5.7","serial":1,"lineage":"t","outputs":{},"resources":[
{"mode":"managed","type":"blueprint_job","name":"spin","provider":"provider[\"registry.terraform.io/serverless-blueprint/blueprint\"]","instances":[{"schema_version":0,"attributes":{
"id":"spin","name":"spin","package":"./plainjobs","function":"Spin","force_serverless":null,"force_local":null,"memory_mb":null,"timeout_s":1,"platforms":null,"regions":null,"environment":null,
"analysis":{"name":"spin","function":"Spin","pure":true,"deterministic":true,"requires_state":false,"network_calls":[],"max_duration_ms":10,"memory_mb":128,"timeout_ms":1000,"mode":"auto","eligible":true,"input_type":"int","output_type":"int","findings":[]},
"eligible":true,"source_hash":"sha256:00","artifact_sha256":%q,"deployments":[%s]},"sensitive_attributes":[]}]}],"check_results":null}`, art.SHA256, deployment)
	if err := os.WriteFile(state, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}

	return state, token
}
