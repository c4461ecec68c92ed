package awslambda

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/serverless-blueprint/blueprint/platform"
)

var _ platform.Preflighter = (*Deployer)(nil)

// Preflight checks, before anything is deployed, what would otherwise fail halfway through
// an apply: the credentials are accepted (STS GetCallerIdentity, which needs no permission),
// a configured execution role belongs to the same account (Lambda refuses another account's
// role), every region has a Lambda endpoint these credentials may list, and each region's
// artifact bucket, when one is configured, exists.
func (d *Deployer) Preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// One attempt more at most: a wrong setting answers the same every time, and a plan
	// should not sit through twenty backed-off retries to say so.
	few := func(o *sts.Options) { o.RetryMaxAttempts = 2 }
	id, err := d.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, few)
	if err != nil {
		if d.cfg.AssumeRole != "" && strings.Contains(err.Error(), "AssumeRole") {
			return fmt.Errorf("assuming role %s failed: check that it exists and that its trust policy lets these credentials assume it (sts:AssumeRole): %w", d.cfg.AssumeRole, err)
		}
		return credentialsError(d.cfg.Profile, err)
	}
	account := aws.ToString(id.Account)
	if d.cfg.Role != "" {
		if roleAccount := arnAccount(d.cfg.Role); roleAccount != account {
			return fmt.Errorf("role %s belongs to account %s, but the credentials are for account %s (%s): Lambda runs a function only with an execution role of its own account; name a role of account %s, or leave role unset for the managed one",
				d.cfg.Role, roleAccount, account, aws.ToString(id.Arn), account)
		}
	}
	errs := make([]error, len(d.cfg.Regions))
	var wg sync.WaitGroup
	for i, region := range d.cfg.Regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.lambdas[region].ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)},
				func(o *lambda.Options) { o.RetryMaxAttempts = 2 })
			if err != nil {
				errs[i] = regionError(region, d.cfg.Endpoint, err)
				return
			}
			if d.cfg.ArtifactBucket != "" {
				bucket := d.bucketFor(region)
				if _, err := d.s3s[region].HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}, func(o *s3.Options) { o.RetryMaxAttempts = 2 }); err != nil {
					errs[i] = bucketError(bucket, region, "checking", err)
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// credentialsError says why STS refused the caller, and what to change.
func credentialsError(profile string, err error) error {
	source := "the default credential chain (environment, shared config, SSO, instance role)"
	if profile != "" {
		source = fmt.Sprintf("profile %q", profile)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException", "AccessDenied":
			return fmt.Errorf("AWS refused the credentials from %s (%s: %s): check the access key and secret, refresh an expired session, or pick another profile",
				source, api.ErrorCode(), api.ErrorMessage())
		}
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "failed to refresh cached credentials") {
		return fmt.Errorf("no AWS credentials found through %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the profile setting: %w", source, err)
	}
	return fmt.Errorf("checking the AWS credentials from %s with STS GetCallerIdentity: %w", source, err)
}

// regionError says why a region could not be reached.
func regionError(region, endpoint string, err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return fmt.Errorf("region %q has no Lambda endpoint (%s does not resolve): check the region's name, e.g. us-east-1 or eu-west-1", region, dns.Name)
	}
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "AccessDeniedException" || api.ErrorCode() == "AccessDenied") {
		return fmt.Errorf("region %q: the credentials may not list Lambda functions; allow lambda:ListFunctions (docs list every action applying needs): %w", region, err)
	}
	if endpoint != "" {
		return fmt.Errorf("region %q: listing Lambda functions at %s failed; check the region's name and that the endpoint serves it: %w", region, endpoint, err)
	}
	return fmt.Errorf("region %q: listing Lambda functions failed: %w", region, err)
}

// roleARN is an IAM role's ARN in any partition.
var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$`)

// arnAccount is the account of a role ARN, "" when it is not one.
func arnAccount(arn string) string {
	m := roleARN.FindStringSubmatch(arn)
	if m == nil {
		return ""
	}
	return m[1]
}
