// Package kit holds helpers (no jobs) for the held-out corpus: an HTTP API client whose base
// URL is a constant set in its constructor, a memo cache and a hit counter in globals.
package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// API is a small JSON API client; its base URL is fixed by the constructor.
type API struct {
	base   string
	client *http.Client
}

// NewWeather returns a client for the weather API.
func NewWeather() *API {
	return &API{base: "https://api.weather.example.com", client: &http.Client{Timeout: 5 * time.Second}}
}

// Status fetches base+path and returns the HTTP status code.
func (a *API) Status(ctx context.Context, path string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// PostJSON posts v as JSON to url and returns the status code.
func PostJSON(ctx context.Context, url string, v any) (int, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

var memo sync.Map

// Memo returns the cached value for key, computing and storing it on a miss.
func Memo(key string, compute func() string) string {
	if v, ok := memo.Load(key); ok {
		return v.(string)
	}
	v := compute()
	memo.Store(key, v)
	return v
}

var hits atomic.Int64

// Hit counts one call and returns the count so far.
func Hit() int64 {
	return hits.Add(1)
}
