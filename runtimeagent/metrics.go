package runtimeagent

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/serverless-blueprint/blueprint/router"
)

// metrics are the agent's Prometheus series, on its own registry (with the Go runtime and
// process collectors) so that an embedding program's registry is left alone. docs/agent-api.md
// lists every family; a test checks the list against what a scrape holds.
type metrics struct {
	reg *prometheus.Registry

	runs      *prometheus.CounterVec   // job, target, outcome
	execs     *prometheus.CounterVec   // job, placement, platform, region, outcome
	durations *prometheus.HistogramVec // job, target
	attempts  *prometheus.CounterVec   // job, platform, region, outcome
	rejected  *prometheus.CounterVec   // code
	reloadsBy *prometheus.CounterVec   // result
	hedges    *prometheus.CounterVec   // job, outcome
	idem      *prometheus.CounterVec   // outcome
	cost      *prometheus.CounterVec   // job, target
	costSaved *prometheus.GaugeVec     // job: always-local cost minus what offloaded runs cost
	batchSize *prometheus.HistogramVec // job
	batched   *prometheus.CounterVec   // job

	// Gauges the agent keeps as atomics (the router reads some of them), exported as functions.
	localInFlight  atomic.Int64
	abandoned      atomic.Int64 // in-process runs past their timeout that have not returned
	localCapacity  atomic.Int64
	manifestSerial atomic.Int64
	manifestJobs   atomic.Int64
}

// Latency buckets in seconds: from a warm in-process call to a cold remote one. Scrapers that
// take native histograms get those too (bucket factor 1.1: about 5% resolution).
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// batchBuckets are batch sizes, up to a host's limit of 256 items.
var batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.runs = counterVec("blueprint_agent_runs_total", "Job executions by job, target (local, serverless or memo) and outcome (ok, job_error, failed, canceled, busy, unavailable).", "job", "target", "outcome")
	m.execs = counterVec("blueprint_agent_executions_total", "Executions as callers saw them, by job, placement (local, serverless, memo: answered from the cache, hedge: a speculative twin answered), platform and region where they ran, and outcome (ok, job_error, or the error code).", "job", "placement", "platform", "region", "outcome")
	m.attempts = counterVec("blueprint_agent_remote_attempts_total", "Calls to deployed functions by job, platform, region and outcome (ok, job_error, busy, transport_error, retry_budget, too_large, lost_hedge).", "job", "platform", "region", "outcome")
	m.rejected = counterVec("blueprint_agent_rejected_requests_total", "Run requests rejected before running, by error code.", "code")
	m.reloadsBy = counterVec("blueprint_agent_manifest_reloads_total", "Reloads of the state after it changed, by result (ok, error).", "result")
	m.hedges = counterVec("blueprint_agent_hedges_total", "Runs of pure jobs (local, or offloaded to a region) that reached their p95, by job and outcome (no_budget, primary_won, backup_won).", "job", "outcome")
	m.idem = counterVec("blueprint_agent_idempotent_requests_total", "Runs sent with an Idempotency-Key, by outcome (recorded, replayed, in_progress).", "outcome")
	m.cost = counterVec("blueprint_agent_cost_usd_total", "Estimated cost of executions by job and target: the VM's marginal cost locally, the platform's price remotely.", "job", "target")
	m.costSaved = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "blueprint_agent_cost_saved_usd", Help: "Estimated cost saved by offloading, by job: what the offloaded runs would have cost on this machine (at its measured local p50 and the utilization then) minus what they cost on the platform; negative when the router offloaded for capacity or latency at a higher price. Needs cost-aware routing."}, []string{"job"})
	m.reg.MustRegister(m.costSaved)
	m.batched = counterVec("blueprint_agent_batched_executions_total", "Executions sent to a region inside a batch invocation, by job.", "job")
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "blueprint_agent_run_duration_seconds", Help: "Time to run a job, including failover, by job and target.",
		Buckets: durationBuckets, NativeHistogramBucketFactor: 1.1,
	}, []string{"job", "target"})
	m.batchSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "blueprint_agent_batch_size", Help: "Executions per batch invocation of a pure job sent to a region, by job.", Buckets: batchBuckets,
	}, []string{"job"})
	m.reg.MustRegister(m.durations, m.batchSize)
	gauge := func(name, help string, v *atomic.Int64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) }))
	}
	gauge("blueprint_agent_local_in_flight", "Local executions running now.", &m.localInFlight)
	gauge("blueprint_agent_local_abandoned", "In-process runs (embedded mode) still running after their caller was answered at the job's timeout.", &m.abandoned)
	gauge("blueprint_agent_local_capacity", "Local executions allowed at once before the router offloads.", &m.localCapacity)
	gauge("blueprint_agent_manifest_serial", "Serial of the state the agent routes from.", &m.manifestSerial)
	gauge("blueprint_agent_manifest_jobs", "Jobs in the loaded manifest.", &m.manifestJobs)
	return m
}

// watchMemo exports the result cache's statistics.
func (m *metrics) watchMemo(stats func() router.MemoStats) {
	lookups := func(result string, count func(router.MemoStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "blueprint_agent_memo_lookups_total",
			Help: "Result-cache lookups for pure and deterministic jobs, by result.", ConstLabels: prometheus.Labels{"result": result}},
			func() float64 { return float64(count(stats())) })
	}
	m.reg.MustRegister(
		lookups("hit", func(s router.MemoStats) uint64 { return s.Hits }),
		lookups("miss", func(s router.MemoStats) uint64 { return s.Misses }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_memo_entries", Help: "Results held in the cache."}, func() float64 { return float64(stats().Entries) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_memo_bytes", Help: "Bytes held in the result cache."}, func() float64 { return float64(stats().Bytes) }),
	)
}

