package wasm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
)

// Remote is the runtime agent's invoker: it runs deployments on whatever host the state
// names and fetches their modules. Hosts come and go with each apply, so it keeps one Client
// per host URL (all sharing one connection pool) instead of one client configured at start.
type Remote struct {
	token   string
	http    *http.Client
	mu      sync.Mutex
	clients map[string]*Client // by region + "\x00" + endpoint
}

var (
	_ platform.Invoker         = (*Remote)(nil)
	_ platform.BatchInvoker    = (*Remote)(nil)
	_ platform.ArtifactFetcher = (*Remote)(nil)
)

// NewRemote creates an invoker for `blueprint host` endpoints using the hosts' bearer token.
func NewRemote(token string) *Remote {
	return &Remote{
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
		clients: map[string]*Client{},
	}
}

func (w *Remote) client(region, endpoint string) (*Client, error) {
	key := region + "\x00" + endpoint
	w.mu.Lock()
	defer w.mu.Unlock()
	if c := w.clients[key]; c != nil {
		return c, nil
	}
	c, err := NewClient(Config{Hosts: map[string]string{region: endpoint}, Token: w.token, HTTPClient: w.http})
	if err != nil {
		return nil, err
	}
	w.clients[key] = c
	return c, nil
}

// Invoke runs the deployment on its host. A host that refused the call because all its slots
// were busy (HTTP 429) did not run the job: that error wraps platform.ErrNotRun.
func (w *Remote) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	c, err := w.client(d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	out, err := c.Invoke(ctx, d, input)
	if errors.Is(err, ErrThrottled) {
		return nil, fmt.Errorf("%w: %w", platform.ErrNotRun, err)
	}
	return out, err
}

// InvokeBatch runs several inputs of a pure deployment in one request to its host. A batch the
// host refused for lack of slots wraps platform.ErrNotRun, and one it refused because the function is
// not configured pure wraps platform.ErrBatchUnsupported (the items are then sent one by one).
func (w *Remote) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]platform.BatchItemResult, error) {
	c, err := w.client(d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	res, err := c.InvokeBatch(ctx, d, inputs)
	switch {
	case errors.Is(err, ErrThrottled):
		return nil, fmt.Errorf("%w: %w", platform.ErrNotRun, err)
	case errors.Is(err, ErrNotPure):
		return nil, fmt.Errorf("%w: %w", platform.ErrBatchUnsupported, err)
	}
	// Items the host could not start in time ran nowhere: like a 429, they may go elsewhere.
	for i := range res {
		if res[i].Err != nil && errors.Is(res[i].Err, ErrThrottled) {
			res[i].Err = fmt.Errorf("%w: %w", platform.ErrNotRun, res[i].Err)
		}
	}
	return res, err
}

// FetchArtifact downloads a module by hash from the deployment's host.
func (w *Remote) FetchArtifact(ctx context.Context, d platform.Deployment, sha256 string) ([]byte, error) {
	c, err := w.client(d.Region, d.Endpoint)
	if err != nil {
		return nil, err
	}
	return c.FetchModule(ctx, d.Endpoint, sha256)
}

// Close drops idle connections.
func (w *Remote) Close() { w.http.CloseIdleConnections() }
