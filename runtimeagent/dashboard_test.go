package runtimeagent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/serverless-blueprint/blueprint/router"
)

// TestDashboard_queriesNameExportedMetrics: every query of the Grafana dashboard in docs/ names
// metrics the agent exports, so the dashboard does not silently show nothing after a rename.
func TestDashboard_queriesNameExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "docs", "grafana", "blueprint-agent.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct{ List []struct{ Query any } }
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	// Everything the registry can export, also the series no run has made yet (with cost-aware
	// routing, memoization and a load sampler on, so that those families register).
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 1, Prices: &router.Prices{}}, Load: &LoadSampler{}})
	exported := map[string]bool{}
	descs := make(chan *prometheus.Desc, 1024)
	go func() { f.agent.metrics.reg.Describe(descs); close(descs) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			exported[m[1]] = true
		}
	}
	metricName := regexp.MustCompile(`\b(blueprint_[a-z_]+|go_[a-z_]+|process_[a-z_]+)\b`)
	queries := 0
	check := func(where, expr string) {
		for _, name := range metricName.FindAllString(expr, -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(name, suffix); ok && exported[b] {
					base = b
				}
			}
			if !exported[base] {
				t.Errorf("%s: %q names %s, which the agent does not export", where, expr, name)
			}
		}
	}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			queries++
			check("panel "+p.Title, target.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			check("variable", q)
		}
	}
	if queries < 10 {
		t.Fatalf("the dashboard has %d queries", queries)
	}
}
