package gcftest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/functions/apiv2/functionspb"
	"cloud.google.com/go/iam/admin/apiv1/adminpb"
	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/resourcemanager/apiv3/resourcemanagerpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ControlPlane stands in for the Cloud Functions v2 API, which has no emulator: a gRPC server
// on 127.0.0.1 implementing FunctionService and the Operations service the client library
// waits on, with the API's rules — function IDs of 4 to 63 characters of [a-z0-9-] starting
// with a letter, ALREADY_EXISTS, NOT_FOUND, FAILED_PRECONDITION while an operation on the
// function runs, operations that finish later, DEPLOYING then ACTIVE or FAILED (a build that
// fails reports its log's URL). Upload URLs are served by fake-gcs-server, behind a check that
// the PUT carries Content-Type application/zip and no Authorization header, as a signed URL
// demands. A deploy really builds the zip the way the Go runtime does and runs it under
// functions-framework-go; invocations go through a proxy that checks the caller's ID token is
// for the function's URI.
type ControlPlane struct {
	Addr string // the gRPC endpoint, host:port

	t       testing.TB
	storage *fakestorage.Server
	upload  string // base URL of the upload server
	invoke  *httptest.Server

	mu        sync.Mutex
	functions map[string]*function // by full name
	ops       map[string]*longrunningpb.Operation
	builds    map[string]string // zip SHA-256 -> built binary
	buildLogs map[string]string
	faults    Faults
	requests  int
	throttled map[string]time.Duration // function ID -> Retry-After
	invokes   map[string]int           // function ID -> invocations served
	policies  map[string]*iampb.Policy // Cloud Run service -> IAM policy
	// requireInvoker makes the invoke front admit only callers holding roles/run.invoker on
	// the function's service, as Cloud Run does.
	requireInvoker bool

	accounts           map[string]*account      // service accounts by email
	projectPolicies    map[string]*iampb.Policy // project ID -> IAM policy
	keys               map[string]issuedKey     // service account keys by key ID
	requireCredentials bool
	denied             map[string]bool // "email service" pairs answered PERMISSION_DENIED

	functionspb.UnimplementedFunctionServiceServer
	longrunningpb.UnimplementedOperationsServer
}

// Faults are failures of the real API the control plane injects on request.
type Faults struct {
	// Exhausted: that many calls answer RESOURCE_EXHAUSTED (quota), then they pass.
	Exhausted int
	// FailBuild makes a function's next build fail, by function ID.
	FailBuild map[string]bool
	// DeployDelay keeps an operation running this long before the build starts.
	DeployDelay time.Duration
	// AccountPropagation is how long a new service account stays unknown to functions and
	// policies, as IAM's eventual consistency makes it for some seconds.
	AccountPropagation time.Duration
}

type function struct {
	f    *functionspb.Function
	proc *Function
	busy bool // an operation is running
}

// StartControlPlane starts the stand-in for the test.
func StartControlPlane(t testing.TB) *ControlPlane {
	t.Helper()
	c := &ControlPlane{t: t, functions: map[string]*function{}, ops: map[string]*longrunningpb.Operation{},
		builds: map[string]string{}, buildLogs: map[string]string{},
		throttled: map[string]time.Duration{}, invokes: map[string]int{}, policies: map[string]*iampb.Policy{},
		accounts: map[string]*account{}, projectPolicies: map[string]*iampb.Policy{}, keys: map[string]issuedKey{}, denied: map[string]bool{}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.storage, err = fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, PublicHost: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	storage := c.storage.HTTPHandler()
	up := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/builds/") {
			c.mu.Lock()
			log, ok := c.buildLogs[strings.TrimPrefix(r.URL.Path, "/builds/")]
			c.mu.Unlock()
			if !ok {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, log)
			return
		}
		if r.Method == http.MethodPut {
			if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
				http.Error(w, "the signed upload URL expects Content-Type application/zip, got "+ct, http.StatusBadRequest)
				return
			}
			if r.Header.Get("Authorization") != "" {
				http.Error(w, "a signed URL carries its own credentials: send no Authorization header", http.StatusBadRequest)
				return
			}
		}
		storage.ServeHTTP(w, r)
	})}}
	up.Start()
	t.Cleanup(up.Close)
	c.upload = up.URL

	c.invoke = httptest.NewServer(http.HandlerFunc(c.serveInvoke))
	t.Cleanup(c.invoke.Close)

	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(c.authenticate))
	functionspb.RegisterFunctionServiceServer(srv, c)
	longrunningpb.RegisterOperationsServer(srv, c)
	runpb.RegisterServicesServer(srv, &runServices{c: c})
	adminpb.RegisterIAMServer(srv, &iamAdmin{c: c})
	resourcemanagerpb.RegisterProjectsServer(srv, &projectsIAM{c: c})
	go srv.Serve(gl)
	t.Cleanup(func() {
		srv.Stop()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, f := range c.functions {
			if f.proc != nil {
				f.proc.Stop()
			}
		}
	})
	c.Addr = gl.Addr().String()
	return c
}

