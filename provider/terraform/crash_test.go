package terraform

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/serverless-blueprint/blueprint/internal/gcftest"
	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/resources"
)

// cliRun is the real terraform CLI running the provider binary built from this tree, in its
// own process, so a test can kill both the way an operator's machine would.
type cliRun struct {
	t   *testing.T
	dir string   // the root module
	env []string // the CLI configuration pointing at the built provider
}

// newCLIRun builds the provider and writes a CLI configuration whose dev_overrides point
// terraform at it (no init needed, nothing asked of a registry).
func newCLIRun(t *testing.T, config string) *cliRun {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-blueprint"), "./cmd/terraform-provider-blueprint")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(bin, "terraform.rc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n", "serverless-blueprint/blueprint", bin)
	if err := os.WriteFile(rc, []byte(overrides), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	main := "terraform {\n  required_providers {\n    blueprint = { source = \"serverless-blueprint/blueprint\" }\n  }\n}\n\n" + config
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	return &cliRun{t: t, dir: dir, env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")}
}

func (c *cliRun) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Getenv("TF_ACC_TERRAFORM_PATH"), append(args, "-no-color", "-input=false")...)
	cmd.Dir, cmd.Env = c.dir, c.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the provider is in terraform's group
	return cmd
}

// run runs terraform to the end and returns its exit code and output.
func (c *cliRun) run(args ...string) (int, string) {
	c.t.Helper()
	out, err := c.command(args...).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		c.t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	return 0, string(out)
}

// applyKilledAfterCreate runs `terraform apply` and kills terraform and the provider (SIGKILL)
// as soon as created reports the functions exist, then checks terraform recorded nothing and
// the create journal kept the interrupted create.
func applyKilledAfterCreate(t *testing.T, run *cliRun, store string, created func() bool) {
	t.Helper()
	apply := run.command("apply", "-auto-approve")
	var log strings.Builder
	apply.Stdout, apply.Stderr = &log, &log
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- apply.Wait() }()
	deadline := time.Now().Add(3 * time.Minute)
	for !created() {
		select {
		case err := <-exited:
			t.Fatalf("terraform apply ended before creating the functions (%v):\n%s", err, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the functions were not created within 3 minutes:\n%s", log.String())
		}
	}
	if err := syscall.Kill(-apply.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if raw, err := os.ReadFile(filepath.Join(run.dir, "terraform.tfstate")); err == nil && strings.Contains(string(raw), `"blueprint_job"`) {
		t.Fatalf("the kill came after terraform recorded the job; the test needs it before:\n%s", raw)
	}
	if _, err := os.Stat(filepath.Join(store, ".creating", "greet.json")); err != nil {
		t.Fatalf("the interrupted create left no journal entry: %v", err)
	}
}

// TestCLICreateKilledAfterDeploy: `terraform apply` and its provider are killed (SIGKILL)
// after Lambda has created the function and before terraform recorded it. The next apply
// takes that function over instead of refusing it or creating a second one, plans nothing
// afterwards, and destroy leaves no function behind.
func TestCLICreateKilledAfterDeploy(t *testing.T) {
	e := newAccEnv(t)
	stand := lambdatest.Start(t)
	useTestCredentials(t)
	dir := e.writeModule("greet", greetSource("hello "))
	run := newCLIRun(t, e.awsConfig(stand.URL, jobBlock{Resource: "greet", Package: dir, Function: "Greet"}))

	// Lambda answers Pending for a while after the create: the provider waits for Active,
	// which is the window in which the kill lands.
	stand.SetFaults(lambdatest.Faults{PendingReads: 1000})
	applyKilledAfterCreate(t, run, e.store, func() bool {
		for _, r := range awsRegions {
			out, err := lambdaClient(r, stand.URL).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
			if err != nil || len(out.Functions) == 0 {
				return false
			}
		}
		return true
	})

	stand.SetFaults(lambdatest.Faults{})
	if code, out := run.run("apply", "-auto-approve"); code != 0 {
		t.Fatalf("the apply after the kill failed (exit %d):\n%s", code, out)
	}
	for _, r := range awsRegions {
		out, err := lambdaClient(r, stand.URL).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Functions) != 1 || aws.ToString(out.Functions[0].FunctionName) != "greet" {
			t.Fatalf("%s has %d functions after the second apply, want greet alone", r, len(out.Functions))
		}
		fn, err := lambdaClient(r, stand.URL).GetFunction(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String("greet")})
		if err != nil {
			t.Fatal(err)
		}
		if fn.Tags[resources.TagCreateToken] == "" {
			t.Fatalf("greet in %s carries no create token: %v", r, fn.Tags)
		}
	}
	if code, out := run.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("the plan after converging is not empty (exit %d):\n%s", code, out)
	}
	if code, out := run.run("destroy", "-auto-approve"); code != 0 {
		t.Fatalf("destroy failed (exit %d):\n%s", code, out)
	}
	for _, r := range awsRegions {
		out, err := lambdaClient(r, stand.URL).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Functions) != 0 {
			t.Fatalf("functions left in %s after destroy: %d", r, len(out.Functions))
		}
	}
}

// TestCLICreateKilledAfterDeployGCP: the same on Cloud Functions, killed while the create
// operations run; the next apply converges with one function per region.
func TestCLICreateKilledAfterDeployGCP(t *testing.T) {
	e := newAccEnv(t)
	cp := startGCP(t)
	dir := e.writeModule("greet", greetSource("hello "))
	run := newCLIRun(t, e.gcpConfig(cp.Addr, jobBlock{Resource: "greet", Package: dir, Function: "Greet"}))
	cp.SetFaults(gcftest.Faults{DeployDelay: 8 * time.Second})
	applyKilledAfterCreate(t, run, e.store, func() bool { return len(cp.Functions()) == len(gcpRegions) })
	cp.SetFaults(gcftest.Faults{})
	if code, out := run.run("apply", "-auto-approve"); code != 0 {
		t.Fatalf("the apply after the kill failed (exit %d):\n%s", code, out)
	}
	if fns := cp.Functions(); len(fns) != len(gcpRegions) {
		t.Fatalf("functions after the second apply: %v, want one per region", fns)
	}
	if code, out := run.run("plan", "-detailed-exitcode"); code != 0 {
		t.Fatalf("the plan after converging is not empty (exit %d):\n%s", code, out)
	}
	if code, out := run.run("destroy", "-auto-approve"); code != 0 {
		t.Fatalf("destroy failed (exit %d):\n%s", code, out)
	}
	if fns := cp.Functions(); len(fns) != 0 {
		t.Fatalf("functions left after destroy: %v", fns)
	}
}
