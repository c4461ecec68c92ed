package jobcall

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	e := &embedded{stop: stop, platforms: platforms, states: statestore.NewStores(anystore.Opener(runCtx)), log: log}
	policy := router.Policy{LocalCapacity: cfg.Capacity}
	if cfg.Policy != nil {
		policy = *cfg.Policy
	}
	e.agent, err = runtimeagent.New(ctx, runtimeagent.Config{
		StatePath: cfg.State,
		Policy:    policy,
		Local:     (*inProcess)(e),
		Platforms: platforms,
		Logger:    log,
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
	var ae *runtimeagent.Error
	if !errors.As(err, &ae) {
		return nil, &Error{Job: name, Code: "internal", Message: err.Error()}
	}
	if ae.Code == runtimeagent.CodeJobError {
		return nil, &FunctionError{Job: name, Type: ae.JobErrorType, Message: ae.Message}
	}
	return nil, &Error{Job: name, Code: string(ae.Code), Message: ae.Message}
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
	out, err := guard(ctx, e.agent, j, func(ctx context.Context) ([]byte, error) { return run(ctx, st, input) }, nil)
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
	out, err := guard(ctx, e.agent, run.Job, func(ctx context.Context) (Out, error) { return fn(ctx, st, in) }, run.Done)
	var fe *FunctionError
	if errors.As(err, &fe) {
		fe.Job = name
	}
	return out, err
}

// errTimedOut is what an abandoned run reports to the router when it finally returns.
var errTimedOut = errors.New("ran past its timeout")

// guard runs call in a goroutine under the job's timeout. A panic becomes a *FunctionError of
// type "Panic", an error of the job a *FunctionError; when the timeout (or the caller's
// context) ends first, the caller gets an *Error at once and the goroutine, which Go cannot
// stop, is counted by the router until it returns. done, when set, is the slot's Done: it is
// called once the function has returned, however late.
func guard[Out any](ctx context.Context, agent *runtimeagent.Agent, j *manifest.Job, call func(context.Context) (Out, error), done func(error)) (Out, error) {
	timeout := j.EffectiveTimeout()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := &guarded[Out]{done: make(chan struct{})}
	go r.run(ctx, j.Name, call, done)
	select {
	case <-r.done:
	case <-ctx.Done():
		r.mu.Lock()
		if !r.finished {
			r.abandoned = agent.AbandonedLocalRun(j.Name, timeout)
			r.mu.Unlock()
			var zero Out
			if parent.Err() != nil {
				return zero, &Error{Job: j.Name, Code: "canceled", Message: "the caller gave up: " + parent.Err().Error(), cause: parent.Err()}
			}
			return zero, &Error{Job: j.Name, Code: "timeout", Message: fmt.Sprintf("the job did not return within its timeout of %v", timeout), cause: context.DeadlineExceeded}
		}
		r.mu.Unlock()
		<-r.done
	}
	if done != nil {
		done(r.reportErr())
	}
	return r.out, r.err
}

// guarded is one guarded run, shared by the caller and the goroutine.
type guarded[Out any] struct {
	done chan struct{}
	out  Out
	err  error

	mu        sync.Mutex
	finished  bool   // the function returned
	abandoned func() // set when the caller left first: tells the router it returned
}

func (r *guarded[Out]) run(ctx context.Context, name string, call func(context.Context) (Out, error), slotDone func(error)) {
	defer func() {
		if p := recover(); p != nil {
			r.err = &FunctionError{Job: name, Type: "Panic", Message: fmt.Sprint(p)}
		}
		r.mu.Lock()
		r.finished = true
		abandoned := r.abandoned
		r.mu.Unlock()
		if abandoned != nil {
			abandoned()
			if slotDone != nil {
				slotDone(errTimedOut)
			}
			return
		}
		close(r.done)
	}()
	r.out, r.err = call(ctx)
	if r.err != nil {
		if _, ok := asFunctionError(r.err); !ok {
			r.err = &FunctionError{Job: name, Type: errorTypeName(r.err), Message: r.err.Error()}
		}
	}
}

// reportErr is the run's result as the router books it.
func (r *guarded[Out]) reportErr() error {
	if fe, ok := asFunctionError(r.err); ok {
		return &platform.FunctionError{Type: fe.Type, Message: fe.Message}
	}
	return r.err
}
