package awslambda_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
	"github.com/serverless-blueprint/blueprint/platform/platformtest"
)

// testCredentials keep the tests away from the developer's AWS profile.
var testCredentials = credentials.NewStaticCredentialsProvider("testing", "testing", "")

// TestConformance runs the platform contract against moto (control plane) and the runtime
// interface emulator running the built bootstrap (invocations). The functions are built for
// x86_64, the architecture of the machine the emulator runs on.
func TestConformance(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1", "eu-west-1"}, Endpoint: stand.URL,
		Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	d := awslambda.Platform()
	d.Build = awslambda.BuildFor(awslambda.ArchX86_64)
	platformtest.Run(t, platformtest.Harness{
		Platform: d, Deployer: dep, Invoker: awslambda.NewInvoker("", testCredentials), Region: "us-east-1",
		DeleteOutOfBand: func(ctx context.Context, region, functionID string) error {
			c := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(stand.URL), Credentials: testCredentials})
			_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(functionID)})
			return err
		},
		Throttle: func(t *testing.T, region, functionID string, retryAfter time.Duration) func() {
			return stand.Throttle(functionID, retryAfter)
		},
	})
}
