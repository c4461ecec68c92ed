package host

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// hostMetrics are the host's Prometheus series (GET /metrics, open like /healthz), named like
// the agent's: blueprint_host_*, with the Go runtime and process collectors.
type hostMetrics struct {
	reg         *prometheus.Registry
	invocations *prometheus.CounterVec   // function, outcome
	durations   *prometheus.HistogramVec // function
}

func newHostMetrics(h *Host) *hostMetrics {
	m := &hostMetrics{reg: prometheus.NewRegistry()}
	m.invocations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "blueprint_host_invocations_total",
		Help: "Invocations by function and outcome (ok, job_error, busy, timeout, failed)."}, []string{"function", "outcome"})
	m.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "blueprint_host_invocation_duration_seconds",
		Help: "Time to answer an invocation (single or batch), by function.", Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14)}, []string{"function"})
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), m.invocations, m.durations,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_host_slots_in_use", Help: "Invocations running now."}, func() float64 { return float64(len(h.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_host_slots", Help: "Invocations allowed at once (beyond: 429)."}, func() float64 { return float64(cap(h.slots)) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "blueprint_host_functions", Help: "Functions deployed to this host."}, func() float64 {
			h.mu.Lock()
			defer h.mu.Unlock()
			return float64(len(h.functions))
		}),
	)
	return m
}

func (m *hostMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// statusRecorder remembers what a handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// counted books an invocation endpoint's answers by function and outcome.
func (m *hostMetrics) counted(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next(rec, r)
		fn := r.PathValue("name")
		outcome := "failed"
		switch {
		case rec.status == http.StatusOK && w.Header().Get(FunctionErrorHeader) != "":
			outcome = "job_error"
		case rec.status == http.StatusOK:
			outcome = "ok"
		case rec.status == http.StatusTooManyRequests:
			outcome = "busy"
		case rec.status == http.StatusGatewayTimeout:
			outcome = "timeout"
		case rec.status == http.StatusNotFound:
			return // no such function: not a series worth keeping (any name could be asked for)
		}
		m.invocations.WithLabelValues(fn, outcome).Inc()
		m.durations.WithLabelValues(fn).Observe(time.Since(start).Seconds())
	}
}
