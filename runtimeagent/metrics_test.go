package runtimeagent

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/serverless-blueprint/blueprint/router"
)

// scrapeFamilies fetches /metrics and parses it as Prometheus does.
func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return families
}

// TestMetrics_parseAndAreDocumented: a scrape parses with expfmt, holds the Go runtime and
// process metrics, and every family the agent exports is in docs/agent-api.md's table.
func TestMetrics_parseAndAreDocumented(t *testing.T) {
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 1}, HedgeRatio: -1})
	f.run(t, "resize", `{"n":1}`)
	f.run(t, "audit", `{"n":1}`)
	f.run(t, "nope", `{}`)
	families := scrapeFamilies(t, f.srv.URL)
	for _, want := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "blueprint_agent_runs_total", "blueprint_agent_run_duration_seconds", "blueprint_agent_memo_lookups_total"} {
		if families[want] == nil {
			t.Errorf("no %s in the scrape", want)
		}
	}
	runs := families["blueprint_agent_runs_total"]
	var local float64
	for _, m := range runs.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["job"] == "audit" && labels["target"] == "local" && labels["outcome"] == "ok" {
			local = m.GetCounter().GetValue()
		}
	}
	if local != 1 {
		t.Errorf("runs_total of audit, local, ok = %v, want 1", local)
	}

	docs, err := os.ReadFile(filepath.Join("..", "docs", "agent-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for name := range families {
		if strings.HasPrefix(name, "blueprint_") {
			ours = append(ours, name)
		}
	}
	slices.Sort(ours)
	for _, name := range ours {
		if !strings.Contains(string(docs), "`"+name+"`") {
			t.Errorf("docs/agent-api.md does not list metric %s", name)
		}
	}
	if !strings.Contains(string(docs), "`go_goroutines`") {
		t.Error("docs/agent-api.md does not mention the Go runtime metrics (go_goroutines)")
	}
}
