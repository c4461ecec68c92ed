package runtimeagent

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// stragglingRemote answers in a few milliseconds, except that region a straggles on inputs
// marked "slow" (a noisy neighbour on the platform) until the call is cancelled.
type stragglingRemote struct{ *fakeRemote }

func (s stragglingRemote) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	pause := 2 * time.Millisecond
	if d.Region == "b" {
		pause = 12 * time.Millisecond // b is slower, so a ranks first (by a margin that survives -race and a busy machine)
	}
	if d.Region == "a" && bytes.Contains(input, []byte("slow")) {
		pause = 2 * time.Second
	}
	select {
	case <-time.After(pause):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.fakeRemote.mu.Lock()
	s.fakeRemote.calls[d.Region]++
	s.fakeRemote.mu.Unlock()
	return []byte(fmt.Sprintf(`{"ran":%q}`, d.Region)), nil
}

// TestRun_hedgesStragglingOffloadsOfPureJobsOnly: an offloaded call of a pure job still
// running at its region's p95 gets a twin in the next region, which answers first; a job that
// is not pure waits for its straggler.
func TestRun_hedgesStragglingOffloadsOfPureJobsOnly(t *testing.T) {
	remote := stragglingRemote{newFakeRemote()}
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: 0.5,
		BatchMaxItems: 1, Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	for i := range 40 { // both regions measured; a's p95 is known
		for _, job := range []string{"resize", "charge"} {
			if r := f.run(t, job, fmt.Sprintf(`{"i":%d}`, i)); r.status != 200 {
				t.Fatalf("warm-up %s %d: %d %s", job, i, r.status, r.raw)
			}
		}
	}

	start := time.Now()
	r := f.run(t, "resize", `{"slow":true}`)
	took := time.Since(start)
	if r.status != 200 || r.run.Ran.Region != "b" || r.run.Decision != "hedged" {
		t.Fatalf("pure straggler: %d %s; want region b answering a hedge", r.status, r.raw)
	}
	if took > time.Second {
		t.Errorf("pure straggler took %v: the twin should have answered in milliseconds", took)
	}
	if m := get(t, f.srv.URL+"/metrics"); !strings.Contains(m, `blueprint_agent_hedges_total{job="resize",outcome="backup_won"} 1`) {
		t.Errorf("/metrics does not count the won hedge")
	}

	start = time.Now()
	r = f.run(t, "charge", `{"slow":true}`)
	if r.status != 200 || r.run.Ran.Region != "a" || time.Since(start) < 2*time.Second {
		t.Errorf("non-pure straggler: %d %s after %v; want region a, waited for, never hedged", r.status, r.raw, time.Since(start))
	}
}