// watchBudgets exports the budgets that bound speculation and failover.
func (m *metrics) watchBudgets(a *Agent) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_retries_in_flight", Help: "Retries of executions that may have run (pure jobs failing over) in flight; the retry budget bounds them."},
			func() float64 { _, r := a.retryBudget.State(); return float64(r) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_requests_in_flight", Help: "Executions in flight, local and remote (the retry budget is a share of them)."},
			func() float64 { n, _ := a.retryBudget.State(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_hedge_tokens", Help: "Hedges the hedge budget allows now (-1 when hedging is off)."},
			func() float64 {
				if a.hedgeBudget == nil {
					return -1
				}
				return a.hedgeBudget.Tokens()
			}),
	)
}

// watchLoad exports the machine's load as the router sees it.
func (m *metrics) watchLoad(l *LoadSampler) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_cpu_utilization", Help: "Share of the machine's CPU time busy over the last sample."}, l.CPU),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_agent_memory_utilization", Help: "Share of the machine's memory in use."}, l.Memory),
	)
}

func (m *metrics) observeRun(job, target string, outcome Outcome, d time.Duration) {
	m.runs.WithLabelValues(job, target, string(outcome)).Inc()
	m.durations.WithLabelValues(job, target).Observe(d.Seconds())
}

// observeExecution books one execution as its caller saw it.
func (m *metrics) observeExecution(job string, res runResult, err error) {
	placement := res.target.String()
	switch res.reason {
	case router.ReasonMemoized:
		placement = "memo"
	case router.ReasonHedged:
		placement = "hedge"
	}
	outcome := string(OutcomeOK)
	if err != nil {
		outcome = string(CodeInternal)
		var re *runError
		if errors.As(err, &re) {
			outcome = string(re.code)
		}
	}
	m.execs.WithLabelValues(job, placement, res.platform, res.region, outcome).Inc()
}

// localRunMetrics are one job's local-run series, looked up once so that an embedded
// program's in-process calls book themselves without label lookups.
type localRunMetrics struct {
	ok, jobError, failed prometheus.Counter
	duration             prometheus.Observer
}

func (m *metrics) localRun(job string) *localRunMetrics {
	return &localRunMetrics{
		ok:       m.runs.WithLabelValues(job, "local", string(OutcomeOK)),
		jobError: m.runs.WithLabelValues(job, "local", string(OutcomeJobError)),
		failed:   m.runs.WithLabelValues(job, "local", string(OutcomeFailed)),
		duration: m.durations.WithLabelValues(job, "local"),
	}
}

// observeBatch records one batch invocation of n executions.
func (m *metrics) observeBatch(job string, n int) {
	m.batched.WithLabelValues(job).Add(float64(n))
	m.batchSize.WithLabelValues(job).Observe(float64(n))
}

func (m *metrics) observeAttempt(job, platform, region string, outcome Outcome) {
	m.attempts.WithLabelValues(job, platform, region, string(outcome)).Inc()
}

// idempotency counts runs with an Idempotency-Key by what the key did: recorded (ran and kept),
// replayed (answered from the record), in_progress (a duplicate refused while the first runs).
func (m *metrics) idempotency(outcome string) { m.idem.WithLabelValues(outcome).Inc() }

func (m *metrics) hedge(job, outcome string) { m.hedges.WithLabelValues(job, outcome).Inc() }

// addCost books an estimated cost in dollars.
func (m *metrics) addCost(job, target string, usd float64) {
	m.cost.WithLabelValues(job, target).Add(usd)
}

func (m *metrics) httpError(code ErrorCode) { m.rejected.WithLabelValues(string(code)).Inc() }

func (m *metrics) reloads(result string) { m.reloadsBy.WithLabelValues(result).Inc() }

// handler serves the registry (text or protobuf, as the scraper asks).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// regionCollector exports what the router knows of each deployment: its latency EWMA and
// whether it is in rotation. The series follow the manifest, so they are collected from it.
type regionCollector struct{ a *Agent }

var (
	regionLatencyDesc = prometheus.NewDesc("blueprint_agent_region_latency_ewma_seconds", "Latency EWMA the router uses to order regions, by job, platform and region.", []string{"job", "platform", "region"}, nil)
	regionHealthyDesc = prometheus.NewDesc("blueprint_agent_region_healthy", "1 while a region is in rotation for a job, 0 while it is out (failures in a row; it returns when a probe succeeds).", []string{"job", "platform", "region"}, nil)
)

func (c regionCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- regionLatencyDesc
	ch <- regionHealthyDesc
}

func (c regionCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.a.current.Load()
	if snap == nil {
		return
	}
	seen := map[[3]string]bool{} // one series per job, platform and region (a state may repeat one)
	for _, j := range snap.manifest.Jobs {
		for k, d := range j.Deployments {
			if key := [3]string{j.Name, d.Platform, d.Region}; seen[key] {
				continue
			} else {
				seen[key] = true
			}
			s := snap.jobs[j.Name].stats[k]
			if l := s.Latency(); l > 0 {
				ch <- prometheus.MustNewConstMetric(regionLatencyDesc, prometheus.GaugeValue, l.Seconds(), j.Name, d.Platform, d.Region)
			}
			healthy := 0.0
			if s.Healthy(c.a.cfg.Policy.FailureThreshold) {
				healthy = 1
			}
			ch <- prometheus.MustNewConstMetric(regionHealthyDesc, prometheus.GaugeValue, healthy, j.Name, d.Platform, d.Region)
		}
	}
}
