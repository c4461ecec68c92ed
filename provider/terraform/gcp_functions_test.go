package terraform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/internal/firestoretest"
	"github.com/serverless-blueprint/blueprint/internal/gcftest"
	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
	"github.com/serverless-blueprint/blueprint/platform/gcpfunctions"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/router"
)

var gcpRegions = []string{"europe-west1", "us-central1"}

const (
	gcpProject = "blueprint-test"
	gcpSA      = "jobs-runner@blueprint-test.iam.gserviceaccount.com" // the user's own account
	gcpManaged = gcpfunctions.DefaultServiceAccountID + "@blueprint-test.iam.gserviceaccount.com"
)

// startGCP starts the Cloud Functions stand-in with the user's service account in it.
func startGCP(t *testing.T) *gcftest.ControlPlane {
	cp := gcftest.StartControlPlane(t)
	cp.AddServiceAccount(gcpSA)
	return cp
}

// gcpConfig is a provider deploying to gcp_functions only, at the control-plane stand-in.
func (e *accEnv) gcpConfig(endpoint string, jobs ...jobBlock) string {
	cfg := fmt.Sprintf(`provider "blueprint" {
  platforms = ["gcp_functions"]
  artifact_store = %q
  gcp_functions {
    project         = %q
    regions         = %s
    service_account = %q
    endpoint        = %q
  }
}
`, e.store, gcpProject, hclList(gcpRegions), gcpSA, endpoint)
	for _, j := range jobs {
		cfg += fmt.Sprintf("\nresource \"blueprint_job\" %q {\n  package  = %q\n  function = %q\n%s}\n", j.Resource, j.Package, j.Function, j.Extra)
	}
	return cfg
}

func gcpTestTokens(ctx context.Context, audience string) (string, error) {
	return gcftest.IDToken(audience), nil
}

