package gcpfunctions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	functions "cloud.google.com/go/functions/apiv2"
	"cloud.google.com/go/functions/apiv2/functionspb"
	admin "cloud.google.com/go/iam/admin/apiv1"
	"cloud.google.com/go/iam/apiv1/iampb"
	resourcemanager "cloud.google.com/go/resourcemanager/apiv3"
	run "cloud.google.com/go/run/apiv2"
	"golang.org/x/sync/singleflight"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/api/option/internaloption"
	gtransport "google.golang.org/api/transport/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/serverless-blueprint/blueprint/internal/coalesce"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
)

// Config configures the deployer.
type Config struct {
	Project string
	Regions []string
	// ServiceAccount is the email the functions run as; "" makes Blueprint create and own
	// ServiceAccountID@Project.iam.gserviceaccount.com (see serviceaccount.go).
	ServiceAccount   string
	ServiceAccountID string // "" = DefaultServiceAccountID
	// CredentialsFile is a service account key; "" = Application Default Credentials.
	CredentialsFile string
	// Endpoint, when set, is the host:port of a stand-in for Google's APIs (Cloud Functions,
	// Cloud Run, IAM, Resource Manager), reached without TLS; calls carry the credentials of
	// CredentialsFile when it is set, and none otherwise (the tests' control plane).
	Endpoint string
	Runtime  string // "" = DefaultRuntime
	// Invokers are IAM members granted roles/run.invoker on every function's service (the
	// runtime agent's identity); none = grant nothing.
	Invokers []string
	// DeployTimeout bounds one region's deploy, build included; 0 = 15 minutes.
	DeployTimeout time.Duration
}

// Deployer manages Cloud Functions in the configured regions.
type Deployer struct {
	cfg      Config
	client   *functions.FunctionClient
	run      *run.ServicesClient // the functions' Cloud Run services, for invoker grants
	iam      *admin.IamClient    // the managed service account
	projects *resourcemanager.ProjectsClient
	upload   *http.Client

	flights        singleflight.Group // one account creation and one grant per project at a time
	mu             sync.Mutex
	accountUID     string          // unique ID of the managed account last seen
	accountCreated time.Time       // when this deployer created it; zero = found it
	granted        map[string]bool // projects where the managed account holds datastoreRole
	// accountUse is held (shared) by every deploy and (exclusively) while the managed account
	// is checked for removal, so no function is created with an account being deleted.
	accountUse sync.RWMutex
	// accountChecks coalesces the removal checks of a destroy's many deletes.
	accountChecks coalesce.Runner
}

var _ platform.Deployer = (*Deployer)(nil)

var (
	projectID  = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	regionName = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]$`)
	member     = regexp.MustCompile(`^(serviceAccount|user|group|domain):[^\s]+$`)
	saEmail    = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$`)
)

// checkServiceAccount refuses what is not a dedicated service account's email.
func checkServiceAccount(email string) error {
	if strings.HasSuffix(email, "-compute@developer.gserviceaccount.com") {
		return fmt.Errorf("is %q, the project's default compute account, which can do far more than a job needs: create a dedicated service account (e.g. blueprint-functions@PROJECT.iam.gserviceaccount.com) and name it here", email)
	}
	if !saEmail.MatchString(email) {
		return fmt.Errorf("is %q, not a service account email: write NAME@PROJECT.iam.gserviceaccount.com", email)
	}
	return nil
}

