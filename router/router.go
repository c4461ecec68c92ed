package router

import (
	"runtime"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

// MaxRegions is how many regions one decision can order. Deployments beyond it are not tried:
// failing over through more than a handful of regions costs more than it saves.
const MaxRegions = 8

// Target is where an execution goes.
type Target uint8

const (
	Local      Target = iota
	Serverless        // offload, trying Decision.Regions in order
	// Speculative runs the job here and in Decision.Regions[0] at once and takes the first
	// answer: only for pure jobs whose caller's latency budget is below the local p95.
	Speculative
	// Batched offloads through the job's batcher (several small executions, one invocation):
	// only for pure jobs with small inputs when the caller says it can batch.
	Batched
)

func (t Target) String() string {
	switch t {
	case Serverless:
		return "serverless"
	case Speculative:
		return "speculative"
	case Batched:
		return "batched"
	}
	return "local"
}

// Reason says why Decide chose its target; it is logged and returned to callers.
type Reason uint8

const (
	ReasonModeLocal         Reason = iota // the job or the user asked for local only
	ReasonNotEligible                     // the analysis found something that only exists on this machine
	ReasonModeServerless                  // the job or the user asked for serverless
	ReasonLocalCapacity                   // every local slot is busy
	ReasonLargeInput                      // the input is above the local threshold
	ReasonLocalHasCapacity                // auto mode with room locally: local is cheapest and fastest
	ReasonNoHealthyRegion                 // wanted to offload, but every region is failing or none is deployed
	ReasonVMBusy                          // the VM is above its busy utilization (the seed's rule)
	ReasonCheaperServerless               // the platform costs less than the VM's marginal cost
	// ReasonRegionsBusy is not returned by Decide: the agent sets it when every region refused
	// an offloaded call for lack of capacity and the job ran here instead.
	ReasonRegionsBusy
	// ReasonMemoized is set by the agent, not Decide: a pure and deterministic job answered
	// from the result cache without running.
	ReasonMemoized
	// ReasonHedged is set by the agent: the local run was slower than its p95, a speculative
	// remote run was started and answered first.
	ReasonHedged
	// ReasonLatencyBudget: the caller's latency budget is below the local p95, so a pure job
	// runs here and remotely at once (Speculative).
	ReasonLatencyBudget
	// ReasonFasterServerless: a region is expected to answer sooner than this machine by more
	// than the configured latency threshold.
	ReasonFasterServerless
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonModeLocal:         "mode_local",
	ReasonNotEligible:       "not_eligible",
	ReasonModeServerless:    "mode_serverless",
	ReasonLocalCapacity:     "local_capacity",
	ReasonLargeInput:        "large_input",
	ReasonLocalHasCapacity:  "local_has_capacity",
	ReasonNoHealthyRegion:   "no_healthy_region",
	ReasonVMBusy:            "vm_busy",
	ReasonCheaperServerless: "cheaper_serverless",
	ReasonRegionsBusy:       "regions_busy",
	ReasonMemoized:          "memoized",
	ReasonHedged:            "hedged",
	ReasonLatencyBudget:     "latency_budget",
	ReasonFasterServerless:  "faster_serverless",
}

func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// Policy tunes Decide. The zero value is a sensible default; fields say what zero means.
type Policy struct {
	// LocalCapacity is how many executions may run locally at once. 0 = GOMAXPROCS;
	// negative = none: everything that may be offloaded is.
	LocalCapacity int
	// MaxLocalInputBytes: larger inputs are offloaded (a big input means a big job; spread it).
	// 0 = 1 MiB; negative = no limit.
	MaxLocalInputBytes int64
	// FailureThreshold consecutive failures take a region out of rotation... 0 = 3.
	FailureThreshold int
	// ...for FailureCooldown after its last failure; then one call of a pure job probes it
	// (tried first), and its success restores the region. 0 = 10 s.
	FailureCooldown time.Duration
	// ColdAfter is how long a region may go unused before its instances are probably gone
	// (platforms keep idle instances for minutes); such a region is ranked as if ColdPenalty
	// were added to its latency. 0 = 10 minutes and 250 ms; a negative ColdAfter turns it off.
	ColdAfter   time.Duration
	ColdPenalty time.Duration
	// Prices turn on cost-aware routing in auto mode: with room locally, a job still leaves
	// the VM when the VM is busy or the platform is cheaper than the VM's marginal cost.
	// nil = route on capacity and input size only.
	Prices *Prices
	// MaxBatchInputBytes: offloaded executions of pure jobs with inputs up to this size go
	// through the batcher when Input.CanBatch. 0 = 64 KiB; negative = never batch.
	MaxBatchInputBytes int64
}

// Defaults used for zero Policy fields.
const (
	DefaultMaxLocalInputBytes = 1 << 20
	DefaultFailureThreshold   = 3
	DefaultFailureCooldown    = 10 * time.Second
	DefaultColdAfter          = 10 * time.Minute
	DefaultColdPenalty        = 250 * time.Millisecond
	DefaultMaxBatchInputBytes = 64 << 10
)

// defaultLocalCapacity is read once: runtime.GOMAXPROCS takes the scheduler lock, which the
// decision path must not.
var defaultLocalCapacity = runtime.GOMAXPROCS(0)

// Input is everything Decide looks at for one execution. The agent fills it from the manifest
// (Eligible, Pure, Mode), the request (InputBytes) and its live state (LocalInFlight, Regions).
type Input struct {
	Eligible      bool   // may run serverless at all (analysis after user overrides)
	Pure          bool   // the analysis proved no side effects
	Mode          string // job.ModeAuto ("" too), job.ModeLocal or job.ModeServerless
	InputBytes    int64
	LocalInFlight int
	// Regions holds one entry per deployment of the job; Decision.Regions indexes into it.
	Regions []*RegionStats
	// NowNanos is the current time (Unix ns) for cooldowns; 0 = time.Now(). Tests pin it.
	NowNanos int64
	// For cost-aware routing (Policy.Prices): the VM's utilization (0..1), the job's expected
	// duration on this machine and its memory size on the platform.
	Utilization float64
	Expected    time.Duration
	MemoryMB    int64
	// For speculation: the local path's p95 and what the caller can wait (0 = no budget).
	LocalP95      time.Duration
	LatencyBudget time.Duration
	// CanBatch says the caller has a batcher for this job's regions (Batched may be returned).
	CanBatch bool
	// The provider's routing settings for this job (cost_threshold, latency_threshold_ms):
	// offload when the platform's cost over the VM's is below CostThreshold (0 = 1: when it is
	// cheaper), and, when LatencyThreshold > 0, when the best region's expected latency beats
	// Expected by more than it.
	CostThreshold    float64
	LatencyThreshold time.Duration
	// DryRun decides without side effects (explain): a half-open region's probe is shown in
	// the order, not claimed.
	DryRun bool
}

// Decision is where to run. It holds no slices so that deciding allocates nothing.
type Decision struct {
	Target Target
	Reason Reason
	// Regions[:NumRegions] are indexes into Input.Regions, in the order to try them.
	Regions    [MaxRegions]uint8
	NumRegions int
}

// Cooldown is how long a region stays out of rotation after its last failure: FailureCooldown,
// or DefaultFailureCooldown when that is not positive.
func (p *Policy) Cooldown() time.Duration {
	if p.FailureCooldown <= 0 {
		return DefaultFailureCooldown
	}
	return p.FailureCooldown
}

// Decide picks the target and orders the regions. It is a pure function of its arguments (and
// the clock when in.NowNanos is 0), safe to call concurrently while stats are updated.
//
// Rules: local mode or an ineligible job → local. Serverless mode → serverless. Auto → offload
// when every local slot is busy, the input is large, or (with prices) the VM is busy or the
// platform cheaper; else local, or speculative when the job is pure and the caller's latency
// budget is below the local p95. An offload of a pure job with a small input is batched when
// the caller can batch. Regions: not-yet-measured first (so they get measured), then by
// expected latency: the p90 (the EWMA until there are enough samples) grown by the failure
// rate (a failed call costs a retry elsewhere) and by the cold-start penalty for a region idle
// past ColdAfter; regions with FailureThreshold consecutive failures within FailureCooldown
// (an open circuit) and regions inside a Retry-After they sent are skipped. Nothing to
// offload to → local.
func Decide(p *Policy, in *Input) Decision {
	var d Decision
	switch {
	case in.Mode == job.ModeLocal:
		d.Reason = ReasonModeLocal
		return d
	case !in.Eligible:
		d.Reason = ReasonNotEligible
		return d
	case in.Mode == job.ModeServerless:
		d.Reason = ReasonModeServerless
	default:
		capacity := p.LocalCapacity
		if capacity == 0 {
			capacity = defaultLocalCapacity
		}
		maxInput := p.MaxLocalInputBytes
		if maxInput == 0 {
			maxInput = DefaultMaxLocalInputBytes
		}
		switch {
		case in.LocalInFlight >= capacity: // a negative capacity is always "full"
			d.Reason = ReasonLocalCapacity
		case maxInput > 0 && in.InputBytes > maxInput:
			d.Reason = ReasonLargeInput
		case p.Prices != nil && in.Utilization >= p.Prices.busyUtilization():
			d.Reason = ReasonVMBusy
		case p.Prices != nil && in.Expected > 0 && cheaperServerless(p.Prices, in):
			d.Reason = ReasonCheaperServerless
		case in.LatencyThreshold > 0 && in.Expected > 0 && fasterServerless(p, in):
			d.Reason = ReasonFasterServerless
		case in.Pure && in.LatencyBudget > 0 && in.LocalP95 > in.LatencyBudget:
			d.Reason = ReasonLatencyBudget
			orderRegions(p, in, &d)
			if d.NumRegions > 0 {
				d.Target = Speculative
			} else {
				d.Reason = ReasonLocalHasCapacity
			}
			return d
		default:
			d.Reason = ReasonLocalHasCapacity
			return d
		}
	}

	orderRegions(p, in, &d)
	if d.NumRegions == 0 {
		if d.Reason == ReasonModeServerless && len(in.Regions) > 0 {
			// The user insisted on serverless: probe the failing regions rather than
			// silently running on this machine.
			orderAll(in, &d)
		} else {
			d.Reason = ReasonNoHealthyRegion
			return d
		}
	}
	d.Target = Serverless
	maxBatch := p.MaxBatchInputBytes
	if maxBatch == 0 {
		maxBatch = DefaultMaxBatchInputBytes
	}
	if in.CanBatch && in.Pure && maxBatch > 0 && in.InputBytes <= maxBatch {
		d.Target = Batched
	}
	return d
}

// cheaperServerless applies the cost rule: the platform's cost over the VM's marginal cost is
// below the threshold (1 by default: strictly cheaper).
func cheaperServerless(prices *Prices, in *Input) bool {
	threshold := in.CostThreshold
	if threshold <= 0 {
		threshold = 1
	}
	return prices.ServerlessCost(in.MemoryMB, in.Expected) < threshold*prices.LocalCost(in.Expected, in.Utilization)
}

// fasterServerless reports whether the best region (as orderRegions ranks them) is expected to
// answer sooner than a local run by more than the latency threshold. A region's expectation is
// its observed latency (tail, or EWMA; it includes the job's run there and the round trip); a
// region not measured yet promises nothing.
func fasterServerless(p *Policy, in *Input) bool {
	var probe Decision
	best := orderRegions(p, in, &probe)
	return probe.NumRegions > 0 && best > 0 && int64(in.Expected)-best > int64(in.LatencyThreshold)
}

func orderRegions(p *Policy, in *Input, d *Decision) (best int64) {
	threshold := int32(p.FailureThreshold)
	if threshold <= 0 {
		threshold = DefaultFailureThreshold
	}
	cooldown := int64(p.Cooldown())
	now := in.NowNanos
	if now == 0 {
		now = time.Now().UnixNano()
	}
	coldAfter, coldPenalty := int64(p.ColdAfter), int64(p.ColdPenalty)
	if coldAfter == 0 {
		coldAfter = int64(DefaultColdAfter)
	}
	if coldPenalty <= 0 {
		coldPenalty = int64(DefaultColdPenalty)
	}
	var latency [MaxRegions]int64
	for i, s := range in.Regions {
		if i >= MaxRegions {
			break
		}
		if s.consecutiveFailures.Load() >= threshold {
			if now-s.lastFailureNanos.Load() < cooldown {
				continue // open: out of rotation
			}
			if in.Pure {
				// Half-open: one call of a pure job goes there first, to find out whether the
				// region is back (if not, it fails over); the others keep away until it
				// answers, or until a cooldown passes without an answer.
				probe := s.probeNanos.Load()
				if probe != 0 && now-probe < cooldown {
					continue
				}
				if !in.DryRun && !s.probeNanos.CompareAndSwap(probe, now) {
					continue
				}
				insert(d, &latency, uint8(i), -1) // first, before any measured region
				continue
			}
			// A job that is not pure is not sent to an unknown region first (a failed call
			// of it is not retried elsewhere): the region is ranked by what it did.
		}
		if now < s.throttledUntilNanos.Load() {
			continue // honour the region's Retry-After
		}
		l := int64(s.ewma.Value())
		if tail := s.tailNanos.Load(); tail > 0 {
			l = tail // rank by the tail: a region with a fast mean and slow stragglers loses
		}
		if e := int64(s.errorRateMilli.Load()); l != 0 && e > 0 {
			l += l * e / 1000 // a failed call is paid again in the next region
		}
		if last := s.lastSuccessNanos.Load(); l != 0 && coldAfter > 0 && last != 0 && now-last > coldAfter {
			l += coldPenalty // likely a cold start: a warm region that is a little slower wins
		}
		insert(d, &latency, uint8(i), l)
	}
	if d.NumRegions > 0 {
		best = latency[0]
	}
	return best
}

func orderAll(in *Input, d *Decision) {
	var latency [MaxRegions]int64
	for i, s := range in.Regions {
		if i >= MaxRegions {
			break
		}
		insert(d, &latency, uint8(i), int64(s.ewma.Value()))
	}
}

// insert adds region idx in latency order (insertion sort over at most MaxRegions). Unknown
// latency (0) sorts first; ties keep the manifest's order.
func insert(d *Decision, latency *[MaxRegions]int64, idx uint8, l int64) {
	pos := d.NumRegions
	for pos > 0 && latency[pos-1] > l {
		latency[pos] = latency[pos-1]
		d.Regions[pos] = d.Regions[pos-1]
		pos--
	}
	latency[pos] = l
	d.Regions[pos] = idx
	d.NumRegions++
}
