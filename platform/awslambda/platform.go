// Package awslambda is the AWS Lambda platform: each job's function runs the package's native
// bootstrap (the same binary the runtime agent runs on the VM, built by the packager on
// github.com/aws/aws-lambda-go) as a provided.al2023 function, deployed with aws-sdk-go-v2 and
// invoked through its "live" alias.
package awslambda

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
)

// Limits are Lambda's for one function (synchronous invocation, provided.al2023).
var Limits = platform.Limits{
	MaxPayloadBytes: 6 << 20, // synchronous request and response
	MinMemoryMB:     128,
	MaxMemoryMB:     10240,
	MemoryStepMB:    1,
	MaxTimeout:      15 * time.Minute,
	ReusesInstances: true, // execution environments are reused between invocations
	// A batch runs its inputs one after another in one invocation: enough to save round trips
	// for small executions, few enough that a batch stays far from the function's timeout.
	MaxBatchItems: 64,
}

// Settings of the provider's aws_lambda block and of the agent.
const (
	settingRegions      = "regions"
	settingProfile      = "profile"
	settingEndpoint     = "endpoint"
	settingRole         = "role"
	settingArchitecture = "architecture"
	settingBucket       = "artifact_bucket"
	settingAssumeRole   = "assume_role"
	settingTimeout      = "deploy_timeout_minutes"
	settingGCPConfig    = "gcp_credentials_config"
)

var assumeRoleSetting = platform.Setting{
	Name: settingAssumeRole, Type: platform.String,
	Description: "ARN of a role to act as: its temporary credentials (STS AssumeRole with the credentials above, session name `blueprint`) make every call, so the role needs the permissions listed under IAM and must trust those credentials. The agent uses it to invoke too.",
}

var profileSetting = platform.Setting{
	Name: settingProfile, Type: platform.String, EnvDefault: "AWS_PROFILE",
	Description: "Shared-config profile to take credentials from; unset = the AWS SDK's default chain (environment, shared config, SSO, instance or task role).",
}

// Platform describes AWS Lambda for the registry.
func Platform() platform.Descriptor {
	return platform.Descriptor{
		Name: PlatformName,
		Description: "AWS Lambda: one `provided.al2023` function per job and region, running the job package's native bootstrap, invoked through its `live` alias. " +
			"Stateful jobs need a `dynamodb://` `state_store` (or a `firestore://` one with `gcp_credentials_config`, to share state with Cloud Functions): the first deploy creates the table (on-demand) and lets the managed role read and write its items; with your own `role`, grant it `dynamodb:GetItem`, `PutItem` and `UpdateItem` on the table. " +
			"The managed role goes with the last function using it; a state table stays when its jobs are destroyed (it holds their state: delete it yourself when that is no longer wanted).",
		Artifact: platform.ArtifactLambdaZip,
		Build:    Build,
		Limits:   Limits,
		Settings: []platform.Setting{
			{Name: settingRegions, Type: platform.StringList, Required: true,
				Description: "AWS regions to deploy every job to, e.g. `[\"us-east-1\", \"eu-west-1\"]`."},
			profileSetting,
			{Name: settingEndpoint, Type: platform.String,
				Description: "Base URL that replaces AWS's endpoints for Lambda and IAM (a local stand-in such as moto); unset for AWS."},
			{Name: settingRole, Type: platform.String,
				Description: "ARN of an existing execution role for the functions; unset = Blueprint creates and manages `" + DefaultRoleName + "` (trusting only lambda.amazonaws.com, allowed only to write its logs)."},
			{Name: settingArchitecture, Type: platform.String,
				Description: "`arm64` (default) or `x86_64`."},
			assumeRoleSetting,
			{Name: settingTimeout, Type: platform.Int,
				Description: "Minutes one region's deploy of one job may take, waits for the function to become active and updated included; default 10."},
			{Name: settingBucket, Type: platform.String,
				Description: "S3 bucket for function zips over the 50 MB Lambda takes directly, one per region: write `" + RegionPlaceholder + "` where the region goes, e.g. `my-artifacts-" + RegionPlaceholder + "` (Lambda reads code only from a bucket in the function's region). The buckets must exist; zips are kept as `blueprint/<sha256>.zip` (add a lifecycle rule to expire old ones). Unset: such zips are refused with this advice."},
			{Name: settingGCPConfig, Type: platform.String,
				Description: "Path of a Workload Identity Federation configuration for AWS workloads (`gcloud iam workload-identity-pools create-cred-config … --aws`; it holds no secret) that lets stateful functions use a `firestore://` `state_store`, so one job on Lambda and Cloud Functions keeps one state: Google's client trades the execution role's credentials for a Google token; the federated principal needs roles/datastore.user. A service account key is refused (it would sit in the functions' environment). Unset: Lambda takes `dynamodb://` stores only."},
		},
		Validate: validateSettings,
		NewDeployer: func(s platform.Settings) (platform.Deployer, error) {
			return NewDeployer(context.Background(), Config{Regions: s.StringList(settingRegions), Profile: s.String(settingProfile),
				Endpoint: s.String(settingEndpoint), Role: s.String(settingRole), Architecture: s.String(settingArchitecture),
				ArtifactBucket: s.String(settingBucket), AssumeRole: s.String(settingAssumeRole), GCPCredentialsConfig: s.String(settingGCPConfig),
				DeployTimeout: time.Duration(s.Int(settingTimeout)) * time.Minute})
		},
		Regions:         func(s platform.Settings) []string { return s.StringList(settingRegions) },
		InvokerSettings: []platform.Setting{profileSetting, assumeRoleSetting},
		NewInvoker: func(s platform.Settings) (platform.Invoker, error) {
			return NewInvoker(s.String(settingProfile), nil).AssumingRole(s.String(settingAssumeRole)), nil
		},
	}
}

