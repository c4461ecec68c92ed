package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestAccJob_basic(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	greet := jobBlock{Resource: "greet", Package: dir, Function: "Greet"}
	withMemory := greet
	withMemory.Extra = "  memory_mb = 256\n"
	const addr = "blueprint_job.greet"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.config(nil, greet),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact("greet")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("name"), knownvalue.StringExact("greet")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("eligible"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("analysis").AtMapKey("pure"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("analysis").AtMapKey("function"), knownvalue.StringExact("Greet")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("source_hash"), knownvalue.StringRegexp(regexp.MustCompile(`^sha256:[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("artifact_sha256"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{64}$`))),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("region"), knownvalue.StringExact("local-a")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(1).AtMapKey("region"), knownvalue.StringExact("local-b")),
				},
				Check: e.checkHostsServe("greet", testRegions...),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "greet",
				ImportStateVerify: true,
			},
			{
				Config: e.config(nil, withMemory),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("analysis").AtMapKey("memory_mb"), knownvalue.Int64Exact(256)),
				},
			},
		},
	})
}

// TestAccJob_routingSettings: the provider's routing settings are copied into each job's state
// (where the agent reads them); changing them is an in-place update that redeploys nothing.
func TestAccJob_routingSettings(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	greet := jobBlock{Resource: "greet", Package: dir, Function: "Greet"}
	const addr = "blueprint_job.greet"
	plain := e.config(nil, greet)
	e.providerExtra = "  cost_threshold = 0.5\n  latency_threshold_ms = 40\n"
	tuned := e.config(nil, greet)
	e.providerExtra = ""

	var versions []string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: plain,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cost_threshold"), knownvalue.Null()),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("latency_threshold_ms"), knownvalue.Null()),
				},
				Check: func(s *tfterraform.State) error {
					versions = deploymentVersions(s, addr)
					return nil
				},
			},
			{
				Config: tuned,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("cost_threshold"), knownvalue.Float64Exact(0.5)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("latency_threshold_ms"), knownvalue.Int64Exact(40)),
				},
				Check: func(s *tfterraform.State) error {
					if got := deploymentVersions(s, addr); strings.Join(got, ",") != strings.Join(versions, ",") {
						return fmt.Errorf("deployment versions %v after a routing change, want %v: nothing should be redeployed", got, versions)
					}
					return nil
				},
			},
		},
	})
}

// deploymentVersions lists the versions of a job's deployments in a state.
func deploymentVersions(s *tfterraform.State, addr string) []string {
	rs := s.RootModule().Resources[addr]
	if rs == nil {
		return nil
	}
	var out []string
	for i := 0; ; i++ {
		v, ok := rs.Primary.Attributes[fmt.Sprintf("deployments.%d.version", i)]
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

func TestAccJob_codeChange(t *testing.T) {
	e := newAccEnv(t)
	greetDir := e.writeModule("greet", greetSource("hello "))
	countDir := e.writeModule("count", countSource)
	cfg := e.config(nil,
		jobBlock{Resource: "greet", Package: greetDir, Function: "Greet"},
		jobBlock{Resource: "words", Package: countDir, Function: "CountWords"},
	)
	greetArtifact := statecheck.CompareValue(compare.ValuesDiffer())
	wordsArtifact := statecheck.CompareValue(compare.ValuesSame())
	greetSourceHash := statecheck.CompareValue(compare.ValuesDiffer())

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					greetArtifact.AddStateValue("blueprint_job.greet", tfjsonpath.New("artifact_sha256")),
					wordsArtifact.AddStateValue("blueprint_job.words", tfjsonpath.New("artifact_sha256")),
					greetSourceHash.AddStateValue("blueprint_job.greet", tfjsonpath.New("source_hash")),
				},
			},
			{
				PreConfig: func() { e.writeModule("greet", greetSource("good morning ")) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("blueprint_job.greet", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("blueprint_job.words", plancheck.ResourceActionNoop),
						plancheck.ExpectUnknownValue("blueprint_job.greet", tfjsonpath.New("artifact_sha256")),
						plancheck.ExpectUnknownValue("blueprint_job.greet", tfjsonpath.New("deployments")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					greetArtifact.AddStateValue("blueprint_job.greet", tfjsonpath.New("artifact_sha256")),
					wordsArtifact.AddStateValue("blueprint_job.words", tfjsonpath.New("artifact_sha256")),
					greetSourceHash.AddStateValue("blueprint_job.greet", tfjsonpath.New("source_hash")),
				},
			},
			{
				// Another function is another job: replaced, and the old function removed.
				Config: e.config(nil,
					jobBlock{Resource: "greet", Package: greetDir, Function: "Greet"},
					jobBlock{Resource: "words", Package: countDir, Function: "CountBytes"},
				),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("blueprint_job.words", plancheck.ResourceActionDestroyBeforeCreate),
						plancheck.ExpectResourceAction("blueprint_job.greet", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("blueprint_job.words", tfjsonpath.New("name"), knownvalue.StringExact("count_bytes")),
				},
				Check: func(s *tfterraform.State) error {
					for _, r := range testRegions {
						names, err := e.functionNames(r)
						if err != nil {
							return err
						}
						if strings.Join(names, ",") != "count_bytes,greet" {
							return fmt.Errorf("host %s serves %v, want count_bytes and greet only", r, names)
						}
					}
					return nil
				},
			},
		},
	})
}

