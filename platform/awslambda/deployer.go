package awslambda

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/singleflight"

	"github.com/serverless-blueprint/blueprint/internal/coalesce"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/statestore/dynamodbstore"
	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
)

// PlatformName is the platform's name in configuration and state.
const PlatformName = "aws_lambda"

// AliasName is the alias every function is invoked through: it moves to a version only once
// that version is published and active, so an invocation never meets half-updated code.
const AliasName = "live"

// DefaultRoleName is the execution role Blueprint creates when no role is configured.
const DefaultRoleName = "blueprint-lambda"

// Config configures the deployer.
type Config struct {
	Regions []string
	// Endpoint, when set, replaces AWS's endpoints for Lambda and IAM (moto in the tests).
	Endpoint string
	// Profile selects a shared-config profile; "" = the default chain.
	Profile string
	// Role is an existing execution role ARN; "" makes Blueprint create and own RoleName.
	Role     string
	RoleName string
	// Architecture is arm64 (default) or x86_64.
	Architecture string
	// ArtifactBucket names the S3 bucket zips over the direct-upload limit go through, with
	// RegionPlaceholder standing for the region when there are several; "" = none.
	ArtifactBucket string
	// MaxDirectZipBytes overrides the direct-upload limit (MaxDirectZipBytes); tests lower it
	// to send small zips through the bucket.
	MaxDirectZipBytes int
	// DeployTimeout bounds one region's deploy, waits included; 0 = 10 minutes.
	DeployTimeout time.Duration
	// Credentials, when set, replace the default chain (tests).
	Credentials aws.CredentialsProvider
	// AssumeRole, when set, is a role ARN whose temporary credentials every call uses,
	// obtained with the credentials above (STS AssumeRole, refreshed before they expire).
	AssumeRole string
	// GCPCredentialsConfig is the path of a Workload Identity Federation configuration that
	// lets the functions reach a firestore:// state store (gcpstate.go); "" = DynamoDB only.
	GCPCredentialsConfig string
}

// Deployer manages Lambda functions in the configured regions.
type Deployer struct {
	cfg     Config
	lambdas map[string]*lambda.Client
	iam     *iam.Client
	sts     *sts.Client
	creds   aws.CredentialsProvider // what every client signs with
	s3s     map[string]*s3.Client   // by region, when there is an artifact bucket
	uploads singleflight.Group      // one upload per region and code hash at a time
	roles   singleflight.Group
	mu      sync.Mutex
	roleARN string
	// roleUse is held (shared) by every deploy and (exclusively) while the managed role is
	// checked for removal, so no function is created with a role being deleted.
	roleUse sync.RWMutex
	// roleChecks coalesces the role checks of concurrent deletes: one runs, and runs again if
	// a delete finished meanwhile, so the last delete is always seen.
	roleChecks coalesce.Runner
	// gcpCredentials is the compacted federation configuration, "" when none is configured.
	gcpCredentials string
}

var _ platform.Deployer = (*Deployer)(nil)

