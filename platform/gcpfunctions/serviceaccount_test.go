package gcpfunctions_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/gcftest"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/gcpfunctions"
)

const (
	managedSA    = gcpfunctions.DefaultServiceAccountID + "@" + testProject + ".iam.gserviceaccount.com"
	deployerSA   = "deployer@" + testProject + ".iam.gserviceaccount.com"
	stateProject = "blueprint-state-project"
	datastore    = "roles/datastore.user"
)

func buildGreet(t *testing.T) platform.Artifact {
	t.Helper()
	a, err := gcpfunctions.Build(context.Background(), platform.BuildRequest{Dir: "../platformtest/testdata/v1",
		Jobs: []job.Analysis{{Name: "greet", Function: "Greet", Pure: true, Deterministic: true, Eligible: true, Mode: job.ModeAuto}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func greetFunction(name, store string) platform.Function {
	return platform.Function{Name: name, Entry: "greet", MemoryMB: 256, TimeoutMS: 10_000, Pure: store == "", StateStore: store,
		Tags: map[string]string{platform.TagJob: name}}
}

func functionName(region, job string) string {
	return "projects/" + testProject + "/locations/" + region + "/functions/" + gcpfunctions.FunctionID(job)
}

// TestManagedServiceAccount: with no service_account configured, the deployer (acting with a
// key file, as a CI system would) creates blueprint-functions@PROJECT on the first deploy —
// riding out IAM's propagation delay — runs every function as it, grants it
// roles/datastore.user only when a stateful job is deployed and only on its store's project,
// and with the last delete takes the grant back and deletes the account. Keys deleted in IAM
// are refused at preflight.
func TestManagedServiceAccount(t *testing.T) {
	ctx := context.Background()
	cp := gcftest.StartControlPlane(t)
	cp.SetFaults(gcftest.Faults{AccountPropagation: 2 * time.Second})
	cp.RequireCredentials(true)
	cp.AddServiceAccount(deployerSA)
	key := cp.IssueKey(t, deployerSA)
	regions := []string{"us-central1", "europe-west1"}
	newDeployer := func() *gcpfunctions.Deployer {
		dep, err := gcpfunctions.NewDeployer(ctx, gcpfunctions.Config{Project: testProject, Regions: regions,
			Endpoint: cp.Addr, CredentialsFile: key, DeployTimeout: 3 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return dep
	}
	dep := newDeployer()
	if err := dep.Preflight(ctx); err != nil {
		t.Fatalf("preflight with an issued key: %v", err)
	}
	a := buildGreet(t)
	deploy := func(dep *gcpfunctions.Deployer, region string, fn platform.Function) {
		t.Helper()
		if _, err := dep.Deploy(ctx, platform.DeployRequest{Region: region, Function: fn, ArtifactPath: a.Path, ArtifactSHA256: a.SHA256}); err != nil {
			t.Fatalf("deploying %s to %s: %v", fn.Name, region, err)
		}
	}

	// Stateless jobs in both regions at once: one account, no role.
	var wg sync.WaitGroup
	for _, region := range regions {
		wg.Go(func() { deploy(dep, region, greetFunction("greet", "")) })
	}
	wg.Wait()
	for _, region := range regions {
		if got := cp.FunctionAccount(functionName(region, "greet")); got != managedSA {
			t.Errorf("greet in %s runs as %q, want the managed %s", region, got, managedSA)
		}
	}
	if !slices.Contains(cp.ServiceAccounts(), managedSA) {
		t.Fatalf("no managed account; accounts: %v", cp.ServiceAccounts())
	}
	if got := cp.ProjectMembers(testProject, datastore); len(got) > 0 {
		t.Errorf("stateless jobs only, yet %s holds %s on %s", got, datastore, testProject)
	}

	// A stateful job: the role on the store's project, not the functions' project.
	deploy(dep, "us-central1", greetFunction("count", "firestore://"+stateProject+"/blueprint-state"))
	if got := cp.ProjectMembers(stateProject, datastore); !slices.Equal(got, []string{"serviceAccount:" + managedSA}) {
		t.Errorf("%s on %s: %v, want only the managed account", datastore, stateProject, got)
	}
	if got := cp.ProjectMembers(testProject, datastore); len(got) > 0 {
		t.Errorf("%s granted on the functions' project too: %v", datastore, got)
	}

	// Another configuration (a fresh deployer) deletes some: the account stays while any
	// function runs as it.
	other := newDeployer()
	for _, region := range regions {
		if err := other.Delete(ctx, region, "greet"); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Contains(cp.ServiceAccounts(), managedSA) {
		t.Fatal("the account was deleted while count still runs as it")
	}
	if err := other.Delete(ctx, "us-central1", "count"); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(cp.ServiceAccounts(), managedSA) {
		t.Error("the last delete left the managed account behind")
	}
	for _, m := range cp.ProjectMembers(stateProject, datastore) {
		if strings.Contains(m, managedSA) {
			t.Errorf("the grant was not taken back before the account was deleted: %s", m)
		}
	}

	// A deploy after that creates the account again.
	deploy(dep, "europe-west1", greetFunction("greet", ""))
	if !slices.Contains(cp.ServiceAccounts(), managedSA) {
		t.Error("a deploy after the account's removal did not create it again")
	}

	// Keys deleted in IAM: refused at preflight, saying what to check.
	cp.DeleteKeys(deployerSA)
	err := newDeployer().Preflight(ctx)
	if err == nil || !strings.Contains(err.Error(), "credentials were refused") || !strings.Contains(err.Error(), "credentials_file") {
		t.Errorf("preflight with a deleted key: %v, want the credentials refused and what to check", err)
	}
}

// TestServiceAccountNotBlueprints: an account of the managed name that Blueprint did not make
// is not taken over (it would be granted roles); a user's own account is used as it is and
// never deleted.
func TestServiceAccountNotBlueprints(t *testing.T) {
	ctx := context.Background()
	cp := gcftest.StartControlPlane(t)
	cp.AddServiceAccount(managedSA)
	dep, err := gcpfunctions.NewDeployer(ctx, gcpfunctions.Config{Project: testProject, Regions: []string{"us-central1"}, Endpoint: cp.Addr})
	if err != nil {
		t.Fatal(err)
	}
	a := buildGreet(t)
	_, err = dep.Deploy(ctx, platform.DeployRequest{Region: "us-central1", Function: greetFunction("greet", ""), ArtifactPath: a.Path, ArtifactSHA256: a.SHA256})
	if err == nil || !strings.Contains(err.Error(), "not created by Blueprint") || !strings.Contains(err.Error(), "service_account = ") {
		t.Fatalf("deploying with a foreign account of the managed name: %v, want a refusal saying to name it in service_account", err)
	}
	if len(cp.Functions()) > 0 {
		t.Fatalf("a refused deploy created %v", cp.Functions())
	}

	user := "jobs-runner@" + testProject + ".iam.gserviceaccount.com"
	cp.AddServiceAccount(user)
	dep, err = gcpfunctions.NewDeployer(ctx, gcpfunctions.Config{Project: testProject, Regions: []string{"us-central1"}, Endpoint: cp.Addr, ServiceAccount: user})
	if err != nil {
		t.Fatal(err)
	}
	fn := greetFunction("count", "firestore://"+stateProject+"/blueprint-state")
	if _, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-central1", Function: fn, ArtifactPath: a.Path, ArtifactSHA256: a.SHA256}); err != nil {
		t.Fatal(err)
	}
	if got := cp.ProjectMembers(stateProject, datastore); len(got) > 0 {
		t.Errorf("the user's account was granted roles: %v", got)
	}
	if err := dep.Delete(ctx, "us-central1", "count"); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cp.ServiceAccounts(), user) {
		t.Error("the user's account was deleted")
	}
}

// TestPreflightRuntime: a runtime the API does not offer, or has decommissioned, is refused
// before anything is deployed, naming the Go runtimes it offers.
func TestPreflightRuntime(t *testing.T) {
	ctx := context.Background()
	cp := gcftest.StartControlPlane(t)
	for runtime, want := range map[string]string{
		"go999": `runtime "go999" is not offered by Cloud Functions in us-central1: set runtime to one of go122, go123, go124, go125`,
		"go121": `runtime "go121" is decommissioned in us-central1: set runtime to one of go122, go123, go124, go125`,
		"":      "",
	} {
		dep, err := gcpfunctions.NewDeployer(ctx, gcpfunctions.Config{Project: testProject, Regions: []string{"us-central1"}, Endpoint: cp.Addr, Runtime: runtime})
		if err != nil {
			t.Fatal(err)
		}
		err = dep.Preflight(ctx)
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && !strings.Contains(got, want)) {
			t.Errorf("runtime %q: preflight said %v, want %q", runtime, err, want)
		}
	}
}

// TestPreflightPermissions: credentials Google accepts but that lack a role are refused at
// preflight, naming the role: Cloud Functions (roles/cloudfunctions.developer), and, when
// Blueprint is to manage the service account, IAM (roles/iam.serviceAccountAdmin) — while
// naming an existing service_account needs no IAM role at all.
func TestPreflightPermissions(t *testing.T) {
	ctx := context.Background()
	cp := gcftest.StartControlPlane(t)
	cp.RequireCredentials(true)
	key := cp.IssueKey(t, deployerSA)
	preflight := func(serviceAccount string) error {
		dep, err := gcpfunctions.NewDeployer(ctx, gcpfunctions.Config{Project: testProject, Regions: []string{"us-central1"},
			Endpoint: cp.Addr, CredentialsFile: key, ServiceAccount: serviceAccount})
		if err != nil {
			t.Fatal(err)
		}
		return dep.Preflight(ctx)
	}
	if err := preflight(""); err != nil {
		t.Fatalf("with every permission: %v", err)
	}
	cp.Deny(deployerSA, "google.iam.admin.v1.IAM")
	if err := preflight(""); err == nil || !strings.Contains(err.Error(), "roles/iam.serviceAccountAdmin") || !strings.Contains(err.Error(), "PermissionDenied") {
		t.Errorf("without IAM permissions, managing the account: %v, want the role named", err)
	}
	if err := preflight("jobs-runner@" + testProject + ".iam.gserviceaccount.com"); err != nil {
		t.Errorf("without IAM permissions, naming an account: %v, want no error", err)
	}
	cp.Deny(deployerSA, "google.cloud.functions.v2.FunctionService")
	if err := preflight(""); err == nil || !strings.Contains(err.Error(), "roles/cloudfunctions.developer") {
		t.Errorf("without Cloud Functions permissions: %v, want the role named", err)
	}
}
