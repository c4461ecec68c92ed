package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command writes a chart and JSON results that name the seed and every policy.
func TestSimulate_writesChartAndJSON(t *testing.T) {
	dir := t.TempDir()
	svgPath := filepath.Join(dir, "sim.svg")
	jsonPath := filepath.Join(dir, "sim.json")
	args := []string{"--trace", "synthetic", "--seed", "7", "--duration", "1m", "--functions", "10",
		"--svg", svgPath, "--json", jsonPath}
	if err := runSimulate(context.Background(), args); err != nil {
		t.Fatalf("simulate: %v", err)
	}
	svg, err := os.ReadFile(svgPath)
	if err != nil || !strings.Contains(string(svg), "<svg") {
		t.Fatalf("chart missing or not SVG (err %v)", err)
	}
	raw, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep simulateReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("results are not JSON: %v", err)
	}
	if rep.Seed != 7 || rep.Trace != "synthetic" || len(rep.Results) != 5 {
		t.Fatalf("results: seed %d trace %q, %d policies; want seed 7, synthetic, 5", rep.Seed, rep.Trace, len(rep.Results))
	}
}

func TestSimulate_rejectsUnknownTrace(t *testing.T) {
	err := runSimulate(context.Background(), []string{"--trace", "nosuch"})
	if err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("want an error naming the trace, got %v", err)
	}
}
