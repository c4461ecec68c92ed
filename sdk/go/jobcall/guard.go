package jobcall

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

// An in-process run must answer its caller at the job's timeout even when the job ignores its
// context, so the function runs in a goroutine of its own while the caller waits for it or for
// the timeout. Go cannot stop that goroutine: when the timeout wins, the run is abandoned, and
// it keeps its local slot and is counted until the function returns.
//
// This is the whole cost of an embedded local call beyond the function, so it is built for
// speed: one allocation holds the run and the job's context (context.WithTimeout would cost a
// timer, a cancel context and a done channel per call, about 400 ns here); the deadline is
// watched by the embedded router's watchdog (watchdog.go); the context's done channel is made
// only when the job asks for it.

// errTimedOut is what an abandoned run reports to the router when it finally returns.
var errTimedOut = errors.New("ran past its timeout")

// guard runs fn(ctx, st, in) in a goroutine under job j's timeout. A panic becomes a
// *FunctionError of type "Panic", an error of the job a *FunctionError; when the timeout (or
// the caller's context) ends first, the caller gets an *Error at once. slotDone, when set, is
// the local slot's Done: called once the function has returned, however late.
func guard[In, Out any](ctx context.Context, e *embedded, j *manifest.Job, start time.Time, fn func(context.Context, job.State, In) (Out, error), st job.State, in In, slotDone func(error)) (Out, error) {
	timeout := j.EffectiveTimeout()
	r := &guarded[In, Out]{parent: ctx, deadline: start.Add(timeout), deadlineAt: int64(start.Sub(clockStart) + timeout), timeout: timeout, agent: e.agent, job: j.Name,
		fn: fn, st: st, in: in, slotDone: slotDone, wake: make(chan struct{}, 1)}
	e.watchdog.watch(r)
	var stopParent func() bool
	if ctx.Done() != nil {
		stopParent = context.AfterFunc(ctx, r.parentEnded)
	}
	go r.run()
	<-r.wake
	e.watchdog.unwatch(r)
	if stopParent != nil {
		stopParent()
	}
	r.mu.Lock()
	ended, returned := r.ctxErr, r.returned
	r.mu.Unlock()
	var zero Out
	if !returned { // abandoned: the caller is answered now, the goroutine books itself later
		if errors.Is(ended, context.DeadlineExceeded) {
			return zero, &Error{Job: j.Name, Code: "timeout", Message: fmt.Sprintf("the job did not return within its timeout of %v", timeout), cause: context.DeadlineExceeded}
		}
		return zero, &Error{Job: j.Name, Code: "canceled", Message: "the caller gave up: " + ended.Error(), cause: ended}
	}
	if slotDone != nil {
		slotDone(r.reportErr())
	}
	return r.out, r.err
}

// guarded is one run: the job's context.Context, and what the caller and the goroutine share.
type guarded[In, Out any] struct {
	parent     context.Context
	deadline   time.Time
	deadlineAt int64 // deadline on the watchdog's clock
	slotIndex  int   // in the watchdog's list
	timeout    time.Duration
	agent      *runtimeagent.Agent
	job        string

	fn       func(context.Context, job.State, In) (Out, error)
	st       job.State
	in       In
	slotDone func(error)
	wake     chan struct{} // the caller's: the function returned, or the caller must be answered

	out Out
	err error

	mu       sync.Mutex
	done     chan struct{} // the context's Done channel, made on first use
	ctxErr   error         // set once the context ended
	returned bool          // the function returned
	finished func()        // set when the run was abandoned: books its end with the router
}

func (r *guarded[In, Out]) run() {
	defer func() {
		if p := recover(); p != nil {
			r.err = &FunctionError{Job: r.job, Type: "Panic", Message: fmt.Sprint(p)}
		}
		r.mu.Lock()
		r.returned = true
		finished := r.finished
		r.endLocked(context.Canceled) // as a caller's deferred cancel would
		r.mu.Unlock()
		if finished == nil {
			r.wake <- struct{}{}
			return
		}
		finished()
		if r.slotDone != nil {
			r.slotDone(errTimedOut)
		}
	}()
	r.out, r.err = r.fn(r, r.st, r.in)
	if r.err != nil {
		if _, ok := asFunctionError(r.err); !ok {
			r.err = &FunctionError{Job: r.job, Type: errorTypeName(r.err), Message: r.err.Error()}
		}
	}
}

func (r *guarded[In, Out]) deadlineNanos() int64 { return r.deadlineAt }
func (r *guarded[In, Out]) setSlot(i int)        { r.slotIndex = i }
func (r *guarded[In, Out]) slot() int            { return r.slotIndex }

// expire is the watchdog's: the job's time is up.
func (r *guarded[In, Out]) expire() { r.abandon(context.DeadlineExceeded) }

// parentEnded is the caller's context ending first.
func (r *guarded[In, Out]) parentEnded() { r.abandon(context.Cause(r.parent)) }

// abandon answers the caller without the function's result, unless it has just returned.
func (r *guarded[In, Out]) abandon(why error) {
	r.mu.Lock()
	if r.returned || r.finished != nil {
		r.mu.Unlock()
		return
	}
	r.endLocked(why)
	r.finished = r.agent.AbandonedLocalRun(r.job, r.timeout)
	r.mu.Unlock()
	r.wake <- struct{}{}
}

func (r *guarded[In, Out]) endLocked(err error) {
	if r.ctxErr != nil {
		return
	}
	r.ctxErr = err
	if r.done != nil {
		close(r.done)
	}
}

// reportErr is the run's result as the router books it.
func (r *guarded[In, Out]) reportErr() error {
	if r.err == nil {
		return nil
	}
	if fe, ok := asFunctionError(r.err); ok {
		return &platform.FunctionError{Type: fe.Type, Message: fe.Message}
	}
	return r.err
}

// The job's context: the caller's values, the job's deadline, ended at the timeout, when the
// caller's context ends, or when the function returns.

func (r *guarded[In, Out]) Deadline() (time.Time, bool) {
	if d, ok := r.parent.Deadline(); ok && d.Before(r.deadline) {
		return d, true
	}
	return r.deadline, true
}

func (r *guarded[In, Out]) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		r.done = make(chan struct{})
		if r.ctxErr != nil {
			close(r.done)
		}
	}
	return r.done
}

func (r *guarded[In, Out]) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctxErr
}

func (r *guarded[In, Out]) Value(key any) any { return r.parent.Value(key) }

func (r *guarded[In, Out]) String() string { return "jobcall run of " + r.job }