// TestAccJob_gcpFunctions: terraform applies a job to Cloud Functions in two regions (the
// control-plane stand-in builds the source zip and runs it under functions-framework-go),
// invokes it, plans nothing after apply, the agent offloads to it, import by job name, a code
// change redeploys, a function deleted out of band is recreated, and destroy leaves no function.
func TestAccJob_gcpFunctions(t *testing.T) {
	e := newAccEnv(t)
	cp := startGCP(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.gcpConfig(cp.Addr, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	const addr = "blueprint_job.greet"
	invoker := gcpfunctions.NewInvoker(gcpTestTokens)
	runs := func(want string) func(*tfterraform.State) error {
		return func(s *tfterraform.State) error {
			deps := s.RootModule().Resources[addr].Primary.Attributes
			for i := range gcpRegions {
				d := platform.Deployment{Platform: gcpfunctions.PlatformName, Region: deps[fmt.Sprintf("deployments.%d.region", i)],
					FunctionID: "greet", Endpoint: deps[fmt.Sprintf("deployments.%d.endpoint", i)]}
				out, err := invoker.Invoke(context.Background(), d, []byte(`{"name":"ada"}`))
				if err != nil {
					return fmt.Errorf("invoking greet in %s: %w", d.Region, err)
				}
				if string(out) != fmt.Sprintf(`{"greeting":%q}`, want+"ada") {
					return fmt.Errorf("greet in %s answered %s", d.Region, out)
				}
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy: func(*tfterraform.State) error {
			if left := cp.Functions(); len(left) > 0 {
				return fmt.Errorf("functions left after destroy: %v", left)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("platform"), knownvalue.StringExact("gcp_functions")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("region"), knownvalue.StringExact("europe-west1")),
				},
				Check: runs("hello "),
			},
			{
				// The runtime agent, with no local capacity, offloads to the first region.
				Config:            cfg,
				ConfigStateChecks: []statecheck.StateCheck{gcpAgentCheck{t: t, e: e, cp: cp}},
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "greet",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"cost_threshold", "latency_threshold_ms"},
			},
			{
				PreConfig: func() { e.writeModule("greet", greetSource("good morning ")) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: runs("good morning "),
			},
			{
				PreConfig: func() {
					cp.DeleteOutOfBand("projects/" + gcpProject + "/locations/us-central1/functions/" + gcpfunctions.FunctionID("greet"))
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: runs("good morning "),
			},
		},
	})
}

// gcpAgentCheck runs the agent on the state terraform wrote, with no local capacity and the
// tests' ID tokens, and checks that a call is answered by a Cloud Function.
type gcpAgentCheck struct {
	t  *testing.T
	e  *accEnv
	cp *gcftest.ControlPlane
}

func (c gcpAgentCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statePath, _, err := stateFile(c.t, req.State)
	if err != nil {
		resp.Error = err
		return
	}
	gcp := gcpfunctions.Platform()
	gcp.NewInvoker = func(platform.Settings) (platform.Invoker, error) { return gcpfunctions.NewInvoker(gcpTestTokens), nil }
	registry, err := platform.NewRegistry(wasm.Platform(), awslambda.Platform(), gcp)
	if err != nil {
		resp.Error = err
		return
	}
	id := gcpfunctions.FunctionID("greet")
	before := c.cp.Invocations(id)
	agent, err := startSeamAgent(c.t, statePath, registry, c.e.token, router.Policy{LocalCapacity: -1}, -1, false)
	if err != nil {
		resp.Error = err
		return
	}
	ran, body, err := runGreet(agent, `{"name":"lin"}`)
	switch {
	case err != nil:
		resp.Error = err
	case ran.Ran.Platform != gcpfunctions.PlatformName || !strings.Contains(body, `"hello lin"`):
		resp.Error = fmt.Errorf("the agent ran greet on %+v: %s; want it offloaded to gcp_functions", ran, body)
	case c.cp.Invocations(id) != before+1:
		resp.Error = fmt.Errorf("the functions ran greet %d times for one offloaded call", c.cp.Invocations(id)-before)
	}
}

// TestAccJob_gcpFunctionsBadInput: credentials Google refuses stop the plan, saying what to
// check; a build that fails surfaces the operation's error with the
// build log's URL and leaves the job unrecorded; names that are not a project, region or a
// dedicated service account are refused at plan.
func TestAccJob_gcpFunctionsBadInput(t *testing.T) {
	e := newAccEnv(t)
	cp := startGCP(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.gcpConfig(cp.Addr, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	revoked := cp.IssueKey(t, gcpSA)
	cp.DeleteKeys(gcpSA)
	withRevokedKey := strings.Replace(cfg, "    endpoint", fmt.Sprintf("    credentials_file = %q\n    endpoint", revoked), 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				// A key deleted in IAM: Google refuses every call; the plan says what to check.
				PreConfig:   func() { cp.RequireCredentials(true) },
				Config:      withRevokedKey,
				ExpectError: regexp.MustCompile(`(?s)credentials\s+were\s+refused.*credentials_file`),
			},
			{
				PreConfig:   func() { cp.RequireCredentials(false) },
				Config:      strings.Replace(cfg, gcpProject, "Not_A_Project", 1),
				ExpectError: regexp.MustCompile(`not\s+a\s+project\s+ID`),
			},
			{Config: strings.Replace(cfg, hclList(gcpRegions), `["mars"]`, 1), ExpectError: regexp.MustCompile(`not\s+a\s+Google\s+Cloud\s+region\s+name`)},
			{Config: strings.Replace(cfg, hclList(gcpRegions), `["us-central1", "mars-north9"]`, 1), ExpectError: regexp.MustCompile(`region\s+"mars-north9":\s+Cloud\s+Functions\s+does\s+not\s+serve\s+it`)},
			{Config: strings.Replace(cfg, gcpSA, "123456789-compute@developer.gserviceaccount.com", 1), ExpectError: regexp.MustCompile(`default\s+compute\s+account`)},
			{
				PreConfig: func() {
					cp.SetFaults(gcftest.Faults{FailBuild: map[string]bool{gcpfunctions.FunctionID("greet"): true}})
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`(?s)build\s+failed.*build\s+log:\s+http://127\.0\.0\.1:\d+/builds/`),
			},
			{
				// Nothing was left behind: the next apply, with the build fixed, creates afresh.
				PreConfig: func() {
					if left := cp.Functions(); len(left) > 0 {
						t.Fatalf("a failed apply left functions behind: %v", left)
					}
					cp.SetFaults(gcftest.Faults{})
				},
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("blueprint_job.greet", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				},
			},
		},
	})
}

// TestAccJob_gcpFunctionsState: a stateful job deployed to the wasm hosts and to Cloud
// Functions at once keeps its state in one Firestore collection (Google's emulator): a counter
// incremented on each deployment in turn — the functions of both regions, then both hosts —
// reads 1, 2, 3, 4, and the agent's native worker on the VM continues with 5. With no
// service_account, the functions run as the account Blueprint creates, which holds
// roles/datastore.user on the store's project until destroy removes both. A SQLite store is
// refused for gcp_functions at plan.
func TestAccJob_gcpFunctionsState(t *testing.T) {
	e := newAccEnv(t)
	cp := startGCP(t)
	emu := firestoretest.Start(t)
	dir := e.writeModule("vmjobs", map[string]string{"jobs.go": vmJobsSource})
	store := "firestore://" + gcpProject + "/blueprint-state?emulator=" + emu.Host
	count := jobBlock{Resource: "count", Package: dir, Function: "Count"}
	withFile := strings.Replace(e.gcpConfig(cp.Addr, count), "  artifact_store =", fmt.Sprintf("  state_store = %q\n  artifact_store =", e.stateStore()), 1)
	both := strings.Replace(e.providerConfig(nil), `platforms = ["wasm"]`, `platforms = ["wasm", "gcp_functions"]`, 1)
	both = strings.Replace(both, fmt.Sprintf("state_store = %q", e.stateStore()), fmt.Sprintf("state_store = %q", store), 1)
	both = strings.TrimSuffix(strings.TrimSpace(both), "}") + fmt.Sprintf(`  gcp_functions {
    project  = %q
    regions  = %s
    endpoint = %q
  }
}

resource "blueprint_job" "count" {
  package  = %q
  function = "Count"
}
`, gcpProject, hclList(gcpRegions), cp.Addr, dir)
	invokers := map[string]platform.Invoker{gcpfunctions.PlatformName: gcpfunctions.NewInvoker(gcpTestTokens), wasm.PlatformName: wasm.NewRemote(e.token)}
	const datastoreUser = "roles/datastore.user"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy: func(*tfterraform.State) error {
			if slices.Contains(cp.ServiceAccounts(), gcpManaged) {
				return fmt.Errorf("destroy left the managed service account %s", gcpManaged)
			}
			for _, m := range cp.ProjectMembers(gcpProject, datastoreUser) {
				if strings.Contains(m, gcpManaged) {
					return fmt.Errorf("destroy left %s %s on the project", m, datastoreUser)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      withFile,
				ExpectError: regexp.MustCompile(`(?s)Cloud\s+Function\s+cannot\s+open.*state\.db.*firestore://`),
			},
			{
				Config: both,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("state_store"), knownvalue.StringExact(store)),
					statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(len(gcpRegions)+len(e.urls))),
				},
				Check: func(s *tfterraform.State) error {
					if got := cp.ProjectMembers(gcpProject, datastoreUser); !slices.Equal(got, []string{"serviceAccount:" + gcpManaged}) {
						return fmt.Errorf("%s on the store's project: %v, want only the managed account", datastoreUser, got)
					}
					for _, region := range gcpRegions {
						fn := "projects/" + gcpProject + "/locations/" + region + "/functions/" + gcpfunctions.FunctionID("count")
						if got := cp.FunctionAccount(fn); got != gcpManaged {
							return fmt.Errorf("count in %s runs as %q, want %s", region, got, gcpManaged)
						}
					}
					return countOnEveryDeployment(s, len(gcpRegions)+len(e.urls), invokers, nil, gcpfunctions.PlatformName, wasm.PlatformName)
				},
			},
			{
				Config:            both,
				ConfigStateChecks: []statecheck.StateCheck{localStateAgentCheck{t: t, e: e, want: fmt.Sprint(len(gcpRegions) + len(e.urls) + 1)}},
			},
		},
	})
}

