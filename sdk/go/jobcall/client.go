package jobcall

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

// Client runs jobs one way: through a runtime agent (Connect) or through a router embedded in
// this process (Embed). Calls pick the default client unless given Using(c).
type Client struct {
	agent    *agentConn // set for a client of an agent
	embedded *embedded  // set for an embedded router

	mu    sync.RWMutex
	names map[string]string // function symbol → job name, found in the deployment
}

var (
	defaultMu     sync.Mutex             // serializes making the default client from the environment
	defaultClient atomic.Pointer[Client] // read on every call without Using
)

// SetDefault makes c the client of calls that do not say Using (nil: back to the environment).
func SetDefault(c *Client) { defaultClient.Store(c) }

// Default is the client set by SetDefault or, failing that, a client of the agent that the
// environment names: BLUEPRINT_AGENT (its URL, or unix:///path of its socket) and
// BLUEPRINT_AGENT_TOKEN (its bearer token, when it wants one).
func Default() (*Client, error) {
	if c := defaultClient.Load(); c != nil {
		return c, nil
	}
	defaultMu.Lock()
	defer defaultMu.Unlock()
	if c := defaultClient.Load(); c != nil {
		return c, nil
	}
	addr := os.Getenv("BLUEPRINT_AGENT")
	if addr == "" {
		return nil, errNoClient
	}
	c, err := Connect(addr, os.Getenv("BLUEPRINT_AGENT_TOKEN"))
	if err != nil {
		return nil, err
	}
	defaultClient.Store(c)
	return c, nil
}

// agentConn is a keep-alive HTTP connection pool to one agent.
type agentConn struct {
	base  string // http://host:port, or http://agent for a unix socket
	token string
	http  *http.Client
}

// Connect returns a client of the agent at addr: "http://127.0.0.1:PORT" or
// "unix:///path/agent.sock". token is the agent's bearer token ("" when it wants none).
func Connect(addr, token string) (*Client, error) { return ConnectTLS(addr, token, nil) }

// ConnectTLS is Connect to an agent served over HTTPS (https://HOST:PORT): tlsConfig holds the
// CA that signed the agent's certificate (RootCAs) and, for an agent that wants client
// certificates (--client-ca), this program's (Certificates).
func ConnectTLS(addr, token string, tlsConfig *tls.Config) (*Client, error) {
	transport := &http.Transport{
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256, // one keep-alive connection per concurrent call
		IdleConnTimeout:     90 * time.Second,
		TLSClientConfig:     tlsConfig,
		ForceAttemptHTTP2:   tlsConfig != nil,
	}
	base := strings.TrimRight(addr, "/")
	switch {
	case strings.HasPrefix(addr, "unix://"):
		path := strings.TrimPrefix(addr, "unix://")
		if path == "" {
			return nil, fmt.Errorf("blueprint: agent address %q has no socket path; write unix:///path/agent.sock", addr)
		}
		transport.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}
		base = "http://agent"
	case strings.HasPrefix(addr, "http://"), strings.HasPrefix(addr, "https://"):
	default:
		return nil, fmt.Errorf("blueprint: agent address %q: write http://127.0.0.1:PORT or unix:///path/agent.sock", addr)
	}
	return &Client{agent: &agentConn{base: base, token: token, http: &http.Client{Transport: transport}}}, nil
}

// Close releases the client's connections, or stops the embedded router.
func (c *Client) Close() error {
	if c.agent != nil {
		c.agent.http.CloseIdleConnections()
	}
	if c.embedded != nil {
		return c.embedded.close()
	}
	return nil
}

// jobName is the job to run: the name Define was given, or the job whose function has symbol.
func (c *Client) jobName(name, symbol string) (string, error) {
	if name != "" {
		return name, nil
	}
	c.mu.RLock()
	n, ok := c.names[symbol]
	c.mu.RUnlock()
	if ok {
		return n, nil
	}
	jobs, err := c.jobs(context.Background())
	if err != nil {
		return "", err
	}
	n, err = findJob(jobs, symbol)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.names == nil {
		c.names = map[string]string{}
	}
	c.names[symbol] = n
	c.mu.Unlock()
	return n, nil
}

// jobRef is what finding a job by function needs from the deployment.
type jobRef struct {
	Name     string `json:"name"`
	Function string `json:"function"`
	Symbol   string `json:"symbol"`
}

