package jobcall

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// EmbedConfig configures a router embedded in the program. Only State is required.
type EmbedConfig struct {
	// State is what `terraform apply` or `pulumi up` produced, as blueprint-agent's --state
	// takes it: a terraform.tfstate path, `terraform show -json` output, a Pulumi stack
	// export, or an s3:// or gs:// object of one. It is re-read when it changes.
	State string
	// PlatformSettings are the settings the platforms' invokers need, by platform and setting
	// name (what blueprint-agent's --platform-setting gives, e.g. "wasm" → "token"); settings
	// not given come from the environment variables the platforms name.
	PlatformSettings map[string]platform.Settings
	// Capacity is how many jobs run in this process at once; 0 = GOMAXPROCS. Beyond it,
	// eligible jobs are offloaded.
	Capacity int
	// Policy, when set, replaces the routing policy (Capacity is then ignored).
	Policy *router.Policy
	// Logger gets the router's logs; nil = none.
	Logger hclog.Logger
	// IdempotencyStore keeps the records of calls with an idempotency key for jobs that have
	// no state store of their own; "" = the machine's (sqlite:// in the user data directory).
	IdempotencyStore string
}

// Embed starts a router in this process. Calls through the returned client run locally as plain
// in-process function calls (a panic is recovered into a *FunctionError; a job that overruns its
// timeout answers its caller with ErrTimeout while its goroutine, which Go cannot stop, is
// counted and logged until it returns), and are offloaded through the platforms' invokers as
// the agent would offload them. Stateful jobs use the store their deployment names. Close
// stops it. To make it the default client, pass it to SetDefault.
func Embed(ctx context.Context, cfg EmbedConfig) (*Client, error) {
	if cfg.State == "" {
		return nil, errors.New("blueprint: Embed needs the state: the path of terraform.tfstate (or a Pulumi stack export) of the deployment")
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	platforms, err := runtimeagent.NewPlatforms(builtin.Registry(), cfg.PlatformSettings, nil)
	if err != nil {
		return nil, fmt.Errorf("blueprint: %w", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e := &embedded{stop: stop, watchdog: newWatchdog(), platforms: platforms, states: statestore.NewStores(anystore.Opener(runCtx)), log: log}
	policy := router.Policy{LocalCapacity: cfg.Capacity}
	if cfg.Policy != nil {
		policy = *cfg.Policy
	}
	e.agent, err = runtimeagent.New(ctx, runtimeagent.Config{
		StatePath:        cfg.State,
		Policy:           policy,
		Local:            (*inProcess)(e),
		Platforms:        platforms,
		Logger:           log,
		States:           e.states, // idempotency records: in the job's store, else IdempotencyStore
		IdempotencyStore: cfg.IdempotencyStore,
	})
	if err != nil {
		e.close()
		return nil, fmt.Errorf("blueprint: %w", err)
	}
	e.done = make(chan struct{})
	go func() {
		defer close(e.done)
		e.agent.Run(runCtx)
	}()
	return &Client{embedded: e}, nil
}

// embedded is a router in this process: the runtime agent's, without its HTTP server, with the
// program's own functions as the local executor.
type embedded struct {
	agent     *runtimeagent.Agent
	watchdog  *watchdog
	platforms *runtimeagent.Platforms
	states    *statestore.Stores
	log       hclog.Logger
	stop      context.CancelFunc
	done      chan struct{}
	funcs     sync.Map // job name → func(ctx, job.State, []byte) ([]byte, error)
}

func (e *embedded) close() error {
	e.stop()
	if e.done != nil {
		<-e.done
	}
	e.watchdog.close()
	e.states.Close()
	e.platforms.Close()
	return nil
}

// Agent is the embedded router, for its metrics (MetricsHandler) and its manifest.
func (c *Client) Agent() *runtimeagent.Agent {
	if c.embedded == nil {
		return nil
	}
	return c.embedded.agent
}

func (e *embedded) jobs() []jobRef {
	m := e.agent.Manifest()
	refs := make([]jobRef, len(m.Jobs))
	for i := range m.Jobs {
		j := &m.Jobs[i]
		refs[i] = jobRef{Name: j.Name, Function: j.Function, Symbol: j.Symbol()}
	}
	return refs
}

// register makes the function of job name runnable by the router's local executor.
func (e *embedded) register(name string, run func(context.Context, job.State, []byte) ([]byte, error)) {
	if _, ok := e.funcs.Load(name); !ok {
		e.funcs.LoadOrStore(name, run)
	}
}

func (e *embedded) execute(ctx context.Context, name string, input []byte, o *options) ([]byte, error) {
	res, err := e.agent.Execute(ctx, name, input)
	if err == nil {
		if o.ran != nil {
			*o.ran = Ran(res.Ran)
		}
		return res.Output, nil
	}
	return nil, e.callError(name, err)
}

// callError turns an error of the embedded router (a *runtimeagent.Error) into a
// *FunctionError or an *Error, as an agent's answer would be.
func (e *embedded) callError(name string, err error) error {
	var ae *runtimeagent.Error
	if !errors.As(err, &ae) {
		return &Error{Job: name, Code: "internal", Message: err.Error()}
	}
	return callError(name, string(ae.Code), ae.JobErrorType, ae.Message)
}

// state is the job.State of a stateful job; nil for the others.
func (e *embedded) state(j *manifest.Job) (job.State, error) {
	if !j.Analysis.RequiresState {
		return nil, nil
	}
	return e.states.For(j.StateStore, j.Name)
}

// inProcess is the embedded router's local executor: it runs the job's function in this
// process, from the JSON the router hands it (the router's own path: decided with the input's
// size, after a failed offload, or forced local). The fast path in Func.Call skips the JSON.
type inProcess embedded

var _ runtimeagent.LocalExecutor = (*inProcess)(nil)

// artifactInProcess is what a run here reports as its artifact: the program's own build, which
// no deployment records, so its results are never memoized as a deployment's.
const artifactInProcess platform.ArtifactKind = "in_process"

func (x *inProcess) ArtifactKind(*manifest.Job) platform.ArtifactKind { return artifactInProcess }

func (x *inProcess) Execute(ctx context.Context, _ *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	e := (*embedded)(x)
	f, ok := e.funcs.Load(j.Name)
	if !ok {
		return nil, fmt.Errorf("%w: this program has not called job %q through jobcall, so it has no function for it", runtimeagent.ErrLocalUnavailable, j.Name)
	}
	st, err := e.state(j)
	if err != nil {
		return nil, fmt.Errorf("%w: the state store of job %q: %v", runtimeagent.ErrLocalUnavailable, j.Name, err)
	}
	run := f.(func(context.Context, job.State, []byte) ([]byte, error))
	out, err := guard(ctx, e, j, time.Now(), run, st, input, nil)
	var fe *FunctionError
	if errors.As(err, &fe) {
		return nil, &platform.FunctionError{Type: fe.Type, Message: fe.Message}
	}
	return out, err
}

// runInProcess is the fast path: the router granted a local slot before the input was encoded,
// so the job is a plain call of its function (in a goroutine, to answer at its timeout).
func runInProcess[In, Out any](ctx context.Context, e *embedded, run runtimeagent.LocalRun, name string, fn func(context.Context, job.State, In) (Out, error), in In) (Out, error) {
	var zero Out
	st, err := e.state(run.Job)
	if err != nil {
		run.Done(err)
		return zero, &Error{Job: name, Code: "execution_failed", Message: fmt.Sprintf("opening the state store of job %q: %v", name, err)}
	}
	return guard(ctx, e, run.Job, run.Start, fn, st, in, run.Done)
}