// NewDeployer builds Lambda and IAM clients for every region.
func NewDeployer(ctx context.Context, cfg Config) (*Deployer, error) {
	if len(cfg.Regions) == 0 {
		return nil, errors.New("aws_lambda: no regions: list at least one, for example regions = [\"us-east-1\"]")
	}
	if cfg.Architecture == "" {
		cfg.Architecture = ArchARM64
	}
	if _, ok := goarch[cfg.Architecture]; !ok {
		return nil, fmt.Errorf("aws_lambda: architecture %q: use %s or %s", cfg.Architecture, ArchARM64, ArchX86_64)
	}
	if cfg.AssumeRole != "" && arnAccount(cfg.AssumeRole) == "" {
		return nil, fmt.Errorf("aws_lambda: assume_role %q is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME", cfg.AssumeRole)
	}
	if cfg.Role != "" && arnAccount(cfg.Role) == "" {
		return nil, fmt.Errorf("aws_lambda: role %q is not an IAM role ARN: write arn:aws:iam::ACCOUNT:role/NAME", cfg.Role)
	}
	for _, r := range cfg.Regions {
		if !regionName.MatchString(r) {
			return nil, fmt.Errorf("aws_lambda: region %q is not an AWS region name: write it like us-east-1 or eu-west-1", r)
		}
	}
	if cfg.RoleName == "" {
		cfg.RoleName = DefaultRoleName
	}
	if cfg.DeployTimeout == 0 {
		cfg.DeployTimeout = 10 * time.Minute
	}
	if len(cfg.Regions) > 1 && cfg.ArtifactBucket != "" && !strings.Contains(cfg.ArtifactBucket, RegionPlaceholder) {
		return nil, fmt.Errorf("aws_lambda: artifact_bucket %q serves one region, and Lambda reads code only from its own region: put %s in the name (e.g. %q) and create one bucket per region",
			cfg.ArtifactBucket, RegionPlaceholder, cfg.ArtifactBucket+"-"+RegionPlaceholder)
	}
	d := &Deployer{cfg: cfg, lambdas: map[string]*lambda.Client{}, s3s: map[string]*s3.Client{}, roleARN: cfg.Role}
	if cfg.GCPCredentialsConfig != "" {
		var err error
		if d.gcpCredentials, err = readFederationConfig(cfg.GCPCredentialsConfig); err != nil {
			return nil, err
		}
	}
	ident := identity{profile: cfg.Profile, creds: cfg.Credentials, assumeRole: cfg.AssumeRole, endpoint: cfg.Endpoint}
	for _, region := range cfg.Regions {
		ac, err := ident.config(ctx, region)
		if err != nil {
			return nil, err
		}
		if d.creds == nil {
			d.creds = ac.Credentials // one set (one assumed session) for every region
		}
		ac.Credentials = d.creds
		d.lambdas[region] = lambda.NewFromConfig(ac, func(o *lambda.Options) {
			if cfg.Endpoint != "" {
				o.BaseEndpoint = aws.String(cfg.Endpoint)
			}
			o.Retryer = controlPlaneRetryer()
		})
		if cfg.ArtifactBucket != "" {
			d.s3s[region] = s3.NewFromConfig(ac, func(o *s3.Options) {
				if cfg.Endpoint != "" {
					o.BaseEndpoint = aws.String(cfg.Endpoint)
					o.UsePathStyle = true // stand-ins serve buckets as paths, not host names
				}
			})
		}
		if d.sts == nil { // the first region's STS tells who the credentials are
			d.sts = sts.NewFromConfig(ac, func(o *sts.Options) {
				if cfg.Endpoint != "" {
					o.BaseEndpoint = aws.String(cfg.Endpoint)
				}
			})
		}
		if d.iam == nil { // IAM is global; any region's configuration reaches it
			d.iam = iam.NewFromConfig(ac, func(o *iam.Options) {
				if cfg.Endpoint != "" {
					o.BaseEndpoint = aws.String(cfg.Endpoint)
				}
				o.Retryer = controlPlaneRetryer()
			})
		}
	}
	return d, nil
}

var _ platform.ArtifactBuilder = (*Deployer)(nil)

// BuildArtifact builds the function zip for the deployer's architecture.
func (d *Deployer) BuildArtifact(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	return build(d.cfg.Architecture)(ctx, req)
}

// controlPlaneRetryer paces and retries control-plane calls. Lambda's control plane takes
// about 15 requests a second per account: an apply of many jobs meets that limit for minutes,
// and a read that gives up fails its whole deploy. Adaptive mode slows the client down to the
// rate the server accepts (fewer wasted requests); the client-side retry quota is off, because
// under sustained throttling it runs dry and turns a wait into a failure (measured: 100 jobs ×
// 2 regions failed with "retry quota exceeded" after 40 s).
func controlPlaneRetryer() aws.Retryer {
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = 20
			so.MaxBackoff = 10 * time.Second
			so.RateLimiter = ratelimit.None
		})
	})
}

func (d *Deployer) Name() string      { return PlatformName }
func (d *Deployer) Regions() []string { return slices.Clone(d.cfg.Regions) }

func (d *Deployer) client(region string) (*lambda.Client, error) {
	c, ok := d.lambdas[region]
	if !ok {
		return nil, fmt.Errorf("aws_lambda has no region %q configured (regions: %s)", region, strings.Join(d.cfg.Regions, ", "))
	}
	return c, nil
}

