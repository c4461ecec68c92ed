package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/serverless-blueprint/blueprint/platform"
)

// BatchRequest is the body of POST /v1/functions/{name}/invoke-batch.
type BatchRequest struct {
	Inputs []json.RawMessage `json:"inputs"`
}

// BatchResponse answers an invoke-batch: one result per input, in order.
type BatchResponse struct {
	Results []BatchResultWire `json:"results"`
}

// BatchResultWire is one item of a BatchResponse: its output or its error.
type BatchResultWire struct {
	Output json.RawMessage `json:"output,omitempty"`
	Error  *BatchItemError `json:"error,omitempty"`
}

// BatchItemError is an item's failure. A job error (the job returned an error, panicked or
// could not decode its input) has no Code; a failure of the run itself has one of the
// BatchCode values, where a single invoke would have answered with an error status.
type BatchItemError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	Code    string `json:"code,omitempty"`
}

// Codes of item failures that are not job errors.
const (
	BatchCodeTimeout        = "timeout"         // the item ran past the function's timeout (invoke: 504)
	BatchCodeFunctionFailed = "function_failed" // the instance trapped or ran out of memory (invoke: 502)
	BatchCodeCanceled       = "canceled"        // the request ended before or while the item ran
	// BatchCodeNotRun: the host could not start the item soon enough (its slots were taken by
	// the batch's earlier items past the start window): nothing ran, send it again.
	BatchCodeNotRun = "not_run"
)

// BatchItemResult is one input's outcome of Client.InvokeBatch.
type BatchItemResult = platform.BatchItemResult

// ErrNotPure is returned (wrapped) when a host refuses to batch a function that is not
// configured pure; invoke its inputs one at a time instead.
var ErrNotPure = errors.New("the function is not configured pure, so the host does not batch it")

// maxBatchAnswerBytes bounds what InvokeBatch reads: a host answers at most 256 items, and
// batches are meant for small executions; a larger answer is a broken or hostile host.
const maxBatchAnswerBytes = 64 << 20

var _ platform.BatchInvoker = (*Client)(nil)

// InvokeBatch runs several inputs of a pure function in one request. The error is for the
// batch as a whole (unreachable host, 429, a function that is not pure, a malformed answer):
// then nothing is known about any item. Otherwise every input has its result, in order; an
// item's Err is a *platform.FunctionError for a job error, wraps context.DeadlineExceeded for
// a timeout, and is an ordinary error for a trap, as Invoke's errors are.
func (c *Client) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]BatchItemResult, error) {
	base := d.Endpoint
	if base == "" {
		var err error
		if base, err = c.endpoint(d.Region); err != nil {
			return nil, err
		}
	}
	wrap := func(err error) error {
		return fmt.Errorf("invoking a batch of %d for %q in wasm region %s: %w", len(inputs), d.FunctionID, d.Region, err)
	}
	if len(inputs) == 0 {
		return nil, nil
	}
	body := encodeBatch(inputs)
	if body == nil {
		return nil, wrap(errors.New("an input is not valid JSON"))
	}
	if n := int64(len(body)); n > Limits.MaxPayloadBytes {
		return nil, wrap(&platform.PayloadTooLargeError{Platform: PlatformName, Size: n, Limit: Limits.MaxPayloadBytes})
	}
	if len(inputs) > Limits.MaxBatchItems {
		return nil, wrap(fmt.Errorf("a batch holds at most %d inputs, got %d: %w", Limits.MaxBatchItems, len(inputs), platform.ErrNotRun))
	}
	u := base + "/v1/functions/" + url.PathEscape(d.FunctionID) + "/invoke-batch"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, wrap(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, wrap(ctx.Err())
		}
		return nil, fmt.Errorf("wasm host for region %s at %s is unreachable (check that `blueprint host` runs there and the URL is right): %w", d.Region, base, err)
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp.Body, maxBatchAnswerBytes)
	if err != nil {
		return nil, wrap(fmt.Errorf("reading the answer: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		ae := newAPIError(resp.StatusCode, raw)
		err := wrap(ae)
		switch {
		case resp.StatusCode == http.StatusConflict && ae.Code == "not_pure":
			return nil, fmt.Errorf("%w (%w)", err, ErrNotPure)
		case resp.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("%w (%w)", err, platform.ErrNotFound)
		case resp.StatusCode == http.StatusTooManyRequests:
			return nil, &platform.ThrottledError{RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Err: fmt.Errorf("%w (%w)", err, ErrThrottled)}
		}
		return nil, err
	}
	var answer BatchResponse
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, wrap(fmt.Errorf("decoding the answer: %w", err))
	}
	if len(answer.Results) != len(inputs) {
		return nil, wrap(fmt.Errorf("the host answered %d results for %d inputs", len(answer.Results), len(inputs)))
	}
	out := make([]BatchItemResult, len(inputs))
	for i, r := range answer.Results {
		out[i] = r.result(d)
	}
	return out, nil
}

// result turns a wire item into what Invoke would have returned for that input.
func (r BatchResultWire) result(d platform.Deployment) BatchItemResult {
	e := r.Error
	switch {
	case e == nil && r.Output == nil:
		return BatchItemResult{Err: fmt.Errorf("invoking %q in wasm region %s: the host's batch answer has neither output nor error for this input", d.FunctionID, d.Region)}
	case e == nil:
		return BatchItemResult{Output: []byte(r.Output)}
	case e.Code == "":
		return BatchItemResult{Err: &platform.FunctionError{Type: e.Type, Message: e.Message}}
	}
	err := fmt.Errorf("invoking %q in wasm region %s: %s: %s", d.FunctionID, d.Region, e.Code, e.Message)
	switch e.Code {
	case BatchCodeTimeout:
		err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
	case BatchCodeCanceled:
		err = fmt.Errorf("%w (%w)", err, context.Canceled)
	case BatchCodeNotRun:
		err = fmt.Errorf("%w (%w)", err, ErrThrottled)
	}
	return BatchItemResult{Err: err}
}

// encodeBatch writes {"inputs":[...]} without re-encoding the inputs; nil when one is not JSON
// (json.Marshal of a json.RawMessage would check that too, at the cost of compacting it).
func encodeBatch(inputs [][]byte) []byte {
	n := len(`{"inputs":[]}`) + len(inputs)
	for _, in := range inputs {
		n += len(in)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, `{"inputs":[`...)
	for i, in := range inputs {
		if !json.Valid(in) {
			return nil
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, in...)
	}
	return append(buf, "]}"...)
}
