package platform

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned (wrapped) by Deployer.Get when the function does not exist in that
// region, e.g. because it was deleted out of band. Callers treat it as drift, not failure.
var ErrNotFound = errors.New("function not found")

// Function is what gets deployed: one job of a built artifact.
type Function struct {
	Name        string            // function name on the platform; the job name
	Entry       string            // job name inside the artifact (the wrapper dispatches on it)
	MemoryMB    int64             // memory limit
	TimeoutMS   int64             // per-invocation time limit
	Pure        bool              // the analysis proved it pure: instances may be reused
	Environment map[string]string // environment variables given to the function
	// StateStore is where a stateful job's job.State lives (sqlite:///path, …); "" for jobs
	// without state.
	StateStore string
	// Tags are stored with the function on the platform (Lambda tags, GCF labels) so that a
	// function can be traced back to its job: import by job name reads them.
	Tags map[string]string
}

// DeployRequest asks a platform to create or update a function in one region.
type DeployRequest struct {
	Region         string
	Function       Function
	ArtifactPath   string // local path of the built artifact
	ArtifactSHA256 string // hex SHA-256 of the artifact; the platform verifies it
}

// Deployment is one deployed function in one region, as recorded in state and manifests.
type Deployment struct {
	Platform   string `json:"platform"`
	Region     string `json:"region"`
	FunctionID string `json:"function_id"` // platform identifier (name, ARN, resource name)
	Version    string `json:"version"`     // platform version of the code/config
	Endpoint   string `json:"endpoint"`    // base URL the invoker talks to
	CodeSHA256 string `json:"code_sha256"` // hex SHA-256 of the deployed code
	// Tags as stored on the platform; not part of the Terraform deployments attribute.
	Tags map[string]string `json:"-"`
}

// Tag keys Blueprint sets on every function it deploys.
const (
	TagJob        = "blueprint:job"
	TagPackage    = "blueprint:package"
	TagFunction   = "blueprint:function"
	TagSourceHash = "blueprint:source_hash"
)

// Deployer manages functions on one platform. All methods are safe for concurrent use.
type Deployer interface {
	// Name is the platform name used in configuration and state ("wasm", "aws_lambda", ...).
	Name() string
	// Regions lists the regions this deployer is configured for.
	Regions() []string
	// Deploy creates the function or updates its code and configuration, and waits until the
	// platform serves the new version. It is idempotent.
	Deploy(ctx context.Context, req DeployRequest) (Deployment, error)
	// Get reads the deployed function; a missing function returns an error wrapping ErrNotFound.
	Get(ctx context.Context, region, functionID string) (Deployment, error)
	// Delete removes the function and any code only it used; a missing function is not an error.
	Delete(ctx context.Context, region, functionID string) error
}

// StateStoreChecker is implemented by deployers that can tell at plan time whether their
// functions in a region can reach a state store; the lifecycle refuses to deploy a stateful job
// where they cannot (a platform without it reaches none).
type StateStoreChecker interface {
	CheckStateStore(region, storeURL string) error
}

// Preflighter is implemented by deployers that can check before anything is deployed that
// their configuration works (credentials accepted, every region reachable, the execution
// identity usable). The lifecycle calls it once per deployer when it first plans a job for
// that platform and refuses to plan on failure, so bad settings fail at plan, not halfway
// through an apply.
type Preflighter interface {
	Preflight(ctx context.Context) error
}

// Invoker runs a deployed function with a JSON input and returns its JSON output.
type Invoker interface {
	Invoke(ctx context.Context, d Deployment, input []byte) ([]byte, error)
}

// BatchInvoker is implemented by invokers whose platform can run several inputs of one pure
// function in one call, saving a round trip per execution. The error is for the batch as a
// whole (transport, throttling, a function the platform refuses to batch): then no result is
// known, and callers may retry the items one by one. Otherwise there is one result per input,
// in order, and an item's failure is its own (a job error is a *FunctionError).
type BatchInvoker interface {
	InvokeBatch(ctx context.Context, d Deployment, inputs [][]byte) ([]BatchItemResult, error)
}

// BatchItemResult is one input's outcome in a batch.
type BatchItemResult struct {
	Output []byte
	Err    error
}

// FunctionError is a job that ran and returned an error (as opposed to a transport or
// platform failure). It must not be retried on another region unless the job is idempotent.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return fmt.Sprintf("job failed: %s: %s", e.Type, e.Message) }

// ThrottledError is a platform refusing an invocation for lack of capacity (HTTP 429, Lambda's
// TooManyRequestsException): the job did not run, so any job may go elsewhere. RetryAfter is
// the platform's hint of when to come back (0 when it gave none); the router honours it by
// leaving the region out until then.
type ThrottledError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *ThrottledError) Error() string { return e.Err.Error() }
func (e *ThrottledError) Unwrap() error { return e.Err }

// Is makes every throttled call an ErrNotRun: the platform refused it before the job started.
func (e *ThrottledError) Is(target error) bool { return target == ErrNotRun }

// ErrNotRun marks invocation failures where the job provably did not run (the platform
// refused the call, e.g. all its slots were busy). Invokers wrap it; callers may send such a
// call to another region whatever the job's analysis, and it does not count against the
// region's health.
var ErrNotRun = errors.New("the platform did not run the job")

// PayloadTooLargeError is an input larger than the platform accepts (Limits.MaxPayloadBytes),
// refused by the invoker before anything was sent: the job did not run.
type PayloadTooLargeError struct {
	Platform string
	Size     int64
	Limit    int64
}

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("the input is %d bytes, more than the %d bytes platform %s accepts (not sent)", e.Size, e.Limit, e.Platform)
}

// Is makes a refused payload an ErrNotRun: nothing was sent.
func (e *PayloadTooLargeError) Is(target error) bool { return target == ErrNotRun }

// ErrBatchUnsupported marks a batch the platform would not run as a batch (the function is
// not configured pure there, say): nothing ran, and the inputs may be sent one at a time.
var ErrBatchUnsupported = errors.New("the platform does not batch this function")

// ArtifactFetcher is implemented by invokers whose platform hands out the code a deployment
// runs, by its SHA-256 (wasm hosts store modules by hash). The agent fetches what it runs
// locally this way; implementations verify the hash.
type ArtifactFetcher interface {
	FetchArtifact(ctx context.Context, d Deployment, sha256 string) ([]byte, error)
}
