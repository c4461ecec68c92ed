package terraform

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/router"
)

// TestAccJob_callFromGo applies the quickstart's jobs with terraform, then runs the same Go
// program (examples/app, calling the jobs through its generated wrappers) four ways: with the
// router embedded in it, through an agent, and both again with every call forced serverless.
// Every way must give the same outputs, and the stateful tally must count each vote once in
// the one store all of them share.
func TestAccJob_callFromGo(t *testing.T) {
	e := newAccEnv(t)
	root := repoRoot(t)
	app := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-o", app, "./examples/app")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building examples/app: %v\n%s", err, out)
	}
	dir := filepath.Join(root, "examples", "terraform", "quickstart", "jobs")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: e.factories(),
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.config(nil,
				jobBlock{Resource: "resize", Package: dir, Function: "ResizeImage"},
				jobBlock{Resource: "words", Package: dir, Function: "TopWords"},
				jobBlock{Resource: "tally", Package: dir, Function: "Tally"}),
			ConfigStateChecks: []statecheck.StateCheck{appCheck{t: t, e: e, app: app, root: root}},
		}},
	})
}

// appCheck runs examples/app on the state terraform just wrote.
type appCheck struct {
	t         *testing.T
	e         *accEnv
	app, root string
}

func (c appCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	if err := c.check(req); err != nil {
		resp.Error = err
	}
}

var (
	votesLine = regexp.MustCompile(`tally: (\d+) votes so far, ran (\S+)`)
	batchLine = regexp.MustCompile(`resize_image ×4 as one batch: \[16x16 32x32 error errorString 48x48\], ran map\[.*\]`)
)

func (c appCheck) check(req statecheck.CheckStateRequest) error {
	t := c.t
	statePath, _, err := stateFile(t, req.State)
	if err != nil {
		return err
	}
	// An agent with one local slot, as blueprint-agent --capacity 1; no memo, so every call runs.
	agentURL, err := startSeamAgent(t, statePath, builtin.Registry(), c.e.token, router.Policy{LocalCapacity: 1}, -1, false)
	if err != nil {
		return err
	}
	runs := []struct {
		name string
		args []string
		env  []string
	}{
		{"embedded", []string{"--state", statePath}, nil},
		{"agent", nil, []string{"BLUEPRINT_AGENT=" + agentURL}},
		{"embedded, serverless", []string{"--state", statePath, "--placement", "serverless"}, nil},
		{"agent, serverless", []string{"--placement", "serverless"}, []string{"BLUEPRINT_AGENT=" + agentURL}},
	}
	var want []byte
	for i, r := range runs {
		outputs := filepath.Join(t.TempDir(), "outputs.json")
		cmd := exec.Command(c.app, append(r.args, "--outputs", outputs, "--burst", "6")...)
		cmd.Dir = c.root
		cmd.Env = append(append(os.Environ(), "BLUEPRINT_HOST_TOKEN="+c.e.token, "BLUEPRINT_AGENT="), r.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("app (%s): %v\n%s%s", r.name, err, stdout.String(), stderr.String())
		}
		t.Logf("app (%s):\n%s", r.name, stdout.String())
		got, err := os.ReadFile(outputs)
		if err != nil {
			return err
		}
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			return fmt.Errorf("app (%s) answered differently from app (%s):\n%s\nwant\n%s", r.name, runs[0].name, got, want)
		}
		m := votesLine.FindStringSubmatch(stdout.String())
		if m == nil || m[1] != fmt.Sprint(i+1) {
			return fmt.Errorf("app (%s): want vote %d of the shared counter, got %q", r.name, i+1, m)
		}
		if strings.HasSuffix(r.name, "serverless") {
			if m[2] == "local" || !strings.Contains(stdout.String(), "resize_image: 64x64") || strings.Contains(stdout.String(), "ran local") ||
				!batchLine.MatchString(stdout.String()) || strings.Contains(batchLine.FindString(stdout.String()), "local:") {
				return fmt.Errorf("app (%s): a call forced serverless ran here:\n%s", r.name, stdout.String())
			}
		}
	}
	if !strings.Contains(string(want), `"Type": "errorString"`) || !strings.Contains(string(want), `"resize_image_batch"`) {
		return fmt.Errorf("the job error is not typed as the job's error type: %s", want)
	}
	return nil
}
