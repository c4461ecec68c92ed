package runtimeagent

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

// metrics is a small hand-written Prometheus registry: the agent exposes a handful of series,
// and keeping client_golang out keeps the agent binary small and quick to start.
type metrics struct {
	mu        sync.RWMutex
	runs      map[[3]string]*atomic.Uint64 // job, target, outcome
	durations map[[2]string]*histogram     // job, target
	attempts  map[[4]string]*atomic.Uint64 // job, platform, region, outcome
	errors    map[string]*atomic.Uint64    // code of requests rejected before running
	reloadsBy map[string]*atomic.Uint64    // result
	hedges    map[[2]string]*atomic.Uint64 // job, outcome
	idem      map[string]*atomic.Uint64    // idempotency outcome
	costPico  map[[2]string]*atomic.Uint64 // job, target: estimated cost in 1e-12 USD
	batches   map[string]*histogram        // job: batch sizes (as counts, in batchBuckets)
	batched   map[string]*atomic.Uint64    // job: executions sent in batches
	memo      func() router.MemoStats      // nil = memoization off
	load      *LoadSampler                 // nil = not sampled

	localInFlight  atomic.Int64
	abandoned      atomic.Int64 // in-process runs past their timeout that have not returned
	localCapacity  atomic.Int64
	manifestSerial atomic.Int64
	manifestJobs   atomic.Int64
}

// Latency buckets in seconds: from a warm in-process call to a cold remote one.
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type histogram struct {
	counts   []atomic.Uint64 // per bucket (not cumulative); last = +Inf
	count    atomic.Uint64
	sumNanos atomic.Int64
}

func newMetrics() *metrics {
	return &metrics{
		runs:      map[[3]string]*atomic.Uint64{},
		durations: map[[2]string]*histogram{},
		attempts:  map[[4]string]*atomic.Uint64{},
		errors:    map[string]*atomic.Uint64{},
		reloadsBy: map[string]*atomic.Uint64{},
		hedges:    map[[2]string]*atomic.Uint64{},
		idem:      map[string]*atomic.Uint64{},
		costPico:  map[[2]string]*atomic.Uint64{},
		batches:   map[string]*histogram{},
		batched:   map[string]*atomic.Uint64{},
	}
}

// counter returns the counter for key, creating it under the write lock the first time.
func counter[K comparable](mu *sync.RWMutex, m map[K]*atomic.Uint64, key K) *atomic.Uint64 {
	mu.RLock()
	c := m[key]
	mu.RUnlock()
	if c != nil {
		return c
	}
	mu.Lock()
	defer mu.Unlock()
	if c = m[key]; c == nil {
		c = new(atomic.Uint64)
		m[key] = c
	}
	return c
}

func (m *metrics) observeRun(job, target string, outcome Outcome, d time.Duration) {
	counter(&m.mu, m.runs, [3]string{job, target, string(outcome)}).Add(1)
	m.duration(job, target).observe(d)
}

// duration is the run-duration histogram of job at target, created the first time.
func (m *metrics) duration(job, target string) *histogram {
	key := [2]string{job, target}
	m.mu.RLock()
	h := m.durations[key]
	m.mu.RUnlock()
	if h == nil {
		m.mu.Lock()
		if h = m.durations[key]; h == nil {
			h = &histogram{counts: make([]atomic.Uint64, len(durationBuckets)+1)}
			m.durations[key] = h
		}
		m.mu.Unlock()
	}
	return h
}

func (h *histogram) observe(d time.Duration) {
	secs := d.Seconds()
	i := sort.SearchFloat64s(durationBuckets, secs) // first bucket with bound >= secs
	h.counts[i].Add(1)
	h.count.Add(1)
	h.sumNanos.Add(int64(d))
}

// localRunMetrics are one job's local-run series, looked up once so that an embedded
// program's in-process calls book themselves without map lookups.
type localRunMetrics struct {
	ok, jobError, failed *atomic.Uint64
	duration             *histogram
}

