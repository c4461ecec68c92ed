package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// draws are the random facts of one request, drawn once per trace so that every policy meets
// the same cold-start sizes and stragglers.
type draws struct {
	coldStart       time.Duration
	straggler       bool // the first serverless call of this request straggles
	backupStraggler bool // a second one (hedge or failover) does
	localStraggler  bool // a local run of this request straggles (a noisy neighbour on the VM)
}

// instance is one serverless instance of a function in a region.
type instance struct {
	busyUntil time.Duration
	lastUsed  time.Duration
}

// world is the state one policy's replay evolves: the VM's cores, the warm instances, and
// what happened.
type world struct {
	m        *Model
	t        *Trace
	draws    []draws
	coreFree []time.Duration       // when each core finishes its queue
	local    []span                // local runs still running or queued at the last look
	warm     map[[2]int][]instance // (function, region) → instances
	results  Result
}

type span struct{ start, end time.Duration }

// Result is what one policy achieved on one trace.
type Result struct {
	Policy    string
	Requests  int
	Latencies []time.Duration // sorted after Finish
	// Added is latency minus the job's own duration: the queueing, network and cold starts
	// that routing controls (sorted after Finish). Raw latency percentiles are dominated by
	// the longest jobs, whatever the policy.
	Added           []time.Duration
	ServerlessUSD   float64
	VMUSD           float64
	SLOViolations   int
	Offloaded       int // requests answered by a serverless call
	ServerlessCalls int // every call, including hedges and failovers
	Hedges          int
	Failovers       int
	ColdStarts      int
}

func newWorld(m *Model, t *Trace, d []draws) *world {
	return &world{m: m, t: t, draws: d, coreFree: make([]time.Duration, m.Cores), warm: map[[2]int][]instance{}}
}

func drawAll(m *Model, t *Trace) []draws {
	seed := t.Seed + 1
	rng := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15))
	d := make([]draws, len(t.Requests))
	for i := range d {
		d[i] = draws{
			coldStart:       time.Duration(float64(m.ColdStart) * math.Exp(0.5*rng.NormFloat64())),
			straggler:       rng.Float64() < m.StragglerShare,
			backupStraggler: rng.Float64() < m.StragglerShare,
			localStraggler:  rng.Float64() < m.LocalStragglerShare,
		}
	}
	return d
}

// inFlight counts local runs running or queued at time at. Runs that ended before the last
// utilization sample are forgotten.
func (w *world) inFlight(at time.Duration) int {
	horizon := at - w.m.UtilizationSample
	kept, n := w.local[:0], 0
	for _, s := range w.local {
		if s.end > horizon {
			kept = append(kept, s)
		}
		if s.end > at {
			n++
		}
	}
	w.local = kept
	return n
}

// sampledUtilization is the share of busy cores at the last sampling tick before at: what a
// once-a-second CPU sampler would report.
func (w *world) sampledUtilization(at time.Duration) float64 {
	tick := at - at%w.m.UtilizationSample
	running := 0
	for _, s := range w.local {
		if s.start <= tick && s.end > tick {
			running++
		}
	}
	return float64(min(running, w.m.Cores)) / float64(w.m.Cores)
}

// localDuration is how long request i runs on the VM: its duration, or LocalStragglerFactor
// times that when it straggles.
func (w *world) localDuration(i int) time.Duration {
	d := w.t.Requests[i].Duration
	if w.draws[i].localStraggler {
		d = time.Duration(float64(d) * w.m.LocalStragglerFactor)
	}
	return d
}

// localPeek is the latency of running req locally now, without doing it.
func (w *world) localPeek(at time.Duration, dur time.Duration) time.Duration {
	start := max(at, slices.Min(w.coreFree))
	return start + dur - at
}

// runLocal runs req on the earliest free core (FIFO) and returns its latency.
func (w *world) runLocal(at time.Duration, dur time.Duration) time.Duration {
	return w.runLocalUntil(at, dur, 0)
}

