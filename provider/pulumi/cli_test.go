package pulumi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
	"github.com/serverless-blueprint/blueprint/runtimeagent/wasmlocal"
	"github.com/serverless-blueprint/blueprint/sdk/go/blueprint"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// PulumiEnv names the pulumi CLI the end-to-end tests run; `make test` sets it from
// tools/pulumi.sh.
const PulumiEnv = "BLUEPRINT_PULUMI"

// cliWorkspace prepares what the real Pulumi CLI needs: the CLI itself and this tree's
// provider binary first on PATH (the engine takes a provider plugin found on PATH), a
// private PULUMI_HOME, a file:// backend and a passphrase secrets provider.
func cliWorkspace(t *testing.T) []auto.LocalWorkspaceOption {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end with the pulumi CLI: run without -short (make test does)")
	}
	cli := os.Getenv(PulumiEnv)
	if cli == "" {
		var err error
		if cli, err = exec.LookPath("pulumi"); err != nil {
			t.Fatalf("pulumi CLI not found: run tools/pulumi.sh (make test does) and set %s to the path it prints", PulumiEnv)
		}
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "pulumi-resource-blueprint"), "./cmd/pulumi-resource-blueprint")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+filepath.Dir(cli)+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("PULUMI_SKIP_UPDATE_CHECK", "true")
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "blueprint-test")
	backend := t.TempDir()
	return []auto.LocalWorkspaceOption{
		auto.PulumiHome(t.TempDir()),
		auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": "file://" + backend}),
	}
}

// TestCLIUpdateCycle: the real Pulumi CLI, through the automation API, runs a Go program that
// uses the generated SDK: a preview deploys nothing, `up` deploys the job to both hosts, a
// second `up` changes nothing, a code change is an update that redeploys, the runtime agent
// routes executions from the stack export, and `destroy` leaves the hosts empty.
func TestCLIUpdateCycle(t *testing.T) {
	w := newWorld(t)
	opts := cliWorkspace(t)
	dir := w.writeModule("greet", greetSource("hello "))
	program := func(ctx *pulumi.Context) error {
		hosts := pulumi.StringMap{}
		for r, u := range w.hosts {
			hosts[r] = pulumi.String(u)
		}
		prov, err := blueprint.NewProvider(ctx, "blueprint", &blueprint.ProviderArgs{
			ArtifactStore: pulumi.String(w.store),
			StateStore:    pulumi.String("sqlite://" + w.states),
			Wasm:          &blueprint.WasmSettingsArgs{Hosts: hosts, Token: pulumi.String(w.token)},
		})
		if err != nil {
			return err
		}
		job, err := blueprint.NewJob(ctx, "greet", &blueprint.JobArgs{
			Package:     pulumi.String(dir),
			Function:    pulumi.String("Greet"),
			Environment: pulumi.StringMap{"GREETING_STYLE": pulumi.String("warm")},
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		ctx.Export("eligible", job.Eligible)
		return nil
	}
	ctx := context.Background()
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "blueprint-e2e", program, opts...)
	if err != nil {
		t.Fatalf("creating the stack: %v", err)
	}

	if _, err := stack.Preview(ctx, optpreview.Diff()); err != nil {
		t.Fatalf("preview: %v", err)
	}
	for _, r := range regions {
		if fns := w.functions(r); len(fns) != 0 {
			t.Fatalf("a preview deployed %v to %s", fns, r)
		}
	}

	up, err := stack.Up(ctx)
	if err != nil {
		t.Fatalf("up: %v", err)
	}
	if up.Summary.ResourceChanges == nil || (*up.Summary.ResourceChanges)["create"] != 3 { // stack, provider, job
		t.Fatalf("first up: %v", up.Summary.ResourceChanges)
	}
	for _, r := range regions {
		if fns := w.functions(r); !slices.Equal(fns, []string{"greet"}) {
			t.Fatalf("%s holds %v after up", r, fns)
		}
	}

	again, err := stack.Up(ctx)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if changes := *again.Summary.ResourceChanges; changes["same"] != 3 || len(changes) != 1 {
		t.Fatalf("a second up must change nothing: %v", changes)
	}

	w.writeModule("greet", greetSource("good morning "))
	changed, err := stack.Up(ctx)
	if err != nil {
		t.Fatalf("up after a code change: %v", err)
	}
	if changes := *changed.Summary.ResourceChanges; changes["update"] != 1 {
		t.Fatalf("a code change must update the job in place: %v", changes)
	}

	export, err := stack.Export(ctx) // --show-secrets: the agent needs the job's environment
	if err != nil {
		t.Fatal(err)
	}
	exportPath := writeExport(t, export)
	m, err := manifest.Load(ctx, exportPath)
	if err != nil {
		t.Fatalf("the agent's manifest reader on the stack export: %v", err)
	}
	j, ok := m.Job("greet")
	if !ok || len(j.Deployments) != 2 || j.Environment["GREETING_STYLE"] != "warm" {
		t.Fatalf("manifest from the stack export: %+v", m.Jobs)
	}
	agent := startAgent(t, exportPath, w.token)
	out := runJob(t, agent, "greet", `{"name":"ada"}`)
	if !strings.Contains(out, "good morning ada") || !strings.Contains(out, `"platform":"wasm"`) {
		t.Fatalf("the agent, routing from the stack export with no local capacity, answered %s", out)
	}

	if _, err := stack.Destroy(ctx, optdestroy.Remove()); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	for _, r := range regions {
		if fns := w.functions(r); len(fns) != 0 {
			t.Fatalf("%s still holds %v after destroy", r, fns)
		}
	}
}

func writeExport(t *testing.T, d apitype.UntypedDeployment) string {
	t.Helper()
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stack.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startAgent runs the runtime agent on a stack export with no local capacity, so every
// execution goes to a deployment.
func startAgent(t *testing.T, path, token string) string {
	t.Helper()
	platforms, err := runtimeagent.NewPlatforms(builtin.Registry(), map[string]platform.Settings{wasm.PlatformName: {"token": token}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(platforms.Close)
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	states := statestore.NewStores(anystore.Opener(context.Background()))
	t.Cleanup(states.Close)
	local, err := wasmlocal.New(wasmlocal.Config{Runtime: rt, Fetcher: platforms, CacheDir: t.TempDir(), States: states})
	if err != nil {
		t.Fatal(err)
	}
	a, err := runtimeagent.New(context.Background(), runtimeagent.Config{StatePath: path, Policy: router.Policy{LocalCapacity: -1},
		Local: &runtimeagent.LocalExecutors{WASM: local}, Platforms: platforms, MemoBytes: -1, HedgeRatio: -1, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func runJob(t *testing.T, agent, name, input string) string {
	t.Helper()
	resp, err := http.Post(agent+"/v1/jobs/"+name+":run", "application/json", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("run %s: HTTP %d: %s", name, resp.StatusCode, body)
	}
	return string(body)
}