// findJob finds the job of the function with symbol: by symbol, or (states without one) by a
// function name no other job has.
func findJob(jobs []jobRef, symbol string) (string, error) {
	if symbol == "" {
		return "", &Error{Code: "bad_request", Message: "not a job function: pass the job's own top-level function (for example jobs.ResizeImage)"}
	}
	var byName []string
	for _, j := range jobs {
		if j.Symbol == symbol {
			return j.Name, nil
		}
		if j.Symbol == "" && j.Function == shortName(symbol) {
			byName = append(byName, j.Name)
		}
	}
	if len(byName) == 1 {
		return byName[0], nil
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Name)
	}
	sort.Strings(names)
	if len(byName) > 1 {
		return "", &Error{Code: "job_not_found", Message: fmt.Sprintf("function %s could be any of the jobs %v; name it with jobcall.Define(name, fn) or use generated wrappers", symbol, byName)}
	}
	return "", &Error{Code: "job_not_found", Message: fmt.Sprintf("no deployed job runs function %s (jobs: %s); mark it //blueprint:job and apply its package", symbol, strings.Join(names, ", "))}
}

func (c *Client) jobs(ctx context.Context) ([]jobRef, error) {
	if c.embedded != nil {
		return c.embedded.jobs(), nil
	}
	var list struct {
		Jobs []jobRef `json:"jobs"`
	}
	if err := c.agent.get(ctx, "/v1/jobs", &list); err != nil {
		return nil, err
	}
	return list.Jobs, nil
}

// execute runs job name with the JSON input and returns its JSON output.
func (c *Client) execute(ctx context.Context, name string, input []byte, o *options) ([]byte, error) {
	if c.embedded != nil {
		return c.embedded.execute(ctx, name, input, o)
	}
	return c.agent.run(ctx, name, input, o)
}

func (a *agentConn) run(ctx context.Context, name string, input []byte, o *options) ([]byte, error) {
	body, err := a.post(ctx, name, ":run", input, o)
	if err != nil {
		return nil, err
	}
	var ok struct {
		Output json.RawMessage  `json:"output"`
		Ran    runtimeagent.Ran `json:"ran"`
	}
	if err := json.Unmarshal(body, &ok); err != nil {
		return nil, &Error{Job: name, Code: "invalid_output", Message: "the agent's answer is not JSON: " + err.Error()}
	}
	if o.ran != nil {
		*o.ran = Ran(ok.Ran)
	}
	return ok.Output, nil
}

// post sends body to POST /v1/jobs/{name}{verb} (":run" or ":batch") with the call's options
// as headers, and returns the body of a 200 answer; any other answer is the error it names.
func (a *agentConn) post(ctx context.Context, name, verb string, body []byte, o *options) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/v1/jobs/"+name+verb, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Job: name, Code: "bad_request", Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if o.budget > 0 {
		req.Header.Set(runtimeagent.LatencyBudgetHeader, strconv.FormatInt(max(o.budget.Milliseconds(), 1), 10))
	}
	if o.placement != PlaceAuto {
		req.Header.Set(runtimeagent.PlacementHeader, string(o.placement))
	}
	if o.idemKey != "" {
		req.Header.Set(runtimeagent.IdempotencyKeyHeader, o.idemKey)
	}
	return a.do(req, name)
}

// do sends req (for job name; "" for none) with the agent's token and returns the body of a
// 200 answer; any other answer is the error it names.
func (a *agentConn) do(req *http.Request, name string) ([]byte, error) {
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		if ctx := req.Context(); ctx.Err() != nil {
			return nil, &Error{Job: name, Code: "canceled", Message: "the caller gave up: " + ctx.Err().Error()}
		}
		return nil, &Error{Job: name, Code: "unavailable", Message: "reaching the agent: " + err.Error()}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &Error{Job: name, Code: "unavailable", Message: "reading the agent's answer: " + err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, agentError(name, resp.StatusCode, answer)
	}
	return answer, nil
}

// agentError turns an error answer of the agent into a *FunctionError or an *Error.
func agentError(name string, status int, body []byte) error {
	var e runtimeagent.ErrorResponse
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return &Error{Job: name, Code: "internal", Message: fmt.Sprintf("the agent answered %d: %.200s", status, body)}
	}
	return callError(name, e.Error.Code, e.Error.Type, e.Error.Message)
}

func (a *agentConn) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	body, err := a.do(req, "")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("blueprint: the agent's job list is not JSON: " + err.Error())
	}
	return nil
}
