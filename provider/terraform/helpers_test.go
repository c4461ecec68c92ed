package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	tfterraform "github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
)

// testRegions are the regions every acceptance test runs two real hosts for.
var testRegions = []string{"local-a", "local-b"}

// repoRoot is the module root, for the fixtures' replace directive.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// accEnv is one acceptance test's world: two `blueprint host`s in-process on 127.0.0.1 and
// a workspace of job packages (each its own Go module) that steps may rewrite.
type accEnv struct {
	t     *testing.T
	token string
	urls  map[string]string // region -> base URL
	work  string
	// extraHosts are configured in the provider but not checked for leftovers (e.g. a
	// region whose host is down).
	extraHosts map[string]string
	// failDeploys makes a region's host refuse PUT /v1/functions (500) while set, as a host
	// with a full disk would; reads, uploads and deletes keep working.
	failDeploys map[string]*atomic.Bool
	// busyInvokes makes a region's host answer invocations 429 with Retry-After while set, as
	// a host whose slots are all taken does.
	busyInvokes map[string]*atomic.Bool
	// providerExtra are more provider attribute lines, as HCL (routing settings).
	providerExtra string
	// store is the artifact store the provider keeps native bootstraps in.
	store string
}

func newAccEnv(t *testing.T) *accEnv {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make test does)")
	}
	// The provider process is this test binary, so these reach it and terraform alike.
	cfgDir := t.TempDir()
	cliConfig := filepath.Join(cfgDir, "terraform.rc")
	if err := os.WriteFile(cliConfig, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cliConfig)
	t.Setenv("CHECKPOINT_DISABLE", "1")

	e := &accEnv{t: t, token: fmt.Sprintf("acc-%d", time.Now().UnixNano()), urls: map[string]string{}, work: t.TempDir(), failDeploys: map[string]*atomic.Bool{},
		busyInvokes: map[string]*atomic.Bool{}, store: t.TempDir()}
	for _, region := range testRegions {
		ctx := context.Background()
		h, err := host.New(ctx, host.Config{Region: region, DataDir: t.TempDir(), Token: e.token, Logger: hclog.NewNullLogger()})
		if err != nil {
			t.Fatalf("starting host %s: %v", region, err)
		}
		fail, busy := new(atomic.Bool), new(atomic.Bool)
		e.failDeploys[region], e.busyInvokes[region] = fail, busy
		handler := h.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if busy.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invoke") {
				w.Header().Set("Retry-After", "30")
				http.Error(w, `{"error":{"code":"busy","message":"every slot is taken"}}`, http.StatusTooManyRequests)
				return
			}
			if fail.Load() && r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/functions/") {
				http.Error(w, `{"error":{"code":"storage","message":"storing function: disk full"}}`, http.StatusInternalServerError)
				return
			}
			handler.ServeHTTP(w, r)
		})) // binds 127.0.0.1
		t.Cleanup(func() {
			srv.Close()
			_ = h.Close(context.Background())
		})
		e.urls[region] = srv.URL
	}
	return e
}

func (e *accEnv) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"blueprint": providerserver.NewProtocol6WithError(New("test")()),
	}
}

