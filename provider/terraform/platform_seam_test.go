package terraform

// This file proves the platform seam: "inproc", a platform that exists only here, registers
// itself and goes through the provider (plan, apply, destroy with the real terraform CLI), the
// lifecycle and the runtime agent beside wasm, with no line of provider/, resources/ or
// runtimeagent/ naming it. It sorts before "wasm" and runs its own kind of artifact, so a
// job deployed to both records two hashes, and the agent must pick the right one for local
// runs (the wasm module) and for memoized results (the artifact that computed them).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/platform/platformtest"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
	"github.com/serverless-blueprint/blueprint/runtimeagent/wasmlocal"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

const (
	inprocName   = "inproc"
	inprocHeader = "blueprint-inproc-bundle v1\n"
)

// inprocKind is the inproc platform's artifact: the job's wasm module behind a header, so its
// bytes and hash differ from the module's.
const inprocKind platform.ArtifactKind = "inproc_bundle"

// inprocPlatform keeps functions in memory and runs them with wazero in this process.
type inprocPlatform struct {
	rt       *engine.Runtime
	cacheDir string

	mu          sync.Mutex
	functions   map[string]inprocFunction // by region + "/" + name
	invocations map[string]int            // by region + "/" + name
	modules     map[string]*engine.Module // by bundle sha256
	throttles   platformtest.Throttles
}

type inprocFunction struct {
	fn      platform.Function
	sha     string
	code    []byte // the wasm module
	version int
}

func newInprocPlatform(t testing.TB) *inprocPlatform {
	t.Helper()
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: filepath.Join(os.TempDir(), "blueprint-wasmtest-wazero-cache")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return &inprocPlatform{rt: rt, cacheDir: t.TempDir(), functions: map[string]inprocFunction{},
		invocations: map[string]int{}, modules: map[string]*engine.Module{}}
}

// descriptor is the registration: everything the provider, the lifecycle and the agent learn
// about this platform.
func (p *inprocPlatform) descriptor() platform.Descriptor {
	return platform.Descriptor{
		Name:        inprocName,
		Description: "A test platform that runs functions inside the provider process.",
		Artifact:    inprocKind,
		Build:       p.build,
		Limits: platform.Limits{MaxPayloadBytes: 64 << 10, MinMemoryMB: 64, MaxMemoryMB: 1024, MemoryStepMB: 64,
			MaxTimeout: time.Minute, MaxBatchItems: 1},
		Settings: []platform.Setting{{Name: "regions", Type: platform.StringList, Required: true, Description: "Regions to serve."}},
		Validate: func(s platform.Settings) []*platform.SettingError {
			if _, set := s["regions"]; set && len(s.StringList("regions")) == 0 {
				return []*platform.SettingError{{Setting: "regions", Message: "is empty; name at least one region"}}
			}
			return nil
		},
		Regions: func(s platform.Settings) []string { return s.StringList("regions") },
		NewDeployer: func(s platform.Settings) (platform.Deployer, error) {
			return &inprocDeployer{p: p, regions: s.StringList("regions")}, nil
		},
		NewInvoker: func(platform.Settings) (platform.Invoker, error) { return p, nil },
	}
}

func (p *inprocPlatform) build(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	module, err := wasm.Platform().Build(ctx, req)
	if err != nil {
		return platform.Artifact{}, err
	}
	code, err := os.ReadFile(module.Path)
	if err != nil {
		return platform.Artifact{}, err
	}
	bundle := append([]byte(inprocHeader), code...)
	sum := sha256.Sum256(bundle)
	sha := hex.EncodeToString(sum[:])
	path := filepath.Join(p.cacheDir, sha+".bundle")
	if err := os.WriteFile(path, bundle, 0o644); err != nil {
		return platform.Artifact{}, err
	}
	return platform.Artifact{Kind: inprocKind, Path: path, SHA256: sha, Size: int64(len(bundle))}, nil
}