func (m *metrics) localRun(job string) *localRunMetrics {
	return &localRunMetrics{
		ok:       counter(&m.mu, m.runs, [3]string{job, "local", string(OutcomeOK)}),
		jobError: counter(&m.mu, m.runs, [3]string{job, "local", string(OutcomeJobError)}),
		failed:   counter(&m.mu, m.runs, [3]string{job, "local", string(OutcomeFailed)}),
		duration: m.duration(job, "local"),
	}
}

// batchBuckets are batch sizes, up to a host's limit of 256 items.
var batchBuckets = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}

// observeBatch records one batch invocation of n executions.
func (m *metrics) observeBatch(job string, n int) {
	counter(&m.mu, m.batched, job).Add(uint64(n))
	m.mu.RLock()
	h := m.batches[job]
	m.mu.RUnlock()
	if h == nil {
		m.mu.Lock()
		if h = m.batches[job]; h == nil {
			h = &histogram{counts: make([]atomic.Uint64, len(batchBuckets)+1)}
			m.batches[job] = h
		}
		m.mu.Unlock()
	}
	h.counts[sort.SearchFloat64s(batchBuckets, float64(n))].Add(1)
	h.count.Add(1)
	h.sumNanos.Add(int64(n)) // the sum of sizes, not of durations
}

func (m *metrics) observeAttempt(job, platform, region string, outcome Outcome) {
	counter(&m.mu, m.attempts, [4]string{job, platform, region, string(outcome)}).Add(1)
}

// idempotency counts runs with an Idempotency-Key by what the key did: recorded (ran and kept),
// replayed (answered from the record), in_progress (a duplicate refused while the first runs).
func (m *metrics) idempotency(outcome string) {
	counter(&m.mu, m.idem, outcome).Add(1)
}

func (m *metrics) hedge(job, outcome string) {
	counter(&m.mu, m.hedges, [2]string{job, outcome}).Add(1)
}

// addCost books an estimated cost in dollars; kept in picodollars so that an atomic integer
// can sum the tiny amounts of single executions exactly enough.
func (m *metrics) addCost(job, target string, usd float64) {
	counter(&m.mu, m.costPico, [2]string{job, target}).Add(uint64(math.Round(usd * 1e12)))
}

func (m *metrics) httpError(code ErrorCode) { counter(&m.mu, m.errors, string(code)).Add(1) }

func (m *metrics) reloads(result string) { counter(&m.mu, m.reloadsBy, result).Add(1) }

// regionLatency is one latency EWMA for the exposition.
type regionLatency struct {
	job, platform, region string
	seconds               float64 // 0 = not measured yet
	healthy               bool
}

func (a *Agent) regionLatencies() []regionLatency {
	snap := a.current.Load()
	var out []regionLatency
	for _, j := range snap.manifest.Jobs {
		for k, d := range j.Deployments {
			s := snap.jobs[j.Name].stats[k]
			out = append(out, regionLatency{j.Name, d.Platform, d.Region, s.Latency().Seconds(), s.Healthy(a.cfg.Policy.FailureThreshold)})
		}
	}
	return out
}