// NewDeployer builds the Cloud Functions client.
func NewDeployer(ctx context.Context, cfg Config) (*Deployer, error) {
	if !projectID.MatchString(cfg.Project) {
		return nil, fmt.Errorf("gcp_functions: project %q is not a project ID (6 to 30 lowercase letters, digits and hyphens, starting with a letter)", cfg.Project)
	}
	if len(cfg.Regions) == 0 {
		return nil, errors.New("gcp_functions: no regions: list at least one, for example regions = [\"us-central1\"]")
	}
	for _, r := range cfg.Regions {
		if !regionName.MatchString(r) {
			return nil, fmt.Errorf("gcp_functions: region %q is not a Google Cloud region name: write it like us-central1", r)
		}
	}
	if cfg.ServiceAccount != "" {
		if err := checkServiceAccount(cfg.ServiceAccount); err != nil {
			return nil, fmt.Errorf("gcp_functions: service_account %w", err)
		}
	}
	if cfg.ServiceAccountID == "" {
		cfg.ServiceAccountID = DefaultServiceAccountID
	}
	if cfg.Runtime == "" {
		cfg.Runtime = DefaultRuntime
	}
	if cfg.DeployTimeout == 0 {
		cfg.DeployTimeout = 15 * time.Minute
	}
	for _, m := range cfg.Invokers {
		if !member.MatchString(m) {
			return nil, fmt.Errorf("gcp_functions: invoker %q is not an IAM member: write serviceAccount:NAME@PROJECT.iam.gserviceaccount.com (or user:, group:)", m)
		}
	}
	opts, err := clientOptions(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := &Deployer{cfg: cfg, upload: &http.Client{Timeout: 10 * time.Minute}, granted: map[string]bool{}}
	if d.client, err = functions.NewFunctionClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("gcp_functions: connecting to the Cloud Functions API: %w", err)
	}
	if d.run, err = run.NewServicesClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("gcp_functions: connecting to the Cloud Run Admin API: %w", err)
	}
	if d.iam, err = admin.NewIamClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("gcp_functions: connecting to the IAM API: %w", err)
	}
	if d.projects, err = resourcemanager.NewProjectsClient(ctx, opts...); err != nil {
		return nil, fmt.Errorf("gcp_functions: connecting to the Resource Manager API: %w", err)
	}
	return d, nil
}

// cloudPlatformScope is the OAuth scope of every API the deployer calls.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// clientOptions connects the API clients: to Google with the key file or Application Default
// Credentials, or to a stand-in's endpoint without TLS. With a key file, calls to a stand-in
// carry the same self-signed JWTs Google's client libraries send, so refused credentials are
// testable; one connection then serves every client.
func clientOptions(ctx context.Context, cfg Config) ([]option.ClientOption, error) {
	switch {
	case cfg.Endpoint != "" && cfg.CredentialsFile != "":
		conn, err := gtransport.DialInsecure(ctx, option.WithEndpoint(cfg.Endpoint),
			option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile),
			option.WithScopes(cloudPlatformScope), internaloption.EnableJwtWithScope())
		if err != nil {
			return nil, fmt.Errorf("gcp_functions: connecting to %s with the credentials in %s: %w", cfg.Endpoint, cfg.CredentialsFile, err)
		}
		return []option.ClientOption{option.WithGRPCConn(conn)}, nil
	case cfg.Endpoint != "":
		return []option.ClientOption{option.WithEndpoint(cfg.Endpoint), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}, nil
	case cfg.CredentialsFile != "":
		return []option.ClientOption{option.WithAuthCredentialsFile(option.ServiceAccount, cfg.CredentialsFile)}, nil
	}
	return nil, nil
}

func (d *Deployer) Name() string      { return PlatformName }
func (d *Deployer) Regions() []string { return slices.Clone(d.cfg.Regions) }

// FunctionID is the Cloud Functions ID of a job: "bp-" and the job name with "_" as "-"
// (job names are snake_case, so distinct names stay distinct), or, when that is too long or
// not a valid ID, a shortened prefix and a hash of the name.
func FunctionID(job string) string {
	id := "bp-" + strings.ReplaceAll(job, "_", "-")
	if len(id) <= 63 && !strings.HasSuffix(id, "-") && !strings.Contains(id, "--") {
		return id
	}
	sum := sha256.Sum256([]byte(job))
	prefix := strings.TrimRight(id[:min(len(id), 54)], "-")
	return prefix + "-" + hex.EncodeToString(sum[:4])
}

func (d *Deployer) parent(region string) string {
	return "projects/" + d.cfg.Project + "/locations/" + region
}

func (d *Deployer) checkRegion(region string) error {
	if !slices.Contains(d.cfg.Regions, region) {
		return fmt.Errorf("gcp_functions has no region %q configured (regions: %s)", region, strings.Join(d.cfg.Regions, ", "))
	}
	return nil
}

// The tags ride in the description (label values may not hold a package path or a hash);
// labels carry the job name and a marker, for filtering in the console and in list calls.
const (
	descriptionPrefix = "blueprint "
	labelJob          = "blueprint-job"
	labelManaged      = "blueprint-managed"
	tagArtifact       = "blueprint:artifact_sha256"
)

func description(tags map[string]string) string {
	b, _ := json.Marshal(tags)
	return descriptionPrefix + string(b)
}

