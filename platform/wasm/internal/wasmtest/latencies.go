package wasmtest

import (
	"sort"
	"testing"
	"time"
)

// Latencies records one duration per op and reports the median and 99th percentile beside
// ns/op, since a mean hides the tail that hedging and routing care about.
type Latencies []time.Duration

func (l Latencies) Report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}