// SetFaults replaces the faults injected from now on.
func (c *ControlPlane) SetFaults(f Faults) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = f
}

// Functions lists the full names of the functions that exist, for checks after destroy.
func (c *ControlPlane) Functions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Keys(c.functions))
}

// DeleteOutOfBand removes a function as someone in the console would.
func (c *ControlPlane) DeleteOutOfBand(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.functions[name]; f != nil {
		if f.proc != nil {
			f.proc.Stop()
		}
		delete(c.functions, name)
	}
}

// Throttle makes invocations of a function (by ID) answer 429 with Retry-After, as Cloud Run
// does when no instance can take the request, until stop is called.
func (c *ControlPlane) Throttle(id string, retryAfter time.Duration) (stop func()) {
	c.mu.Lock()
	c.throttled[id] = retryAfter
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.throttled, id)
		c.mu.Unlock()
	}
}

// Invocations reports how many invocations of a function (by ID) reached its process.
func (c *ControlPlane) Invocations(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.invokes[id]
}

// IDToken is the ID token the stand-in accepts for an audience from an anonymous test caller;
// tests give the invoker a token source that makes it.
func IDToken(audience string) string { return "test-id-token:" + audience }

// IDTokenFor is an ID token of a given identity (an IAM member such as
// serviceAccount:agent@p.iam.gserviceaccount.com) for an audience.
func IDTokenFor(member, audience string) string { return "test-id-token:" + member + "|" + audience }

// RequireInvoker makes the invoke front admit only callers whose identity holds
// roles/run.invoker on the function's Cloud Run service.
func (c *ControlPlane) RequireInvoker(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requireInvoker = on
}

// Invokers lists the members holding roles/run.invoker on a function's service.
func (c *ControlPlane) Invokers(function string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.functions[function]
	if !ok {
		return nil
	}
	return invokerMembers(c.policies[f.f.GetServiceConfig().GetService()])
}

func invokerMembers(p *iampb.Policy) []string {
	for _, b := range p.GetBindings() {
		if b.GetRole() == "roles/run.invoker" {
			return b.GetMembers()
		}
	}
	return nil
}

// runServices is the Cloud Run Admin API's IAM part, for the functions' services.
type runServices struct {
	runpb.UnimplementedServicesServer
	c *ControlPlane
}

func (r *runServices) GetIamPolicy(ctx context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.serviceExists(req.GetResource()) {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetResource())
	}
	return readPolicy(c.policies, req.GetResource()), nil
}

func (r *runServices) SetIamPolicy(ctx context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	c := r.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.serviceExists(req.GetResource()) {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", req.GetResource())
	}
	return writePolicy(c.policies, req.GetResource(), req.GetPolicy())
}

// readPolicy is a resource's IAM policy as GetIamPolicy answers it: an empty one with etag
// "0" before any was set.
func readPolicy(policies map[string]*iampb.Policy, resource string) *iampb.Policy {
	p, ok := policies[resource]
	if !ok {
		return &iampb.Policy{Version: 1, Etag: []byte("0")}
	}
	return proto.Clone(p).(*iampb.Policy)
}

