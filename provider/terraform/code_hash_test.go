package terraform

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/platform"
)

// sharedSource is one package of four jobs: Upper and Shout share a helper, Greet reads a
// package variable, Count stands alone.
func sharedSource(helperBody, greeting, countBody, comment string) map[string]string {
	return map[string]string{"jobs.go": fmt.Sprintf(`package shared

import (
	"context"
	"strings"
)

%s
func helper(s string) string { %s }

var greeting = %q

//blueprint:job
func Upper(ctx context.Context, s string) (string, error) { return helper(s), nil }

//blueprint:job
func Shout(ctx context.Context, s string) (string, error) { return helper(s) + "!", nil }

//blueprint:job
func Greet(ctx context.Context, s string) (string, error) { return greeting + " " + s, nil }

//blueprint:job
func Count(ctx context.Context, s string) (int, error) { %s }
`, comment, helperBody, greeting, countBody)}
}

// expectCodeChanged checks that a job's planned analysis has a code_changed finding whose
// message names want: the plan says which code changed, not only that something did.
type expectCodeChanged struct {
	addr, want string
}

func (c expectCodeChanged) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr {
			continue
		}
		after, _ := rc.Change.After.(map[string]any)
		analysis, _ := after["analysis"].(map[string]any)
		findings, _ := analysis["findings"].([]any)
		for _, f := range findings {
			f, _ := f.(map[string]any)
			if f["kind"] == "code_changed" && strings.Contains(fmt.Sprint(f["message"]), c.want) {
				return
			}
		}
		resp.Error = fmt.Errorf("%s: the planned analysis has no code_changed finding naming %q: %v", c.addr, c.want, findings)
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", c.addr)
}

// TestAccJob_perJobCodeHash edits one package of four jobs the ways a team does and checks
// that terraform plans an update of exactly the jobs the edit reaches: none for a comment and
// a blank line, the two callers of an edited helper, the one reader of an edited variable,
// one job for an edit of its own body. Jobs left alone keep their deployments as they were.
func TestAccJob_perJobCodeHash(t *testing.T) {
	e := newAccEnv(t)
	const (
		helper  = "return strings.ToUpper(s)"
		count   = "return len(s), nil"
		comment = "// helper makes s louder."
	)
	dir := e.writeModule("shared", sharedSource(helper, "hello", count, comment))
	cfg := e.config(nil,
		jobBlock{Resource: "upper", Package: dir, Function: "Upper"},
		jobBlock{Resource: "shout", Package: dir, Function: "Shout"},
		jobBlock{Resource: "greet", Package: dir, Function: "Greet"},
		jobBlock{Resource: "count", Package: dir, Function: "Count"},
	)
	jobs := []string{"upper", "shout", "greet", "count"}
	// expect plans an update of the listed jobs and nothing for the others.
	expect := func(updated ...string) []plancheck.PlanCheck {
		var checks []plancheck.PlanCheck
		for _, j := range jobs {
			action := plancheck.ResourceActionNoop
			for _, u := range updated {
				if u == j {
					action = plancheck.ResourceActionUpdate
				}
			}
			checks = append(checks, plancheck.ExpectResourceAction("blueprint_job."+j, action))
		}
		return checks
	}
	// The deployments of jobs an edit does not reach stay the same across every step.
	greetDeployments := statecheck.CompareValue(compare.ValuesSame())
	countDeployments := statecheck.CompareValue(compare.ValuesSame())
	untouched := func() []statecheck.StateCheck {
		return []statecheck.StateCheck{
			greetDeployments.AddStateValue("blueprint_job.greet", tfjsonpath.New("deployments")),
		}
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: append(untouched(),
					countDeployments.AddStateValue("blueprint_job.count", tfjsonpath.New("deployments"))),
			},
			{
				// A longer comment and a blank line move every job below them: nothing to do.
				PreConfig: func() {
					e.writeModule("shared", sharedSource(helper, "hello", count, comment+"\n// It is shared by two jobs.\n"))
				},
				Config:   cfg,
				PlanOnly: true,
			},
			{
				PreConfig: func() {
					e.writeModule("shared", sharedSource("return strings.ToUpper(strings.TrimSpace(s))", "hello", count, comment))
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: append(expect("upper", "shout"),
						expectCodeChanged{"blueprint_job.upper", "func example.com/shared.helper"},
						expectCodeChanged{"blueprint_job.shout", "func example.com/shared.helper"}),
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: append(untouched(),
					countDeployments.AddStateValue("blueprint_job.count", tfjsonpath.New("deployments"))),
				Check: e.checkRuns("upper", `" quiet "`, `"QUIET"`),
			},
			{
				PreConfig: func() {
					e.writeModule("shared", sharedSource("return strings.ToUpper(strings.TrimSpace(s))", "hello", "return len(s) + 1, nil", comment))
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             append(expect("count"), expectCodeChanged{"blueprint_job.count", "func example.com/shared.Count"}),
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: untouched(),
				Check:             e.checkRuns("count", `"abc"`, `4`),
			},
			{
				PreConfig: func() {
					e.writeModule("shared", sharedSource("return strings.ToUpper(strings.TrimSpace(s))", "good morning", "return len(s) + 1, nil", comment))
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             append(expect("greet"), expectCodeChanged{"blueprint_job.greet", "var example.com/shared.greeting"}),
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: e.checkRuns("greet", `"ada"`, `"good morning ada"`),
			},
		},
	})
}

// checkRuns is a step check: the function answers input with want in every region, so the
// deployed code is the edited one (or, for jobs an edit did not reach, still works).
func (e *accEnv) checkRuns(function, input, want string) func(*tfterraform.State) error {
	return func(*tfterraform.State) error {
		for _, r := range testRegions {
			out, err := e.client().Invoke(context.Background(), platform.Deployment{Platform: "wasm", Region: r, FunctionID: function}, []byte(input))
			if err != nil {
				return fmt.Errorf("running %s on %s: %w", function, r, err)
			}
			if strings.TrimSpace(string(out)) != want {
				return fmt.Errorf("%s on %s answered %s to %s, want %s", function, r, out, input, want)
			}
		}
		return nil
	}
}
