package runtimeagent

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

// A memoized result belongs to the job's code, not to one build of its package: a new
// artifact of the same code (the package was rebuilt for another job's edit) still answers;
// new code never sees an old answer.
func TestRun_memoKeyedByCodeHash(t *testing.T) {
	resize := stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}, sourceHash: "sha256:c1"}
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 4}, HedgeRatio: -1}, resize)
	f.run(t, "resize", `{"w":1}`)
	if r := f.run(t, "resize", `{"w":1}`); r.run.Decision != "memoized" {
		t.Fatalf("second run: %s, want memoized", r.raw)
	}
	rebuilt := resize
	rebuilt.artifact = "def"
	writeState(t, f.state, 2, rebuilt)
	waitFor(t, "serial 2", func() bool { return f.agent.Manifest().Serial == 2 })
	if r := f.run(t, "resize", `{"w":1}`); r.run.Decision != "memoized" {
		t.Errorf("after a rebuild of the same code: %s, want memoized", r.raw)
	}
	edited := rebuilt
	edited.sourceHash = "sha256:c2"
	writeState(t, f.state, 3, edited)
	waitFor(t, "serial 3", func() bool { return f.agent.Manifest().Serial == 3 })
	if r := f.run(t, "resize", `{"w":1}`); r.status != 200 || r.run.Decision == "memoized" {
		t.Errorf("after an edit of the job's code: %d %s, want a fresh run", r.status, r.raw)
	}
	if got := f.local.calls.Load(); got != 2 {
		t.Errorf("%d runs, want 2 (the first, and the first after the edit)", got)
	}
}

// Only a job the analysis proved pure and deterministic is answered from the cache.
func TestRun_memoizesOnlyPureDeterministicJobs(t *testing.T) {
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 4}, HedgeRatio: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}},
		stateJob{name: "roll", pure: true, nondeterministic: true, eligible: true, regions: []string{"a"}},
		stateJob{name: "charge", eligible: true, regions: []string{"a"}},
	)
	first := f.run(t, "resize", `{"w":1}`)
	second := f.run(t, "resize", `{"w":1}`)
	if first.status != 200 || second.status != 200 || second.run.Decision != "memoized" || second.raw == "" {
		t.Fatalf("resize twice: %d %s / %d %s; want the second memoized", first.status, first.raw, second.status, second.raw)
	}
	if got := f.local.calls.Load(); got != 1 {
		t.Fatalf("resize ran %d times for one distinct input, want 1", got)
	}
	if r := f.run(t, "resize", `{"w":2}`); r.run.Decision == "memoized" {
		t.Fatalf("another input was answered from the cache: %s", r.raw)
	}
	for _, name := range []string{"roll", "charge"} {
		for range 2 {
			if r := f.run(t, name, `{"w":1}`); r.status != 200 || r.run.Decision == "memoized" {
				t.Fatalf("%s: %d %s; a job that is not pure and deterministic must run every time", name, r.status, r.raw)
			}
		}
	}
	if got := f.local.calls.Load(); got != 6 {
		t.Fatalf("%d local runs, want 6 (resize ×2 distinct inputs, roll ×2, charge ×2)", got)
	}
	metrics := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{`blueprint_agent_memo_lookups_total{result="hit"} 1`, `blueprint_agent_memo_lookups_total{result="miss"} 2`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A pure job whose local run is stuck past its p95 gets a remote twin; a job that is not pure
// never does, however long it takes.
func TestRun_hedgesSlowLocalRunsOfPureJobsOnly(t *testing.T) {
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 4}, MemoBytes: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}},
		stateJob{name: "charge", eligible: true, regions: []string{"a"}},
	)
	// Fast local runs teach the agent each job's p95 (and earn hedge budget).
	for i := range minHedgeSamples + 1 {
		for _, name := range []string{"resize", "charge"} {
			// Mostly local; a run slower than the 1 ms hedge floor may legitimately be hedged.
			if r := f.run(t, name, fmt.Sprintf(`{"i":%d}`, i)); r.status != 200 {
				t.Fatalf("warm-up run %s: %d %s", name, r.status, r.raw)
			}
		}
	}
	// From now on, local runs hang until cancelled or released. The release after 5 s only
	// keeps a regression from hanging the test binary; the assertions below fail first.
	hedgedWarmups := f.remote.count("a") // only resize may have been hedged, never charge
	f.local.block = make(chan struct{})
	release := sync.OnceFunc(func() { close(f.local.block) })
	time.AfterFunc(5*time.Second, release)
	t.Cleanup(release)

	r := f.run(t, "resize", `{"slow":true}`)
	if r.status != 200 || r.run.Decision != "hedged" || r.run.Ran.Target != "serverless" {
		t.Fatalf("slow pure run: %d %s; want answered by the hedged remote run", r.status, r.raw)
	}

	out := make(chan response, 1)
	f.runAsync(t, out, "charge", `{"slow":true}`)
	time.Sleep(150 * time.Millisecond) // far beyond the learned p95
	if calls := f.remote.count("a"); calls != hedgedWarmups+1 {
		t.Fatalf("%d remote calls; the job that is not pure was hedged", calls)
	}
	release()
	if r := <-out; r.status != 200 || r.run.Ran.Target != "local" {
		t.Fatalf("slow non-pure run: %d %s; want it to finish locally", r.status, r.raw)
	}
	m := get(t, f.srv.URL+"/metrics")
	if !strings.Contains(m, `blueprint_agent_hedges_total{job="resize",outcome="backup_won"}`) {
		t.Errorf("/metrics does not count the hedge:\n%s", m)
	}
	// The local run that lost the race was cancelled, not failed.
	if strings.Contains(m, `blueprint_agent_runs_total{job="resize",outcome="failed",target="local"}`) ||
		!strings.Contains(m, `blueprint_agent_runs_total{job="resize",outcome="canceled",target="local"}`) {
		t.Errorf("/metrics should count the losing local run as canceled:\n%s", m)
	}
}

