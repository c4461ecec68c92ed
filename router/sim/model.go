package sim

import (
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

// Model is the world a trace is replayed against. MODEL.md explains each number.
type Model struct {
	Cores     int           // executions the VM runs at once; more wait in a FIFO queue
	Regions   []Region      // serverless regions the jobs are deployed to
	Overhead  time.Duration // platform overhead per invocation (routing, payload)
	KeepAlive time.Duration // an idle instance stays warm this long
	// Cold starts are log-normal around ColdStart (σ 0.5), paid by a call that finds no idle
	// warm instance of its function in the region.
	ColdStart time.Duration
	// StragglerShare of serverless calls run StragglerFactor× slower (noisy neighbours, GC).
	StragglerShare  float64
	StragglerFactor float64
	// LocalStragglerShare of local runs run LocalStragglerFactor× slower (noisy neighbours on
	// the VM, GC pauses, a burst of the application itself).
	LocalStragglerShare  float64
	LocalStragglerFactor float64
	Prices               router.Prices
	// A request meets its SLO when latency ≤ SLOFactor × its duration + SLOSlack.
	SLOFactor float64
	SLOSlack  time.Duration
	// UtilizationSample is how often the seed's rule samples VM utilization (like a CPU
	// sampler); it acts on the last sample.
	UtilizationSample time.Duration
}

// Region is one serverless region as seen from the VM.
type Region struct {
	Name   string
	RTT    time.Duration
	Faults []Fault // intervals when calls to the region fail
}

// Fault is an outage: calls are refused (nothing runs), so any job may go elsewhere.
type Fault struct{ From, To time.Duration }

func (r *Region) down(at time.Duration) bool {
	for _, f := range r.Faults {
		if at >= f.From && at < f.To {
			return true
		}
	}
	return false
}

// DefaultModel is a 4-core VM with two regions, one near and one far, and an outage of the
// near region from 40% to 50% of the trace.
func DefaultModel(traceLength time.Duration) Model {
	return Model{
		Cores: 4,
		Regions: []Region{
			{Name: "near", RTT: 20 * time.Millisecond, Faults: []Fault{{From: traceLength * 4 / 10, To: traceLength / 2}}},
			{Name: "far", RTT: 70 * time.Millisecond},
		},
		Overhead:             5 * time.Millisecond,
		KeepAlive:            10 * time.Minute,
		ColdStart:            250 * time.Millisecond,
		StragglerShare:       0.01,
		StragglerFactor:      10,
		LocalStragglerShare:  0.01,
		LocalStragglerFactor: 10,
		Prices:               vmPrices(),
		SLOFactor:            2,
		SLOSlack:             250 * time.Millisecond,
		UtilizationSample:    time.Second,
	}
}

func (m *Model) slo(d time.Duration) time.Duration {
	return time.Duration(m.SLOFactor*float64(d)) + m.SLOSlack
}

// vmPrices are the default list prices with a 4-vCPU arm64 VM (c7g.xlarge, $0.145 per hour).
func vmPrices() router.Prices {
	p := router.DefaultPrices()
	p.VMHourly, p.VMCores = 0.145, 4
	return p
}
