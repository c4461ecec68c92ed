package runtimeagent

import (
	"fmt"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

// TestRun_latencyThresholdFromState: with the provider's latency_threshold_ms in the job's
// state, a job that runs 30 ms here goes to a region measured at a few milliseconds even with
// room locally (faster_serverless); the same job without the setting stays local.
func TestRun_latencyThresholdFromState(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 1},
		stateJob{name: "tuned", pure: true, eligible: true, regions: []string{"a"}, latencyThresholdMS: 10},
		stateJob{name: "plain", pure: true, eligible: true, regions: []string{"a"}})
	f.local.sleep.Store(int64(30 * time.Millisecond))
	for _, job := range []string{"tuned", "plain"} {
		// Concurrent runs overflow the one local slot, so the region gets measured; then
		// sequential runs give the local p50.
		runConcurrently(t, f, job, 4, func(int) bool { return false })
		for i := range 6 {
			if r := f.run(t, job, fmt.Sprintf(`{"i":%d}`, i)); r.status != 200 {
				t.Fatalf("%s warm-up: %d %s", job, r.status, r.raw)
			}
		}
	}
	if r := f.run(t, "tuned", `{}`); r.status != 200 || r.run.Decision != "faster_serverless" || r.run.Ran.Target != "serverless" {
		t.Errorf("tuned: %d %s; want faster_serverless", r.status, r.raw)
	}
	if r := f.run(t, "plain", `{}`); r.status != 200 || r.run.Ran.Target != "local" {
		t.Errorf("plain: %d %s; want local", r.status, r.raw)
	}
}
