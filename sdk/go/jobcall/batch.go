package jobcall

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

// MaxBatchInputs is the most inputs one batch call takes (the agent's bound).
const MaxBatchInputs = runtimeagent.MaxBatchItems

// BatchResult is one input's outcome in a batch call.
type BatchResult[Out any] struct {
	Output Out
	// Err is the input's own failure: a *FunctionError when the job returned an error, an
	// *Error otherwise (ErrThrottled, ErrTimeout, …); nil when the job answered.
	Err error
	// Ran is where the input ran, when it got an answer.
	Ran Ran
}

// CallBatch runs the job whose function is fn once per input and returns one result per input,
// in order. Each input is routed like a single call (here, or offloaded; a pure job's offloads
// may share invocations), several at a time, and one failing input never fails the others.
// Through the agent the whole batch is one request (POST /v1/jobs/{name}:batch). The error is
// the call's as a whole: the job cannot be found, the agent cannot be reached or refused the
// batch, more than MaxBatchInputs inputs, or an idempotency key (it names one run: send keyed
// inputs with Call, one by one).
func CallBatch[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), ins []In, opts ...Option) ([]BatchResult[Out], error) {
	return lookup(fn, func() *Func[In, Out] { return Define("", fn) }).CallBatch(ctx, ins, opts...)
}

// CallBatchStateful is CallBatch for a stateful job.
func CallBatchStateful[In, Out any](ctx context.Context, fn func(context.Context, job.State, In) (Out, error), ins []In, opts ...Option) ([]BatchResult[Out], error) {
	return lookup(fn, func() *Func[In, Out] { return DefineStateful("", fn) }).CallBatch(ctx, ins, opts...)
}

// CallBatch runs the job once per input. See the package's CallBatch.
func (f *Func[In, Out]) CallBatch(ctx context.Context, ins []In, opts ...Option) ([]BatchResult[Out], error) {
	o := new(options)
	for _, opt := range opts {
		opt(o)
	}
	c, name, err := f.resolve(o)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ins) == 0:
		return nil, nil
	case len(ins) > MaxBatchInputs:
		return nil, &Error{Job: name, Code: "bad_request", Message: fmt.Sprintf("a batch holds at most %d inputs, got %d: split it", MaxBatchInputs, len(ins))}
	case o.idemKey != "":
		return nil, &Error{Job: name, Code: "bad_request", Message: "an idempotency key names one run: call keyed inputs one by one with Call"}
	}
	if e := c.embedded; e != nil {
		parallel, err := e.agent.PlanBatch(o.apply(ctx), name)
		if err != nil {
			return nil, e.callError(name, err)
		}
		return f.batchEmbedded(ctx, c, name, ins, o, parallel), nil
	}
	return f.batchThroughAgent(ctx, c.agent, name, ins, o)
}

// batchEmbedded calls the job once per input in this process, as many at a time as the agent
// would run of one batch, each routed like a single call.
func (f *Func[In, Out]) batchEmbedded(ctx context.Context, c *Client, name string, ins []In, o *options, parallel int) []BatchResult[Out] {
	results := make([]BatchResult[Out], len(ins))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range ins {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			item := *o // the call's budget and placement, this item's Ran
			item.client, item.ran = c, &results[i].Ran
			results[i].Output, results[i].Err = f.Call(ctx, ins[i], func(p *options) { *p = item })
		}()
	}
	wg.Wait()
	return results
}

// batchThroughAgent sends the inputs in one request to the agent's batch endpoint.
func (f *Func[In, Out]) batchThroughAgent(ctx context.Context, a *agentConn, name string, ins []In, o *options) ([]BatchResult[Out], error) {
	body, err := json.Marshal(ins)
	if err != nil {
		return nil, &Error{Job: name, Code: "invalid_json", Message: fmt.Sprintf("encoding the inputs as JSON: %v", err)}
	}
	raw, err := a.post(ctx, name, ":batch", body, o)
	if err != nil {
		return nil, err
	}
	var answer runtimeagent.BatchResponse
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, &Error{Job: name, Code: "invalid_output", Message: "the agent's answer is not JSON: " + err.Error()}
	}
	if len(answer.Results) != len(ins) {
		return nil, &Error{Job: name, Code: "internal", Message: fmt.Sprintf("the agent answered %d results for %d inputs", len(answer.Results), len(ins))}
	}
	results := make([]BatchResult[Out], len(ins))
	for i, item := range answer.Results {
		r := &results[i]
		switch {
		case item.Error != nil:
			r.Err = callError(name, item.Error.Code, item.Error.Type, item.Error.Message)
		case item.Status != http.StatusOK:
			r.Err = &Error{Job: name, Code: "internal", Message: fmt.Sprintf("the agent answered item %d with status %d and no error", i, item.Status)}
		default:
			if err := json.Unmarshal(item.Output, &r.Output); err != nil {
				r.Err = &Error{Job: name, Code: "invalid_output", Message: fmt.Sprintf("the job's output does not decode into %T: %v", r.Output, err)}
			}
		}
		if item.Ran != nil {
			r.Ran = Ran(*item.Ran)
		}
	}
	return results, nil
}
