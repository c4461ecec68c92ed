package terraform

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/router"
)

var awsRegions = []string{"eu-west-1", "us-east-1"}

// awsConfig is a provider deploying to aws_lambda only, at the stand-in.
func (e *accEnv) awsConfig(endpoint string, jobs ...jobBlock) string {
	cfg := fmt.Sprintf(`provider "blueprint" {
  platforms = ["aws_lambda"]
  artifact_store = %q
  aws_lambda {
    regions      = %s
    endpoint     = %q
    architecture = "x86_64"
  }
}
`, e.store, hclList(awsRegions), endpoint)
	for _, j := range jobs {
		cfg += fmt.Sprintf("\nresource \"blueprint_job\" %q {\n  package  = %q\n  function = %q\n%s}\n", j.Resource, j.Package, j.Function, j.Extra)
	}
	return cfg
}

// useTestCredentials gives the provider and the agent credentials through the default chain,
// as on a user's machine, and keeps any real profile of the developer out of the test.
func useTestCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

// lambdaClient talks to the stand-in as an operator with the AWS CLI would.
func lambdaClient(region, endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
}

// TestAccJob_awsLambda: terraform applies a job to AWS Lambda in two regions (moto for the
// control plane, AWS's runtime interface emulator running the built bootstrap), invokes it,
// plans nothing after apply, redeploys a code change, recreates a function deleted out of band,
// and destroy leaves no function in either region.
func TestAccJob_awsLambda(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.awsConfig(stand.URL, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	const addr = "blueprint_job.greet"
	invoker := awslambda.NewInvoker("", credentials.NewStaticCredentialsProvider("testing", "testing", ""))
	runs := func(want string) func(*tfterraform.State) error {
		return func(*tfterraform.State) error {
			for _, r := range awsRegions {
				out, err := invoker.Invoke(context.Background(), platform.Deployment{Platform: awslambda.PlatformName, Region: r, FunctionID: "greet", Endpoint: stand.URL}, []byte(`{"name":"ada"}`))
				if err != nil {
					return fmt.Errorf("invoking greet in %s: %w", r, err)
				}
				if string(out) != fmt.Sprintf(`{"greeting":%q}`, want+"ada") {
					return fmt.Errorf("greet in %s answered %s, want greeting %q", r, out, want+"ada")
				}
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy: func(*tfterraform.State) error {
			for _, r := range awsRegions {
				out, err := lambdaClient(r, stand.URL).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
				if err != nil {
					return err
				}
				if len(out.Functions) > 0 {
					return fmt.Errorf("functions left in %s after destroy: %s", r, aws.ToString(out.Functions[0].FunctionName))
				}
			}
			iamClient := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(stand.URL), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
			roles, err := iamClient.ListRoles(context.Background(), &iam.ListRolesInput{})
			if err != nil {
				return err
			}
			if len(roles.Roles) > 0 {
				return fmt.Errorf("IAM role %s left after destroy", aws.ToString(roles.Roles[0].RoleName))
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
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("platform"), knownvalue.StringExact("aws_lambda")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(0).AtMapKey("region"), knownvalue.StringExact("eu-west-1")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("deployments").AtSliceIndex(1).AtMapKey("region"), knownvalue.StringExact("us-east-1")),
				},
				Check: runs("hello "),
			},
			{
				// The runtime agent on that state, with no local capacity, offloads to Lambda:
				// the first region's function runs the call (through the emulator).
				Config:            cfg,
				ConfigStateChecks: []statecheck.StateCheck{lambdaAgentCheck{t: t, e: e, stand: stand}},
			},
			{
				// Import by job name finds the functions in both regions by their tags.
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "greet",
				ImportStateVerify: true,
				// Settings absent from an imported resource's configuration stay null.
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
				// Deleted out of band in one region: the refresh drops it, the plan recreates it.
				PreConfig: func() {
					_, err := lambdaClient("us-east-1", stand.URL).DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String("greet")})
					if err != nil {
						t.Fatalf("deleting out of band: %v", err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: func(s *tfterraform.State) error {
					for _, r := range awsRegions {
						fn, err := lambdaClient(r, stand.URL).GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("greet")})
						var missing *lambdatypes.ResourceNotFoundException
						if errors.As(err, &missing) {
							return fmt.Errorf("greet is missing in %s after apply", r)
						}
						if err != nil {
							return err
						}
						if fn.Tags[platform.TagJob] != "greet" || !slices.Contains(fn.Configuration.Architectures, lambdatypes.ArchitectureX8664) {
							return fmt.Errorf("greet in %s: tags %v, architectures %v", r, fn.Tags, fn.Configuration.Architectures)
						}
					}
					return runs("good morning ")(s)
				},
			},
		},
	})
}

// lambdaAgentCheck runs the runtime agent on the state terraform wrote, with no local
// capacity, and checks that a call is offloaded to the Lambda function and answered by it.
type lambdaAgentCheck struct {
	t     *testing.T
	e     *accEnv
	stand *lambdatest.Stand
}

