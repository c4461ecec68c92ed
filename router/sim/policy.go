package sim

import (
	"slices"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/router"
)

// Policy routes one request of the trace, performs it in the world and records it.
type Policy interface {
	Name() string
	route(w *world, i int)
}

// Policies returns the five policies the simulator compares, fresh for one replay.
func Policies(m *Model) []Policy {
	return []Policy{alwaysLocal{}, alwaysServerless{}, seedRule{}, newOurRouter(m), oracle{}}
}

// byRTT lists region indexes nearest first: the static policies' fixed order.
func byRTT(m *Model) []int {
	order := make([]int, len(m.Regions))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(m.Regions[a].RTT - m.Regions[b].RTT) })
	return order
}

// offloadInOrder tries regions in order; a refused call costs its round trip and moves on
// (nothing ran, so that is safe for any job). It returns the latency and whether any region
// answered; observe, when set, sees every call.
func offloadInOrder(w *world, at time.Duration, i int, order []int, observe func(r int, c call, at time.Duration)) (time.Duration, bool) {
	elapsed := time.Duration(0)
	for k, r := range order {
		straggler := w.draws[i].straggler
		if k > 0 {
			straggler = w.draws[i].backupStraggler
			w.results.Failovers++
		}
		c := w.serverless(at+elapsed, i, r, straggler, 0)
		if observe != nil {
			observe(r, c, at+elapsed)
		}
		elapsed += c.latency
		if !c.failed {
			return elapsed, true
		}
	}
	return elapsed, false
}

// offloadOrFallBack offloads; when every region refused, the job runs here after all.
func offloadOrFallBack(w *world, i int, order []int, observe func(int, call, time.Duration)) {
	req := w.t.Requests[i]
	lat, ok := offloadInOrder(w, req.Arrival, i, order, observe)
	if ok {
		w.record(i, lat, true)
		return
	}
	w.record(i, lat+w.runLocal(req.Arrival+lat, w.localDuration(i)), false)
}

type alwaysLocal struct{}

func (alwaysLocal) Name() string { return "always-local" }
func (alwaysLocal) route(w *world, i int) {
	req := w.t.Requests[i]
	w.record(i, w.runLocal(req.Arrival, w.localDuration(i)), false)
}

type alwaysServerless struct{}

func (alwaysServerless) Name() string          { return "always-serverless" }
func (alwaysServerless) route(w *world, i int) { offloadOrFallBack(w, i, byRTT(w.m), nil) }

// seedRule is the rule Blueprint started from: serverless if cheaper or if the VM is over 90%
// utilized. The VM is paid for either way, so local work is never dearer; what remains is the
// utilization test, on what a once-a-second CPU sampler last reported.
type seedRule struct{}

func (seedRule) Name() string { return "seed-threshold" }
func (seedRule) route(w *world, i int) {
	req := w.t.Requests[i]
	w.inFlight(req.Arrival) // forget old runs
	if w.sampledUtilization(req.Arrival) > 0.9 {
		offloadOrFallBack(w, i, byRTT(w.m), nil)
		return
	}
	w.record(i, w.runLocal(req.Arrival, w.localDuration(i)), false)
}

// ourRouter drives the real router package: Decide with live in-flight counts, cost-aware
// prices, per-region statistics (latency EWMA, failures, cooldown), and hedged execution of
// pure jobs at their local p95 within a 5% hedge budget, all on the simulation's clock.
type ourRouter struct {
	policy router.Policy
	stats  []*router.RegionStats
	local  map[int]*router.LatencyHistogram // per function: local latencies
	remote map[int]*router.LatencyHistogram // per function: latencies of answered offloads
	budget *router.HedgeBudget
}

