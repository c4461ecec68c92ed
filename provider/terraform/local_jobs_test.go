package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/router"
)

// vmJobsSource has the four kinds of job: a pure one, one that reads a file only the VM has
// (not eligible for serverless), a stateful counter and a CPU-bound one.
const vmJobsSource = `package vmjobs

import (
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

type Name struct {
	Name string ` + "`json:\"name\"`" + `
}

// Greet is pure.
//
//blueprint:job
func Greet(ctx context.Context, in Name) (string, error) { return "hello " + in.Name, nil }

type Path struct {
	Path string ` + "`json:\"path\"`" + `
}

// ReadConfig reads a file on this machine.
//
//blueprint:job
func ReadConfig(ctx context.Context, in Path) (string, error) {
	b, err := os.ReadFile(in.Path)
	return string(b), err
}

// Count adds one to a counter in the job's state.
//
//blueprint:job
func Count(ctx context.Context, st job.State, in Name) (int, error) {
	for {
		v, ver, err := st.Get(ctx, in.Name)
		if err != nil {
			return 0, err
		}
		n := 0
		if v != nil {
			n, _ = strconv.Atoi(string(v))
		}
		if _, err := st.Put(ctx, in.Name, []byte(strconv.Itoa(n+1)), ver); err == nil {
			return n + 1, nil
		} else if !errors.Is(err, job.ErrVersionConflict) {
			return 0, err
		}
	}
}

type Rounds struct {
	N int ` + "`json:\"n\"`" + `
}

// Spin mixes a number n times (about 20 ms for 10 million rounds).
//
//blueprint:job
func Spin(ctx context.Context, in Rounds) (uint64, error) {
	x := uint64(88172645463325252)
	for i := 0; i < in.N; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x, nil
}
`

// All four kinds of job from one package, with the real terraform CLI and two real hosts:
// every job gets a native bootstrap, the file-reading job stays on the VM (not eligible,
// deployed nowhere) and the agent runs all of them here, the counter through its state store.
func TestAccJob_nativeOnTheVM(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("vmjobs", map[string]string{"vmjobs.go": vmJobsSource})
	secret := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(secret, []byte("only on this VM"), 0o600); err != nil {
		t.Fatal(err)
	}
	greet := jobBlock{Resource: "greet", Package: dir, Function: "Greet"}
	read := jobBlock{Resource: "read", Package: dir, Function: "ReadConfig"}
	count := jobBlock{Resource: "count", Package: dir, Function: "Count"}
	spin := jobBlock{Resource: "spin", Package: dir, Function: "Spin"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.config(nil, greet, read, count, spin),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("blueprint_job.greet", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue("blueprint_job.greet", tfjsonpath.New("state_store"), knownvalue.Null()),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("eligible"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("artifacts"), knownvalue.MapSizeExact(1)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("artifact_store"), knownvalue.StringExact("file://"+e.store)),
				statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("state_store"), knownvalue.StringExact(e.stateStore())),
				statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				statecheck.ExpectKnownValue("blueprint_job.spin", tfjsonpath.New("artifacts"), knownvalue.MapSizeExact(2)),
				vmAgentCheck{t: t, e: e, secret: secret},
			},
		}},
	})
}

type vmAgentCheck struct {
	t      *testing.T
	e      *accEnv
	secret string
}

func (c vmAgentCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	statePath, _, err := stateFile(c.t, req.State)
	if err != nil {
		resp.Error = err
		return
	}
	agent, err := startSeamAgent(c.t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: 2}, -1, true)
	if err != nil {
		resp.Error = err
		return
	}
	for _, call := range []struct{ job, input, want string }{
		{"greet", `{"name":"vm"}`, `"output":"hello vm"`},
		{"read_config", fmt.Sprintf(`{"path":%q}`, c.secret), `"output":"only on this VM"`},
		{"count", `{"name":"runs"}`, `"output":1`},
		{"count", `{"name":"runs"}`, `"output":2`},
		{"spin", `{"n":10000000}`, `"output":`},
	} {
		body, status, err := postJob(agent, call.job, call.input)
		if err != nil || status != 200 || !strings.Contains(body, call.want) || !strings.Contains(body, `"target":"local"`) {
			resp.Error = fmt.Errorf("%s through the agent: %d %s %v (want %s, run here)", call.job, status, body, err, call.want)
			return
		}
	}
	body, status, err := postJob(agent, "read_config", `{"path":"/no/such/file"}`)
	if err != nil || status != 422 || !strings.Contains(body, "no such file") {
		resp.Error = fmt.Errorf("read_config of a missing file: %d %s %v", status, body, err)
	}
}

