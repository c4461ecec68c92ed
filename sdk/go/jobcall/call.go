package jobcall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

// Func is one job as a typed function. Define (or DefineStateful) makes one; generated
// wrappers keep one per job, so a call neither looks the function up nor names the job again.
type Func[In, Out any] struct {
	name   string // job name; "" = find it by the function's symbol
	symbol string // import/path.Function
	run    func(context.Context, job.State, In) (Out, error)
	// registered is the last embedded router given this function for its local executor.
	registered atomic.Pointer[embedded]
}

// Define names fn as job name ("" to find the job by the function's Go symbol in the
// deployment) for calls through f.Call.
func Define[In, Out any](name string, fn func(context.Context, In) (Out, error)) *Func[In, Out] {
	return &Func[In, Out]{name: name, symbol: symbolOf(fn),
		run: func(ctx context.Context, _ job.State, in In) (Out, error) { return fn(ctx, in) }}
}

// DefineStateful is Define for a stateful job (one that takes job.State): the state comes from
// the job's store wherever the job runs, never from the caller.
func DefineStateful[In, Out any](name string, fn func(context.Context, job.State, In) (Out, error)) *Func[In, Out] {
	return &Func[In, Out]{name: name, symbol: symbolOf(fn), run: fn}
}

// Register gives c's embedded router the functions it may run for callers that reach it by
// name (c.Agent().Handler() served to other processes) before this program calls them itself.
func Register[In, Out any](c *Client, fn func(context.Context, In) (Out, error)) error {
	return register(c, lookup(fn, func() *Func[In, Out] { return Define("", fn) }))
}

// RegisterStateful is Register for a stateful job.
func RegisterStateful[In, Out any](c *Client, fn func(context.Context, job.State, In) (Out, error)) error {
	return register(c, lookup(fn, func() *Func[In, Out] { return DefineStateful("", fn) }))
}

func register[In, Out any](c *Client, f *Func[In, Out]) error {
	if c.embedded == nil {
		return errors.New("blueprint: Register needs an embedded client (Embed)")
	}
	name, err := c.jobName(f.name, f.symbol)
	if err != nil {
		return err
	}
	c.embedded.register(name, f.runJSON)
	return nil
}

// lookup is the Func of fn, made by define the first time.
func lookup[In, Out any, F any](fn F, define func() *Func[In, Out]) *Func[In, Out] {
	pc := reflect.ValueOf(fn).Pointer()
	if f, ok := funcs.Load(pc); ok {
		return f.(*Func[In, Out])
	}
	f, _ := funcs.LoadOrStore(pc, define())
	return f.(*Func[In, Out])
}

// Name is the job's name as given to Define ("" when it is found by symbol).
func (f *Func[In, Out]) Name() string { return f.name }

// funcs caches the Func of every function passed to Call, by code pointer.
var funcs sync.Map // uintptr → *Func[In, Out]

// Call runs the job whose function is fn with input in, through the default client
// (SetDefault, or the agent named by BLUEPRINT_AGENT), and returns its output. The job's own
// error comes back as a *FunctionError; anything else as an *Error (see the sentinels).
func Call[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), in In, opts ...Option) (Out, error) {
	pc := reflect.ValueOf(fn).Pointer()
	if f, ok := funcs.Load(pc); ok { // the common case, without making a closure
		return f.(*Func[In, Out]).Call(ctx, in, opts...)
	}
	return lookup(fn, func() *Func[In, Out] { return Define("", fn) }).Call(ctx, in, opts...)
}

// CallStateful is Call for a stateful job.
func CallStateful[In, Out any](ctx context.Context, fn func(context.Context, job.State, In) (Out, error), in In, opts ...Option) (Out, error) {
	pc := reflect.ValueOf(fn).Pointer()
	if f, ok := funcs.Load(pc); ok {
		return f.(*Func[In, Out]).Call(ctx, in, opts...)
	}
	return lookup(fn, func() *Func[In, Out] { return DefineStateful("", fn) }).Call(ctx, in, opts...)
}

// Call runs the job with input in. See the package's Call.
func (f *Func[In, Out]) Call(ctx context.Context, in In, opts ...Option) (Out, error) {
	var zero Out
	o := &noOptions // most calls have none: no allocation for them
	if len(opts) > 0 {
		o = new(options)
		for _, opt := range opts {
			opt(o)
		}
	}
	c, name, err := f.resolve(o)
	if err != nil {
		return zero, err
	}
	if e := c.embedded; e != nil {
		if f.registered.Load() != e {
			e.register(name, f.runJSON)
			f.registered.Store(e)
		}
		ctx = o.apply(ctx)
		if run, ok := e.agent.BeginLocal(ctx, name); ok {
			if o.ran != nil {
				*o.ran = Ran{Target: "local"}
			}
			return runInProcess(ctx, e, run, name, f.run, in)
		}
	}
	input, err := json.Marshal(in)
	if err != nil {
		return zero, &Error{Job: name, Code: "invalid_json", Message: fmt.Sprintf("encoding the input as JSON: %v", err)}
	}
	output, err := c.execute(ctx, name, input, o)
	if err != nil {
		return zero, err
	}
	var out Out
	if err := json.Unmarshal(output, &out); err != nil {
		return zero, &Error{Job: name, Code: "invalid_output", Message: fmt.Sprintf("the job's output does not decode into %T: %v", out, err)}
	}
	return out, nil
}

