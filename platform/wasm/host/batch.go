package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/tracelog"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
)

// MaxBatchItems bounds the inputs of one invoke-batch request: a batch is meant to save round
// trips for small executions, and a bounded batch keeps one caller from holding the host long.
var MaxBatchItems = wasm.Limits.MaxBatchItems

// invokeBatch runs several inputs of one pure function in one request and answers item by
// item. Once a batch is accepted, nothing an item does (a job error, a timeout, a trap) fails
// the others or the request: every input gets its own result. Only pure functions may be
// batched, because a caller whose batch failed as a whole retries its items one by one, which
// would repeat the effects of a job that has any.
func (h *Host) invokeBatch(w http.ResponseWriter, r *http.Request) {
	fn, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if !fn.Pure {
		writeError(w, http.StatusConflict, "not_pure", fmt.Sprintf("function %q is not configured pure: only pure functions may be batched (a failed batch may be retried item by item); invoke it one input at a time", fn.Name))
		return
	}
	var req wasm.BatchRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody)).Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("batch is larger than %d bytes", h.maxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_input", `the body must be {"inputs":[<JSON input>, ...]}: `+err.Error())
		return
	}
	if len(req.Inputs) == 0 {
		writeError(w, http.StatusBadRequest, "invalid_input", `the batch has no inputs: send {"inputs":[<JSON input>, ...]}`)
		return
	}
	if len(req.Inputs) > MaxBatchItems {
		writeError(w, http.StatusRequestEntityTooLarge, "too_many_items", fmt.Sprintf("a batch holds at most %d inputs, got %d: split it", MaxBatchItems, len(req.Inputs)))
		return
	}

	// One concurrency slot per item running at once: a batch never runs more calls than the
	// slots it holds, so a 429 still means the host is full. It takes what is free now (at
	// least one, else 429) rather than waiting, and no more than there are cores, since wasm
	// calls are CPU-bound and more parallelism would only queue inside the host.
	want := min(len(req.Inputs), runtime.GOMAXPROCS(0))
	held := 0
acquire:
	for held < want {
		select {
		case h.slots <- struct{}{}:
			held++
		default:
			break acquire
		}
	}
	if held == 0 {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too_many_requests", fmt.Sprintf("all %d invocation slots are busy: retry later", cap(h.slots)))
		return
	}
	defer func() {
		for range held {
			<-h.slots
		}
	}()

	mod, err := h.module(r.Context(), fn.CodeSHA256)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "module_unavailable", err.Error())
		return
	}
	opts := engine.InvokeOptions{
		Pure:        true,
		MemoryMB:    fn.MemoryMB,
		Timeout:     time.Duration(fn.TimeoutMS) * time.Millisecond,
		Environment: fn.Environment,
	}
	// Items run on the slots held, so a long batch on few slots runs late: an item that cannot
	// start within a quarter of the function's timeout is answered not_run (nothing ran), so
	// that no item finishes long after its caller's own guard (the timeout plus a grace) and
	// is counted as a failure of this healthy region.
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeoutMS * time.Millisecond
	}
	startBy := time.Now().Add(timeout / 4)
	results := make([]wasm.BatchResultWire, len(req.Inputs))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= len(req.Inputs) {
					return
				}
				if k >= held && time.Now().After(startBy) {
					results[k] = wasm.BatchResultWire{Error: &wasm.BatchItemError{Code: wasm.BatchCodeNotRun, Type: "NotRun",
						Message: "the host could not start this input within a quarter of the function's timeout (the batch's earlier inputs held its slots): nothing ran; send it again"}}
					continue
				}
				results[k] = h.runItem(r.Context(), mod, fn, req.Inputs[k], opts)
			}
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, wasm.BatchResponse{Results: results})
}

// runItem runs one input of a batch and turns every outcome into an item result. Failures
// that are not the job's own (timeout, trap) carry a code, as the single invoke answers them
// with a status, so the client can tell them from job errors.
func (h *Host) runItem(ctx context.Context, mod *engine.Module, fn Function, input json.RawMessage, opts engine.InvokeOptions) wasm.BatchResultWire {
	itemErr := func(code, typ, msg string) wasm.BatchResultWire {
		return wasm.BatchResultWire{Error: &wasm.BatchItemError{Code: code, Type: typ, Message: msg}}
	}
	if ctx.Err() != nil {
		return itemErr(wasm.BatchCodeCanceled, "Canceled", "the batch request ended before this input ran: "+ctx.Err().Error())
	}
	out, err := h.invokeCurrent(ctx, fn, mod, input, opts)
	var fe *platform.FunctionError
	switch {
	case err == nil:
		if !json.Valid(out) {
			return itemErr(wasm.BatchCodeFunctionFailed, "InvalidOutput", "the job's output is not valid JSON")
		}
		return wasm.BatchResultWire{Output: out}
	case errors.As(err, &fe):
		return wasm.BatchResultWire{Error: &wasm.BatchItemError{Type: fe.Type, Message: fe.Message}}
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return itemErr(wasm.BatchCodeTimeout, "Timeout", err.Error())
	case ctx.Err() != nil:
		return itemErr(wasm.BatchCodeCanceled, "Canceled", err.Error())
	case errors.Is(err, platform.ErrNotFound):
		return itemErr(wasm.BatchCodeFunctionFailed, "NotFound", err.Error())
	case errors.Is(err, engine.ErrUnknownEntry):
		return itemErr(wasm.BatchCodeFunctionFailed, "UnknownEntry", err.Error()+": the function's entry does not name a job in its module")
	default:
		h.log.Warn("batch item failed", tracelog.KV(ctx, "function", fn.Name, "error", err)...)
		return itemErr(wasm.BatchCodeFunctionFailed, "FunctionFailed", err.Error())
	}
}
