package runtimeagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
)

// WASMRemote invokes wasm deployments and fetches their modules. Hosts come and go with each
// apply, so it keeps one wasm.Client per host URL (all sharing one connection pool) instead of
// one client configured at start.
type WASMRemote struct {
	token   string
	http    *http.Client
	mu      sync.Mutex
	clients map[string]*wasm.Client // by region + "\x00" + endpoint
}

var (
	_ platform.Invoker      = (*WASMRemote)(nil)
	_ platform.BatchInvoker = (*WASMRemote)(nil)
	_ ModuleFetcher         = (*WASMRemote)(nil)
)

// NewWASMRemote creates an invoker for `blueprint host` endpoints using the hosts' bearer token.
func NewWASMRemote(token string) *WASMRemote {
	return &WASMRemote{
		token: token,
		http: &http.Client{Transport: &http.Transport{
			Proxy:       http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			// The agent fans many concurrent calls into few hosts: keep enough warm connections
			// per host that a burst does not pay TCP set-up.
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     90 * time.Second,
		}},
		clients: map[string]*wasm.Client{},
	}
}

func (w *WASMRemote) client(region, endpoint string) (*wasm.Client, error) {
	key := region + "\x00" + endpoint
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.clients[key]; c != nil {
		return c, nil
	}
	c, err := wasm.NewClient(wasm.Config{Hosts: map[string]string{region: endpoint}, Token: w.token, HTTPClient: w.http})
	if err != nil {
		return nil, err
	}
	w.clients[key] = c
	return c, nil
}

// Invoke runs the deployment on its host. A host that refused the call because all its slots
// were busy (HTTP 429) did not run the job: that error wraps ErrNotRun.
func (w *WASMRemote) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	c, err := w.client(d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	out, err := c.Invoke(ctx, d, input)
	if errors.Is(err, wasm.ErrThrottled) {
		return nil, fmt.Errorf("%w: %w", ErrNotRun, err)
	}
	return out, err
}

// InvokeBatch runs several inputs of a pure deployment in one request to its host. A batch the
// host refused for lack of slots wraps ErrNotRun, and one it refused because the function is
// not configured pure wraps ErrBatchUnsupported (the items are then sent one by one).
func (w *WASMRemote) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]platform.BatchItemResult, error) {
	c, err := w.client(d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	res, err := c.InvokeBatch(ctx, d, inputs)
	switch {
	case errors.Is(err, wasm.ErrThrottled):
		return nil, fmt.Errorf("%w: %w", ErrNotRun, err)
	case errors.Is(err, wasm.ErrNotPure):
		return nil, fmt.Errorf("%w: %w", ErrBatchUnsupported, err)
	}
	// Items the host could not start in time ran nowhere: like a 429, they may go elsewhere.
	for i := range res {
		if res[i].Err != nil && errors.Is(res[i].Err, wasm.ErrThrottled) {
			res[i].Err = fmt.Errorf("%w: %w", ErrNotRun, res[i].Err)
		}
	}
	return res, err
}

// FetchModule downloads a module by hash from the host at endpoint.
func (w *WASMRemote) FetchModule(ctx context.Context, endpoint, sha256 string) ([]byte, error) {
	c, err := w.client("module source", endpoint)
	if err != nil {
		return nil, err
	}
	return c.FetchModule(ctx, endpoint, sha256)
}

// Close drops idle connections.
func (w *WASMRemote) Close() { w.http.CloseIdleConnections() }