// TestAccJob_threePlatforms: one job deployed to wasm, AWS Lambda and Cloud Functions at once
// (two regions each); the agent, with no local capacity, runs it on one platform, and when
// that platform's regions are all busy (429 with Retry-After) on another, then on the third:
// executions move across platforms without an error reaching the caller.
func TestAccJob_threePlatforms(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	cp := startGCP(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.threePlatformsConfig(stand.URL, cp.Addr, "", "") + fmt.Sprintf(`
resource "blueprint_job" "greet" {
  package  = %q
  function = "Greet"
}
`, dir)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("blueprint_job.greet", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(6)),
				threePlatformsCheck{t: t, e: e, stand: stand, cp: cp},
			},
		}},
	})
}

// threePlatformsConfig is a provider deploying to the wasm hosts, AWS Lambda (at the Lambda
// stand-in) and Cloud Functions (at the control-plane stand-in), with another state store and
// more aws_lambda settings when given.
func (e *accEnv) threePlatformsConfig(lambdaURL, gcpAddr, stateStore, awsExtra string) string {
	cfg := strings.Replace(e.providerConfig(nil), `platforms = ["wasm"]`, `platforms = ["wasm", "aws_lambda", "gcp_functions"]`, 1)
	if stateStore != "" {
		cfg = strings.Replace(cfg, fmt.Sprintf("state_store = %q", e.stateStore()), fmt.Sprintf("state_store = %q", stateStore), 1)
	}
	return strings.TrimSuffix(strings.TrimSpace(cfg), "}") + fmt.Sprintf(`  aws_lambda {
    regions      = %s
    endpoint     = %q
    architecture = "x86_64"
%s  }
  gcp_functions {
    project  = %q
    regions  = %s
    endpoint = %q
  }
}
`, hclList(awsRegions), lambdaURL, awsExtra, gcpProject, hclList(gcpRegions), gcpAddr)
}