type inprocDeployer struct {
	p       *inprocPlatform
	regions []string
}

func (d *inprocDeployer) Name() string      { return inprocName }
func (d *inprocDeployer) Regions() []string { return d.regions }

func (d *inprocDeployer) Deploy(ctx context.Context, req platform.DeployRequest) (platform.Deployment, error) {
	if !slices.Contains(d.regions, req.Region) {
		return platform.Deployment{}, fmt.Errorf("inproc has no region %s", req.Region)
	}
	bundle, err := os.ReadFile(req.ArtifactPath)
	if err != nil {
		return platform.Deployment{}, err
	}
	sum := sha256.Sum256(bundle)
	if hex.EncodeToString(sum[:]) != req.ArtifactSHA256 || !bytes.HasPrefix(bundle, []byte(inprocHeader)) {
		return platform.Deployment{}, errors.New("inproc: the artifact is not the bundle it claims to be")
	}
	key := req.Region + "/" + req.Function.Name
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	prev, ok := d.p.functions[key]
	f := inprocFunction{fn: req.Function, sha: req.ArtifactSHA256, code: bundle[len(inprocHeader):], version: prev.version + 1}
	if ok && prev.sha == f.sha && sameFunction(prev.fn, f.fn) {
		f.version = prev.version // nothing changed: a no-op
	}
	d.p.functions[key] = f
	return d.p.deployment(req.Region, f), nil
}

func sameFunction(a, b platform.Function) bool {
	return a.Entry == b.Entry && a.MemoryMB == b.MemoryMB && a.TimeoutMS == b.TimeoutMS && a.Pure == b.Pure &&
		maps.Equal(a.Environment, b.Environment) && maps.Equal(a.Tags, b.Tags)
}

func (p *inprocPlatform) deployment(region string, f inprocFunction) platform.Deployment {
	return platform.Deployment{Platform: inprocName, Region: region, FunctionID: f.fn.Name, Version: strconv.Itoa(f.version),
		Endpoint: "inproc://" + region, CodeSHA256: f.sha, Tags: maps.Clone(f.fn.Tags)}
}

func (d *inprocDeployer) Get(ctx context.Context, region, id string) (platform.Deployment, error) {
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	f, ok := d.p.functions[region+"/"+id]
	if !ok {
		return platform.Deployment{}, fmt.Errorf("inproc function %s in %s: %w", id, region, platform.ErrNotFound)
	}
	return d.p.deployment(region, f), nil
}

func (d *inprocDeployer) Delete(ctx context.Context, region, id string) error {
	d.p.deleteFunction(ctx, region, id)
	return nil
}

func (p *inprocPlatform) deleteFunction(_ context.Context, region, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.functions, region+"/"+id)
	return nil
}

// Invoke runs the function's module in this process, as the platform would in its region.
func (p *inprocPlatform) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	if n := int64(len(input)); n > p.descriptor().Limits.MaxPayloadBytes {
		return nil, &platform.PayloadTooLargeError{Platform: inprocName, Size: n, Limit: p.descriptor().Limits.MaxPayloadBytes}
	}
	key := d.Region + "/" + d.FunctionID
	after, throttled := p.throttles.RetryAfter(d.FunctionID)
	p.mu.Lock()
	f, ok := p.functions[key]
	if ok && !throttled {
		p.invocations[key]++
	}
	p.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("inproc function %s in %s: %w", d.FunctionID, d.Region, platform.ErrNotFound)
	case throttled:
		return nil, &platform.ThrottledError{RetryAfter: after, Err: errors.New("inproc: too many concurrent invocations")}
	}
	mod, err := p.module(ctx, f)
	if err != nil {
		return nil, err
	}
	return mod.Invoke(ctx, f.fn.Entry, input, engine.InvokeOptions{Pure: f.fn.Pure, MemoryMB: f.fn.MemoryMB,
		Timeout: time.Duration(f.fn.TimeoutMS) * time.Millisecond, Environment: f.fn.Environment})
}