// With prices, every execution's estimated cost is booked where it ran.
func TestRun_booksCostWhereTheJobRan(t *testing.T) {
	prices := router.DefaultPrices()
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 1, Prices: &prices}, MemoBytes: -1, HedgeRatio: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}},
	)
	if r := f.run(t, "resize", `{"i":1}`); r.status != 200 || r.run.Ran.Target != "local" {
		t.Fatalf("idle run: %d %s", r.status, r.raw)
	}
	f.local.block = make(chan struct{})
	release := sync.OnceFunc(func() { close(f.local.block) })
	t.Cleanup(release)
	out := make(chan response, 1)
	f.runAsync(t, out, "resize", `{"i":2}`) // takes the only slot
	waitFor(t, "the local run to start", func() bool { return f.local.calls.Load() == 2 })
	if r := f.run(t, "resize", `{"i":3}`); r.status != 200 || r.run.Ran.Target != "serverless" {
		t.Fatalf("run with the VM full: %d %s", r.status, r.raw)
	}
	release()
	<-out
	m := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{`blueprint_agent_cost_usd_total{job="resize",target="local"}`, `blueprint_agent_cost_usd_total{job="resize",target="serverless"} 2.`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, m)
		}
	}
}

// A caller whose latency budget is below the job's local p95 gets the local run and a remote
// twin at once, instead of waiting for the p95.
func TestRun_latencyBudgetStartsBothAtOnce(t *testing.T) {
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 4}, MemoBytes: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}},
	)
	f.local.sleep.Store(int64(100 * time.Millisecond))
	for i := range minHedgeSamples + 1 {
		if r := f.run(t, "resize", fmt.Sprintf(`{"i":%d}`, i)); r.status != 200 {
			t.Fatalf("warm-up: %d %s", r.status, r.raw)
		}
	}
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/jobs/resize:run", strings.NewReader(`{"urgent":true}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(LatencyBudgetHeader, "5")
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"decision":"hedged"`) {
		t.Fatalf("run with a 5 ms budget: %d %s; want the remote twin's answer", resp.StatusCode, body)
	}
	if elapsed >= 80*time.Millisecond {
		t.Fatalf("answered after %v: the twin should not have waited for the 100 ms local run's p95", elapsed)
	}

	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/v1/jobs/resize:run", strings.NewReader(`{}`))
	req.Header.Set(LatencyBudgetHeader, "soon")
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), LatencyBudgetHeader) {
		t.Fatalf("bad budget header: %d %s; want 400 naming the header", resp.StatusCode, body)
	}
}