// writePolicy sets a resource's IAM policy if the caller read the current one (its etag
// matches; ABORTED otherwise, as IAM answers a concurrent change) and gives it a new etag.
func writePolicy(policies map[string]*iampb.Policy, resource string, p *iampb.Policy) (*iampb.Policy, error) {
	if string(p.GetEtag()) != string(readPolicy(policies, resource).GetEtag()) {
		return nil, status.Error(codes.Aborted, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.")
	}
	next := proto.Clone(p).(*iampb.Policy)
	next.Etag = []byte(randomID())
	policies[resource] = next
	return proto.Clone(next).(*iampb.Policy), nil
}

// serviceExists reports whether a function is backed by the service; called with c.mu held.
func (c *ControlPlane) serviceExists(service string) bool {
	for _, f := range c.functions {
		if f.f.GetServiceConfig().GetService() == service {
			return true
		}
	}
	return false
}

// regions are the Cloud Functions (2nd gen) locations the stand-in serves, as the real API
// serves a fixed list and refuses the rest.
var regions = map[string]bool{
	"us-central1": true, "us-east1": true, "us-east4": true, "us-west1": true, "us-west2": true,
	"europe-west1": true, "europe-west2": true, "europe-west3": true, "europe-west4": true, "europe-north1": true,
	"asia-east1": true, "asia-northeast1": true, "asia-southeast1": true, "australia-southeast1": true,
}

// location checks a parent against the API's rules and returns its project and region.
func location(parent string) (string, string, error) {
	if project, ok := strings.CutSuffix(parent, "/locations/-"); ok {
		return "", "", status.Errorf(codes.InvalidArgument, "parent %q: locations/- (every region) is only for listing", project)
	}
	m := locationName.FindStringSubmatch(parent)
	if m == nil {
		return "", "", status.Errorf(codes.InvalidArgument, "invalid parent %q: want projects/PROJECT/locations/REGION", parent)
	}
	if !regions[m[2]] {
		return "", "", status.Errorf(codes.InvalidArgument, "Location %q is not a supported location for Cloud Functions", m[2])
	}
	return m[1], m[2], nil
}

var (
	locationName = regexp.MustCompile(`^projects/([a-z][a-z0-9-]{4,28}[a-z0-9])/locations/([a-z]+-[a-z]+[0-9])$`)
	functionID   = regexp.MustCompile(`^[a-z][a-z0-9-]{2,61}[a-z0-9]$`)
)

func (c *ControlPlane) quota() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if c.faults.Exhausted > 0 {
		c.faults.Exhausted--
		return status.Error(codes.ResourceExhausted, "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per region'")
	}
	return nil
}

func (c *ControlPlane) GenerateUploadUrl(ctx context.Context, req *functionspb.GenerateUploadUrlRequest) (*functionspb.GenerateUploadUrlResponse, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	project, region, err := location(req.GetParent())
	if err != nil {
		return nil, err
	}
	bucket := "gcf-v2-uploads-" + project + "-" + region
	c.storage.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	object := randomID() + ".zip"
	return &functionspb.GenerateUploadUrlResponse{
		UploadUrl:     fmt.Sprintf("%s/%s/%s?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=%s", c.upload, bucket, object, randomID()),
		StorageSource: &functionspb.StorageSource{Bucket: bucket, Object: object},
	}, nil
}

func (c *ControlPlane) GetFunction(ctx context.Context, req *functionspb.GetFunctionRequest) (*functionspb.Function, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.lookup(req.GetName(), false)
	if err != nil {
		return nil, err
	}
	return proto.Clone(f.f).(*functionspb.Function), nil
}

func (c *ControlPlane) ListFunctions(ctx context.Context, req *functionspb.ListFunctionsRequest) (*functionspb.ListFunctionsResponse, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	prefix := req.GetParent() + "/functions/"
	if project, ok := strings.CutSuffix(req.GetParent(), "/locations/-"); ok { // every region
		if !projectName.MatchString(strings.TrimPrefix(project, "projects/")) {
			return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
		}
		prefix = project + "/locations/"
	} else if _, _, err := location(req.GetParent()); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := &functionspb.ListFunctionsResponse{}
	for name, f := range c.functions {
		if strings.HasPrefix(name, prefix) {
			out.Functions = append(out.Functions, proto.Clone(f.f).(*functionspb.Function))
		}
	}
	return out, nil
}

func (c *ControlPlane) CreateFunction(ctx context.Context, req *functionspb.CreateFunctionRequest) (*longrunningpb.Operation, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	_, region, err := location(req.GetParent())
	if err != nil {
		return nil, err
	}
	if !functionID.MatchString(req.GetFunctionId()) {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid function_id %q: it must be 4 to 63 characters of lowercase letters, digits and hyphens, start with a letter and end with a letter or digit", req.GetFunctionId())
	}
	fn := proto.Clone(req.GetFunction()).(*functionspb.Function)
	if err := validate(fn); err != nil {
		return nil, err
	}
	name := req.GetParent() + "/functions/" + req.GetFunctionId()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.runsAs(fn); err != nil {
		return nil, err
	}
	if _, exists := c.functions[name]; exists {
		return nil, status.Errorf(codes.AlreadyExists, "Function %s already exists", req.GetFunctionId())
	}
	fn.Name = name
	fn.State = functionspb.Function_DEPLOYING
	fn.CreateTime, fn.UpdateTime = timestamppb.Now(), timestamppb.Now()
	f := &function{f: fn, busy: true}
	c.functions[name] = f
	return c.startDeploy(f, "create", region), nil
}

