package awslambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/serverless-blueprint/blueprint/platform"
)

// Invoker calls deployed functions through their alias with lambda.Invoke.
type Invoker struct {
	profile    string
	creds      aws.CredentialsProvider
	assumeRole string

	mu      sync.Mutex
	clients map[string]*lambda.Client // by region + "\x00" + endpoint
}

var _ platform.Invoker = (*Invoker)(nil)

// NewInvoker returns an invoker using the default credentials chain (or the profile); creds,
// when non-nil, replace it (tests).
func NewInvoker(profile string, creds aws.CredentialsProvider) *Invoker {
	return &Invoker{profile: profile, creds: creds, clients: map[string]*lambda.Client{}}
}

// AssumingRole makes the invoker call with the temporary credentials of a role (STS
// AssumeRole with its own credentials), as the provider's assume_role does.
func (v *Invoker) AssumingRole(arn string) *Invoker {
	v.assumeRole = arn
	return v
}

func (v *Invoker) client(ctx context.Context, region, endpoint string) (*lambda.Client, error) {
	key := region + "\x00" + endpoint
	v.mu.Lock()
	defer v.mu.Unlock()
	if c := v.clients[key]; c != nil {
		return c, nil
	}
	cfg, err := identity{profile: v.profile, creds: v.creds, assumeRole: v.assumeRole, endpoint: endpoint}.config(ctx, region)
	if err != nil {
		return nil, err
	}
	c := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// The agent decides where a failed call goes next; the SDK retrying an invocation on
		// its own could run a job twice.
		o.RetryMaxAttempts = 1
	})
	v.clients[key] = c
	return c, nil
}

// Invoke runs the function once. A job that failed is a *platform.FunctionError; a refused
// call (TooManyRequestsException) a *platform.ThrottledError; an input over Lambda's limit is
// refused before anything is sent.
func (v *Invoker) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	if n := int64(len(input)); n > Limits.MaxPayloadBytes {
		return nil, &platform.PayloadTooLargeError{Platform: PlatformName, Size: n, Limit: Limits.MaxPayloadBytes}
	}
	out, err := v.call(ctx, d, &lambda.InvokeInput{FunctionName: aws.String(d.FunctionID), Qualifier: aws.String(AliasName), Payload: input,
		ClientContext: clientContext(ctx, false)})
	if err != nil {
		return nil, fmt.Errorf("invoking Lambda function %q in %s: %w", d.FunctionID, d.Region, err)
	}
	if out.FunctionError != nil {
		return nil, functionError(out)
	}
	return out.Payload, nil
}

// call invokes and maps the platform's refusals: throttling to *platform.ThrottledError with
// Lambda's Retry-After, a missing function or alias to platform.ErrNotFound.
func (v *Invoker) call(ctx context.Context, d platform.Deployment, in *lambda.InvokeInput) (*lambda.InvokeOutput, error) {
	c, err := v.client(ctx, d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	out, err := c.Invoke(ctx, in)
	var throttled *types.TooManyRequestsException
	if errors.As(err, &throttled) {
		te := &platform.ThrottledError{Err: fmt.Errorf("throttled: %w", err)}
		if s, convErr := strconv.Atoi(aws.ToString(throttled.RetryAfterSeconds)); convErr == nil {
			te.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, te
	}
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("%w (%v)", platform.ErrNotFound, err)
	}
	return out, err
}

// functionError reads the error object a failed invocation answers with.
func functionError(out *lambda.InvokeOutput) *platform.FunctionError {
	fe := &platform.FunctionError{}
	if json.Unmarshal(out.Payload, fe) != nil || fe.Type == "" {
		fe = &platform.FunctionError{Type: aws.ToString(out.FunctionError), Message: string(out.Payload)}
	}
	return fe
}

var _ platform.BatchInvoker = (*Invoker)(nil)

// clientContext is what the invocation tells the bootstrap beside the payload (Lambda hands
// the client context to the function, so no job input can pass for it): that it is a batch,
// and the caller's W3C trace context (traceparent), so the function's log lines name the
// agent's trace. nil when there is nothing to say.
func clientContext(ctx context.Context, batch bool) *string {
	custom := map[string]string{}
	otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(custom))
	if batch {
		custom["blueprint_batch"] = "1"
	}
	if len(custom) == 0 {
		return nil
	}
	raw, _ := json.Marshal(map[string]any{"custom": custom})
	return aws.String(base64.StdEncoding.EncodeToString(raw))
}

// InvokeBatch runs several inputs of a pure job in one invocation. The error is for the batch
// as a whole (refused before sending, throttled, the invocation failed or timed out, a job
// not configured pure: platform.ErrBatchUnsupported); otherwise each input has its result, in
// order: its output, a *platform.FunctionError, or an error wrapping platform.ErrNotRun for an
// input the invocation's deadline left unstarted.
func (v *Invoker) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]platform.BatchItemResult, error) {
	if len(inputs) == 0 {
		return nil, nil
	}
	wrap := func(err error) error {
		return fmt.Errorf("invoking a batch of %d for Lambda function %q in %s: %w", len(inputs), d.FunctionID, d.Region, err)
	}
	payload, err := platform.BatchPayload(PlatformName, Limits, inputs)
	if err != nil {
		return nil, wrap(err)
	}
	out, err := v.call(ctx, d, &lambda.InvokeInput{FunctionName: aws.String(d.FunctionID), Qualifier: aws.String(AliasName),
		Payload: payload, ClientContext: clientContext(ctx, true)})
	if err != nil {
		return nil, wrap(err)
	}
	if out.FunctionError != nil {
		fe := functionError(out)
		if fe.Type == "BatchRefused" {
			return nil, wrap(fmt.Errorf("%s: %w", fe.Message, platform.ErrBatchUnsupported))
		}
		return nil, wrap(fe) // the invocation failed as a whole (a timeout, the runtime exited)
	}
	results, err := platform.DecodeBatchResults(out.Payload, len(inputs))
	if err != nil {
		return nil, wrap(err)
	}
	return results, nil
}