// write renders the Prometheus text exposition format (version 0.0.4), series sorted so that
// scrapes are stable and diffable.
func (m *metrics) write(w io.Writer, latencies []regionLatency) {
	m.mu.RLock()
	defer m.mu.RUnlock()

	header(w, "blueprint_agent_runs_total", "counter", "Job executions by job, target (local, serverless or memo) and outcome (ok, job_error, failed, canceled, busy, unavailable).")
	for _, k := range sortedKeys(m.runs, func(k [3]string) string { return strings.Join(k[:], "\x00") }) {
		fmt.Fprintf(w, "blueprint_agent_runs_total{job=%s,target=%s,outcome=%s} %d\n", q(k[0]), q(k[1]), q(k[2]), m.runs[k].Load())
	}

	header(w, "blueprint_agent_run_duration_seconds", "histogram", "Time to run a job, including failover, by job and target.")
	for _, k := range sortedKeys(m.durations, func(k [2]string) string { return strings.Join(k[:], "\x00") }) {
		h := m.durations[k]
		labels := fmt.Sprintf("job=%s,target=%s", q(k[0]), q(k[1]))
		var cum uint64
		for i, bound := range durationBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "blueprint_agent_run_duration_seconds_bucket{%s,le=%q} %d\n", labels, formatFloat(bound), cum)
		}
		cum += h.counts[len(durationBuckets)].Load()
		fmt.Fprintf(w, "blueprint_agent_run_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, cum)
		fmt.Fprintf(w, "blueprint_agent_run_duration_seconds_sum{%s} %s\n", labels, formatFloat(time.Duration(h.sumNanos.Load()).Seconds()))
		fmt.Fprintf(w, "blueprint_agent_run_duration_seconds_count{%s} %d\n", labels, cum)
	}

	header(w, "blueprint_agent_remote_attempts_total", "counter", "Calls to deployed functions by job, platform, region and outcome (ok, job_error, transport_error).")
	for _, k := range sortedKeys(m.attempts, func(k [4]string) string { return strings.Join(k[:], "\x00") }) {
		fmt.Fprintf(w, "blueprint_agent_remote_attempts_total{job=%s,platform=%s,region=%s,outcome=%s} %d\n", q(k[0]), q(k[1]), q(k[2]), q(k[3]), m.attempts[k].Load())
	}

	header(w, "blueprint_agent_rejected_requests_total", "counter", "Run requests rejected before running, by error code.")
	for _, k := range sortedKeys(m.errors, func(k string) string { return k }) {
		fmt.Fprintf(w, "blueprint_agent_rejected_requests_total{code=%s} %d\n", q(k), m.errors[k].Load())
	}

	header(w, "blueprint_agent_manifest_reloads_total", "counter", "Reloads of the state file after it changed, by result (ok, error).")
	for _, k := range sortedKeys(m.reloadsBy, func(k string) string { return k }) {
		fmt.Fprintf(w, "blueprint_agent_manifest_reloads_total{result=%s} %d\n", q(k), m.reloadsBy[k].Load())
	}

	header(w, "blueprint_agent_region_latency_ewma_seconds", "gauge", "Latency EWMA the router uses to order regions, by job, platform and region.")
	sort.Slice(latencies, func(i, j int) bool {
		a, b := latencies[i], latencies[j]
		return a.job+"\x00"+a.platform+"\x00"+a.region < b.job+"\x00"+b.platform+"\x00"+b.region
	})
	for _, l := range latencies {
		if l.seconds > 0 {
			fmt.Fprintf(w, "blueprint_agent_region_latency_ewma_seconds{job=%s,platform=%s,region=%s} %s\n", q(l.job), q(l.platform), q(l.region), formatFloat(l.seconds))
		}
	}
	header(w, "blueprint_agent_region_healthy", "gauge", "1 while a region is in rotation for a job, 0 while it is out (failures in a row; it returns when a probe succeeds).")
	for _, l := range latencies {
		healthy := 0
		if l.healthy {
			healthy = 1
		}
		fmt.Fprintf(w, "blueprint_agent_region_healthy{job=%s,platform=%s,region=%s} %d\n", q(l.job), q(l.platform), q(l.region), healthy)
	}

	header(w, "blueprint_agent_idempotent_requests_total", "counter", "Runs sent with an Idempotency-Key, by outcome (recorded, replayed, in_progress).")
	for _, k := range sortedKeys(m.idem, func(k string) string { return k }) {
		fmt.Fprintf(w, "blueprint_agent_idempotent_requests_total{outcome=%s} %d\n", q(k), m.idem[k].Load())
	}
	header(w, "blueprint_agent_hedges_total", "counter", "Runs of pure jobs (local, or offloaded to a region) that reached their p95, by job and outcome (no_budget, primary_won, backup_won).")
	for _, k := range sortedKeys(m.hedges, func(k [2]string) string { return strings.Join(k[:], "\x00") }) {
		fmt.Fprintf(w, "blueprint_agent_hedges_total{job=%s,outcome=%s} %d\n", q(k[0]), q(k[1]), m.hedges[k].Load())
	}

	header(w, "blueprint_agent_cost_usd_total", "counter", "Estimated cost of executions by job and target: the VM's marginal cost locally, the platform's price remotely.")
	for _, k := range sortedKeys(m.costPico, func(k [2]string) string { return strings.Join(k[:], "\x00") }) {
		fmt.Fprintf(w, "blueprint_agent_cost_usd_total{job=%s,target=%s} %s\n", q(k[0]), q(k[1]), formatFloat(float64(m.costPico[k].Load())/1e12))
	}

	header(w, "blueprint_agent_batch_size", "histogram", "Executions per batch invocation of a pure job sent to a region, by job.")
	for _, job := range sortedKeys(m.batches, func(k string) string { return k }) {
		h := m.batches[job]
		var cum uint64
		for i, bound := range batchBuckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "blueprint_agent_batch_size_bucket{job=%s,le=%q} %d\n", q(job), formatFloat(bound), cum)
		}
		cum += h.counts[len(batchBuckets)].Load()
		fmt.Fprintf(w, "blueprint_agent_batch_size_bucket{job=%s,le=\"+Inf\"} %d\n", q(job), cum)
		fmt.Fprintf(w, "blueprint_agent_batch_size_sum{job=%s} %d\n", q(job), h.sumNanos.Load())
		fmt.Fprintf(w, "blueprint_agent_batch_size_count{job=%s} %d\n", q(job), cum)
	}

	header(w, "blueprint_agent_batched_executions_total", "counter", "Executions sent to a region inside a batch invocation, by job.")
	for _, job := range sortedKeys(m.batched, func(k string) string { return k }) {
		fmt.Fprintf(w, "blueprint_agent_batched_executions_total{job=%s} %d\n", q(job), m.batched[job].Load())
	}

	if m.memo != nil {
		s := m.memo()
		header(w, "blueprint_agent_memo_lookups_total", "counter", "Result-cache lookups for pure and deterministic jobs, by result.")
		fmt.Fprintf(w, "blueprint_agent_memo_lookups_total{result=\"hit\"} %d\n", s.Hits)
		fmt.Fprintf(w, "blueprint_agent_memo_lookups_total{result=\"miss\"} %d\n", s.Misses)
		gauge(w, "blueprint_agent_memo_entries", "Results held in the cache.", int64(s.Entries))
		gauge(w, "blueprint_agent_memo_bytes", "Bytes held in the result cache.", s.Bytes)
	}

	if m.load != nil {
		header(w, "blueprint_agent_cpu_utilization", "gauge", "Share of the machine's CPU time busy over the last sample.")
		fmt.Fprintf(w, "blueprint_agent_cpu_utilization %s\n", formatFloat(m.load.CPU()))
		header(w, "blueprint_agent_memory_utilization", "gauge", "Share of the machine's memory in use.")
		fmt.Fprintf(w, "blueprint_agent_memory_utilization %s\n", formatFloat(m.load.Memory()))
	}

	gauge(w, "blueprint_agent_local_in_flight", "Local executions running now.", m.localInFlight.Load())
	gauge(w, "blueprint_agent_local_abandoned", "In-process runs (embedded mode) still running after their caller was answered at the job's timeout.", m.abandoned.Load())
	gauge(w, "blueprint_agent_local_capacity", "Local executions allowed at once before the router offloads.", m.localCapacity.Load())
	gauge(w, "blueprint_agent_manifest_serial", "Serial of the Terraform state the agent routes from.", m.manifestSerial.Load())
	gauge(w, "blueprint_agent_manifest_jobs", "Jobs in the loaded manifest.", m.manifestJobs.Load())
}

func header(w io.Writer, name, kind, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
}

func gauge(w io.Writer, name, help string, v int64) {
	header(w, name, "gauge", help)
	fmt.Fprintf(w, "%s %d\n", name, v)
}

func sortedKeys[K comparable, V any](m map[K]V, str func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return str(keys[i]) < str(keys[j]) })
	return keys
}

// q quotes a label value as the exposition format wants (backslash, quote, newline escaped).
func q(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
