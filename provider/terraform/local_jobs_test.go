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
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/router"
)

// vmJobsSource has a job that reads a file only the VM has (not eligible for serverless) and a
// CPU-bound pure job.
const vmJobsSource = `package vmjobs

import (
	"context"
	"os"
)

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

type Rounds struct {
	N int ` + "`json:\"n\"`" + `
}

// Spin mixes a number n times.
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

// Every job gets a native bootstrap on apply, deployed anywhere or not, and the agent runs it
// on the VM: the job that reads a local file, which wasm could never run, works.
func TestAccJob_nativeOnTheVM(t *testing.T) {
	e := newAccEnv(t)
	dir := e.writeModule("vmjobs", map[string]string{"vmjobs.go": vmJobsSource})
	secret := filepath.Join(t.TempDir(), "app.conf")
	if err := os.WriteFile(secret, []byte("only on this VM"), 0o600); err != nil {
		t.Fatal(err)
	}
	read := jobBlock{Resource: "read", Package: dir, Function: "ReadConfig"}
	spin := jobBlock{Resource: "spin", Package: dir, Function: "Spin"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.config(nil, read, spin),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("eligible"), knownvalue.Bool(false)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("deployments"), knownvalue.ListSizeExact(0)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("artifacts"), knownvalue.MapSizeExact(1)),
				statecheck.ExpectKnownValue("blueprint_job.read", tfjsonpath.New("artifact_store"), knownvalue.StringExact("file://"+e.store)),
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
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = err
		return
	}
	statePath := filepath.Join(c.t.TempDir(), "show.json")
	if err := os.WriteFile(statePath, raw, 0o600); err != nil {
		resp.Error = err
		return
	}
	agent, err := startSeamAgent(c.t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: 2}, -1, true)
	if err != nil {
		resp.Error = err
		return
	}
	body, status, err := postJob(agent, "read_config", fmt.Sprintf(`{"path":%q}`, c.secret))
	if err != nil || status != 200 || !strings.Contains(body, `"output":"only on this VM"`) || !strings.Contains(body, `"target":"local"`) {
		resp.Error = fmt.Errorf("read_config through the agent: %d %s %v", status, body, err)
		return
	}
	body, status, err = postJob(agent, "read_config", `{"path":"/no/such/file"}`)
	if err != nil || status != 422 || !strings.Contains(body, "no such file") {
		resp.Error = fmt.Errorf("read_config of a missing file: %d %s %v", status, body, err)
		return
	}
	body, status, err = postJob(agent, "spin", `{"n":1000}`)
	if err != nil || status != 200 || !strings.Contains(body, `"target":"local"`) {
		resp.Error = fmt.Errorf("spin through the agent: %d %s %v", status, body, err)
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
