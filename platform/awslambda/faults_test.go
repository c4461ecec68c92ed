package awslambda_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
)

// conformanceJobs builds the conformance suite's test package (version v1 or v2) for x86_64.
func conformanceJobs(t testing.TB, version string) platform.Artifact {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "platformtest", "testdata", version)
	a, err := awslambda.BuildFor(awslambda.ArchX86_64)(context.Background(), platform.BuildRequest{Dir: dir,
		Jobs: []job.Analysis{{Name: "greet", Function: "Greet", Pure: true, Eligible: true}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDeployConvergesThroughFaults: Lambda answers a new function as Pending, an update as
// InProgress, refuses updates while one is in progress and a new role for its first seconds;
// moto does none of that, so the stand-in injects each. Deploys must wait and retry through
// all of them and end with the new code serving.
func TestDeployConvergesThroughFaults(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Endpoint: stand.URL,
		Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := conformanceJobs(t, "v1"), conformanceJobs(t, "v2")
	stand.SetFaults(lambdatest.Faults{PendingReads: 3, InProgressReads: 3, Conflicts: 2, RoleNotAssumable: 2})
	fn := platform.Function{Name: "greet", Entry: "greet", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}
	if _, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-east-1", Function: fn, ArtifactPath: v1.Path, ArtifactSHA256: v1.SHA256}); err != nil {
		t.Fatalf("create through faults: %v", err)
	}
	fn.Environment = map[string]string{"MODE": "two"}
	d, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-east-1", Function: fn, ArtifactPath: v2.Path, ArtifactSHA256: v2.SHA256})
	if err != nil {
		t.Fatalf("update through faults: %v", err)
	}
	injected, _ := stand.Injected()
	// The update changes code and configuration: two updates, each answered InProgress 3 times.
	for kind, want := range map[string]int{"role": 2, "pending": 3, "conflict": 2, "in_progress": 6} {
		if injected[kind] != want {
			t.Errorf("%d %s faults met, want %d (injected: %v)", injected[kind], kind, want, injected)
		}
	}
	if d.CodeSHA256 != v2.SHA256 {
		t.Fatalf("after the update the alias serves %s, want %s", d.CodeSHA256, v2.SHA256)
	}
	out, err := awslambda.NewInvoker("", testCredentials).Invoke(ctx, d, []byte(`{"name":"ada"}`))
	if err != nil || string(out) != `{"message":"hi ada"}` {
		t.Fatalf("invoking the updated function: %s, %v", out, err)
	}
}

// TestDeployThroughThrottling: ten functions deployed at once against a control plane that
// takes 3 requests a second all succeed. (Lambda's default is 15; ten deploys make about 40
// requests, which under -race on a busy machine can spread over more than 3 s, so only a rate
// this low is sure to be met. The benchmark measures 15.)
func TestDeployThroughThrottling(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Endpoint: stand.URL,
		Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	v1 := conformanceJobs(t, "v1")
	stand.SetFaults(lambdatest.Faults{RatePerSecond: 3})
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			fn := platform.Function{Name: "greet-" + string(rune('a'+i)), Entry: "greet", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}
			_, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-east-1", Function: fn, ArtifactPath: v1.Path, ArtifactSHA256: v1.SHA256})
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	injected, requests := stand.Injected()
	if injected["throttled"] == 0 {
		t.Errorf("no request was throttled (%d reached moto): the test did not exercise throttling", requests)
	}
	t.Logf("%d control-plane requests reached moto, %d were throttled", requests, injected["throttled"])
}