func (c *ControlPlane) UpdateFunction(ctx context.Context, req *functionspb.UpdateFunctionRequest) (*longrunningpb.Operation, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	next := req.GetFunction()
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.lookup(next.GetName(), true)
	if err != nil {
		return nil, err
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, status.Error(codes.InvalidArgument, "update_mask names no field: name what changed")
	}
	fn := proto.Clone(f.f).(*functionspb.Function)
	for _, p := range paths {
		switch p {
		case "build_config.source":
			fn.BuildConfig.Source = next.GetBuildConfig().GetSource()
		case "build_config.environment_variables":
			fn.BuildConfig.EnvironmentVariables = next.GetBuildConfig().GetEnvironmentVariables()
		case "service_config.environment_variables":
			fn.ServiceConfig.EnvironmentVariables = next.GetServiceConfig().GetEnvironmentVariables()
		case "service_config.available_memory":
			fn.ServiceConfig.AvailableMemory = next.GetServiceConfig().GetAvailableMemory()
		case "service_config.timeout_seconds":
			fn.ServiceConfig.TimeoutSeconds = next.GetServiceConfig().GetTimeoutSeconds()
		case "service_config.service_account_email":
			fn.ServiceConfig.ServiceAccountEmail = next.GetServiceConfig().GetServiceAccountEmail()
		case "labels":
			fn.Labels = next.GetLabels()
		case "description":
			fn.Description = next.GetDescription()
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask path %q is not supported by this stand-in", p)
		}
	}
	if err := validate(fn); err != nil {
		return nil, err
	}
	if err := c.runsAs(fn); err != nil {
		return nil, err
	}
	fn.State, fn.UpdateTime = functionspb.Function_DEPLOYING, timestamppb.Now()
	f.f, f.busy = fn, true
	region := locationName.FindStringSubmatch(strings.Split(fn.Name, "/functions/")[0])[2]
	return c.startDeploy(f, "update", region), nil
}

func (c *ControlPlane) DeleteFunction(ctx context.Context, req *functionspb.DeleteFunctionRequest) (*longrunningpb.Operation, error) {
	if err := c.quota(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.lookup(req.GetName(), true)
	if err != nil {
		return nil, err
	}
	if f.proc != nil {
		f.proc.Stop()
	}
	delete(c.functions, req.GetName())
	op := c.newOp(req.GetName(), "delete")
	c.finish(op, mustAny(&emptypb.Empty{}), nil)
	return proto.Clone(op).(*longrunningpb.Operation), nil
}

func (c *ControlPlane) GetOperation(ctx context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	op, ok := c.ops[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "operation %s not found", req.GetName())
	}
	return proto.Clone(op).(*longrunningpb.Operation), nil
}

// lookup finds a function by full name, as the API answers for one that is missing or, when
// idle is asked for, one an operation is still running on; called with c.mu held.
func (c *ControlPlane) lookup(name string, idle bool) (*function, error) {
	f, ok := c.functions[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Resource '%s' was not found", name)
	}
	if idle && f.busy {
		return nil, status.Errorf(codes.FailedPrecondition, "An operation on function %s is already in progress. Please try again later.", name)
	}
	return f, nil
}

