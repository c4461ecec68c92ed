package gcpfunctions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"golang.org/x/oauth2"
	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"

	"github.com/serverless-blueprint/blueprint/platform"
)

// TokenSource gives an ID token whose audience is a function's URI.
type TokenSource func(ctx context.Context, audience string) (string, error)

// IDTokens mints ID tokens with google.golang.org/api/idtoken from a service account key file
// ("" = Application Default Credentials), one cached source per audience.
func IDTokens(credentialsFile string) TokenSource {
	var mu sync.Mutex
	sources := map[string]oauth2.TokenSource{}
	return func(ctx context.Context, audience string) (string, error) {
		mu.Lock()
		ts, ok := sources[audience]
		mu.Unlock()
		if !ok {
			var opts []option.ClientOption
			if credentialsFile != "" {
				opts = append(opts, option.WithAuthCredentialsFile(option.ServiceAccount, credentialsFile))
			}
			var err error
			if ts, err = idtoken.NewTokenSource(context.Background(), audience, opts...); err != nil {
				return "", fmt.Errorf("making ID tokens for %s (the agent's identity needs roles/run.invoker on the function): %w", audience, err)
			}
			mu.Lock()
			sources[audience] = ts
			mu.Unlock()
		}
		tok, err := ts.Token()
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
}

// Invoker calls deployed functions over HTTPS with an ID token for their URI.
type Invoker struct {
	tokens TokenSource
	http   *http.Client
}

var (
	_ platform.Invoker      = (*Invoker)(nil)
	_ platform.BatchInvoker = (*Invoker)(nil)
)

// NewInvoker returns an invoker minting tokens with tokens.
func NewInvoker(tokens TokenSource) *Invoker {
	// No client timeout: each call carries the agent's deadline, and a function may run for
	// up to an hour; a client that gave up first could have the job run twice.
	// otelhttp sends the caller's W3C trace context (traceparent) to the function.
	return &Invoker{tokens: tokens, http: &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)}}
}

// errorBody is the generated entry point's error answer.
type errorBody struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
	Code    string `json:"code"`
}

// Invoke runs the function once. A job that failed (its error, a panic, a timeout) is a
// *platform.FunctionError; 429 a *platform.ThrottledError with Retry-After; an input over the
// limit is refused before anything is sent.
func (v *Invoker) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	if n := int64(len(input)); n > Limits.MaxPayloadBytes {
		return nil, &platform.PayloadTooLargeError{Platform: PlatformName, Size: n, Limit: Limits.MaxPayloadBytes}
	}
	status, body, err := v.post(ctx, d, input, false)
	if err != nil {
		return nil, fmt.Errorf("invoking Cloud Function for job %q in %s: %w", d.FunctionID, d.Region, err)
	}
	if status == http.StatusOK {
		return body, nil
	}
	return nil, answerError(d, status, body)
}

// InvokeBatch runs several inputs of a pure job in one request.
func (v *Invoker) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]platform.BatchItemResult, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	wrap := func(err error) error {
		return fmt.Errorf("invoking a batch of %d for job %q in %s: %w", len(inputs), d.FunctionID, d.Region, err)
	}
	payload, err := platform.BatchPayload(PlatformName, Limits, inputs)
	if err != nil {
		return nil, wrap(err)
	}
	status, body, err := v.post(ctx, d, payload, true)
	if err != nil {
		return nil, wrap(err)
	}
	if status == http.StatusConflict {
		var e errorBody
		if json.Unmarshal(body, &e) == nil && e.Type == "BatchRefused" {
			return nil, wrap(fmt.Errorf("%s: %w", e.Message, platform.ErrBatchUnsupported))
		}
	}
	if status != http.StatusOK {
		return nil, wrap(answerError(d, status, body))
	}
	results, err := platform.DecodeBatchResults(body, len(inputs))
	if err != nil {
		return nil, wrap(err)
	}
	return results, nil
}

// post sends the request with an ID token for the function's URI.
func (v *Invoker) post(ctx context.Context, d platform.Deployment, payload []byte, batch bool) (int, []byte, error) {
	if d.Endpoint == "" {
		return 0, nil, errors.New("the deployment has no URI: run the apply again")
	}
	token, err := v.tokens(ctx, d.Endpoint)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if batch {
		req.Header.Set("X-Blueprint-Batch", "1")
	}
	resp, err := v.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		te := &platform.ThrottledError{Err: fmt.Errorf("throttled: HTTP 429: %s", bytes.TrimSpace(body))}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			te.RetryAfter = time.Duration(s) * time.Second
		}
		return 0, nil, te
	}
	return resp.StatusCode, body, nil
}

// answerError maps a non-200 answer: the entry point's structured errors are the job's own;
// the platform's refusals are not.
func answerError(d platform.Deployment, status int, body []byte) error {
	var e errorBody
	if json.Unmarshal(body, &e) == nil && e.Type != "" {
		return &platform.FunctionError{Type: e.Type, Message: e.Message}
	}
	switch status {
	case http.StatusNotFound:
		return fmt.Errorf("the Cloud Function for job %q in %s: %w (HTTP 404)", d.FunctionID, d.Region, platform.ErrNotFound)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("the Cloud Function for job %q in %s refused the caller (HTTP %d): grant the agent's identity roles/run.invoker on it", d.FunctionID, d.Region, status)
	}
	return fmt.Errorf("the Cloud Function for job %q in %s: HTTP %d: %s", d.FunctionID, d.Region, status, bytes.TrimSpace(body))
}
