package pulumi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
)

// TestJobOnAWSLambda: the aws_lambda platform through the Pulumi provider, against moto and
// AWS's runtime interface emulator: the job's function exists in both regions after create
// and is gone after delete, with the managed role.
func TestJobOnAWSLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("needs moto and aws-lambda-rie (make test provides them)")
	}
	w := newWorld(t)
	stand := lambdatest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	awsRegions := []string{"eu-west-1", "us-east-1"}
	s := w.server(map[string]property.Value{
		"platforms": property.New(property.NewArray([]property.Value{property.New("aws_lambda")})),
		"wasm":      property.Value{},
		"awsLambda": property.New(property.NewMap(map[string]property.Value{
			"regions":      property.New(property.NewArray([]property.Value{property.New(awsRegions[0]), property.New(awsRegions[1])})),
			"endpoint":     property.New(stand.URL),
			"architecture": property.New("x86_64"),
		})),
	})
	dir := w.writeModule("greet", greetSource("hello "))
	check, err := s.Check(p.CheckRequest{Urn: jobURN, Inputs: jobInputs(dir, nil)})
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.Create(p.CreateRequest{Urn: jobURN, Properties: check.Inputs})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	count := func(region string) int {
		t.Helper()
		c := lambda.New(lambda.Options{Region: region, BaseEndpoint: aws.String(stand.URL), Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
		out, err := c.ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Functions)
	}
	for _, r := range awsRegions {
		if n := count(r); n != 1 {
			t.Fatalf("%s has %d functions after create, want 1", r, n)
		}
	}
	if deps := created.Properties.Get("deployments").AsArray(); deps.Len() != 2 || deps.Get(0).AsMap().Get("platform").AsString() != "aws_lambda" {
		t.Fatalf("deployments: %v", deps)
	}
	if err := s.Delete(p.DeleteRequest{ID: created.ID, Urn: jobURN, Properties: created.Properties}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, r := range awsRegions {
		if n := count(r); n != 0 {
			t.Fatalf("%s has %d functions after delete", r, n)
		}
	}
}