// postJob runs a job through the agent and returns the answer's body and status.
func postJob(agentURL, name, input string) (string, int, error) {
	resp, err := http.Post(agentURL+"/v1/jobs/"+name+":run", "application/json", strings.NewReader(input))
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode, err
}

// A stateful job keeps its state in the provider's store wherever it runs: 64 callers × 200
// increments through the agent, run locally and offloaded to the hosts mixed, end at exactly
// 12,800.
func TestAccJob_statefulCounterExact(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("vmjobs", map[string]string{"vmjobs.go": vmJobsSource})
	count := jobBlock{Resource: "count", Package: dir, Function: "Count"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.config(nil, count),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("analysis").AtMapKey("requires_state"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("state_store"), knownvalue.StringExact(e.stateStore())),
				statecheck.ExpectKnownValue("blueprint_job.count", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(2)),
				counterCheck{t: t, e: e},
			},
		}},
	})
}

type counterCheck struct {
	t *testing.T
	e *accEnv
}

func (c counterCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, _ := json.Marshal(req.State)
	statePath := filepath.Join(c.t.TempDir(), "show.json")
	os.WriteFile(statePath, raw, 0o600)
	// One local slot for 64 callers: most executions are offloaded, some run here.
	agent, err := startSeamAgent(c.t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: 1}, -1, true)
	if err != nil {
		resp.Error = err
		return
	}
	const callers, each = 64, 200
	var mu sync.Mutex
	ran := map[string]int{}
	var failures []string
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: callers}}
	for range callers {
		wg.Go(func() {
			for range each {
				// 64 callers overrun one local slot and the hosts' slots: the agent sheds load
				// with 503 busy, which means nothing ran, and a caller tries again.
				for attempt := 0; ; attempt++ {
					res, err := client.Post(agent+"/v1/jobs/count:run", "application/json", strings.NewReader(`{"name":"hits"}`))
					if err != nil {
						mu.Lock()
						failures = append(failures, err.Error())
						mu.Unlock()
						return
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					var out struct {
						Ran   struct{ Target string } `json:"ran"`
						Error struct{ Code string }   `json:"error"`
					}
					json.Unmarshal(body, &out)
					mu.Lock()
					switch {
					case res.StatusCode == 503 && out.Error.Code == "busy" && attempt < 5000:
						ran["busy, retried"]++
						mu.Unlock()
						time.Sleep(time.Duration(min(attempt+1, 20)) * time.Millisecond) // back off
						continue
					case res.StatusCode != 200:
						failures = append(failures, fmt.Sprintf("%d %s", res.StatusCode, body))
					default:
						ran[out.Ran.Target]++
					}
					mu.Unlock()
					break
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		resp.Error = fmt.Errorf("%d executions failed, first: %s", len(failures), failures[0])
		return
	}
	body, status, err := postJob(agent, "count", `{"name":"hits"}`)
	if err != nil || status != 200 || !strings.Contains(body, fmt.Sprintf(`"output":%d`, callers*each+1)) {
		resp.Error = fmt.Errorf("after %d increments the next answered %d %s (%v); ran %v", callers*each, status, body, err, ran)
		return
	}
	if ran["local"] == 0 || ran["serverless"] == 0 {
		resp.Error = fmt.Errorf("the executions were not mixed: %v", ran)
		return
	}
	c.t.Logf("12,800 increments exact; ran %v", ran)
}
