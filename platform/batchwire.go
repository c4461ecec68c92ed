package platform

import (
	"encoding/json"
	"fmt"
)

// The batch wire format the native bootstrap (Lambda) and the Cloud Functions entry point
// speak: {"inputs":[…]} in; {"results":[{"output":…} | {"error":{"errorType","errorMessage",
// "code"}}]} out, one result per input, in order. An error without a code is the job's own;
// code "not_run" is an input the invocation's deadline left unstarted.

// BatchPayload encodes inputs as a batch request for a platform with the given limits. More
// inputs than MaxBatchItems, an input that is not JSON or a payload over MaxPayloadBytes is
// refused before anything is sent (an error wrapping ErrNotRun, or a *PayloadTooLargeError).
func BatchPayload(platform string, limits Limits, inputs [][]byte) ([]byte, error) {
	if len(inputs) > limits.MaxBatchItems {
		return nil, fmt.Errorf("a batch holds at most %d inputs: %w", limits.MaxBatchItems, ErrNotRun)
	}
	raw := make([]json.RawMessage, len(inputs))
	for i, in := range inputs {
		if !json.Valid(in) {
			return nil, fmt.Errorf("input %d is not JSON (send it alone to get the job's own error): %w", i, ErrNotRun)
		}
		raw[i] = in
	}
	payload, err := json.Marshal(map[string][]json.RawMessage{"inputs": raw})
	if err != nil {
		return nil, err
	}
	if n := int64(len(payload)); n > limits.MaxPayloadBytes {
		return nil, &PayloadTooLargeError{Platform: platform, Size: n, Limit: limits.MaxPayloadBytes}
	}
	return payload, nil
}

// DecodeBatchResults reads a batch answer for n inputs: each item's output, its job error as
// a *FunctionError, or an error wrapping ErrNotRun for an input that never started.
func DecodeBatchResults(body []byte, n int) ([]BatchItemResult, error) {
	var answer struct {
		Results []struct {
			Output json.RawMessage `json:"output"`
			Error  *struct {
				Type    string `json:"errorType"`
				Message string `json:"errorMessage"`
				Code    string `json:"code"`
			} `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || len(answer.Results) != n {
		return nil, fmt.Errorf("the function answered no batch (%d results for %d inputs, %v): is it deployed from this release?", len(answer.Results), n, err)
	}
	out := make([]BatchItemResult, n)
	for i, r := range answer.Results {
		switch {
		case r.Error == nil:
			out[i].Output = r.Output
		case r.Error.Code == "not_run":
			out[i].Err = fmt.Errorf("%s: %w", r.Error.Message, ErrNotRun)
		default:
			out[i].Err = &FunctionError{Type: r.Error.Type, Message: r.Error.Message}
		}
	}
	return out, nil
}