// runLocalUntil is runLocal for a run cancelled at cancelAt (0 = never): it holds its core only
// until then, and never starts if it was still queued.
func (w *world) runLocalUntil(at, dur, cancelAt time.Duration) time.Duration {
	core := 0
	for i, f := range w.coreFree {
		if f < w.coreFree[core] {
			core = i
		}
	}
	start := max(at, w.coreFree[core])
	end := start + dur
	if cancelAt > 0 && cancelAt < end {
		if cancelAt <= start {
			return cancelAt - at
		}
		end = cancelAt
	}
	w.coreFree[core] = end
	w.local = append(w.local, span{start, end})
	return end - at
}

// call is one serverless invocation's outcome.
type call struct {
	latency time.Duration // until the answer (or the refusal) is back
	failed  bool          // the region refused: nothing ran
	cold    bool
	execute time.Duration // billed time: execution plus any cold start
	inst    int           // index of the instance used (for commit)
}

// serverlessPeek works out a call of req to region r started at at, without doing it.
func (w *world) serverlessPeek(at time.Duration, i, r int, straggler bool) call {
	req, region := w.t.Requests[i], &w.m.Regions[r]
	if region.down(at) {
		return call{latency: region.RTT, failed: true}
	}
	exec := req.Duration
	if straggler {
		exec = time.Duration(float64(exec) * w.m.StragglerFactor)
	}
	arrive := at + region.RTT/2
	c := call{inst: -1, execute: exec}
	for k, inst := range w.warm[[2]int{req.Function, r}] {
		if inst.busyUntil <= arrive && arrive-inst.lastUsed <= w.m.KeepAlive {
			c.inst = k
			break
		}
	}
	if c.inst < 0 {
		c.cold = true
		c.execute += w.draws[i].coldStart
	}
	c.latency = region.RTT + w.m.Overhead + c.execute
	return c
}

// serverless performs the call (billing until cancelAt when it is cancelled earlier).
func (w *world) serverless(at time.Duration, i, r int, straggler bool, cancelAt time.Duration) call {
	c := w.serverlessPeek(at, i, r, straggler)
	w.results.ServerlessCalls++
	if c.failed {
		return c
	}
	req := w.t.Requests[i]
	billed := c.execute
	done := at + c.latency
	if cancelAt > 0 && cancelAt < done {
		billed = max(cancelAt-at-w.m.Regions[r].RTT/2, 0)
		done = cancelAt
	}
	w.results.ServerlessUSD += w.m.Prices.ServerlessCost(w.t.Functions[req.Function].MemoryMB, billed)
	if c.cold {
		w.results.ColdStarts++
	}
	key := [2]int{req.Function, r}
	finished := done - w.m.Regions[r].RTT/2
	if c.inst >= 0 {
		w.warm[key][c.inst] = instance{busyUntil: finished, lastUsed: finished}
	} else {
		w.warm[key] = append(w.warm[key], instance{busyUntil: finished, lastUsed: finished})
	}
	return c
}

// record books one answered request.
func (w *world) record(i int, latency time.Duration, offloaded bool) {
	w.results.Latencies = append(w.results.Latencies, latency)
	w.results.Added = append(w.results.Added, max(latency-w.t.Requests[i].Duration, 0))
	if latency > w.m.slo(w.t.Requests[i].Duration) {
		w.results.SLOViolations++
	}
	if offloaded {
		w.results.Offloaded++
	}
}

// Length is the time from the first arrival to the last.
func (t *Trace) Length() time.Duration {
	if len(t.Requests) == 0 {
		return 0
	}
	return t.Requests[len(t.Requests)-1].Arrival
}

func (w *world) finish(name string) Result {
	r := w.results
	r.Policy = name
	r.Requests = len(w.t.Requests)
	r.VMUSD = w.m.Prices.VMHourly * w.t.Length().Hours()
	slices.Sort(r.Latencies)
	slices.Sort(r.Added)
	return r
}

// Quantile of the latencies (nearest rank).
func (r *Result) Quantile(q float64) time.Duration { return quantile(r.Latencies, q) }

// AddedQuantile of the added latencies (nearest rank).
func (r *Result) AddedQuantile(q float64) time.Duration { return quantile(r.Added, q) }

func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// TotalUSD is the VM plus everything sent to the platform.
func (r *Result) TotalUSD() float64 { return r.VMUSD + r.ServerlessUSD }
