package runtimeagent

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

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
	if m := get(t, f.srv.URL+"/metrics"); !strings.Contains(m, `blueprint_agent_hedges_total{job="resize",outcome="backup_won"}`) {
		t.Errorf("/metrics does not count the hedge:\n%s", m)
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