// TestAccJob_statefulOnThreePlatforms: one stateful job deployed to the wasm hosts, AWS Lambda
// and Cloud Functions at once, its state in one Firestore collection (Google's emulator): a
// counter incremented on every deployment in turn — both hosts, both Cloud Functions regions,
// both Lambda regions (the functions reach Firestore through the federation configuration) —
// reads 1 to 6, and the agent's native worker continues with 7. Lambda without the federation
// configuration is refused at plan.
func TestAccJob_statefulOnThreePlatforms(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	cp := startGCP(t)
	emu := firestoretest.Start(t)
	dir := e.writeModule("vmjobs", map[string]string{"jobs.go": vmJobsSource})
	store := "firestore://" + gcpProject + "/blueprint-state?emulator=" + emu.Host
	federation := filepath.Join(t.TempDir(), "federation.json")
	// What gcloud iam workload-identity-pools create-cred-config --aws writes (no secret in it).
	if err := os.WriteFile(federation, []byte(`{
  "type": "external_account",
  "audience": "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/blueprint/providers/aws",
  "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
  "token_url": "https://sts.googleapis.com/v1/token",
  "credential_source": {
    "environment_id": "aws1",
    "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone",
    "url": "http://169.254.169.254/latest/meta-data/iam/security-credentials",
    "regional_cred_verification_url": "https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15"
  }
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	count := fmt.Sprintf("\nresource \"blueprint_job\" \"count\" {\n  package  = %q\n  function = \"Count\"\n}\n", dir)
	withoutFederation := e.threePlatformsConfig(stand.URL, cp.Addr, store, "") + count
	cfg := e.threePlatformsConfig(stand.URL, cp.Addr, store, fmt.Sprintf("    gcp_credentials_config = %q\n", federation)) + count
	deployments := len(awsRegions) + len(gcpRegions) + len(e.urls)
	invokers := map[string]platform.Invoker{
		gcpfunctions.PlatformName: gcpfunctions.NewInvoker(gcpTestTokens),
		wasm.PlatformName:         wasm.NewRemote(e.token),
		awslambda.PlatformName:    awslambda.NewInvoker("", credentials.NewStaticCredentialsProvider("testing", "testing", "")),
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      withoutFederation,
				ExpectError: regexp.MustCompile(`(?s)Firestore\s+store.*only\s+through\s+Workload\s+Identity\s+Federation.*gcp_credentials_config`),
			},
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(deployments)),
				},
				Check: func(s *tfterraform.State) error {
					for _, r := range awsRegions {
						fn, err := lambdaClient(r, stand.URL).GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("count")})
						if err != nil {
							return err
						}
						if v := fn.Environment.Variables["BLUEPRINT_GCP_CREDENTIALS"]; !strings.Contains(v, `"external_account"`) {
							return fmt.Errorf("the Lambda function in %s lacks the federation configuration: %q", r, v)
						}
					}
					// The agent takes Lambda's endpoint from the provider's settings; so does this.
					endpoints := map[string]string{awslambda.PlatformName: stand.URL}
					return countOnEveryDeployment(s, deployments, invokers, endpoints, wasm.PlatformName, gcpfunctions.PlatformName, awslambda.PlatformName)
				},
			},
			{
				Config:            cfg,
				ConfigStateChecks: []statecheck.StateCheck{localStateAgentCheck{t: t, e: e, want: fmt.Sprint(deployments + 1)}},
			},
		},
	})
}

// countOnEveryDeployment invokes blueprint_job.count on each of its n deployments in turn,
// platform by platform in the order given, and checks they answer 1, 2, 3…: one store behind
// every platform and region. endpoints replaces a platform's recorded endpoint.
func countOnEveryDeployment(s *tfterraform.State, n int, invokers map[string]platform.Invoker, endpoints map[string]string, order ...string) error {
	attrs := s.RootModule().Resources["blueprint_job.count"].Primary.Attributes
	var deps []platform.Deployment
	for i := range n {
		at := func(k string) string { return attrs[fmt.Sprintf("deployments.%d.%s", i, k)] }
		d := platform.Deployment{Platform: at("platform"), Region: at("region"), FunctionID: at("function_id"), Endpoint: at("endpoint")}
		if e, ok := endpoints[d.Platform]; ok {
			d.Endpoint = e
		}
		deps = append(deps, d)
	}
	slices.SortStableFunc(deps, func(a, b platform.Deployment) int {
		return slices.Index(order, a.Platform) - slices.Index(order, b.Platform)
	})
	for i, d := range deps {
		out, err := invokers[d.Platform].Invoke(context.Background(), d, []byte(`{"name":"hits"}`))
		if err != nil {
			return fmt.Errorf("count on %s in %s: %w", d.Platform, d.Region, err)
		}
		if string(out) != fmt.Sprint(i+1) {
			return fmt.Errorf("count on %s in %s answered %s, want %d (one store for every platform and region)", d.Platform, d.Region, out, i+1)
		}
	}
	return nil
}

type threePlatformsCheck struct {
	t     *testing.T
	e     *accEnv
	stand *lambdatest.Stand
	cp    *gcftest.ControlPlane
}

func (c threePlatformsCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statePath, _, err := stateFile(c.t, req.State)
	if err != nil {
		resp.Error = err
		return
	}
	gcp := gcpfunctions.Platform()
	gcp.NewInvoker = func(platform.Settings) (platform.Invoker, error) { return gcpfunctions.NewInvoker(gcpTestTokens), nil }
	registry, err := platform.NewRegistry(wasm.Platform(), awslambda.Platform(), gcp)
	if err != nil {
		resp.Error = err
		return
	}
	agent, err := startSeamAgent(c.t, statePath, registry, c.e.token, router.Policy{LocalCapacity: -1}, -1, false)
	if err != nil {
		resp.Error = err
		return
	}
	busy := map[string]func(){
		wasm.PlatformName: func() {
			for _, b := range c.e.busyInvokes {
				b.Store(true)
			}
		},
		awslambda.PlatformName:    func() { c.stand.Throttle("greet", 30*time.Second) },
		gcpfunctions.PlatformName: func() { c.cp.Throttle(gcpfunctions.FunctionID("greet"), 30*time.Second) },
	}
	var order []string
	for range 3 {
		ran, body, err := runGreet(agent, `{"name":"lin"}`)
		if err != nil || !strings.Contains(body, `"hello lin"`) {
			resp.Error = fmt.Errorf("call %d: %v %s", len(order)+1, err, body)
			return
		}
		p := ran.Ran.Platform
		if slices.Contains(order, p) || busy[p] == nil {
			resp.Error = fmt.Errorf("call %d ran on %q after %v: want a platform not yet made busy", len(order)+1, p, order)
			return
		}
		order = append(order, p)
		busy[p]() // every region of it answers 429 from now on
	}
	c.t.Logf("executions moved across platforms in this order: %v", order)
}

// TestAccJob_gcpFunctionsInvokers: with invokers set, every function's Cloud Run service
// grants them roles/run.invoker, and the stand-in's front (enforcing it, as Cloud Run does)
// admits the agent's identity and refuses another.
func TestAccJob_gcpFunctionsInvokers(t *testing.T) {
	e := newAccEnv(t)
	cp := startGCP(t)
	cp.RequireInvoker(true)
	const agent = "serviceAccount:agent@blueprint-test.iam.gserviceaccount.com"
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := strings.Replace(e.gcpConfig(cp.Addr, jobBlock{Resource: "greet", Package: dir, Function: "Greet"}),
		"    endpoint        =", fmt.Sprintf("    invokers        = [%q]\n    endpoint        =", agent), 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			Check: func(s *tfterraform.State) error {
				attrs := s.RootModule().Resources["blueprint_job.greet"].Primary.Attributes
				for i, region := range gcpRegions {
					name := "projects/" + gcpProject + "/locations/" + region + "/functions/" + gcpfunctions.FunctionID("greet")
					if got := cp.Invokers(name); !slices.Equal(got, []string{agent}) {
						return fmt.Errorf("run.invoker on %s: %v, want %s", name, got, agent)
					}
					d := platform.Deployment{Platform: gcpfunctions.PlatformName, Region: attrs[fmt.Sprintf("deployments.%d.region", i)],
						FunctionID: "greet", Endpoint: attrs[fmt.Sprintf("deployments.%d.endpoint", i)]}
					as := func(member string) error {
						_, err := gcpfunctions.NewInvoker(func(ctx context.Context, aud string) (string, error) {
							return gcftest.IDTokenFor(member, aud), nil
						}).Invoke(context.Background(), d, []byte(`{"name":"ada"}`))
						return err
					}
					if err := as(agent); err != nil {
						return fmt.Errorf("the agent's identity was refused in %s: %w", d.Region, err)
					}
					if err := as("serviceAccount:someone@blueprint-test.iam.gserviceaccount.com"); err == nil || !strings.Contains(err.Error(), "roles/run.invoker") {
						return fmt.Errorf("another identity in %s: %v, want a refusal naming roles/run.invoker", d.Region, err)
					}
				}
				return nil
			},
		}},
	})
}
