package awslambda

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// identity is who the deployer and the invoker act as: the SDK's default chain or a
// shared-config profile (or, in tests, a given provider), optionally assuming a role with it.
type identity struct {
	profile    string
	creds      aws.CredentialsProvider
	assumeRole string
	endpoint   string // STS at a stand-in, when set
}

// roleSessionName names the sessions Blueprint opens with assume_role (CloudTrail shows it).
const roleSessionName = "blueprint"

// config loads the SDK configuration for a region with the identity's credentials.
func (id identity) config(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if id.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(id.profile))
	}
	if id.creds != nil {
		opts = append(opts, awsconfig.WithCredentialsProvider(id.creds))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration for %s: %w", region, err)
	}
	if id.assumeRole != "" {
		client := sts.NewFromConfig(cfg, func(o *sts.Options) {
			if id.endpoint != "" {
				o.BaseEndpoint = aws.String(id.endpoint)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, id.assumeRole, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = roleSessionName
		}))
	}
	return cfg, nil
}
