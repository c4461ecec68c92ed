package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/serverless-blueprint/blueprint/platform"
)

// Invoker calls deployed functions through their alias with lambda.Invoke.
type Invoker struct {
	profile string
	creds   aws.CredentialsProvider

	mu      sync.Mutex
	clients map[string]*lambda.Client // by region + "\x00" + endpoint
}

var _ platform.Invoker = (*Invoker)(nil)

// NewInvoker returns an invoker using the default credentials chain (or the profile); creds,
// when non-nil, replace it (tests).
func NewInvoker(profile string, creds aws.CredentialsProvider) *Invoker {
	return &Invoker{profile: profile, creds: creds, clients: map[string]*lambda.Client{}}
}

func (v *Invoker) client(ctx context.Context, region, endpoint string) (*lambda.Client, error) {
	key := region + "\x00" + endpoint
	v.mu.Lock()
	defer v.mu.Unlock()
	if c := v.clients[key]; c != nil {
		return c, nil
	}
	cfg, err := awsConfig(ctx, region, v.profile, v.creds)
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
	c, err := v.client(ctx, d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(d.FunctionID), Qualifier: aws.String(AliasName), Payload: input})
	var throttled *types.TooManyRequestsException
	if errors.As(err, &throttled) {
		te := &platform.ThrottledError{Err: fmt.Errorf("invoking Lambda function %q in %s: throttled: %w", d.FunctionID, d.Region, err)}
		if s, convErr := strconv.Atoi(aws.ToString(throttled.RetryAfterSeconds)); convErr == nil {
			te.RetryAfter = time.Duration(s) * time.Second
		}
		return nil, te
	}
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return nil, fmt.Errorf("invoking Lambda function %q in %s: %w (%v)", d.FunctionID, d.Region, platform.ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("invoking Lambda function %q in %s: %w", d.FunctionID, d.Region, err)
	}
	if out.FunctionError != nil {
		fe := &platform.FunctionError{}
		if json.Unmarshal(out.Payload, fe) != nil || fe.Type == "" {
			fe = &platform.FunctionError{Type: aws.ToString(out.FunctionError), Message: string(out.Payload)}
		}
		return nil, fe
	}
	return out.Payload, nil
}