func tagsOf(fn *functionspb.Function) map[string]string { return tagsIn(fn.GetDescription()) }

// tagsIn reads the tags description wrote; an edited or foreign description has none.
func tagsIn(desc string) map[string]string {
	tags := map[string]string{}
	if raw, ok := strings.CutPrefix(desc, descriptionPrefix); ok {
		_ = json.Unmarshal([]byte(raw), &tags)
	}
	return tags
}

// Deploy creates or updates the function and waits until its operation is done and the
// function ACTIVE.
func (d *Deployer) Deploy(ctx context.Context, req platform.DeployRequest) (platform.Deployment, error) {
	if err := d.checkRegion(req.Region); err != nil {
		return platform.Deployment{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.DeployTimeout)
	defer cancel()
	zipped, err := os.ReadFile(req.ArtifactPath)
	if err != nil {
		return platform.Deployment{}, fmt.Errorf("reading the function source: %w", err)
	}
	if sum := sha256.Sum256(zipped); hex.EncodeToString(sum[:]) != req.ArtifactSHA256 {
		return platform.Deployment{}, fmt.Errorf("the source at %s does not hash to %s: rebuild it", req.ArtifactPath, req.ArtifactSHA256)
	}
	id := FunctionID(req.Function.Name)
	name := d.parent(req.Region) + "/functions/" + id
	fail := func(doing string, err error) (platform.Deployment, error) {
		return platform.Deployment{}, fmt.Errorf("%s Cloud Function %s (job %q) in %s: %w", doing, id, req.Function.Name, req.Region, err)
	}
	d.accountUse.RLock()
	defer d.accountUse.RUnlock()
	account, err := d.ensureAccount(ctx)
	if err != nil {
		return fail("preparing the service account of", err)
	}
	if err := d.grantStateAccess(ctx, req.Function.StateStore); err != nil {
		return fail("preparing the service account of", err)
	}
	tags := maps.Clone(req.Function.Tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[tagArtifact] = req.ArtifactSHA256
	want := &functionspb.Function{
		Name:        name,
		Description: description(tags),
		Labels:      map[string]string{labelJob: req.Function.Name[:min(len(req.Function.Name), 63)], labelManaged: "true"}, // label values stop at 63
		BuildConfig: &functionspb.BuildConfig{Runtime: d.cfg.Runtime, EntryPoint: packager.GCFEntryPoint},
		ServiceConfig: &functionspb.ServiceConfig{
			AvailableMemory:      fmt.Sprintf("%dMi", req.Function.MemoryMB),
			TimeoutSeconds:       int32((req.Function.TimeoutMS + 999) / 1000),
			EnvironmentVariables: functionEnvironment(req.Function),
			ServiceAccountEmail:  account,
		},
	}

	cur, err := d.get(ctx, name)
	switch {
	case status.Code(err) == codes.NotFound:
		if want.BuildConfig.Source, err = d.uploadSource(ctx, req.Region, zipped); err != nil {
			return fail("uploading the source of", err)
		}
		err = d.retryNewAccount(ctx, func() error {
			op, err := d.client.CreateFunction(ctx, &functionspb.CreateFunctionRequest{Parent: d.parent(req.Region), Function: want, FunctionId: id})
			if err != nil {
				return err
			}
			cur, err = op.Wait(ctx)
			return err
		})
		if status.Code(err) == codes.AlreadyExists {
			return fail("creating", fmt.Errorf("a function of that name appeared while deploying (another apply?): %w", err))
		}
		if err != nil {
			// A create whose build failed leaves a FAILED function: remove it, so a failed
			// apply leaves nothing behind and the next one creates afresh.
			if cleanupErr := d.deleteName(context.WithoutCancel(ctx), name); cleanupErr != nil {
				err = fmt.Errorf("%w (and removing the failed function: %v)", operationError(err), cleanupErr)
			}
			return fail("creating", operationError(err))
		}
	case err != nil:
		return fail("reading", err)
	default:
		if cur.GetState() == functionspb.Function_DEPLOYING {
			// Another operation (an earlier apply that was interrupted) is still deploying it:
			// let it settle, then compare.
			if cur, err = d.settle(ctx, name); err != nil {
				return fail("waiting for", err)
			}
		}
		var mask []string
		broken := cur.GetState() == functionspb.Function_FAILED || cur.GetState() == functionspb.Function_UNKNOWN
		if broken || tagsOf(cur)[tagArtifact] != req.ArtifactSHA256 {
			if want.BuildConfig.Source, err = d.uploadSource(ctx, req.Region, zipped); err != nil {
				return fail("uploading the source of", err)
			}
			mask = append(mask, "build_config.source")
		}
		sc, wsc := cur.GetServiceConfig(), want.ServiceConfig
		if broken || !maps.Equal(sc.GetEnvironmentVariables(), wsc.EnvironmentVariables) {
			mask = append(mask, "service_config.environment_variables")
		}
		if broken || sc.GetAvailableMemory() != wsc.AvailableMemory {
			mask = append(mask, "service_config.available_memory")
		}
		if broken || sc.GetTimeoutSeconds() != wsc.TimeoutSeconds {
			mask = append(mask, "service_config.timeout_seconds")
		}
		if broken || sc.GetServiceAccountEmail() != wsc.ServiceAccountEmail {
			mask = append(mask, "service_config.service_account_email")
		}
		if broken || !maps.Equal(cur.GetLabels(), want.Labels) {
			mask = append(mask, "labels")
		}
		if broken || cur.GetDescription() != want.Description {
			mask = append(mask, "description")
		}
		if len(mask) > 0 {
			err = d.retryNewAccount(ctx, func() error {
				op, err := d.client.UpdateFunction(ctx, &functionspb.UpdateFunctionRequest{Function: want, UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}})
				if err != nil {
					return err
				}
				cur, err = op.Wait(ctx)
				return err
			})
			if err != nil {
				return fail("updating", operationError(err))
			}
		}
	}
	if cur.GetState() != functionspb.Function_ACTIVE {
		return fail("deploying", fmt.Errorf("the function is %s, not ACTIVE: %v", cur.GetState(), cur.GetStateMessages()))
	}
	if err := d.grantInvokers(ctx, cur.GetServiceConfig().GetService()); err != nil {
		return fail("granting roles/run.invoker on", err)
	}
	return deployment(req.Region, req.Function.Name, cur), nil
}

// grantInvokers makes sure every configured invoker holds roles/run.invoker on the function's
// Cloud Run service (a read-modify-write of its IAM policy, retried when another change came
// in between); members already there cost one read.
func (d *Deployer) grantInvokers(ctx context.Context, service string) error {
	if len(d.cfg.Invokers) == 0 {
		return nil
	}
	if service == "" {
		return errors.New("the function reports no Cloud Run service")
	}
	return retryTransient(ctx, func() error {
		policy, err := d.run.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: service})
		if err != nil {
			return err
		}
		var binding *iampb.Binding
		for _, b := range policy.GetBindings() {
			if b.GetRole() == invokerRole && b.GetCondition() == nil {
				binding = b
			}
		}
		if binding == nil {
			binding = &iampb.Binding{Role: invokerRole}
			policy.Bindings = append(policy.Bindings, binding)
		}
		missing := false
		for _, m := range d.cfg.Invokers {
			if !slices.Contains(binding.Members, m) {
				binding.Members = append(binding.Members, m)
				missing = true
			}
		}
		if !missing {
			return nil
		}
		_, err = d.run.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: service, Policy: policy})
		return err
	})
}

