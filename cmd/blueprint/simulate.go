package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/serverless-blueprint/blueprint/router/sim"
)

func init() {
	register("simulate", "replay a workload through the router and static policies; cost, tail latency, SLO misses, chart", runSimulate)
}

// simulateReport is what --json writes: the inputs that reproduce the run and its results.
type simulateReport struct {
	Trace     string        `json:"trace"`
	Seed      uint64        `json:"seed"`
	Requests  int           `json:"requests"`
	LengthS   float64       `json:"length_s"`
	Cores     int           `json:"vm_cores"`
	Command   string        `json:"command"`
	Results   []sim.Summary `json:"results"`
	Verdict   []string      `json:"verdict"`
	Generated string        `json:"generated"`
}

func runSimulate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	traceName := fs.String("trace", "synthetic", "azure2021 (the 199-invocation sample) or synthetic")
	seed := fs.Uint64("seed", 1, "seed of the synthetic trace and of cold starts and stragglers")
	functions := fs.Int("functions", 50, "functions in the synthetic trace")
	duration := fs.Duration("duration", 10*time.Minute, "length of the synthetic trace")
	rate := fs.Float64("rate", 6, "mean requests per second of the synthetic trace")
	cores := fs.Int("cores", 4, "executions the modelled VM runs at once")
	svgPath := fs.String("svg", "", "write the chart to this SVG file")
	jsonPath := fs.String("json", "", "write the results to this JSON file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; all options are flags", fs.Arg(0))
	}
	if *cores < 1 {
		return fmt.Errorf("--cores must be at least 1, got %d", *cores)
	}

	var trace *sim.Trace
	switch *traceName {
	case "azure2021":
		t, err := sim.Azure2021()
		if err != nil {
			return err
		}
		trace = t
	case "synthetic":
		if *functions < 1 || *duration <= 0 || *rate <= 0 {
			return errors.New("--functions, --duration and --rate must be positive")
		}
		trace = sim.Synthetic(sim.SyntheticConfig{Seed: *seed, Functions: *functions, Duration: *duration, MeanRate: *rate})
	default:
		return fmt.Errorf("unknown --trace %q: use azure2021 or synthetic", *traceName)
	}
	fmt.Printf("trace %s: %d requests over %s, %d functions, seed %d; VM with %d cores\n",
		trace.Name, len(trace.Requests), trace.Length().Round(time.Second), len(trace.Functions), trace.Seed, *cores)

	model := sim.DefaultModel(trace.Length())
	model.Cores = *cores
	var summaries []sim.Summary
	for _, r := range sim.Run(trace, model, func(r sim.Result) {
		fmt.Printf("  replayed %-18s %d requests\n", r.Policy, r.Requests)
	}) {
		summaries = append(summaries, sim.Summarize(r))
	}
	fmt.Println()
	sim.PrintTable(os.Stdout, summaries)
	verdict := sim.Verdict(summaries)
	fmt.Println()
	for _, v := range verdict {
		fmt.Println(v)
	}

	title := fmt.Sprintf("blueprint simulate: %s, %d requests, seed %d, %d-core VM", trace.Name, len(trace.Requests), trace.Seed, *cores)
	if *svgPath != "" {
		f, err := os.Create(*svgPath)
		if err != nil {
			return fmt.Errorf("writing the chart: %w", err)
		}
		if err := sim.WriteSVG(f, title, summaries); err != nil {
			f.Close()
			return fmt.Errorf("writing the chart: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing the chart: %w", err)
		}
		fmt.Printf("chart written to %s\n", *svgPath)
	}
	if *jsonPath != "" {
		rep := simulateReport{
			Trace: trace.Name, Seed: trace.Seed, Requests: len(trace.Requests), LengthS: trace.Length().Seconds(),
			Cores: *cores, Command: "blueprint simulate " + joinArgs(args), Results: summaries, Verdict: verdict,
			Generated: time.Now().UTC().Format(time.RFC3339),
		}
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing the results: %w", err)
		}
		fmt.Printf("results written to %s\n", *jsonPath)
	}
	return nil
}

func joinArgs(args []string) string {
	out := ""
	for i, a := range args {
		if i > 0 {
			out += " "
		}
		out += a
	}
	return out
}