func (p *inprocPlatform) module(ctx context.Context, f inprocFunction) (*engine.Module, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.modules[f.sha]; m != nil {
		return m, nil
	}
	m, err := p.rt.Load(ctx, f.code)
	if err != nil {
		return nil, err
	}
	p.modules[f.sha] = m
	return m, nil
}

func (p *inprocPlatform) count(region, name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.invocations[region+"/"+name]
}

func (p *inprocPlatform) functionNames() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.functions))
}

// The test platform keeps the same contract as wasm: the conformance suite is not wasm's.
func TestInprocConformance(t *testing.T) {
	p := newInprocPlatform(t)
	d := p.descriptor()
	dep, err := d.NewDeployer(platform.Settings{"regions": []string{"mem-1"}})
	if err != nil {
		t.Fatal(err)
	}
	platformtest.Run(t, platformtest.Harness{Platform: d, Deployer: dep, Invoker: p, Region: "mem-1",
		DeleteOutOfBand: p.deleteFunction, Throttle: p.throttles.Throttle})
}

// seamConfig is a provider block with the given platforms line, an inproc block when asked,
// the wasm block, and the greet job.
func (e *accEnv) seamConfig(platformsLine string, inprocBlock bool, dir string) string {
	var hosts []string
	for _, r := range slices.Sorted(maps.Keys(e.urls)) {
		hosts = append(hosts, fmt.Sprintf("      %q = %q", r, e.urls[r]))
	}
	inproc := ""
	if inprocBlock {
		inproc = "  inproc {\n    regions = [\"mem-1\"]\n  }\n"
	}
	return fmt.Sprintf(`provider "blueprint" {
  %s
  state_store    = %q
  artifact_store = %q
%s  wasm {
    token = %q
    hosts = {
%s
    }
  }
}

resource "blueprint_job" "greet" {
  package  = %q
  function = "Greet"
}
`, platformsLine, e.stateStore(), e.store, inproc, e.token, strings.Join(hosts, "\n"), dir)
}

func TestAccPlatformSeam_testPlatform(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	inproc := newInprocPlatform(t)
	registry, err := builtin.Registry().With(inproc.descriptor())
	if err != nil {
		t.Fatal(err)
	}
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"blueprint": providerserver.NewProtocol6WithError(NewWithPlatforms("test", registry)()),
	}
	const addr = "blueprint_job.greet"
	both := `platforms = ["inproc", "wasm"]`

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(s *tfterraform.State) error {
			if left := inproc.functionNames(); len(left) > 0 {
				return fmt.Errorf("inproc functions left after destroy: %v", left)
			}
			return e.checkDestroyed(s)
		},
		Steps: []resource.TestStep{
			{
				Config:      e.seamConfig(both, false, dir),
				ExpectError: regexp.MustCompile(`(?s)Platform listed but not configured.*no\s+inproc\s+block`),
			},
			{
				Config:      e.seamConfig(`platforms = ["wasm"]`, true, dir),
				ExpectError: regexp.MustCompile(`(?s)Platform configured but not listed.*Add\s+"inproc"\s+to\s+platforms`),
			},
			{
				Config:      e.seamConfig(`platforms = ["inproc", "lambda"]`, true, dir),
				ExpectError: regexp.MustCompile(`(?s)Unknown platform.*"lambda".*Use\s+one\s+of:\s+aws_lambda,\s+gcp_functions,\s+inproc,\s+wasm`),
			},
			{
				Config: e.seamConfig(both, true, dir),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("platform"), knownvalue.StringExact("inproc")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("artifact_sha256"), knownvalue.Null()),
					// wasm, the inproc bundle, and the native bootstrap the agent runs itself
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("artifacts"), knownvalue.MapSizeExact(3)),
					agentCheck{t: t, e: e, registry: registry, inproc: inproc},
				},
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
		},
	})
}