func TestAccJob_disappears(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.config(nil, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	const addr = "blueprint_job.greet"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check:  e.checkHostsServe("greet", testRegions...),
			},
			{
				// Deleted out of band on one host: the refresh drops it and the plan recreates it.
				PreConfig: func() {
					if err := e.client().Delete(context.Background(), "local-b", "greet"); err != nil {
						t.Fatalf("deleting out of band: %v", err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
						plancheck.ExpectUnknownValue(addr, tfjsonpath.New("deployments")),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				},
				Check: e.checkHostsServe("greet", testRegions...),
			},
		},
	})
}

// TestAccJob_settingsChangedOutOfBand: a function whose settings someone changed directly on a
// host (a new version there) is planned as drift and put back by the apply.
func TestAccJob_settingsChangedOutOfBand(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.config(nil, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	const addr = "blueprint_job.greet"
	memoryOnB := func() (int64, error) {
		code, body, err := e.hostRequest(http.MethodGet, "local-b", "/v1/functions/greet")
		if err != nil || code != http.StatusOK {
			return 0, fmt.Errorf("GET greet on local-b: %d %s %v", code, body, err)
		}
		var f struct {
			MemoryMB int64 `json:"memory_mb"`
		}
		return f.MemoryMB, json.Unmarshal(body, &f)
	}
	var deployed int64

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(*tfterraform.State) (err error) {
					deployed, err = memoryOnB()
					return err
				},
			},
			{
				PreConfig: func() {
					// Someone raises the memory on one host by hand.
					code, body, err := e.hostRequest(http.MethodGet, "local-b", "/v1/functions/greet")
					if err != nil || code != http.StatusOK {
						t.Fatalf("GET greet: %d %s %v", code, body, err)
					}
					var f map[string]any
					if err := json.Unmarshal(body, &f); err != nil {
						t.Fatal(err)
					}
					put := map[string]any{"memory_mb": deployed + 512}
					for _, k := range []string{"code_sha256", "entry", "timeout_ms", "pure", "environment", "tags"} {
						if v, ok := f[k]; ok {
							put[k] = v
						}
					}
					raw, _ := json.Marshal(put)
					req, _ := http.NewRequest(http.MethodPut, e.urls["local-b"]+"/v1/functions/greet", bytes.NewReader(raw))
					req.Header.Set("Authorization", "Bearer "+e.token)
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != http.StatusOK {
						t.Fatalf("changing greet by hand: %v %v", resp, err)
					}
					resp.Body.Close()
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectNonEmptyPlan(),
						plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(*tfterraform.State) error {
					got, err := memoryOnB()
					if err == nil && got != deployed {
						err = fmt.Errorf("memory_mb on local-b is %d after the apply, want the deployed %d", got, deployed)
					}
					return err
				},
			},
		},
	})
}