// resolve is the client a call goes through (Using, else the default) and the job it runs.
func (f *Func[In, Out]) resolve(o *options) (*Client, string, error) {
	c := o.client
	if c == nil {
		var err error
		if c, err = Default(); err != nil {
			return nil, "", err
		}
	}
	name, err := c.jobName(f.name, f.symbol)
	if err != nil {
		return nil, "", err
	}
	return c, name, nil
}

// runJSON is the job as the embedded router's local executor calls it: JSON in and out, the
// same decoding a job's wrapper does on every platform.
func (f *Func[In, Out]) runJSON(ctx context.Context, st job.State, input []byte) ([]byte, error) {
	var in In
	if err := json.Unmarshal(input, &in); err != nil {
		return nil, &FunctionError{Type: "InvalidInput", Message: err.Error()}
	}
	out, err := f.run(ctx, st, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, &FunctionError{Type: "InvalidOutput", Message: err.Error()}
	}
	return b, nil
}

// symbolOf is fn's Go symbol, "import/path.Function".
func symbolOf(fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Pointer())
	if f == nil {
		return ""
	}
	return f.Name()
}

// shortName is the function name of a symbol ("pkg/path.Resize" → "Resize").
func shortName(symbol string) string {
	return symbol[strings.LastIndex(symbol, ".")+1:]
}

// Option adjusts one call.
type Option func(*options)

type options struct {
	client    *Client
	budget    time.Duration
	placement Placement
	idemKey   string
	ran       *Ran
}

// Ran says where a call ran.
type Ran struct {
	Target   string // "local" or "serverless"
	Platform string // for serverless: aws_lambda, gcp_functions or wasm
	Region   string
}

// Where makes the call record where it ran in *r (when it got an answer, the job's error
// included).
func Where(r *Ran) Option { return func(o *options) { o.ran = r } }

// noOptions are a call's options when it gives none; never written.
var noOptions options

// apply puts what the embedded router needs to know into the context (the agent gets
// headers instead).
func (o *options) apply(ctx context.Context) context.Context {
	if o.budget > 0 {
		ctx = runtimeagent.WithLatencyBudget(ctx, o.budget)
	}
	if o.placement != PlaceAuto {
		ctx = runtimeagent.WithPlacement(ctx, runtimeagent.Placement(o.placement))
	}
	if o.idemKey != "" {
		ctx = runtimeagent.WithIdempotencyKey(ctx, o.idemKey)
	}
	return ctx
}

// Placement is where a call must run.
type Placement string

// Placements for WithPlacement.
const (
	PlaceAuto       Placement = ""           // the router decides (the default)
	PlaceLocal      Placement = "local"      // on this machine
	PlaceServerless Placement = "serverless" // on a platform; an error when the job has no deployment
)

// WithLatencyBudget tells the router how long the caller can wait: when that is below a pure
// job's local p95, a remote twin starts with the local run and the first answer wins.
func WithLatencyBudget(d time.Duration) Option { return func(o *options) { o.budget = d } }

// WithIdempotencyKey makes the call idempotent under key: a retry with the same key and input
// gets the first call's outcome back instead of running the job again, wherever the first ran
// (records kept by the agent or the embedded router in the job's state store, an hour by
// default). Use one key per logical request (a UUID) and retry with it after a timeout or a
// lost connection. A duplicate that arrives while the first runs is an ErrInProgress; the
// same key with another input an ErrKeyReused.
func WithIdempotencyKey(key string) Option { return func(o *options) { o.idemKey = key } }

// WithPlacement forces where the call runs.
func WithPlacement(p Placement) Option { return func(o *options) { o.placement = p } }

// Using runs the call through c instead of the default client.
func Using(c *Client) Option { return func(o *options) { o.client = c } }

// errNoClient says how to get one.
var errNoClient = errors.New("blueprint: no runtime agent to call jobs through: set BLUEPRINT_AGENT (for example http://127.0.0.1:8080 or unix:///run/blueprint/agent.sock), or call jobcall.Embed, or jobcall.SetDefault")