// Build makes the function zip for arm64, the default architecture. BuildFor builds for
// another.
var Build = BuildFor(ArchARM64)

// BuildFor makes the function zip for an architecture (arm64 or x86_64).
func BuildFor(arch string) platform.BuildFunc { return build(arch) }

// regionName is the shape of an AWS region's name (us-east-1, eu-central-2, us-gov-west-1).
var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

func validateSettings(s platform.Settings) []*platform.SettingError {
	var errs []*platform.SettingError
	if _, set := s[settingRegions]; set && len(s.StringList(settingRegions)) == 0 {
		errs = append(errs, &platform.SettingError{Setting: settingRegions, Message: "is empty; list at least one region, e.g. [\"us-east-1\"]"})
	}
	for _, r := range s.StringList(settingRegions) {
		if !regionName.MatchString(r) {
			errs = append(errs, &platform.SettingError{Setting: settingRegions, Message: fmt.Sprintf("has %q, which is not an AWS region name: write it like us-east-1 or eu-west-1", r)})
		}
	}
	if b := s.String(settingBucket); b != "" && len(s.StringList(settingRegions)) > 1 && !strings.Contains(b, RegionPlaceholder) {
		errs = append(errs, &platform.SettingError{Setting: settingBucket, Message: fmt.Sprintf("is %q, one bucket for %d regions, but Lambda reads code only from a bucket in the function's region: write %s where the region goes, e.g. %q", b, len(s.StringList(settingRegions)), RegionPlaceholder, b+"-"+RegionPlaceholder)})
	}
	if role := s.String(settingAssumeRole); role != "" && arnAccount(role) == "" {
		errs = append(errs, &platform.SettingError{Setting: settingAssumeRole, Message: fmt.Sprintf("is %q; set an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME", role)})
	}
	if _, set := s[settingTimeout]; set && s.Int(settingTimeout) < 1 {
		errs = append(errs, &platform.SettingError{Setting: settingTimeout, Message: fmt.Sprintf("is %d; set at least 1 (minutes)", s.Int(settingTimeout))})
	}
	if role := s.String(settingRole); role != "" && arnAccount(role) == "" {
		errs = append(errs, &platform.SettingError{Setting: settingRole, Message: fmt.Sprintf("is %q; set an IAM role ARN, arn:aws:iam::ACCOUNT:role/NAME", role)})
	}
	if arch := s.String(settingArchitecture); arch != "" {
		if _, ok := goarch[arch]; !ok {
			errs = append(errs, &platform.SettingError{Setting: settingArchitecture, Message: fmt.Sprintf("is %q; use %q or %q", arch, ArchARM64, ArchX86_64)})
		}
	}
	if e := s.String(settingEndpoint); e != "" {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, &platform.SettingError{Setting: settingEndpoint, Message: fmt.Sprintf("is %q; set a URL such as http://127.0.0.1:5000", e)})
		}
	}
	return errs
}
