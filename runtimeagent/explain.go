package runtimeagent

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/router"
)

// Explanation is the answer of GET /v1/jobs/{name}:explain: what the router would decide for
// one execution of the job now, and everything it decided from. It runs nothing and changes
// nothing (a half-open region's probe is shown, not claimed).
type Explanation struct {
	Job      string             `json:"job"`
	Decision ExplainedDecision  `json:"decision"`
	Inputs   ExplainedInputs    `json:"inputs"`
	Regions  []ExplainedRegion  `json:"regions"`
	Allows   ExplainedAllowance `json:"allows"`
	Budgets  ExplainedBudgets   `json:"budgets"`
	// Findings are the analysis's reasons behind pure, deterministic and eligible.
	Findings []job.Finding `json:"findings"`
}

// ExplainedDecision is the router's decision: where, why, and the regions in the order tried.
type ExplainedDecision struct {
	Target  string   `json:"target"` // local, serverless, speculative or batched
	Reason  string   `json:"reason"` // as a run's "decision" reports it
	Regions []string `json:"regions,omitempty"`
}

// ExplainedInputs are what the decision was made from.
type ExplainedInputs struct {
	Mode            string  `json:"mode"`
	Eligible        bool    `json:"eligible"`
	Pure            bool    `json:"pure"`
	InputBytes      int64   `json:"input_bytes"`
	MaxLocalInput   int64   `json:"max_local_input_bytes"`
	LocalInFlight   int     `json:"local_in_flight"`
	LocalCapacity   int     `json:"local_capacity"`
	Utilization     float64 `json:"utilization"`
	ExpectedMS      float64 `json:"expected_local_ms,omitempty"` // measured local p50
	LocalP95MS      float64 `json:"local_p95_ms,omitempty"`
	LatencyBudgetMS float64 `json:"latency_budget_ms,omitempty"`
	MemoryMB        int64   `json:"memory_mb"`
	// Costs of one execution, when cost-aware routing is on: here at the current utilization,
	// and on the platform for the expected duration.
	LocalCostUSD      *float64 `json:"local_cost_usd,omitempty"`
	ServerlessCostUSD *float64 `json:"serverless_cost_usd,omitempty"`
	CostThreshold     float64  `json:"cost_threshold,omitempty"`
	LatencyThreshold  float64  `json:"latency_threshold_ms,omitempty"`
}

// ExplainedRegion is the router's view of one deployment.
type ExplainedRegion struct {
	Platform            string  `json:"platform"`
	Region              string  `json:"region"`
	Healthy             bool    `json:"healthy"`
	Probing             bool    `json:"probing"` // a probe of this region out of rotation is out now
	ConsecutiveFailures int     `json:"consecutive_failures"`
	ErrorRate           float64 `json:"error_rate"`
	LatencyEWMAMS       float64 `json:"latency_ewma_ms"`
	TailMS              float64 `json:"tail_ms"`
	ThrottledUntil      string  `json:"throttled_until,omitempty"`
}

// ExplainedAllowance says what the analysis lets the agent do beyond running the job once.
type ExplainedAllowance struct {
	RetryElsewhere bool   `json:"retry_elsewhere"` // after a call that may have run: pure only
	Hedge          bool   `json:"hedge"`           // pure, and hedging on
	Batch          bool   `json:"batch"`           // pure, and batching on
	Memoize        bool   `json:"memoize"`         // pure and deterministic, and the cache on
	Why            string `json:"why"`
}

// ExplainedBudgets are the budgets that bound speculation and failover now.
type ExplainedBudgets struct {
	HedgeTokens     float64 `json:"hedge_tokens"` // hedges allowed now (-1: hedging off)
	RequestsActive  int64   `json:"requests_in_flight"`
	RetriesInFlight int64   `json:"retries_in_flight"`
}

// handleExplain answers GET /v1/jobs/{name}:explain[?input_bytes=N], with the latency-budget and
// placement headers a run would carry.
func (a *Agent) handleExplain(w http.ResponseWriter, r *http.Request, name string) {
	snap := a.current.Load()
	e, ok := snap.jobs[name]
	if !ok {
		a.metrics.httpError(CodeJobNotFound)
		writeError(w, http.StatusNotFound, CodeJobNotFound, fmt.Sprintf("no job named %q in the manifest (serial %d); GET /v1/jobs lists the jobs", name, snap.manifest.Serial))
		return
	}
	var inputBytes int64
	if v := r.URL.Query().Get("input_bytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("input_bytes must be a size in bytes, got %q", v))
			return
		}
		inputBytes = n
	}
	ctx, ok := a.callContext(w, r, e)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, a.explain(ctx, e, inputBytes))
}

