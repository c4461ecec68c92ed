package runtimeagent

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// MaxBatchItems bounds one batch request.
const MaxBatchItems = 1000

// BatchItem is one input's outcome in a batch: its output and where it ran, or its error.
// Status is the HTTP status the item would have had as a single run.
type BatchItem struct {
	Status   int             `json:"status"`
	Output   json.RawMessage `json:"output,omitempty"`
	Ran      *Ran            `json:"ran,omitempty"`
	Decision string          `json:"decision,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	Error    *ErrorBody      `json:"error,omitempty"`
}

// BatchResponse answers POST /v1/jobs/{name}:batch: one item per input, in order.
type BatchResponse struct {
	Results    []BatchItem `json:"results"`
	DurationMS float64     `json:"duration_ms"`
}

// PlanBatch checks a batch of job name before any input runs — the job exists and can take the
// placement ctx forces — as POST /v1/jobs/{name}:batch does, and says how many of its inputs
// to run at once: enough to fill the local slots and the job's regions, not so many that one
// batch crowds out every other caller. Errors are *Error, for the batch as a whole.
func (a *Agent) PlanBatch(ctx context.Context, name string) (parallel int, err error) {
	snap := a.current.Load()
	e, ok := snap.jobs[name]
	if !ok {
		return 0, jobNotFound(snap, name)
	}
	if err := checkPlacement(ctx, e); err != nil {
		return 0, err
	}
	return a.batchParallelism(e), nil
}

func (a *Agent) batchParallelism(e *jobEntry) int {
	return min(max(2*(max(a.capacity, 1)+len(e.job.Deployments)), 4), 64)
}

// handleBatch runs every input of a JSON array as its own execution, routed one by one (so a
// batch spreads over local slots and regions like single runs do), several at a time, and
// answers item by item: one failing input never fails the others.
func (a *Agent) handleBatch(w http.ResponseWriter, r *http.Request, name string) {
	start := time.Now()
	snap, e, body, ok := a.readRequest(w, r, name)
	if !ok {
		return
	}
	var inputs []json.RawMessage
	if err := json.Unmarshal(body, &inputs); err != nil {
		a.metrics.httpError(CodeInvalidJSON)
		writeError(w, http.StatusBadRequest, CodeInvalidJSON, "the body of a batch must be a JSON array of the job's inputs: "+err.Error())
		return
	}
	if len(inputs) == 0 || len(inputs) > MaxBatchItems {
		a.metrics.httpError(CodeBadRequest)
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("a batch holds 1 to %d inputs, got %d", MaxBatchItems, len(inputs)))
		return
	}

	ctx, ok := a.callContext(w, r, e)
	if !ok {
		return
	}
	if r.Header.Get(IdempotencyKeyHeader) != "" {
		a.metrics.httpError(CodeBadRequest)
		writeError(w, http.StatusBadRequest, CodeBadRequest, IdempotencyKeyHeader+" names one request: send keyed inputs one by one to POST /v1/jobs/{name}:run")
		return
	}

	sem := make(chan struct{}, a.batchParallelism(e))
	results := make([]BatchItem, len(inputs))
	var wg sync.WaitGroup
	for i, input := range inputs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, err := a.execute(ctx, snap, e, input)
			status, ebody := outcome(name, res, err)
			item := BatchItem{Status: status, Error: ebody}
			if ebody == nil {
				item.Output, item.Decision, item.Attempts = res.output, res.reason.String(), res.attempts
				item.Ran = &Ran{Target: res.target.String(), Platform: res.platform, Region: res.region}
			}
			results[i] = item
		}()
	}
	wg.Wait()
	writeJSON(w, http.StatusOK, BatchResponse{Results: results, DurationMS: float64(time.Since(start).Microseconds()) / 1000})
}
