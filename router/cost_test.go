package router

import (
	"math"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12+1e-9*math.Abs(b) }

func TestServerlessCost(t *testing.T) {
	p := DefaultPrices()
	// 128 MB for 100 ms: 0.125 GB × 0.1 s × $0.0000133334 + $0.0000002 per request.
	if got, want := p.ServerlessCost(128, 100*time.Millisecond), 0.125*0.1*0.0000133334+0.0000002; !near(got, want) {
		t.Errorf("128 MB × 100 ms = %g, want %g", got, want)
	}
	// Billed in whole milliseconds: 1.2 ms costs 2 ms.
	if got, want := p.ServerlessCost(1024, 1200*time.Microsecond), 1*0.002*0.0000133334+0.0000002; !near(got, want) {
		t.Errorf("1 GB × 1.2 ms = %g, want %g (rounded up to 2 ms)", got, want)
	}
}

func TestLocalCost(t *testing.T) {
	p := DefaultPrices()
	coreSecond := 0.0725 / 3600 / 2
	for _, c := range []struct {
		utilization, share float64
	}{{0, 0}, {0.35, 0.5}, {0.7, 1}, {0.95, 1}, {-1, 0}} {
		if got, want := p.LocalCost(2*time.Second, c.utilization), coreSecond*2*c.share; !near(got, want) {
			t.Errorf("LocalCost(2s, %v) = %g, want %g", c.utilization, got, want)
		}
	}
}

func TestDecideCostAware(t *testing.T) {
	prices := DefaultPrices()
	policy := Policy{LocalCapacity: 8, Prices: &prices}
	tests := []struct {
		name       string
		in         Input
		wantTarget Target
		wantReason Reason
	}{
		{"idle VM: local work is free", Input{Eligible: true, Utilization: 0, Expected: 10 * time.Second, MemoryMB: 128}, Local, ReasonLocalHasCapacity},
		{"busy VM offloads (seed rule)", Input{Eligible: true, Utilization: 0.92, Expected: time.Millisecond, MemoryMB: 128}, Serverless, ReasonVMBusy},
		{"long small job at 60%: the platform is cheaper", Input{Eligible: true, Utilization: 0.6, Expected: 2 * time.Second, MemoryMB: 128}, Serverless, ReasonCheaperServerless},
		{"short job at 60%: the request price dominates", Input{Eligible: true, Utilization: 0.6, Expected: 10 * time.Millisecond, MemoryMB: 128}, Local, ReasonLocalHasCapacity},
		{"big-memory job at 60%: the VM is cheaper", Input{Eligible: true, Utilization: 0.6, Expected: 2 * time.Second, MemoryMB: 4096}, Local, ReasonLocalHasCapacity},
		{"unknown duration: no cost case", Input{Eligible: true, Utilization: 0.6, MemoryMB: 128}, Local, ReasonLocalHasCapacity},
		{"ineligible never leaves, however busy", Input{Eligible: false, Utilization: 1}, Local, ReasonNotEligible},
		{"local mode never leaves, however cheap", Input{Eligible: true, Mode: job.ModeLocal, Utilization: 0.6, Expected: time.Minute, MemoryMB: 128}, Local, ReasonModeLocal},
		// cost_threshold: offload only when the platform costs less than that share of the VM.
		{"cheaper, but not below a 0.1 cost threshold", Input{Eligible: true, Utilization: 0.6, Expected: 2 * time.Second, MemoryMB: 128, CostThreshold: 0.1}, Local, ReasonLocalHasCapacity},
		{"cheaper and below a 0.9 cost threshold", Input{Eligible: true, Utilization: 0.6, Expected: 2 * time.Second, MemoryMB: 128, CostThreshold: 0.9}, Serverless, ReasonCheaperServerless},
		// latency_threshold_ms: a region measured at 10 ms beats a 2 s local run by far more
		// than 100 ms, but not a 50 ms one.
		{"a region far faster than the threshold", Input{Eligible: true, Utilization: 0, Expected: 2 * time.Second, MemoryMB: 4096, LatencyThreshold: 100 * time.Millisecond}, Serverless, ReasonFasterServerless},
		{"a region faster, but not by the threshold", Input{Eligible: true, Utilization: 0, Expected: 50 * time.Millisecond, MemoryMB: 4096, LatencyThreshold: 100 * time.Millisecond}, Local, ReasonLocalHasCapacity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Regions = stats(10)
			d := Decide(&policy, &tt.in)
			if d.Target != tt.wantTarget || d.Reason != tt.wantReason {
				t.Fatalf("Decide = %v/%v, want %v/%v", d.Target, d.Reason, tt.wantTarget, tt.wantReason)
			}
		})
	}
}

// BenchmarkDecideCostAware is the cost-aware path with its float arithmetic: still no
// allocations.
func BenchmarkDecideCostAware(b *testing.B) {
	prices := DefaultPrices()
	policy := Policy{LocalCapacity: 8, Prices: &prices}
	in := Input{Eligible: true, Pure: true, Mode: job.ModeAuto, InputBytes: 512, LocalInFlight: 4,
		Utilization: 0.6, Expected: 2 * time.Second, MemoryMB: 128, Regions: stats(12, 0, 8, 30)}
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		d = Decide(&policy, &in)
	}
	if d.Reason != ReasonCheaperServerless {
		b.Fatalf("benchmark input decided %v, want cheaper_serverless", d.Reason)
	}
}
