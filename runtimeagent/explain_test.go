package runtimeagent

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/router"
)

func (f *fixture) explain(t *testing.T, name, query string) (int, Explanation) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/v1/jobs/" + name + ":explain" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var ex Explanation
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &ex); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return resp.StatusCode, ex
}

// TestExplain_namesTheReasonOfTheRun: under load, explain gives the reason the router then
// gives for the same request, and says what the analysis allows.
func TestExplain_namesTheReasonOfTheRun(t *testing.T) {
	local := &fakeLocal{block: make(chan struct{}), started: make(chan struct{}, 1)}
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 1}, MemoBytes: -1, HedgeRatio: -1, Local: local})

	status, idle := f.explain(t, "resize", "")
	if status != 200 || idle.Decision.Target != "local" || idle.Decision.Reason != "local_has_capacity" {
		t.Fatalf("idle: %d %+v", status, idle.Decision)
	}
	if !idle.Allows.RetryElsewhere || !idle.Allows.Batch || idle.Allows.Hedge || len(idle.Regions) != 2 || idle.Inputs.LocalCapacity != 1 {
		t.Fatalf("idle explanation: %+v", idle)
	}

	// Load: the one local slot is taken.
	out := make(chan response, 1)
	f.runAsync(t, out, "resize", `{"n":1}`)
	<-local.started
	_, busy := f.explain(t, "resize", "?input_bytes=7")
	if busy.Decision.Target != "batched" && busy.Decision.Target != "serverless" || busy.Decision.Reason != "local_capacity" || busy.Inputs.LocalInFlight != 1 || busy.Inputs.InputBytes != 7 {
		t.Fatalf("under load: %+v %+v", busy.Decision, busy.Inputs)
	}
	status2, body, header := f.post(t, "resize:run", `{"n":2}`, nil)
	if status2 != 200 || !strings.Contains(body, `"decision":"`+busy.Decision.Reason+`"`) || header.Get(DecisionHeader) != busy.Decision.Reason ||
		!strings.HasPrefix(header.Get(RanHeader), "serverless fake/") {
		t.Fatalf("the run under load: %d %s (headers %v), explain said %s", status2, body, header, busy.Decision.Reason)
	}
	close(local.block)
	<-out

	// A job that is not pure: nothing beyond one run.
	_, charge := f.explain(t, "charge", "")
	if charge.Allows.RetryElsewhere || charge.Allows.Hedge || charge.Allows.Batch || charge.Allows.Memoize || !strings.Contains(charge.Allows.Why, "not prove the job pure") {
		t.Fatalf("charge: %+v", charge.Allows)
	}
	if status, _ := f.explain(t, "nope", ""); status != 404 {
		t.Fatalf("unknown job: %d", status)
	}
	if status, _ := f.explain(t, "resize", "?input_bytes=-1"); status != 400 {
		t.Fatalf("bad input_bytes: %d", status)
	}
}