// explain decides as route would, without running or claiming anything.
func (a *Agent) explain(ctx context.Context, e *jobEntry, inputBytes int64) Explanation {
	in := a.routerInput(ctx, e, inputBytes)
	in.DryRun = true
	policy := a.cfg.Policy
	d := router.Decide(&policy, &in)
	ex := Explanation{Job: e.job.Name, Findings: e.job.Analysis.Findings}
	if ex.Findings == nil {
		ex.Findings = []job.Finding{}
	}
	ex.Decision = ExplainedDecision{Target: d.Target.String(), Reason: d.Reason.String()}
	for i := 0; i < d.NumRegions; i++ {
		dep := e.job.Deployments[d.Regions[i]]
		ex.Decision.Regions = append(ex.Decision.Regions, dep.Platform+"/"+dep.Region)
	}
	maxLocal := policy.MaxLocalInputBytes
	if maxLocal == 0 {
		maxLocal = router.DefaultMaxLocalInputBytes
	}
	ex.Inputs = ExplainedInputs{
		Mode: in.Mode, Eligible: in.Eligible, Pure: in.Pure, InputBytes: in.InputBytes, MaxLocalInput: maxLocal,
		LocalInFlight: in.LocalInFlight, LocalCapacity: a.capacity, Utilization: in.Utilization,
		LatencyBudgetMS: ms(in.LatencyBudget), MemoryMB: in.MemoryMB,
		CostThreshold: in.CostThreshold, LatencyThreshold: ms(in.LatencyThreshold),
	}
	// The measured local latencies, shown even when this decision did not need them.
	if p50, ok := e.localLatency.Quantile(0.5, 5); ok {
		ex.Inputs.ExpectedMS = ms(p50)
	}
	if p95, ok := e.localLatency.Quantile(0.95, minHedgeSamples); ok && a.hedgeBudget != nil {
		ex.Inputs.LocalP95MS = ms(p95)
	}
	if p := policy.Prices; p != nil && in.Expected > 0 {
		local, remote := p.LocalCost(in.Expected, in.Utilization), p.ServerlessCost(in.MemoryMB, in.Expected)
		ex.Inputs.LocalCostUSD, ex.Inputs.ServerlessCostUSD = &local, &remote
	}
	for k, dep := range e.job.Deployments {
		s := e.stats[k]
		reg := ExplainedRegion{Platform: dep.Platform, Region: dep.Region, Healthy: s.Healthy(policy.FailureThreshold), Probing: s.Probing(),
			ConsecutiveFailures: s.ConsecutiveFailures(), ErrorRate: s.ErrorRate(), LatencyEWMAMS: ms(s.Latency()), TailMS: ms(s.Tail())}
		if until := s.ThrottledUntil(); until.After(time.Now()) {
			reg.ThrottledUntil = until.UTC().Format(time.RFC3339Nano)
		}
		ex.Regions = append(ex.Regions, reg)
	}
	pure, det := e.job.Analysis.Pure, e.job.Analysis.Deterministic
	ex.Allows = ExplainedAllowance{
		RetryElsewhere: pure,
		Hedge:          pure && a.hedgeBudget != nil,
		Batch:          pure && a.batchingOn(),
		Memoize:        router.Memoizable(pure, det) && a.memo != nil,
	}
	switch {
	case !pure:
		ex.Allows.Why = "the analysis did not prove the job pure: it runs once per request, is never retried after a call that may have run, hedged, batched or memoized (see findings)"
	case !det:
		ex.Allows.Why = "pure but not proven deterministic: it may be retried, hedged and batched, but its results are not memoized (see findings)"
	default:
		ex.Allows.Why = "pure and deterministic: it may be retried, hedged, batched and memoized, as far as this agent has them on"
	}
	ex.Budgets.HedgeTokens = -1
	if a.hedgeBudget != nil {
		ex.Budgets.HedgeTokens = a.hedgeBudget.Tokens()
	}
	ex.Budgets.RequestsActive, ex.Budgets.RetriesInFlight = a.retryBudget.State()
	return ex
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