func newOurRouter(m *Model) *ourRouter {
	// The modelled fleet is fixed: the VM is paid for whether it works or not, so its marginal
	// cost is zero (the router's cost model charges VM time only when the fleet would have to
	// grow, which this model does not do).
	prices := m.Prices
	prices.VMHourly = 0
	r := &ourRouter{
		policy: router.Policy{LocalCapacity: m.Cores, Prices: &prices},
		local:  map[int]*router.LatencyHistogram{},
		remote: map[int]*router.LatencyHistogram{},
		budget: &router.HedgeBudget{Ratio: 0.05},
	}
	for range m.Regions {
		r.stats = append(r.stats, &router.RegionStats{})
	}
	return r
}

func (*ourRouter) Name() string { return "blueprint-router" }

// epoch anchors the simulation clock for the router's Unix-nanosecond inputs.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (o *ourRouter) observe(r int, c call, at time.Duration) {
	if c.failed {
		o.stats[r].ObserveFailure(epoch.Add(at + c.latency))
		return
	}
	o.stats[r].ObserveSuccessAt(epoch.Add(at+c.latency), c.latency)
}

func (o *ourRouter) route(w *world, i int) {
	req := w.t.Requests[i]
	fn := w.t.Functions[req.Function]
	hist := o.local[req.Function]
	if hist == nil {
		hist = &router.LatencyHistogram{}
		o.local[req.Function] = hist
	}
	inFlight := w.inFlight(req.Arrival)
	in := router.Input{
		Eligible: true, Pure: fn.Pure, Mode: job.ModeAuto,
		LocalInFlight: inFlight, Regions: o.stats, NowNanos: epoch.Add(req.Arrival).UnixNano(),
		Utilization: float64(inFlight) / float64(w.m.Cores), MemoryMB: fn.MemoryMB,
	}
	if p50, ok := hist.Quantile(0.5, 5); ok {
		in.Expected = p50
	}
	o.budget.OnRequest()
	d := router.Decide(&o.policy, &in)
	if d.Target == router.Serverless {
		if fn.Pure && d.NumRegions > 1 && o.hedgeRemote(w, i, d) {
			return
		}
		offloadOrFallBack(w, i, order(d), o.observe)
		return
	}

	localLat := w.localPeek(req.Arrival, w.localDuration(i))
	delay, known := hist.Quantile(0.95, 20)
	delay = max(delay, time.Millisecond)
	if !fn.Pure || !known || localLat <= delay || !o.budget.TryHedge() {
		hist.Observe(w.runLocal(req.Arrival, w.localDuration(i)))
		w.record(i, localLat, false)
		return
	}
	// Hedge: a remote twin starts at the p95; the first answer wins, the other is cancelled.
	w.results.Hedges++
	in.LocalInFlight = w.m.Cores
	remote := router.Decide(&o.policy, &in)
	if remote.Target != router.Serverless {
		hist.Observe(w.runLocal(req.Arrival, w.localDuration(i)))
		w.record(i, localLat, false)
		return
	}
	r := int(remote.Regions[0])
	start := req.Arrival + delay
	peek := w.serverlessPeek(start, i, r, w.draws[i].backupStraggler)
	if !peek.failed && delay+peek.latency < localLat {
		c := w.serverless(start, i, r, w.draws[i].backupStraggler, 0)
		o.observe(r, c, start)
		w.runLocalUntil(req.Arrival, w.localDuration(i), start+c.latency) // cancelled when the twin answers
		w.record(i, delay+c.latency, true)
		return
	}
	c := w.serverless(start, i, r, w.draws[i].backupStraggler, req.Arrival+localLat)
	if c.failed {
		o.observe(r, c, start)
	}
	hist.Observe(w.runLocal(req.Arrival, w.localDuration(i)))
	w.record(i, localLat, false)
}

