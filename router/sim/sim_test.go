package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

func TestSyntheticIsDeterministicForASeed(t *testing.T) {
	a := Synthetic(SyntheticConfig{Seed: 7, Duration: 2 * time.Minute})
	b := Synthetic(SyntheticConfig{Seed: 7, Duration: 2 * time.Minute})
	c := Synthetic(SyntheticConfig{Seed: 8, Duration: 2 * time.Minute})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two traces from seed 7 differ")
	}
	if reflect.DeepEqual(a.Requests, c.Requests) {
		t.Fatal("seeds 7 and 8 gave the same trace")
	}
	for i := 1; i < len(a.Requests); i++ {
		if a.Requests[i].Arrival < a.Requests[i-1].Arrival {
			t.Fatalf("request %d arrives before request %d", i, i-1)
		}
	}
	ra := Run(a, DefaultModel(a.Length()), nil)
	rb := Run(b, DefaultModel(b.Length()), nil)
	if !reflect.DeepEqual(ra, rb) {
		t.Fatal("two replays of one trace gave different results")
	}
}

func TestAzureSample(t *testing.T) {
	tr, err := Azure2021()
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Requests) != 199 || len(tr.Functions) != 31 {
		t.Fatalf("azure2021: %d requests of %d functions, want 199 of 31", len(tr.Requests), len(tr.Functions))
	}
	if tr.Requests[0].Arrival != 0 {
		t.Fatalf("first arrival at %v, want 0", tr.Requests[0].Arrival)
	}
}

func TestReadAzureCSVErrors(t *testing.T) {
	for name, c := range map[string]struct{ csv, want string }{
		"bad header":      {"a,b,c,d\n", "header"},
		"end before dur":  {"app,func,end_timestamp,duration\nx,y,1.0,2.0\n", "line 2"},
		"not a number":    {"app,func,end_timestamp,duration\nx,y,soon,2.0\n", "line 2"},
		"missing column":  {"app,func,end_timestamp,duration\nx,y,1.0\n", "wrong number of fields"},
		"no rows":         {"app,func,end_timestamp,duration\n", "no rows"},
		"negative length": {"app,func,end_timestamp,duration\nx,y,1.0,-1\n", "line 2"},
	} {
		_, err := ReadAzureCSV(strings.NewReader(c.csv), "t")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, c.want)
		}
	}
}

func TestPoliciesBehaveAsNamed(t *testing.T) {
	tr := Synthetic(SyntheticConfig{Seed: 3, Duration: 3 * time.Minute})
	results := map[string]Result{}
	for _, r := range Run(tr, DefaultModel(tr.Length()), nil) {
		results[r.Policy] = r
		if r.Requests != len(tr.Requests) || len(r.Latencies) != len(tr.Requests) {
			t.Fatalf("%s answered %d of %d requests", r.Policy, len(r.Latencies), len(tr.Requests))
		}
	}
	if r := results["always-local"]; r.Offloaded != 0 || r.ServerlessUSD != 0 {
		t.Errorf("always-local offloaded %d requests for $%g", r.Offloaded, r.ServerlessUSD)
	}
	if r := results["always-serverless"]; r.Offloaded < r.Requests*9/10 {
		t.Errorf("always-serverless offloaded only %d of %d (only outages of every region may fall back)", r.Offloaded, r.Requests)
	}
	vm := results["always-local"].VMUSD
	for name, r := range results {
		if r.VMUSD != vm {
			t.Errorf("%s pays $%g for the VM, others $%g: the fleet is the same for all", name, r.VMUSD, vm)
		}
	}
	// The oracle meets the SLO at least as often as any real policy.
	for name, r := range results {
		if r.SLOViolations < results["oracle"].SLOViolations {
			t.Errorf("%s missed the SLO %d times, fewer than the oracle's %d", name, r.SLOViolations, results["oracle"].SLOViolations)
		}
	}
}

func TestOutageForcesFailover(t *testing.T) {
	tr := Synthetic(SyntheticConfig{Seed: 4, Duration: 3 * time.Minute})
	m := DefaultModel(tr.Length())
	m.Regions[0].Faults = []Fault{{From: 0, To: tr.Length() + time.Second}} // the near region is down throughout
	for _, r := range Run(tr, m, nil) {
		if r.Policy == "always-serverless" && r.Failovers < r.Requests*9/10 {
			t.Errorf("always-serverless failed over %d times with its first region down for %d requests", r.Failovers, r.Requests)
		}
		// The breaker opens after a few failures and lets one probe through per cooldown.
		bound := int(tr.Length()/router.DefaultFailureCooldown) + router.DefaultFailureThreshold + 2
		if r.Policy == "blueprint-router" && r.Failovers > bound {
			t.Errorf("the router failed over %d times (at most %d expected): its circuit breaker should take the dead region out", r.Failovers, bound)
		}
	}
}

func TestVerdictSaysWhenAGoalIsMissed(t *testing.T) {
	s := []Summary{
		{Policy: "seed-threshold", TotalUSD: 1, AddedP99MS: 10},
		{Policy: "blueprint-router", TotalUSD: 2, AddedP99MS: 20},
		{Policy: "oracle", TotalUSD: 1},
	}
	v := strings.Join(Verdict(s), "\n")
	if !strings.Contains(v, "NOT MET: seed-threshold") || !strings.Contains(v, "NOT MET: the router's cost is 100.0% above") {
		t.Fatalf("verdict did not report both missed goals:\n%s", v)
	}
}
