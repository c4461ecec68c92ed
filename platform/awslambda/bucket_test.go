package awslambda_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
)

// TestArtifactBucket: a zip over the direct-upload limit (lowered here so the test's small
// zip counts as big) goes through each region's artifact bucket, and the function runs the
// code from there; without a bucket the deploy is refused before anything is created, with
// what to set; a bucket that does not exist fails at preflight.
func TestArtifactBucket(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	regions := []string{"us-east-1", "eu-west-1"}
	s3Client := func(region string) *s3.Client {
		return s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(stand.URL), UsePathStyle: true, Credentials: testCredentials})
	}
	for _, r := range regions {
		in := &s3.CreateBucketInput{Bucket: aws.String("artifacts-" + r)}
		if r != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
		}
		if _, err := s3Client(r).CreateBucket(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	v1 := conformanceJobs(t, "v1")
	fn := platform.Function{Name: "greet", Entry: "greet", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}
	deployer := func(bucket string) *awslambda.Deployer {
		t.Helper()
		dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: regions, Endpoint: stand.URL, ArtifactBucket: bucket, MaxDirectZipBytes: 1024,
			Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return dep
	}

	// No bucket: refused with the setting to add, and nothing exists afterwards.
	_, err := deployer("").Deploy(ctx, platform.DeployRequest{Region: "us-east-1", Function: fn, ArtifactPath: v1.Path, ArtifactSHA256: v1.SHA256})
	if err == nil || !strings.Contains(err.Error(), "set the aws_lambda block's artifact_bucket") {
		t.Fatalf("error = %v", err)
	}
	if out, err := lambdaClient(stand.URL, "us-east-1").ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil || len(out.Functions) != 0 {
		t.Fatalf("a refused deploy left functions: %v, %v", out, err)
	}
	iamClient := iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(stand.URL), Credentials: testCredentials})
	var noRole *iamtypes.NoSuchEntityException
	if _, err := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(awslambda.DefaultRoleName)}); !errors.As(err, &noRole) {
		t.Fatalf("a refused deploy created the execution role: %v", err)
	}

	if err := deployer("missing-{region}").Preflight(ctx); err == nil || !strings.Contains(err.Error(), "artifact bucket missing-eu-west-1: it does not exist; create it in eu-west-1") {
		t.Fatalf("missing bucket: error = %v", err)
	}
	if _, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: regions, ArtifactBucket: "artifacts"}); err == nil || !strings.Contains(err.Error(), "put {region} in the name") {
		t.Fatalf("one bucket for two regions: error = %v", err)
	}

	dep := deployer("artifacts-{region}")
	if err := dep.Preflight(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range regions {
		d, err := dep.Deploy(ctx, platform.DeployRequest{Region: r, Function: fn, ArtifactPath: v1.Path, ArtifactSHA256: v1.SHA256})
		if err != nil {
			t.Fatalf("deploying through the bucket in %s: %v", r, err)
		}
		if d.CodeSHA256 != v1.SHA256 {
			t.Fatalf("%s serves %s, want %s", r, d.CodeSHA256, v1.SHA256)
		}
		if _, err := s3Client(r).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("artifacts-" + r), Key: aws.String("blueprint/" + v1.SHA256 + ".zip")}); err != nil {
			t.Fatalf("the zip is not in %s's bucket: %v", r, err)
		}
		out, err := awslambda.NewInvoker("", testCredentials).Invoke(ctx, d, []byte(`{"name":"ada"}`))
		if err != nil || string(out) != `{"message":"hello ada"}` {
			t.Fatalf("invoking the function deployed from the bucket in %s: %s, %v", r, out, err)
		}
	}
}

func lambdaClient(endpoint, region string) *lambda.Client {
	return lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(endpoint), Credentials: testCredentials})
}