func (c lambdaAgentCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statePath, _, err := stateFile(c.t, req.State)
	if err != nil {
		resp.Error = err
		return
	}
	before := c.stand.Invocations("greet")
	agent, err := startSeamAgent(c.t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: -1}, -1, false)
	if err != nil {
		resp.Error = err
		return
	}
	ran, body, err := runGreet(agent, `{"name":"lin"}`)
	switch {
	case err != nil:
		resp.Error = err
	case ran.Ran.Platform != awslambda.PlatformName || !strings.Contains(body, `"hello lin"`):
		resp.Error = fmt.Errorf("the agent ran greet on %+v: %s; want it offloaded to aws_lambda", ran, body)
	case c.stand.Invocations("greet") != before+1:
		resp.Error = fmt.Errorf("the Lambda stand-in ran greet %d times for one offloaded call", c.stand.Invocations("greet")-before)
	}
}

// TestAccJob_awsLambdaState: a stateful job on Lambda keeps its state in DynamoDB (moto), the
// table is created by the first deploy, the functions of both regions and the runtime agent on
// the VM share it: a counter incremented in us-east-1, then eu-west-1, then locally by the
// agent's native worker reads 1, 2, 3. A SQLite store is refused for aws_lambda at plan.
func TestAccJob_awsLambdaState(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	dir := e.writeModule("vmjobs", map[string]string{"jobs.go": vmJobsSource})
	store := "dynamodb://blueprint-state?region=us-east-1&endpoint=" + stand.Moto.URL
	count := jobBlock{Resource: "count", Package: dir, Function: "Count"}
	withStore := strings.Replace(e.awsConfig(stand.URL, count), "  artifact_store =", fmt.Sprintf("  state_store = %q\n  artifact_store =", store), 1)
	withFile := strings.Replace(e.awsConfig(stand.URL, count), "  artifact_store =", fmt.Sprintf("  state_store = %q\n  artifact_store =", e.stateStore()), 1)
	invoker := awslambda.NewInvoker("", credentials.NewStaticCredentialsProvider("testing", "testing", ""))
	countIn := func(region string) (string, error) {
		out, err := invoker.Invoke(context.Background(), platform.Deployment{Platform: awslambda.PlatformName, Region: region, FunctionID: "count", Endpoint: stand.URL}, []byte(`{"name":"hits"}`))
		return string(out), err
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{
				Config:      withFile,
				ExpectError: regexp.MustCompile(`(?s)Lambda\s+function\s+cannot\s+open.*state\.db.*dynamodb://`),
			},
			{
				Config: withStore,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("state_store"), knownvalue.StringExact(store)),
					statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				},
				Check: func(s *tfterraform.State) error {
					for i, region := range []string{"us-east-1", "eu-west-1"} {
						out, err := countIn(region)
						if err != nil {
							return fmt.Errorf("count in %s: %w", region, err)
						}
						if out != strconv.Itoa(i+1) {
							return fmt.Errorf("count in %s answered %s, want %d (one table for both regions)", region, out, i+1)
						}
					}
					return nil
				},
			},
			{
				Config:            withStore,
				ConfigStateChecks: []statecheck.StateCheck{localStateAgentCheck{t: t, e: e, want: "3"}},
			},
		},
	})
}

// localStateAgentCheck runs the agent on the state with room to run locally: the counter
// runs in its native worker against the same store (DynamoDB, Firestore) the functions use.
type localStateAgentCheck struct {
	t    *testing.T
	e    *accEnv
	want string
}

func (c localStateAgentCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statePath, _, err := stateFile(c.t, req.State)
	if err != nil {
		resp.Error = err
		return
	}
	agent, err := startSeamAgent(c.t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: 2}, -1, true)
	if err != nil {
		resp.Error = err
		return
	}
	body, status, err := postJob(agent, "count", `{"name":"hits"}`)
	switch {
	case err != nil:
		resp.Error = err
	case status != 200 || !strings.Contains(body, `"output":`+c.want) || !strings.Contains(body, `"target":"local"`):
		resp.Error = fmt.Errorf("the agent ran count: HTTP %d %s; want output %s, run locally", status, body, c.want)
	}
}

// TestAccJob_awsLambdaBadInput: settings that cannot work are refused at plan with what to
// change, and nothing is created anywhere: a region that does not exist, a role of another
// account.
func TestAccJob_awsLambdaBadInput(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	dir := e.writeModule("greet", greetSource("hello "))
	cfg := e.awsConfig(stand.URL, jobBlock{Resource: "greet", Package: dir, Function: "Greet"})
	badRegion := strings.Replace(cfg, hclList(awsRegions), `["us-east-1", "us-nowhere-1"]`, 1)
	otherAccount := strings.Replace(cfg, `architecture = "x86_64"`, "architecture = \"x86_64\"\n    role = \"arn:aws:iam::210987654321:role/theirs\"", 1)
	nothingCreated := func() {
		for _, r := range awsRegions {
			out, err := lambdaClient(r, stand.URL).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Functions) > 0 {
				t.Fatalf("a refused plan created %s in %s", aws.ToString(out.Functions[0].FunctionName), r)
			}
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		Steps: []resource.TestStep{
			{Config: badRegion, ExpectError: regexp.MustCompile(`region "us-nowhere-1": listing\s+Lambda\s+functions`)},
			{PreConfig: nothingCreated, Config: otherAccount, ExpectError: regexp.MustCompile(`belongs\s+to\s+account\s+210987654321,\s+but\s+the\s+credentials\s+are\s+for\s+account\s+123456789012`)},
			{PreConfig: nothingCreated, Config: strings.Replace(cfg, hclList(awsRegions), `["mars"]`, 1), ExpectError: regexp.MustCompile(`not\s+an\s+AWS\s+region\s+name`)},
		},
	})
	nothingCreated()
}