// idOf is the function ID, the last part of a function's full name.
func idOf(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// runtimes are the Go runtimes the stand-in offers, with their stages as the API lists them.
var runtimes = map[string]functionspb.ListRuntimesResponse_RuntimeStage{
	"go121": functionspb.ListRuntimesResponse_DECOMMISSIONED,
	"go122": functionspb.ListRuntimesResponse_DEPRECATED,
	"go123": functionspb.ListRuntimesResponse_GA,
	"go124": functionspb.ListRuntimesResponse_GA,
	"go125": functionspb.ListRuntimesResponse_GA,
}

func (c *ControlPlane) ListRuntimes(ctx context.Context, req *functionspb.ListRuntimesRequest) (*functionspb.ListRuntimesResponse, error) {
	if _, _, err := location(req.GetParent()); err != nil {
		return nil, err
	}
	out := &functionspb.ListRuntimesResponse{}
	for name, stage := range runtimes {
		out.Runtimes = append(out.Runtimes, &functionspb.ListRuntimesResponse_Runtime{Name: name, Stage: stage, Environment: functionspb.Environment_GEN_2})
	}
	return out, nil
}

// validate applies the API's rules to a function's configuration.
func validate(fn *functionspb.Function) error {
	bc := fn.GetBuildConfig()
	if stage, ok := runtimes[bc.GetRuntime()]; !ok || stage == functionspb.ListRuntimesResponse_DECOMMISSIONED {
		return status.Errorf(codes.InvalidArgument, "build_config.runtime %q is not a runtime Cloud Functions offers", bc.GetRuntime())
	}
	if bc.GetEntryPoint() == "" {
		return status.Error(codes.InvalidArgument, "build_config.entry_point is required")
	}
	if bc.GetSource().GetStorageSource() == nil {
		return status.Error(codes.InvalidArgument, "build_config.source.storage_source is required (upload with GenerateUploadUrl first)")
	}
	sc := fn.GetServiceConfig()
	if sc.GetTimeoutSeconds() < 1 || sc.GetTimeoutSeconds() > 3600 {
		return status.Errorf(codes.InvalidArgument, "service_config.timeout_seconds %d must be 1 to 3600", sc.GetTimeoutSeconds())
	}
	for k := range fn.GetLabels() {
		if !regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`).MatchString(k) {
			return status.Errorf(codes.InvalidArgument, "label key %q is invalid", k)
		}
	}
	return nil
}

// runsAs checks the function's service account exists (none named: the project's default
// compute account); called with c.mu held.
func (c *ControlPlane) runsAs(fn *functionspb.Function) error {
	if email := fn.GetServiceConfig().GetServiceAccountEmail(); email != "" {
		return c.accountMissing(email)
	}
	return nil
}

// startDeploy records a running operation and builds and starts the function in the
// background; called with c.mu held.
func (c *ControlPlane) startDeploy(f *function, verb, region string) *longrunningpb.Operation {
	op := c.newOp(f.f.Name, verb)
	snapshot := proto.Clone(f.f).(*functionspb.Function)
	delay := c.faults.DeployDelay
	failBuild := c.faults.FailBuild[idOf(snapshot.Name)]
	go func() {
		time.Sleep(delay)
		proc, err := c.deploy(snapshot, failBuild)
		c.mu.Lock()
		defer c.mu.Unlock()
		cur, ok := c.functions[snapshot.Name]
		if !ok { // deleted meanwhile
			if proc != nil {
				proc.Stop()
			}
			c.finish(op, nil, status.New(codes.Aborted, "the function was deleted"))
			return
		}
		cur.busy = false
		if err != nil {
			cur.f.State = functionspb.Function_FAILED
			cur.f.StateMessages = []*functionspb.StateMessage{{Severity: functionspb.StateMessage_ERROR, Type: "BuildFailed", Message: err.Error()}}
			c.finish(op, nil, status.New(codes.FailedPrecondition, err.Error()))
			return
		}
		if cur.proc != nil {
			cur.proc.Stop()
		}
		cur.proc = proc
		cur.f.State = functionspb.Function_ACTIVE
		cur.f.StateMessages = nil
		uri := c.invoke.URL + "/" + region + "/" + idOf(snapshot.Name)
		cur.f.ServiceConfig.Uri, cur.f.Url = uri, uri
		cur.f.ServiceConfig.Service = strings.Replace(snapshot.Name, "/functions/", "/services/", 1)
		cur.f.ServiceConfig.Revision = fmt.Sprintf("%s-%05d", idOf(snapshot.Name), time.Now().UnixNano()%100000)
		cur.f.BuildConfig.Build = "projects/p/locations/" + region + "/builds/" + randomID()
		c.finish(op, mustAny(cur.f), nil)
	}()
	return proto.Clone(op).(*longrunningpb.Operation)
}

// deploy fetches the uploaded zip, builds it (once per content) and starts it.
func (c *ControlPlane) deploy(fn *functionspb.Function, failBuild bool) (*Function, error) {
	src := fn.GetBuildConfig().GetSource().GetStorageSource()
	obj, err := c.storage.GetObject(src.GetBucket(), src.GetObject())
	if err != nil {
		return nil, fmt.Errorf("reading the source gs://%s/%s: %v (was it uploaded to the URL GenerateUploadUrl gave?)", src.GetBucket(), src.GetObject(), err)
	}
	sum := sha256.Sum256(obj.Content)
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	bin, built := c.builds[key]
	c.mu.Unlock()
	if failBuild || !built {
		var log string
		if failBuild {
			err = fmt.Errorf("the build was made to fail")
			log = "Step #1: go build: injected failure\n"
		} else {
			dir, derr := os.MkdirTemp("", "gcf-build-")
			if derr != nil {
				return nil, derr
			}
			c.t.Cleanup(func() { os.RemoveAll(dir) })
			bin, err = Build(obj.Content, dir)
			if err != nil {
				log = err.Error()
			}
		}
		if err != nil {
			id := randomID()
			c.mu.Lock()
			c.buildLogs[id] = log
			c.mu.Unlock()
			return nil, fmt.Errorf("Build failed with status: FAILURE. Could not build the function due to a build error; see the build log: %s/builds/%s", c.upload, id)
		}
		c.mu.Lock()
		c.builds[key] = bin
		c.mu.Unlock()
	}
	env := map[string]string{"K_SERVICE": fn.GetName()}
	for k, v := range fn.GetServiceConfig().GetEnvironmentVariables() {
		env[k] = v
	}
	return Start(bin, env)
}

// serveInvoke is the functions' HTTPS front: /REGION/ID, an ID token for the function's URI
// required, then the function's process.
func (c *ControlPlane) serveInvoke(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 2 {
		http.NotFound(w, r)
		return
	}
	uri := c.invoke.URL + "/" + parts[0] + "/" + parts[1]
	c.mu.Lock()
	var target *function
	for name, f := range c.functions {
		if strings.HasSuffix(name, "/locations/"+parts[0]+"/functions/"+parts[1]) {
			target = f
		}
	}
	var proc *Function
	if target != nil {
		proc = target.proc
	}
	retryAfter, throttled := c.throttled[parts[1]]
	if _, ok := caller(r.Header.Get("Authorization"), uri); !throttled && target != nil && proc != nil && ok {
		c.invokes[parts[1]]++
	}
	c.mu.Unlock()
	if throttled {
		w.Header().Set("Retry-After", fmt.Sprint(int(retryAfter/time.Second)))
		http.Error(w, "Rate exceeded.", http.StatusTooManyRequests)
		return
	}
	if target == nil || proc == nil {
		http.Error(w, "Page not found", http.StatusNotFound)
		return
	}
	member, ok := caller(r.Header.Get("Authorization"), uri)
	if !ok {
		http.Error(w, "Your client does not have permission to the requested URL (an ID token whose audience is the function's URI is required).", http.StatusUnauthorized)
		return
	}
	c.mu.Lock()
	allowed := !c.requireInvoker || slices.Contains(invokerMembers(c.policies[target.f.GetServiceConfig().GetService()]), member)
	c.mu.Unlock()
	if !allowed {
		http.Error(w, "Your client does not have permission to the requested URL: "+member+" lacks roles/run.invoker on the service.", http.StatusForbidden)
		return
	}
	u, _ := url.Parse(proc.URL)
	r.URL.Path = "/"
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}

// caller reads the identity an ID token for uri names ("" for an anonymous test token).
func caller(authorization, uri string) (string, bool) {
	tok, ok := strings.CutPrefix(authorization, "Bearer test-id-token:")
	if !ok {
		return "", false
	}
	if tok == uri {
		return "", true
	}
	member, aud, ok := strings.Cut(tok, "|")
	return member, ok && aud == uri
}

func (c *ControlPlane) newOp(target, verb string) *longrunningpb.Operation {
	name := strings.Split(target, "/functions/")[0] + "/operations/operation-" + randomID()
	meta := &functionspb.OperationMetadata{CreateTime: timestamppb.Now(), Target: target, Verb: verb, ApiVersion: "v2"}
	op := &longrunningpb.Operation{Name: name, Metadata: mustAny(meta)}
	c.ops[name] = op
	return op
}

// finish completes an operation; called with c.mu held.
func (c *ControlPlane) finish(op *longrunningpb.Operation, response *anypb.Any, err *status.Status) {
	op.Done = true
	if err != nil {
		op.Result = &longrunningpb.Operation_Error{Error: err.Proto()}
		return
	}
	op.Result = &longrunningpb.Operation_Response{Response: response}
}

func mustAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