// agentCheck runs the runtime agent on the state terraform just wrote (as `terraform show
// -json` renders it) and checks what it does with a job on two platforms of two artifact kinds.
type agentCheck struct {
	t        *testing.T
	e        *accEnv
	registry *platform.Registry
	inproc   *inprocPlatform
}

func (c agentCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if err := c.check(ctx, req); err != nil {
		resp.Error = err
	}
}

func (c agentCheck) check(ctx context.Context, req statecheck.CheckStateRequest) error {
	t := c.t
	statePath, raw, err := stateFile(t, req.State)
	if err != nil {
		return err
	}

	// Each deployment runs the artifact of its own platform's kind.
	var st struct {
		Values struct {
			RootModule struct {
				Resources []struct {
					Type   string `json:"type"`
					Values struct {
						Artifacts   map[string]string     `json:"artifacts"`
						Deployments []platform.Deployment `json:"deployments"`
					} `json:"values"`
				} `json:"resources"`
			} `json:"root_module"`
		} `json:"values"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return err
	}
	job := st.Values.RootModule.Resources[0].Values
	wasmSHA, bundleSHA := job.Artifacts[string(platform.ArtifactWASM)], job.Artifacts[string(inprocKind)]
	if wasmSHA == "" || bundleSHA == "" || wasmSHA == bundleSHA {
		return fmt.Errorf("artifacts = %v, want two different hashes, for wasm and %s", job.Artifacts, inprocKind)
	}
	for _, d := range job.Deployments {
		want := wasmSHA
		if d.Platform == inprocName {
			want = bundleSHA
		}
		if d.CodeSHA256 != want {
			return fmt.Errorf("%s/%s runs %s, want %s", d.Platform, d.Region, d.CodeSHA256, want)
		}
	}

	// An agent with no local capacity offloads; the first region is inproc's. The second
	// identical call is answered from the memo, keyed by the bundle that computed the first.
	remote, err := startSeamAgent(t, statePath, c.registry, c.e.token, router.Policy{LocalCapacity: -1}, 1<<20, false)
	if err != nil {
		return err
	}
	for i, want := range []string{"serverless", "local"} {
		ran, body, err := runGreet(remote, `{"name":"memo"}`)
		if err != nil {
			return err
		}
		if ran.Ran.Target != want || !strings.Contains(body, `"hello memo"`) {
			return fmt.Errorf("offloading agent, call %d: ran %+v (%s), want target %s", i+1, ran, body, want)
		}
		if i == 0 && ran.Ran.Platform != inprocName {
			return fmt.Errorf("first offload went to %s, want inproc (its deployment comes first)", ran.Ran.Platform)
		}
		if i == 1 && ran.Decision != "memoized" {
			return fmt.Errorf("second call: decision %q, want memoized", ran.Decision)
		}
	}
	if n := c.inproc.count("mem-1", "greet"); n != 1 {
		return fmt.Errorf("inproc ran greet %d times, want 1 (the second call is memoized)", n)
	}

	// An agent with local capacity runs the job here, from the wasm module it fetches by the
	// wasm artifact's hash: the bundle's hash would find nothing to fetch and nothing to run.
	local, err := startSeamAgent(t, statePath, c.registry, c.e.token, router.Policy{LocalCapacity: 2}, -1, false)
	if err != nil {
		return err
	}
	ran, body, err := runGreet(local, `{"name":"here"}`)
	if err != nil {
		return err
	}
	if ran.Ran.Target != "local" || !strings.Contains(body, `"hello here"`) {
		return fmt.Errorf("local agent ran %+v: %s", ran, body)
	}
	if n := c.inproc.count("mem-1", "greet"); n != 1 {
		return fmt.Errorf("the local run reached inproc (%d invocations)", n)
	}
	return nil
}

// stateFile writes the state a state check receives (terraform show -json's rendering, which
// the agent reads) to a file of the test and returns its path and contents.
func stateFile(t *testing.T, state any) (string, []byte, error) {
	raw, err := json.Marshal(state)
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(t.TempDir(), "show.json")
	return path, raw, os.WriteFile(path, raw, 0o600)
}

// startSeamAgent serves an agent built from the registry on the state at path. Its local
// runs use the wasm module only, unless native is set: then the native bootstrap when the
// state records one, as blueprint-agent does.
func startSeamAgent(t *testing.T, path string, registry *platform.Registry, token string, policy router.Policy, memoBytes int64, native bool) (string, error) {
	platforms, err := runtimeagent.NewPlatforms(registry, map[string]platform.Settings{wasm.PlatformName: {"token": token}}, nil)
	if err != nil {
		return "", err
	}
	t.Cleanup(platforms.Close)
	rt, err := engine.NewRuntime(context.Background(), engine.RuntimeConfig{CacheDir: filepath.Join(os.TempDir(), "blueprint-wasmtest-wazero-cache")})
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	states := statestore.NewStores(anystore.Opener(context.Background())) // as blueprint-agent does
	t.Cleanup(states.Close)
	wasmLocal, err := wasmlocal.New(wasmlocal.Config{Runtime: rt, Fetcher: platforms, CacheDir: t.TempDir(), States: states})
	if err != nil {
		return "", err
	}
	local := &runtimeagent.LocalExecutors{WASM: wasmLocal}
	if native {
		nativeLocal, err := runtimeagent.NewNativeExecutor(runtimeagent.NativeExecutorConfig{CacheDir: t.TempDir(), Workers: 2, States: states, Logger: hclog.NewNullLogger()})
		if err != nil {
			return "", err
		}
		t.Cleanup(nativeLocal.Close)
		local.Native = nativeLocal
	}
	a, err := runtimeagent.New(context.Background(), runtimeagent.Config{StatePath: path, Policy: policy, Local: local,
		Platforms: platforms, MemoBytes: memoBytes, HedgeRatio: -1, Logger: hclog.NewNullLogger()})
	if err != nil {
		return "", err
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL, nil
}

type seamRun struct {
	Ran struct {
		Target   string `json:"target"`
		Platform string `json:"platform"`
	} `json:"ran"`
	Decision string `json:"decision"`
}

func runGreet(agentURL, input string) (seamRun, string, error) {
	var r seamRun
	resp, err := http.Post(agentURL+"/v1/jobs/greet:run", "application/json", strings.NewReader(input))
	if err != nil {
		return r, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return r, string(body), fmt.Errorf("run greet: HTTP %d: %s", resp.StatusCode, body)
	}
	return r, string(body), json.Unmarshal(body, &r)
}

// A provider block built from variables (hosts, token, platforms, regions) is unknown while
// terraform validates it: validation must check what is known and leave the rest for plan.
func TestAccProvider_configFromVariables(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := fmt.Sprintf(`variable "host_a" { type = string }
variable "host_b" { type = string }
variable "token" {
  type      = string
  sensitive = true
}
variable "regions" { type = list(string) }
variable "store" { type = string }

provider "blueprint" {
  platforms      = ["wasm"]
  regions        = var.regions
  artifact_store = var.store
  wasm {
    token = var.token
    hosts = { "local-a" = var.host_a, "local-b" = var.host_b }
  }
}

resource "blueprint_job" "greet" {
  package  = %q
  function = "Greet"
}
`, dir)
	vars := config.Variables{
		"host_a":  config.StringVariable(e.urls["local-a"]),
		"host_b":  config.StringVariable(e.urls["local-b"]),
		"token":   config.StringVariable(e.token),
		"regions": config.ListVariable(config.StringVariable("local-a"), config.StringVariable("local-b")),
		"store":   config.StringVariable(e.store),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config:          cfg,
			ConfigVariables: vars,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("blueprint_job.greet", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
			},
			Check: e.checkHostsServe("greet", testRegions...),
		}},
	})
}