// Deploy creates or updates the function, waits until it is active and updated, publishes a
// version and points the alias at it.
func (d *Deployer) Deploy(ctx context.Context, req platform.DeployRequest) (platform.Deployment, error) {
	c, err := d.client(req.Region)
	if err != nil {
		return platform.Deployment{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.DeployTimeout)
	defer cancel()
	d.roleUse.RLock()
	defer d.roleUse.RUnlock()
	zipped, err := os.ReadFile(req.ArtifactPath)
	if err != nil {
		return platform.Deployment{}, fmt.Errorf("reading the function zip: %w", err)
	}
	if sum := sha256.Sum256(zipped); hex.EncodeToString(sum[:]) != req.ArtifactSHA256 {
		return platform.Deployment{}, fmt.Errorf("the zip at %s does not hash to %s: rebuild it", req.ArtifactPath, req.ArtifactSHA256)
	}
	code, err := d.functionCode(ctx, req.Region, zipped, req.ArtifactSHA256)
	if err != nil {
		return platform.Deployment{}, err
	}
	wantSha, _ := codeSHA256(req.ArtifactSHA256)
	role, err := d.ensureRole(ctx)
	if err != nil {
		return platform.Deployment{}, err
	}
	if dynamodbstore.IsURL(req.Function.StateStore) {
		if err := d.ensureStateTable(ctx, req.Function.StateStore); err != nil {
			return platform.Deployment{}, err
		}
	}
	name := req.Function.Name
	fail := func(doing string, err error) (platform.Deployment, error) {
		return platform.Deployment{}, fmt.Errorf("%s Lambda function %q in %s: %w", doing, name, req.Region, err)
	}
	env := functionEnvironment(req.Function)
	if firestorestore.IsURL(req.Function.StateStore) {
		env[envGCPCredentials] = d.gcpCredentials
	}
	memory, timeout := int32(req.Function.MemoryMB), int32((req.Function.TimeoutMS+999)/1000)

	// Each control-plane call counts against the account's ~15 requests a second, which an
	// apply of many jobs spends for minutes: a new function costs four calls (read, create,
	// publish, alias), plus the wait when Lambda answers Pending.
	created := false
	cur, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		created = true
		var state types.State
		err = retryTransient(ctx, func() error {
			out, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
				FunctionName:  aws.String(name),
				Role:          aws.String(role),
				Runtime:       types.RuntimeProvidedal2023,
				Handler:       aws.String("bootstrap"),
				Architectures: []types.Architecture{types.Architecture(d.cfg.Architecture)},
				Code:          code,
				MemorySize:    aws.Int32(memory),
				Timeout:       aws.Int32(timeout),
				Environment:   &types.Environment{Variables: env},
				Tags:          req.Function.Tags,
				Description:   aws.String("Blueprint job " + req.Function.Entry),
			})
			if err == nil {
				state = out.State
			}
			return err
		})
		var conflict *types.ResourceConflictException
		if errors.As(err, &conflict) {
			// Someone created it between the read and the create: it is not ours to update.
			return fail("creating", fmt.Errorf("a function of that name appeared while deploying (another apply?): %w", err))
		}
		if err != nil {
			return fail("creating", err)
		}
		if state != types.StateActive { // Lambda answers Pending while it sets the function up
			if err := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
				o.MinDelay, o.MaxDelay = waitMinDelay, waitMaxDelay
			}).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, d.cfg.DeployTimeout); err != nil {
				return fail("waiting for", err)
			}
		}
	case err != nil:
		return fail("reading", err)
	default:
		if aws.ToString(cur.Configuration.CodeSha256) != wantSha {
			err := retryTransient(ctx, func() error {
				_, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(name),
					ZipFile: code.ZipFile, S3Bucket: code.S3Bucket, S3Key: code.S3Key,
					Architectures: []types.Architecture{types.Architecture(d.cfg.Architecture)}})
				return err
			})
			if err != nil {
				return fail("updating the code of", err)
			}
			if err := d.waitUpdated(ctx, c, name); err != nil {
				return fail("waiting for", err)
			}
		}
		if configDiffers(cur.Configuration, role, memory, timeout, env) {
			err := retryTransient(ctx, func() error {
				_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(name),
					Role: aws.String(role), MemorySize: aws.Int32(memory), Timeout: aws.Int32(timeout),
					Environment: &types.Environment{Variables: env}})
				return err
			})
			if err != nil {
				return fail("updating the configuration of", err)
			}
			if err := d.waitUpdated(ctx, c, name); err != nil {
				return fail("waiting for", err)
			}
		}
		if arn := aws.ToString(cur.Configuration.FunctionArn); len(req.Function.Tags) > 0 && !tagsEqual(cur.Tags, req.Function.Tags) {
			if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: req.Function.Tags}); err != nil {
				return fail("tagging", err)
			}
		}
	}

	var published *lambda.PublishVersionOutput
	err = retryTransient(ctx, func() error {
		out, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String(name), CodeSha256: aws.String(wantSha)})
		if err == nil {
			published = out
		}
		return err
	})
	if err != nil {
		return fail("publishing a version of", err)
	}
	version := aws.ToString(published.Version)
	if err := d.pointAlias(ctx, c, name, version, created); err != nil {
		return fail("moving the alias of", err)
	}
	return platform.Deployment{
		Platform:   PlatformName,
		Region:     req.Region,
		FunctionID: name,
		Version:    version,
		Endpoint:   d.cfg.Endpoint,
		CodeSHA256: hexSHA256(aws.ToString(published.CodeSha256)),
		Tags:       maps.Clone(req.Function.Tags),
	}, nil
}

