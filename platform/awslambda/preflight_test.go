package awslambda_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
)

// TestPreflight: settings that would fail halfway through an apply are refused before any
// deploy, each with what to change: a region moto does not serve, a role of another account
// (moto's account is 123456789012), credentials AWS refuses.
func TestPreflight(t *testing.T) {
	moto := mototest.Start(t)
	ctx := context.Background()
	preflight := func(cfg awslambda.Config) error {
		t.Helper()
		cfg.Endpoint, cfg.Credentials = moto.URL, testCredentials
		dep, err := awslambda.NewDeployer(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return dep.Preflight(ctx)
	}
	if err := preflight(awslambda.Config{Regions: []string{"us-east-1", "eu-west-1"}, Role: "arn:aws:iam::123456789012:role/mine"}); err != nil {
		t.Fatalf("good settings refused: %v", err)
	}
	err := preflight(awslambda.Config{Regions: []string{"us-east-1", "us-nowhere-1"}})
	if err == nil || !strings.Contains(err.Error(), `region "us-nowhere-1"`) || strings.Contains(err.Error(), `"us-east-1"`) {
		t.Fatalf("unknown region: error = %v", err)
	}
	err = preflight(awslambda.Config{Regions: []string{"us-east-1"}, Role: "arn:aws:iam::210987654321:role/theirs"})
	if err == nil || !strings.Contains(err.Error(), "belongs to account 210987654321, but the credentials are for account 123456789012") {
		t.Fatalf("role of another account: error = %v", err)
	}

	// With assume_role every call signs with the role's session: STS names it as the caller.
	err = preflight(awslambda.Config{Regions: []string{"us-east-1"}, AssumeRole: "arn:aws:iam::123456789012:role/deployer",
		Role: "arn:aws:iam::210987654321:role/theirs"})
	if err == nil || !strings.Contains(err.Error(), "arn:aws:sts::123456789012:assumed-role/deployer/blueprint") {
		t.Fatalf("assume_role: the caller is not the assumed role's session: %v", err)
	}
	if err := preflight(awslambda.Config{Regions: []string{"us-east-1"}, AssumeRole: "arn:aws:iam::123456789012:role/deployer"}); err != nil {
		t.Fatalf("assume_role: %v", err)
	}

	strict := mototest.StartAuthenticating(t)
	dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Endpoint: strict.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIANEVERISSUED00000", "wrong", "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := dep.Preflight(ctx); err == nil || !strings.Contains(err.Error(), "AWS refused the credentials") || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Fatalf("refused credentials: error = %v", err)
	}

	dep, err = awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Endpoint: strict.URL,
		AssumeRole: "arn:aws:iam::123456789012:role/deployer", Credentials: credentials.NewStaticCredentialsProvider("AKIANEVERISSUED00000", "wrong", "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := dep.Preflight(ctx); err == nil || !strings.Contains(err.Error(), "assuming role arn:aws:iam::123456789012:role/deployer failed") {
		t.Fatalf("refused assume_role: error = %v", err)
	}

	// Names that are not regions or role ARNs fail before any request.
	if _, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"mars"}}); err == nil || !strings.Contains(err.Error(), `"mars" is not an AWS region name`) {
		t.Fatalf("bad region name: error = %v", err)
	}
	if _, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Role: "blueprint-lambda"}); err == nil || !strings.Contains(err.Error(), "not an IAM role ARN") {
		t.Fatalf("bad role: error = %v", err)
	}
}