// invokerRole lets a caller invoke a 2nd gen function (its Cloud Run service).
const invokerRole = "roles/run.invoker"

func deployment(region, job string, fn *functionspb.Function) platform.Deployment {
	tags := tagsOf(fn)
	return platform.Deployment{
		Platform: PlatformName, Region: region, FunctionID: job,
		Version: fn.GetServiceConfig().GetRevision(), Endpoint: fn.GetServiceConfig().GetUri(),
		CodeSHA256: tags[tagArtifact], Tags: tags,
	}
}

// functionEnvironment is the job's environment plus what the generated entry point reads.
func functionEnvironment(f platform.Function) map[string]string {
	env := maps.Clone(f.Environment)
	if env == nil {
		env = map[string]string{}
	}
	env["BLUEPRINT_JOB"] = f.Entry
	env["BLUEPRINT_TIMEOUT_MS"] = strconv.FormatInt(f.TimeoutMS, 10)
	if f.Pure {
		env["BLUEPRINT_PURE"] = "1"
	}
	if f.StateStore != "" {
		env["BLUEPRINT_STATE_STORE"] = f.StateStore
	}
	return env
}

// uploadSource asks for a signed upload URL and PUTs the zip there (no Authorization header:
// the URL carries its own).
func (d *Deployer) uploadSource(ctx context.Context, region string, zipped []byte) (*functionspb.Source, error) {
	var resp *functionspb.GenerateUploadUrlResponse
	err := retryTransient(ctx, func() error {
		var err error
		resp, err = d.client.GenerateUploadUrl(ctx, &functionspb.GenerateUploadUrlRequest{Parent: d.parent(region)})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("GenerateUploadUrl: %w", err)
	}
	put, err := http.NewRequestWithContext(ctx, http.MethodPut, resp.GetUploadUrl(), bytes.NewReader(zipped))
	if err != nil {
		return nil, err
	}
	put.Header.Set("Content-Type", "application/zip")
	res, err := d.upload.Do(put)
	if err != nil {
		return nil, fmt.Errorf("uploading the source zip: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("uploading the source zip: HTTP %d", res.StatusCode)
	}
	return &functionspb.Source{Source: &functionspb.Source_StorageSource{StorageSource: resp.GetStorageSource()}}, nil
}

// settle polls the function until no operation is deploying it.
func (d *Deployer) settle(ctx context.Context, name string) (*functionspb.Function, error) {
	delay := 250 * time.Millisecond
	for {
		fn, err := d.get(ctx, name)
		if err != nil || fn.GetState() != functionspb.Function_DEPLOYING {
			return fn, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("still DEPLOYING when the deploy timed out: %w", ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (d *Deployer) get(ctx context.Context, name string) (*functionspb.Function, error) {
	var fn *functionspb.Function
	err := retryTransient(ctx, func() error {
		var err error
		fn, err = d.client.GetFunction(ctx, &functionspb.GetFunctionRequest{Name: name})
		return err
	})
	return fn, err
}

// Get reads the function.
func (d *Deployer) Get(ctx context.Context, region, functionID string) (platform.Deployment, error) {
	if err := d.checkRegion(region); err != nil {
		return platform.Deployment{}, err
	}
	name := d.parent(region) + "/functions/" + FunctionID(functionID)
	fn, err := d.get(ctx, name)
	if status.Code(err) == codes.NotFound {
		return platform.Deployment{}, fmt.Errorf("reading Cloud Function %s in %s: %w", FunctionID(functionID), region, platform.ErrNotFound)
	}
	if err != nil {
		return platform.Deployment{}, fmt.Errorf("reading Cloud Function %s in %s: %w", FunctionID(functionID), region, err)
	}
	dep := deployment(region, functionID, fn)
	if fn.GetState() != functionspb.Function_ACTIVE {
		dep.Version = "" // it serves nothing the state could have recorded
	}
	return dep, nil
}

// Delete removes the function; a missing one is not an error.
func (d *Deployer) Delete(ctx context.Context, region, functionID string) error {
	if err := d.checkRegion(region); err != nil {
		return err
	}
	if err := d.deleteName(ctx, d.parent(region)+"/functions/"+FunctionID(functionID)); err != nil {
		return fmt.Errorf("deleting Cloud Function %s in %s: %w", FunctionID(functionID), region, err)
	}
	return d.accountChecks.Run(func() error { return d.removeAccountIfUnused(ctx) })
}

func (d *Deployer) deleteName(ctx context.Context, name string) error {
	err := retryTransient(ctx, func() error {
		op, err := d.client.DeleteFunction(ctx, &functionspb.DeleteFunctionRequest{Name: name})
		if err != nil {
			return err
		}
		return op.Wait(ctx)
	})
	if status.Code(err) == codes.NotFound {
		return nil
	}
	return err
}

var _ platform.Preflighter = (*Deployer)(nil)

// Preflight checks, before anything is deployed, that every region's functions can be listed
// with these credentials: refused credentials, a missing permission and a region Cloud
// Functions does not serve fail here, at plan, instead of halfway through an apply.
func (d *Deployer) Preflight(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var errs []error
	for _, region := range d.cfg.Regions {
		it := d.client.ListFunctions(ctx, &functionspb.ListFunctionsRequest{Parent: d.parent(region), PageSize: 1})
		_, err := it.Next()
		if err == nil || errors.Is(err, iterator.Done) {
			continue
		}
		switch status.Code(err) {
		case codes.Unauthenticated:
			errs = append(errs, fmt.Errorf("the credentials were refused by Google (%v): check credentials_file or GOOGLE_APPLICATION_CREDENTIALS, or run gcloud auth application-default login", err))
		case codes.PermissionDenied:
			errs = append(errs, fmt.Errorf("region %q: the credentials may not list Cloud Functions in project %s (they need roles/cloudfunctions.developer): %w", region, d.cfg.Project, err))
		case codes.InvalidArgument, codes.NotFound:
			errs = append(errs, fmt.Errorf("region %q: Cloud Functions does not serve it in project %s (check the region's name, e.g. us-central1): %w", region, d.cfg.Project, err))
		default:
			errs = append(errs, fmt.Errorf("region %q: listing Cloud Functions: %w", region, err))
		}
	}
	if len(errs) == 0 {
		if err := d.checkRuntime(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && d.managedAccount() {
		// The managed account is created at the first deploy: make sure these credentials may.
		if _, err := d.readAccount(ctx); err != nil && status.Code(err) != codes.NotFound {
			errs = append(errs, fmt.Errorf("reading service account %s, which Blueprint creates when service_account is not set: the credentials need roles/iam.serviceAccountAdmin, or set service_account to an existing account: %w", d.accountEmail(), err))
		}
	}
	return errors.Join(errs...)
}

// checkRuntime refuses a runtime the API does not list for every region, or lists as
// decommissioned, naming the Go runtimes it offers.
func (d *Deployer) checkRuntime(ctx context.Context) error {
	for _, region := range d.cfg.Regions {
		resp, err := d.client.ListRuntimes(ctx, &functionspb.ListRuntimesRequest{Parent: d.parent(region)})
		if err != nil {
			return fmt.Errorf("region %q: listing the runtimes of Cloud Functions: %w", region, err)
		}
		var offered []string
		var found *functionspb.ListRuntimesResponse_Runtime
		for _, r := range resp.GetRuntimes() {
			if r.GetName() == d.cfg.Runtime {
				found = r
			}
			if strings.HasPrefix(r.GetName(), "go") && r.GetStage() != functionspb.ListRuntimesResponse_DECOMMISSIONED {
				offered = append(offered, r.GetName())
			}
		}
		slices.Sort(offered)
		switch {
		case found == nil:
			return fmt.Errorf("runtime %q is not offered by Cloud Functions in %s: set runtime to one of %s", d.cfg.Runtime, region, strings.Join(offered, ", "))
		case found.GetStage() == functionspb.ListRuntimesResponse_DECOMMISSIONED:
			return fmt.Errorf("runtime %q is decommissioned in %s: set runtime to one of %s", d.cfg.Runtime, region, strings.Join(offered, ", "))
		}
	}
	return nil
}

var _ platform.StateStoreChecker = (*Deployer)(nil)

// CheckStateStore accepts Firestore stores: a function reaches its collection with its
// service account's credentials. A SQLite file on the VM is out of its reach.
func (d *Deployer) CheckStateStore(region, storeURL string) error {
	if !firestorestore.IsURL(storeURL) {
		return fmt.Errorf("a Cloud Function cannot open %s: set the provider's state_store to firestore://PROJECT/COLLECTION, or keep the job off gcp_functions", storeURL)
	}
	_, err := firestorestore.ParseURL(storeURL)
	return err
}

// operationError keeps an operation's message (a failed build names its log) readable.
func operationError(err error) error {
	if s, ok := status.FromError(err); ok && s.Code() == codes.FailedPrecondition && strings.Contains(s.Message(), "Build failed") {
		return fmt.Errorf("the build failed: %s", s.Message())
	}
	return err
}

// retryTransient retries what the API answers while it is busy or rate-limited: UNAVAILABLE,
// ABORTED, RESOURCE_EXHAUSTED, and FAILED_PRECONDITION while another operation on the
// function runs; with exponential backoff and jitter, until ctx ends.
func retryTransient(ctx context.Context, call func() error) error {
	delay := 250 * time.Millisecond
	for {
		err := call()
		if err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (still failing when the deploy timed out: %v)", ctx.Err(), err)
		case <-time.After(delay/2 + rand.N(delay)):
		}
		delay = min(2*delay, 8*time.Second)
	}
}

func transient(err error) bool {
	s, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch s.Code() {
	case codes.Unavailable, codes.Aborted, codes.ResourceExhausted:
		return true
	case codes.FailedPrecondition:
		return strings.Contains(s.Message(), "already in progress")
	}
	return false
}