// writeModule writes a job package as its own Go module under the workspace and returns its
// directory. Calling it again with other files rewrites the package (a code change).
func (e *accEnv) writeModule(name string, files map[string]string) string {
	e.t.Helper()
	dir := filepath.Join(e.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	gomod := fmt.Sprintf("module example.com/%s\n\ngo 1.26.8\n\nrequire github.com/serverless-blueprint/blueprint v0.0.0\n\nreplace github.com/serverless-blueprint/blueprint => %s\n", name, repoRoot(e.t))
	all := map[string]string{"go.mod": gomod}
	for k, v := range files {
		all[k] = v
	}
	for file, content := range all {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// providerConfig renders the provider block; regions may be nil (all hosts).
func (e *accEnv) providerConfig(regions []string) string {
	all := map[string]string{}
	for r, u := range e.urls {
		all[r] = u
	}
	for r, u := range e.extraHosts {
		all[r] = u
	}
	var hosts []string
	for _, r := range slices.Sorted(maps.Keys(all)) {
		hosts = append(hosts, fmt.Sprintf("    %q = %q", r, all[r]))
	}
	regionLine := ""
	if regions != nil {
		regionLine = fmt.Sprintf("  regions = %s\n", hclList(regions))
	}
	return fmt.Sprintf(`provider "blueprint" {
  platforms = ["wasm"]
  artifact_store = %q
  state_store = %q
%s%s  wasm {
    token = %q
    hosts = {
%s
    }
  }
}
`, e.store, e.stateStore(), regionLine, e.providerExtra, e.token, strings.Join(hosts, "\n"))
}

// stateStore is the state store of the test's stateful jobs, a file in the store directory.
func (e *accEnv) stateStore() string { return "sqlite://" + filepath.Join(e.store, "state.db") }

// jobBlock is one blueprint_job in a test config.
type jobBlock struct {
	Resource string // local name
	Package  string
	Function string
	Extra    string // more attribute lines, as HCL
}

func (e *accEnv) config(regions []string, jobs ...jobBlock) string {
	var b strings.Builder
	b.WriteString(e.providerConfig(regions))
	for _, j := range jobs {
		fmt.Fprintf(&b, "\nresource \"blueprint_job\" %q {\n  package  = %q\n  function = %q\n%s}\n", j.Resource, j.Package, j.Function, j.Extra)
	}
	return b.String()
}

func hclList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// closedURL returns a loopback URL where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// client talks to the hosts the way an operator would, for out-of-band changes and checks.
func (e *accEnv) client() *wasm.Client {
	e.t.Helper()
	c, err := wasm.NewClient(wasm.Config{Hosts: e.urls, Token: e.token, HTTPClient: &http.Client{Timeout: time.Minute}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// hostRequest calls a host's admin API and returns the status code and body.
func (e *accEnv) hostRequest(method, region, path string) (int, []byte, error) {
	req, err := http.NewRequest(method, e.urls[region]+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// functionNames lists the functions a host serves (GET /v1/functions).
func (e *accEnv) functionNames(region string) ([]string, error) {
	code, body, err := e.hostRequest(http.MethodGet, region, "/v1/functions")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/functions on %s: HTTP %d: %s", region, code, body)
	}
	var list []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		var wrapped struct {
			Functions []struct {
				Name string `json:"name"`
			} `json:"functions"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil {
			return nil, fmt.Errorf("decoding function list of %s: %v (%s)", region, err, body)
		}
		list = wrapped.Functions
	}
	names := make([]string, 0, len(list))
	for _, f := range list {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	return names, nil
}

// checkDestroyed verifies that no function and no blob of any destroyed job is left on any host.
func (e *accEnv) checkDestroyed(s *tfterraform.State) error {
	for _, region := range testRegions {
		names, err := e.functionNames(region)
		if err != nil {
			return err
		}
		if len(names) > 0 {
			return fmt.Errorf("functions left on %s after destroy: %v", region, names)
		}
	}
	for name, rs := range s.RootModule().Resources {
		if rs.Type != "blueprint_job" {
			continue
		}
		sha := rs.Primary.Attributes["artifact_sha256"]
		if sha == "" {
			continue
		}
		for _, region := range testRegions {
			code, _, err := e.hostRequest(http.MethodHead, region, "/v1/blobs/"+sha)
			if err != nil {
				return err
			}
			if code != http.StatusNotFound {
				return fmt.Errorf("blob %s of %s still on %s after destroy (HTTP %d)", sha, name, region, code)
			}
		}
	}
	return nil
}

// hostFunction reads a function's record from a host's admin API (GET /v1/functions/{name}).
func (e *accEnv) hostFunction(region, name string) (wasm.HostFunction, error) {
	var f wasm.HostFunction
	code, body, err := e.hostRequest(http.MethodGet, region, "/v1/functions/"+name)
	if err != nil {
		return f, err
	}
	if code != http.StatusOK {
		return f, fmt.Errorf("GET /v1/functions/%s on %s: HTTP %d: %s", name, region, code, body)
	}
	return f, json.Unmarshal(body, &f)
}

// checkEnvironment is a step check: the named function runs with env in every listed region.
func (e *accEnv) checkEnvironment(function string, env map[string]string, regions ...string) func(*tfterraform.State) error {
	return func(*tfterraform.State) error {
		for _, r := range regions {
			f, err := e.hostFunction(r, function)
			if err != nil {
				return err
			}
			// The host shows only a digest of the environment (the values stay on the host).
			if want := wasm.EnvironmentDigest(env); f.EnvironmentSHA256 != want {
				return fmt.Errorf("function %q on %s runs with environment digest %q, want %q (of %v)", function, r, f.EnvironmentSHA256, want, env)
			}
		}
		return nil
	}
}

// checkHostsServe is a step check: the named function exists on every listed region.
func (e *accEnv) checkHostsServe(function string, regions ...string) func(*tfterraform.State) error {
	return func(*tfterraform.State) error {
		for _, r := range regions {
			names, err := e.functionNames(r)
			if err != nil {
				return err
			}
			i := sort.SearchStrings(names, function)
			if i == len(names) || names[i] != function {
				return fmt.Errorf("host %s does not serve %q (it has %v)", r, function, names)
			}
		}
		return nil
	}
}
