package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"golang.org/x/sync/singleflight"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// PlatformName is the name of this platform in configuration and state.
const PlatformName = "wasm"

// ErrThrottled is returned (wrapped) when a host answered 429: all its invocation slots are
// busy. The invocation did not run; another region or a later retry may take it.
var ErrThrottled = errors.New("wasm host is at its concurrency limit")

// functionErrorHeader marks a 200 invoke response whose body is a job error (host.FunctionErrorHeader).
const functionErrorHeader = "X-Blueprint-Function-Error"

// Config configures a Client.
type Config struct {
	Hosts      map[string]string // region -> base URL of a `blueprint host`
	Token      string            // bearer token of the hosts
	HTTPClient *http.Client      // nil = a client tuned for many small invocations
}

// Client deploys functions to `blueprint host` endpoints and invokes them. It implements
// platform.Deployer and platform.Invoker and is safe for concurrent use.
type Client struct {
	hosts   map[string]string
	regions []string
	token   string
	http    *http.Client
	// verified holds the regions whose host was seen to serve that region (healthz), so the
	// check costs one request per region and client.
	verified sync.Map
	// uploads makes the jobs of one package, deployed at once, send their shared module to a
	// host once: the others wait for that upload instead of sending the same bytes again.
	uploads singleflight.Group
}

var (
	_ platform.Deployer = (*Client)(nil)
	_ platform.Invoker  = (*Client)(nil)
)

// NewClient checks the host URLs and builds a client.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.Hosts) == 0 {
		return nil, errors.New("wasm platform: no hosts configured: give at least one region and its host URL")
	}
	c := &Client{hosts: map[string]string{}, token: cfg.Token, http: cfg.HTTPClient}
	for region, raw := range cfg.Hosts {
		if region == "" {
			return nil, errors.New("wasm platform: a host has an empty region name")
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("wasm platform: host URL %q for region %s is invalid: use http://HOST:PORT or https://HOST:PORT", raw, region)
		}
		c.hosts[region] = strings.TrimRight(u.String(), "/")
		c.regions = append(c.regions, region)
	}
	sort.Strings(c.regions)
	if c.http == nil {
		c.http = &http.Client{Transport: newTransport()}
	}
	// otelhttp carries the caller's trace to the host (W3C traceparent, with the global
	// propagator) and records a client span when a tracer provider is installed.
	traced := *c.http
	if traced.Transport == nil {
		traced.Transport = http.DefaultTransport
	}
	traced.Transport = otelhttp.NewTransport(traced.Transport)
	c.http = &traced
	return c, nil
}

// newTransport keeps connections to every host warm: invocation latency is dominated by
// connection set-up otherwise.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
}

// Name is "wasm".
func (c *Client) Name() string { return PlatformName }

// Regions lists the configured regions, sorted.
func (c *Client) Regions() []string { return append([]string(nil), c.regions...) }

func (c *Client) endpoint(region string) (string, error) {
	base, ok := c.hosts[region]
	if !ok {
		return "", fmt.Errorf("wasm platform: region %q has no host configured (configured: %s)", region, strings.Join(c.regions, ", "))
	}
	return base, nil
}