// functionEnvironment is the job's environment plus BLUEPRINT_JOB, which the bootstrap
// dispatches on (the function's name may differ from the job's entry), BLUEPRINT_PURE for a
// pure job and BLUEPRINT_STATE_STORE for a stateful one.
func functionEnvironment(f platform.Function) map[string]string {
	env := maps.Clone(f.Environment)
	if env == nil {
		env = map[string]string{}
	}
	env["BLUEPRINT_JOB"] = f.Entry
	if f.Pure {
		env["BLUEPRINT_PURE"] = "1" // the bootstrap runs batches only of pure jobs
	}
	if f.StateStore != "" {
		env["BLUEPRINT_STATE_STORE"] = f.StateStore
	}
	return env
}

var _ platform.StateStoreChecker = (*Deployer)(nil)

// CheckStateStore accepts DynamoDB stores, which a function reaches with the execution role's
// credentials from any region, and Firestore stores when a federation configuration lets the
// functions act on Google. A SQLite file on the VM is out of their reach.
func (d *Deployer) CheckStateStore(region, storeURL string) error {
	switch {
	case dynamodbstore.IsURL(storeURL):
		_, err := dynamodbstore.ParseURL(storeURL)
		return err
	case firestorestore.IsURL(storeURL):
		if d.gcpCredentials == "" {
			return fmt.Errorf("a Lambda function reaches the Firestore store %s only through Workload Identity Federation: set gcp_credentials_config in the aws_lambda block, or use a dynamodb:// state_store", storeURL)
		}
		_, err := firestorestore.ParseURL(storeURL)
		return err
	}
	return fmt.Errorf("a Lambda function cannot open %s, a file on this machine: set the provider's state_store to dynamodb://TABLE?region=REGION (or firestore:// with gcp_credentials_config), or keep the job off aws_lambda", storeURL)
}

// ensureStateTable creates the job's state table when missing and, for the managed role,
// allows the functions to read and write its items (nothing else of DynamoDB).
func (d *Deployer) ensureStateTable(ctx context.Context, storeURL string) error {
	loc, err := dynamodbstore.ParseURL(storeURL)
	if err != nil {
		return err
	}
	client, err := loc.Client(ctx, awsconfig.WithCredentialsProvider(d.creds))
	if err != nil {
		return err
	}
	if err := dynamodbstore.EnsureTable(ctx, client, loc.Table, map[string]string{tagManaged: "true"}); err != nil {
		return err
	}
	if d.cfg.Role != "" {
		return nil // the user's role: granting it access is theirs to do (docs say which actions)
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem","dynamodb:UpdateItem"],"Resource":"arn:aws:dynamodb:%s:*:table/%s"}]}`, loc.Region, loc.Table)
	if _, err := d.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(d.cfg.RoleName),
		PolicyName: aws.String("blueprint-state-" + loc.Table), PolicyDocument: aws.String(policy)}); err != nil {
		return fmt.Errorf("allowing IAM role %s to use state table %s: %w", d.cfg.RoleName, loc.Table, err)
	}
	return nil
}

func configDiffers(c *types.FunctionConfiguration, role string, memory, timeout int32, env map[string]string) bool {
	var have map[string]string
	if c.Environment != nil {
		have = c.Environment.Variables
	}
	return aws.ToString(c.Role) != role || aws.ToInt32(c.MemorySize) != memory || aws.ToInt32(c.Timeout) != timeout || !maps.Equal(have, env)
}

