package awslambda_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
)

// TestManagedRoleRemovedWhenUnused: the delete that leaves the managed role unused removes it
// (with its policies), also when many deletes finish together; a role some function still
// uses stays, and so does one recorded for a region this deployer does not manage (another
// configuration's functions may use it there).
func TestManagedRoleRemovedWhenUnused(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	v1 := conformanceJobs(t, "v1")
	deployer := func(regions ...string) *awslambda.Deployer {
		t.Helper()
		dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: regions, Endpoint: stand.URL,
			Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return dep
	}
	deploy := func(dep *awslambda.Deployer, region, name string) {
		t.Helper()
		_, err := dep.Deploy(ctx, platform.DeployRequest{Region: region, ArtifactPath: v1.Path, ArtifactSHA256: v1.SHA256,
			Function: platform.Function{Name: name, Entry: "greet", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}})
		if err != nil {
			t.Fatal(err)
		}
	}
	del := func(dep *awslambda.Deployer, region, name string) {
		t.Helper()
		if err := dep.Delete(ctx, region, name); err != nil {
			t.Fatal(err)
		}
	}
	iamClient := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(stand.URL), Credentials: testCredentials})
	roleExists := func() bool {
		t.Helper()
		_, err := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(awslambda.DefaultRoleName)})
		var missing *iamtypes.NoSuchEntityException
		if errors.As(err, &missing) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true
	}

	both := deployer("us-east-1", "eu-west-1")
	deploy(both, "us-east-1", "one")
	deploy(both, "eu-west-1", "two")
	del(both, "us-east-1", "one")
	if !roleExists() {
		t.Fatal("the role was removed while a function in eu-west-1 still uses it")
	}
	del(both, "eu-west-1", "two")
	if roleExists() {
		t.Fatal("the role is left after its last function was deleted")
	}

	// Ten functions deleted at once: the role goes with the last of them.
	for i := range 10 {
		deploy(both, "us-east-1", fmt.Sprintf("f%d", i))
	}
	errs := make(chan error, 10)
	for i := range 10 {
		go func() { errs <- both.Delete(ctx, "us-east-1", fmt.Sprintf("f%d", i)) }()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if roleExists() {
		t.Fatal("the role is left after ten concurrent deletes of its last functions")
	}

	// Another configuration uses the role in eu-west-1: a deployer of us-east-1 alone keeps it.
	east, west := deployer("us-east-1"), deployer("eu-west-1")
	deploy(east, "us-east-1", "mine")
	deploy(west, "eu-west-1", "theirs")
	del(east, "us-east-1", "mine")
	if !roleExists() {
		t.Fatal("the role was removed although another configuration's function in eu-west-1 uses it")
	}
	del(west, "eu-west-1", "theirs")
	if !roleExists() {
		t.Fatal("a deployer of eu-west-1 alone removed a role recorded for us-east-1 too")
	}
}