// HostFunction is a deployed function as a `blueprint host` stores and serves it: the wire
// format of its function endpoints, shared by the host and this client.
type HostFunction struct {
	Name       string `json:"name"`
	Region     string `json:"region"`
	Version    string `json:"version"`
	CodeSHA256 string `json:"code_sha256"`
	Entry      string `json:"entry"`
	MemoryMB   int64  `json:"memory_mb"`
	TimeoutMS  int64  `json:"timeout_ms"`
	Pure       bool   `json:"pure"`
	// Environment is what the function runs with. It never leaves the host: the API shows
	// EnvironmentSHA256 (EnvironmentDigest) instead, and the host keeps it sealed on disk.
	Environment       map[string]string `json:"-"`
	EnvironmentSHA256 string            `json:"environment_sha256,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	StateStore        string            `json:"state_store,omitempty"`
}

// EnvironmentDigest is the hex SHA-256 of an environment in a canonical form (names sorted,
// each name and value length-prefixed); "" for none. Hosts report it instead of the values,
// so a caller can check what a function runs with without reading its secrets.
func EnvironmentDigest(env map[string]string) string {
	if len(env) == 0 {
		return ""
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(h, "%d:%s=%d:%s\n", len(k), k, len(env[k]), env[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f HostFunction) deployment(endpoint string) platform.Deployment {
	return platform.Deployment{
		Platform: PlatformName, Region: f.Region, FunctionID: f.Name, Version: f.Version,
		Endpoint: endpoint, CodeSHA256: f.CodeSHA256, Tags: f.Tags,
	}
}

// apiError is a non-2xx answer of a host.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("host answered %d %s: %s", e.Status, e.Code, e.Message)
}

// newAPIError reads a host's error answer ({"error":{"code","message"}}); a body in another
// shape (a proxy's page, say) becomes the message as it is.
func newAPIError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var b struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil && b.Error.Code != "" {
		e.Code, e.Message = b.Error.Code, b.Error.Message
	} else {
		e.Message = strings.TrimSpace(string(body))
	}
	return e
}

// do sends one request and decodes a JSON answer into out (when non-nil).
func (c *Client) do(ctx context.Context, region, method, url string, body io.Reader, contentType string, out any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("calling wasm host for region %s at %s: %w", region, url, ctx.Err())
		}
		return nil, fmt.Errorf("wasm host for region %s at %s is unreachable (check that `blueprint host` runs there and the URL is right): %w", region, url, err)
	}
	defer resp.Body.Close()
	raw, err := readAnswer(resp.Body, maxAdminAnswerBytes)
	if err != nil {
		return resp, fmt.Errorf("reading answer of wasm host for region %s at %s: %w", region, url, err)
	}
	if resp.StatusCode >= 300 {
		e := newAPIError(resp.StatusCode, raw)
		if resp.StatusCode == http.StatusUnauthorized {
			return resp, fmt.Errorf("wasm host for region %s at %s refused the token (set the host's token in the wasm platform settings or BLUEPRINT_HOST_TOKEN): %w", region, url, e)
		}
		return resp, e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp, fmt.Errorf("decoding answer of wasm host for region %s at %s: %w", region, url, err)
		}
	}
	return resp, nil
}

// Deploy uploads the module unless the host has it already, then creates or updates the
// function. It is idempotent: an unchanged function keeps its version.
func (c *Client) Deploy(ctx context.Context, req platform.DeployRequest) (platform.Deployment, error) {
	base, err := c.endpoint(req.Region)
	if err != nil {
		return platform.Deployment{}, err
	}
	fn := req.Function
	sha := strings.ToLower(req.ArtifactSHA256)
	wrap := func(err error) error {
		return fmt.Errorf("deploying function %q to wasm region %s: %w", fn.Name, req.Region, err)
	}
	if len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "" {
		return platform.Deployment{}, wrap(fmt.Errorf("artifact SHA-256 %q is not 64 hex digits: build the artifact first", req.ArtifactSHA256))
	}
	if fn.Name == "" || fn.Entry == "" {
		return platform.Deployment{}, wrap(errors.New("the function needs a name and an entry (the job name inside the module)"))
	}
	if err := c.verifyRegion(ctx, req.Region, base); err != nil {
		return platform.Deployment{}, wrap(err)
	}
	if err := c.ensureBlob(ctx, req.Region, base, sha, req.ArtifactPath); err != nil {
		return platform.Deployment{}, wrap(err)
	}
	body, _ := json.Marshal(map[string]any{
		"code_sha256": sha, "entry": fn.Entry, "memory_mb": fn.MemoryMB, "timeout_ms": fn.TimeoutMS,
		"pure": fn.Pure, "environment": fn.Environment, "tags": fn.Tags, "state_store": fn.StateStore,
	})
	var out HostFunction
	fnURL := base + "/v1/functions/" + url.PathEscape(fn.Name)
	_, err = c.do(ctx, req.Region, http.MethodPut, fnURL, bytes.NewReader(body), "application/json", &out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "blob_missing" {
		// The module was collected between upload and deploy (its last other user was deleted):
		// upload once more.
		if err := c.uploadBlob(ctx, req.Region, base, sha, req.ArtifactPath); err != nil {
			return platform.Deployment{}, wrap(err)
		}
		_, err = c.do(ctx, req.Region, http.MethodPut, fnURL, bytes.NewReader(body), "application/json", &out)
	}
	if err != nil {
		return platform.Deployment{}, wrap(err)
	}
	if err := checkRegion(out, req.Region, base); err != nil {
		return platform.Deployment{}, wrap(err)
	}
	return out.deployment(base), nil
}

// verifyRegion asks the host which region it serves before anything is changed on it.
func (c *Client) verifyRegion(ctx context.Context, region, base string) error {
	if _, ok := c.verified.Load(region); ok {
		return nil
	}
	var health struct {
		Region string `json:"region"`
	}
	if _, err := c.do(ctx, region, http.MethodGet, base+"/healthz", nil, "", &health); err != nil {
		return err
	}
	if err := checkRegion(HostFunction{Region: health.Region}, region, base); err != nil {
		return err
	}
	c.verified.Store(region, true)
	return nil
}

// checkRegion catches a hosts map that points a region at a host serving another one, which
// would otherwise record deployments under the wrong region.
func checkRegion(f HostFunction, region, base string) error {
	if f.Region != region {
		return fmt.Errorf("the host at %s serves region %q, not %q: fix the region's URL in the wasm hosts, or start that host with --region %s", base, f.Region, region, region)
	}
	return nil
}

func (c *Client) ensureBlob(ctx context.Context, region, base, sha, path string) error {
	_, err, _ := c.uploads.Do(base+"\x00"+sha, func() (any, error) {
		return nil, c.ensureBlobOnce(ctx, region, base, sha, path)
	})
	return err
}

func (c *Client) ensureBlobOnce(ctx context.Context, region, base, sha, path string) error {
	resp, err := c.do(ctx, region, http.MethodHead, base+"/v1/blobs/"+sha, nil, "", nil)
	if err == nil {
		return nil
	}
	var ae *apiError
	if resp == nil || !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		return err
	}
	return c.uploadBlob(ctx, region, base, sha, path)
}

func (c *Client) uploadBlob(ctx context.Context, region, base, sha, path string) error {
	code, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading artifact: %w", err)
	}
	sum := sha256.Sum256(code)
	if got := hex.EncodeToString(sum[:]); got != sha {
		return fmt.Errorf("artifact %s hashes to %s, not the expected %s: rebuild it", path, got, sha)
	}
	_, err = c.do(ctx, region, http.MethodPut, base+"/v1/blobs/"+sha, bytes.NewReader(code), "application/wasm", nil)
	if err != nil {
		return fmt.Errorf("uploading module %s: %w", sha, err)
	}
	return nil
}

// Get reads a deployed function; a missing one returns an error wrapping platform.ErrNotFound.
func (c *Client) Get(ctx context.Context, region, functionID string) (platform.Deployment, error) {
	base, err := c.endpoint(region)
	if err != nil {
		return platform.Deployment{}, err
	}
	var out HostFunction
	_, err = c.do(ctx, region, http.MethodGet, base+"/v1/functions/"+url.PathEscape(functionID), nil, "", &out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return platform.Deployment{}, fmt.Errorf("function %q in wasm region %s: %w", functionID, region, platform.ErrNotFound)
	}
	if err != nil {
		return platform.Deployment{}, fmt.Errorf("reading function %q in wasm region %s: %w", functionID, region, err)
	}
	if err := checkRegion(out, region, base); err != nil {
		return platform.Deployment{}, fmt.Errorf("reading function %q in wasm region %s: %w", functionID, region, err)
	}
	return out.deployment(base), nil
}

// Delete removes a function (and, on the host, its module when no other function uses it).
// A function that does not exist is not an error.
func (c *Client) Delete(ctx context.Context, region, functionID string) error {
	base, err := c.endpoint(region)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, region, http.MethodDelete, base+"/v1/functions/"+url.PathEscape(functionID), nil, "", nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting function %q in wasm region %s: %w", functionID, region, err)
	}
	return nil
}

// Invoke runs a deployed function. A job error is a *platform.FunctionError; anything else
// (unreachable host, timeout, crash) is an ordinary error.
func (c *Client) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	if n := int64(len(input)); n > Limits.MaxPayloadBytes {
		return nil, &platform.PayloadTooLargeError{Platform: PlatformName, Size: n, Limit: Limits.MaxPayloadBytes}
	}
	base := d.Endpoint
	if base == "" {
		var err error
		if base, err = c.endpoint(d.Region); err != nil {
			return nil, err
		}
	}
	u := base + "/v1/functions/" + url.PathEscape(d.FunctionID) + "/invoke"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(input))
	if err != nil {
		return nil, fmt.Errorf("invoking %q in wasm region %s: %w", d.FunctionID, d.Region, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("invoking %q in wasm region %s: %w", d.FunctionID, d.Region, ctx.Err())
		}
		return nil, fmt.Errorf("wasm host for region %s at %s is unreachable (check that `blueprint host` runs there and the URL is right): %w", d.Region, base, err)
	}
	defer resp.Body.Close()
	out, err := readAnswer(resp.Body, maxInvokeAnswerBytes)
	if err != nil {
		return nil, fmt.Errorf("reading result of %q in wasm region %s: %w", d.FunctionID, d.Region, err)
	}
	if resp.StatusCode == http.StatusOK {
		if resp.Header.Get(functionErrorHeader) != "" {
			fe := &platform.FunctionError{}
			if err := json.Unmarshal(out, fe); err != nil {
				return nil, fmt.Errorf("invoking %q in wasm region %s: malformed job error %q", d.FunctionID, d.Region, out)
			}
			return nil, fe
		}
		return out, nil
	}
	err = fmt.Errorf("invoking %q in wasm region %s: %w", d.FunctionID, d.Region, newAPIError(resp.StatusCode, out))
	switch resp.StatusCode {
	case http.StatusGatewayTimeout:
		return nil, fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w (%w)", err, platform.ErrNotFound)
	case http.StatusTooManyRequests:
		return nil, &platform.ThrottledError{RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Err: fmt.Errorf("%w (%w)", err, ErrThrottled)}
	}
	return nil, err
}

// retryAfter reads a Retry-After header given in seconds (what hosts send); anything else,
// including an HTTP date, gives 0: no hint.
func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// FetchModule downloads a module from a host (the agent runs modules locally this way) and
// checks that it hashes to sha256Hex.
func (c *Client) FetchModule(ctx context.Context, endpoint, sha256Hex string) ([]byte, error) {
	base := strings.TrimRight(endpoint, "/")
	region := c.regionOf(base)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/blobs/"+sha256Hex, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching module %s from %s: %w", sha256Hex, base, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wasm host for region %s at %s is unreachable (check that `blueprint host` runs there and the URL is right): %w", region, base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("fetching module %s from %s: host answered %d: %s", sha256Hex, base, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	code, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("fetching module %s from %s: %w", sha256Hex, base, err)
	}
	sum := sha256.Sum256(code)
	if got := hex.EncodeToString(sum[:]); got != strings.ToLower(sha256Hex) {
		return nil, fmt.Errorf("module fetched from %s hashes to %s, not %s: refusing to run it", base, got, sha256Hex)
	}
	return code, nil
}

func (c *Client) regionOf(base string) string {
	for r, u := range c.hosts {
		if u == base {
			return r
		}
	}
	return "(unknown)"
}

// Bounds on what the client reads from a host, so that a broken or hostile host cannot make
// the agent or the provider hold unbounded memory: an admin answer (a function, a list of
// functions) is small; an invocation's output is at most what a host returns for one job.
const (
	maxAdminAnswerBytes  = 16 << 20
	maxInvokeAnswerBytes = 64 << 20
)

// readAnswer reads a host's answer, refusing one larger than limit.
func readAnswer(body io.Reader, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("the host's answer is larger than %d bytes", limit)
	}
	return raw, nil
}

var _ platform.StateStoreChecker = (*Client)(nil)

// CheckStateStore accepts a cloud store (dynamodb://, firestore://), which a host reaches with
// its machine's credentials, and a sqlite:// store only for a host on this machine: that
// store is a file here, which the host opens beside the agent.
func (c *Client) CheckStateStore(region, storeURL string) error {
	base, err := c.endpoint(region)
	if err != nil {
		return err
	}
	if err := anystore.Check(storeURL); err != nil {
		return err
	}
	if _, err := statestore.SQLitePath(storeURL); err != nil {
		return nil // a cloud store
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if httpapi.IsLoopbackHost(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("the wasm host of region %s (%s) is not on this machine, and the state store %s is a file here: run the host on this machine, or keep stateful jobs off that region (regions, or force_local)", region, base, storeURL)
}