func tagsEqual(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (d *Deployer) waitUpdated(ctx context.Context, c *lambda.Client, name string) error {
	return lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = waitMinDelay, waitMaxDelay
	}).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)}, d.cfg.DeployTimeout)
}

// Waits poll from a quarter second up to five (the SDK's default starts at one second and
// backs off to minutes): a function usually settles within seconds.
const (
	waitMinDelay = 250 * time.Millisecond
	waitMaxDelay = 5 * time.Second
)

// pointAlias moves the live alias to version, creating it for a new function. Each case
// takes one call; the other is the fallback when the alias is not where the deploy thought
// (a run that died between create and alias).
func (d *Deployer) pointAlias(ctx context.Context, c *lambda.Client, name, version string, created bool) error {
	create := func() error {
		_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(name), Name: aws.String(AliasName), FunctionVersion: aws.String(version)})
		return err
	}
	update := func() error {
		return retryTransient(ctx, func() error {
			_, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(name), Name: aws.String(AliasName), FunctionVersion: aws.String(version)})
			return err
		})
	}
	if created {
		err := create()
		var exists *types.ResourceConflictException
		if errors.As(err, &exists) {
			return update()
		}
		return err
	}
	err := update()
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return create()
	}
	return err
}

// Get reads the function as its alias serves it. A function without the alias (created by
// a deploy that died before pointing it, or by someone else) is reported with no version: it
// exists, so a create must not take it over unasked, but it serves nothing yet.
func (d *Deployer) Get(ctx context.Context, region, functionID string) (platform.Deployment, error) {
	c, err := d.client(region)
	if err != nil {
		return platform.Deployment{}, err
	}
	var qualifier *string
	alias, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(functionID), Name: aws.String(AliasName)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing): // read the unpublished function, if there is one
	case err != nil:
		return platform.Deployment{}, fmt.Errorf("reading Lambda function %q in %s: %w", functionID, region, err)
	default:
		qualifier = alias.FunctionVersion
	}
	version := aws.ToString(qualifier)
	fn, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(functionID), Qualifier: qualifier})
	if errors.As(err, &missing) {
		return platform.Deployment{}, fmt.Errorf("reading Lambda function %q version %s in %s: %w", functionID, version, region, platform.ErrNotFound)
	}
	if err != nil {
		return platform.Deployment{}, fmt.Errorf("reading Lambda function %q in %s: %w", functionID, region, err)
	}
	return platform.Deployment{
		Platform:   PlatformName,
		Region:     region,
		FunctionID: functionID,
		Version:    version,
		Endpoint:   d.cfg.Endpoint,
		CodeSHA256: hexSHA256(aws.ToString(fn.Configuration.CodeSha256)),
		Tags:       fn.Tags,
	}, nil
}

// Delete removes the function with its versions and alias (a missing one is not an error),
// then the managed role if no function uses it any more.
func (d *Deployer) Delete(ctx context.Context, region, functionID string) error {
	c, err := d.client(region)
	if err != nil {
		return err
	}
	err = retryTransient(ctx, func() error {
		_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(functionID)})
		return err
	})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("deleting Lambda function %q in %s: %w", functionID, region, err)
	}
	return d.roleChecks.Run(func() error { return d.removeRoleIfUnused(ctx) })
}

// retryTransient retries the errors Lambda's control plane returns while it settles: a
// function still being updated (ResourceConflictException), a new role not yet assumable
// (InvalidParameterValueException saying so, for the first seconds after IAM creates it) and
// throttling, with exponential backoff and jitter, until ctx ends.
func retryTransient(ctx context.Context, call func() error) error {
	delay := 250 * time.Millisecond
	for {
		err := call()
		if err == nil || !transient(err) {
			return err
		}
		wait := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (still failing when the deploy timed out: %v)", ctx.Err(), err)
		case <-time.After(wait):
		}
		delay = min(2*delay, 8*time.Second)
	}
}

func transient(err error) bool {
	var conflict *types.ResourceConflictException
	var throttled *types.TooManyRequestsException
	var invalid *types.InvalidParameterValueException
	switch {
	case errors.As(err, &conflict):
		// An update in progress passes; a name already taken does not.
		return !strings.Contains(strings.ToLower(conflict.ErrorMessage()), "already exist")
	case errors.As(err, &throttled):
		return true
	case errors.As(err, &invalid):
		return strings.Contains(invalid.ErrorMessage(), "cannot be assumed by Lambda")
	}
	return false
}