func TestAccJob_badInput(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	missing := e.work + "/no-such-package"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      e.config(nil, jobBlock{Resource: "x", Package: missing, Function: "Greet"}),
				ExpectError: regexp.MustCompile(`(?s)Job analysis failed.*no-such-package:\s+directory\s+does\s+not\s+exist`),
			},
			{
				Config:      e.config(nil, jobBlock{Resource: "x", Package: dir, Function: "Helper"}),
				ExpectError: regexp.MustCompile(`has\s+no\s+function\s+Helper\s+marked\s+//blueprint:job\s+\(its\s+job\s+functions\s+are\s+Greet\)`),
			},
			{
				Config:      e.config(nil, jobBlock{Resource: "x", Package: dir, Function: "Greet", Extra: "  regions = [\"local-z\"]\n"}),
				ExpectError: regexp.MustCompile(`region\s+"local-z"\s+is\s+not\s+configured`),
			},
			{
				Config:      e.config([]string{"local-a", "mars"}, jobBlock{Resource: "x", Package: dir, Function: "Greet"}),
				ExpectError: regexp.MustCompile(`(?s)Region has no host.*Region\s+"mars"\s+is\s+listed\s+in\s+regions`),
			},
			{
				Config:      e.config(nil, jobBlock{Resource: "x", Package: dir, Function: "Greet", Extra: "  force_local = true\n  force_serverless = true\n"}),
				ExpectError: regexp.MustCompile(`force_serverless\s+and\s+force_local\s+are\s+both\s+true`),
			},
		},
	})
}

// TestAccJob_unreachableHost: one region's host is down. The apply fails naming that region
// and its URL, the regions that worked are recorded (nothing orphaned: CheckDestroy finds no
// leftovers), and dropping the dead region converges.
func TestAccJob_unreachableHost(t *testing.T) {
	e := newAccEnv(t)
	dead := closedURL(t)
	e.extraHosts = map[string]string{"local-down": dead}
	dir := e.writeModule("greet", greetSource("hello "))
	const addr = "blueprint_job.greet"
	all := jobBlock{Resource: "greet", Package: dir, Function: "Greet", Extra: "  regions = [\"local-a\", \"local-b\", \"local-down\"]\n"}
	live := jobBlock{Resource: "greet", Package: dir, Function: "Greet", Extra: "  regions = [\"local-a\", \"local-b\"]\n"}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      e.config(nil, all),
				ExpectError: regexp.MustCompile(`(?s)local-down.*` + regexp.QuoteMeta(dead) + `.*unreachable`),
			},
			{
				Config: e.config(nil, live),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				},
				Check: e.checkHostsServe("greet", testRegions...),
			},
		},
	})
}

// TestAccJob_alreadyExists: two resources for one job must not share (and later delete) one
// function; the second create fails and says to import.
func TestAccJob_alreadyExists(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.config(nil,
				jobBlock{Resource: "first", Package: dir, Function: "Greet"},
				jobBlock{Resource: "second", Package: dir, Function: "Greet"},
			),
			ExpectError: regexp.MustCompile(`(?s)job\s+"greet"\s+already\s+exists.*import\s+it`),
		}},
	})
}

// TestAccJob_partialConfigUpdate: an environment change that fails in one region is recorded
// so that the next apply (after the host recovers) redeploys it there. Before, the state took
// the new settings although local-b still ran the old ones, and the next plan was empty.
func TestAccJob_partialConfigUpdate(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("greet", greetSource("hello "))
	const addr = "blueprint_job.greet"
	withEnv := func(mode string) string {
		return e.config(nil, jobBlock{Resource: "greet", Package: dir, Function: "Greet", Extra: fmt.Sprintf("  environment = { MODE = %q }\n", mode)})
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: withEnv("one"),
				Check:  e.checkEnvironment("greet", map[string]string{"MODE": "one"}, testRegions...),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
			},
			{
				PreConfig:   func() { e.failDeploys["local-b"].Store(true) },
				Config:      withEnv("two"),
				ExpectError: regexp.MustCompile(`(?s)updated only in part.*local-b.*disk full`),
			},
			{
				PreConfig: func() { e.failDeploys["local-b"].Store(false) },
				Config:    withEnv("two"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: e.checkEnvironment("greet", map[string]string{"MODE": "two"}, testRegions...),
			},
		},
	})
}
