package hook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Endpoint receives every event.
const Endpoint = "https://hooks.example.com/v1/events"

// Sign returns the hex HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// NewRequest builds the POST of body to url with the signature and content headers.
func NewRequest(ctx context.Context, url string, secret, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", "sha256="+Sign(secret, body))
	req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return req, nil
}

// Send posts body to url, retrying 5xx answers and transport errors up to attempts times
// with a doubling pause, and returns the final status code.
func Send(ctx context.Context, url string, secret, body []byte, attempts int) (int, error) {
	pause := 100 * time.Millisecond
	var last error
	for i := 0; i < attempts; i++ {
		req, err := NewRequest(ctx, url, secret, body)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return resp.StatusCode, nil
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(pause):
		}
		pause *= 2
	}
	return 0, fmt.Errorf("webhook %s after %d attempts: %w", url, attempts, last)
}