// hedgeRemote offloads a pure job to the first region and, when that call is still running at
// the function's remote p95, starts a twin in the second region within the hedge budget; the
// first answer wins and the other call is cancelled (billed until then). It returns false,
// having done nothing, when the first region refuses or there is no p95 yet: the caller then
// offloads in order as usual.
func (o *ourRouter) hedgeRemote(w *world, i int, d router.Decision) bool {
	req := w.t.Requests[i]
	hist := o.remote[req.Function]
	if hist == nil {
		hist = &router.LatencyHistogram{}
		o.remote[req.Function] = hist
	}
	r0, r1 := int(d.Regions[0]), int(d.Regions[1])
	first := w.serverlessPeek(req.Arrival, i, r0, w.draws[i].straggler)
	if first.failed {
		return false
	}
	delay, known := hist.Quantile(0.95, 20)
	delay = max(delay, time.Millisecond)
	if !known || first.latency <= delay {
		c := w.serverless(req.Arrival, i, r0, w.draws[i].straggler, 0)
		o.observe(r0, c, req.Arrival)
		hist.Observe(c.latency)
		w.record(i, c.latency, true)
		return true
	}
	if !o.budget.TryHedge() {
		c := w.serverless(req.Arrival, i, r0, w.draws[i].straggler, 0)
		o.observe(r0, c, req.Arrival)
		hist.Observe(c.latency)
		w.record(i, c.latency, true)
		return true
	}
	// Still running at the p95: a twin starts in the next region; the first answer wins and
	// the other call is cancelled, billed until then.
	w.results.Hedges++
	start := req.Arrival + delay
	twin := w.serverlessPeek(start, i, r1, w.draws[i].backupStraggler)
	if !twin.failed && delay+twin.latency < first.latency {
		c1 := w.serverless(start, i, r1, w.draws[i].backupStraggler, 0)
		o.observe(r1, c1, start)
		won := delay + c1.latency
		w.serverless(req.Arrival, i, r0, w.draws[i].straggler, req.Arrival+won)
		hist.Observe(won)
		w.record(i, won, true)
		return true
	}
	c0 := w.serverless(req.Arrival, i, r0, w.draws[i].straggler, 0)
	o.observe(r0, c0, req.Arrival)
	c1 := w.serverless(start, i, r1, w.draws[i].backupStraggler, req.Arrival+c0.latency)
	if c1.failed {
		o.observe(r1, c1, start)
	}
	hist.Observe(c0.latency)
	w.record(i, c0.latency, true)
	return true
}

func order(d router.Decision) []int {
	out := make([]int, d.NumRegions)
	for k := range out {
		out[k] = int(d.Regions[k])
	}
	return out
}

// oracle knows, for each request, what running it locally and in every region would take
// (queueing, cold starts, stragglers, outages) and picks the cheapest option that meets the
// SLO: local when it does (the VM is paid for), else the fastest region that does, else the
// faster of the two. It decides one request at a time, with perfect knowledge of that
// request's outcomes but not of how its choice shapes later ones: a practical lower bound,
// not a global optimum.
type oracle struct{}

func (oracle) Name() string { return "oracle" }
func (oracle) route(w *world, i int) {
	req := w.t.Requests[i]
	slo := w.m.slo(req.Duration)
	localLat := w.localPeek(req.Arrival, w.localDuration(i))
	if localLat <= slo {
		w.record(i, w.runLocal(req.Arrival, w.localDuration(i)), false)
		return
	}
	best, bestLat := -1, time.Duration(0)
	for r := range w.m.Regions {
		c := w.serverlessPeek(req.Arrival, i, r, w.draws[i].straggler)
		if !c.failed && (best < 0 || c.latency < bestLat) {
			best, bestLat = r, c.latency
		}
	}
	if best < 0 || (bestLat > slo && localLat <= bestLat) {
		w.record(i, w.runLocal(req.Arrival, w.localDuration(i)), false)
		return
	}
	c := w.serverless(req.Arrival, i, best, w.draws[i].straggler, 0)
	w.record(i, c.latency, true)
}

// Run replays the trace through every policy. progress, when set, hears about each policy as
// it finishes.
func Run(t *Trace, m Model, progress func(Result)) []Result {
	d := drawAll(&m, t)
	var results []Result
	for _, p := range Policies(&m) {
		w := newWorld(&m, t, d)
		for i := range t.Requests {
			p.route(w, i)
		}
		r := w.finish(p.Name())
		if progress != nil {
			progress(r)
		}
		results = append(results, r)
	}
	return results
}
