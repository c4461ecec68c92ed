package holdout3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout3/hook"
)

var webhookSecret = []byte("corpus-test-secret")

type event struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	Body   string `json:"body"`
}

// SendWebhook exercises a helper that builds the request with http.NewRequestWithContext on
// its own constant endpoint, sets headers and retries with a doubling pause.
// expect: pure=false deterministic=false state=false eligible=true hosts=hooks.example.com
//
//blueprint:job
func SendWebhook(ctx context.Context, in In) (Out, error) {
	body, err := json.Marshal(event{ID: in.ID, Tenant: in.Tenant, Body: in.Text})
	if err != nil {
		return Out{}, err
	}
	status, err := hook.Send(ctx, hook.Endpoint, webhookSecret, body, 3)
	if err != nil {
		return Out{}, err
	}
	return Out{Count: status, OK: status < 300}, nil
}

// SignWebhook exercises building the signed request without sending it (the signature
// header is the output).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SignWebhook(ctx context.Context, in In) (Out, error) {
	body, err := json.Marshal(event{ID: in.ID, Tenant: in.Tenant, Body: in.Text})
	if err != nil {
		return Out{}, err
	}
	req, err := hook.NewRequest(ctx, hook.Endpoint, webhookSecret, body)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: req.Header.Get("X-Signature"), Count: len(body)}, nil
}

// SignWithEnvSecret exercises an HMAC whose key comes from os.Getenv (an environment read
// that reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func SignWithEnvSecret(ctx context.Context, in In) (Out, error) {
	secret := os.Getenv("WEBHOOK_SECRET")
	if secret == "" {
		return Out{}, errors.New("WEBHOOK_SECRET is not set")
	}
	return Out{Text: hook.Sign([]byte(secret), []byte(in.Text))}, nil
}

// NotifySubscribers exercises a hand-written fan-out (WaitGroup, statuses and errors by
// index, errors.Join) of webhooks to subscriber URLs taken from the input.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func NotifySubscribers(ctx context.Context, in In) (Out, error) {
	statuses := make([]int, len(in.Items))
	errs := make([]error, len(in.Items))
	var wg sync.WaitGroup
	for i, u := range in.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], errs[i] = hook.Send(ctx, u, webhookSecret, []byte(in.Text), 2)
		}()
	}
	wg.Wait()
	lines := make([]string, len(statuses))
	for i, s := range statuses {
		lines[i] = fmt.Sprintf("%s %d", in.Items[i], s)
	}
	return Out{Lines: lines}, errors.Join(errs...)
}
