package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/job"
)

func init() {
	register("analyze", "label the jobs of a Go package (pure, deterministic, eligible) and say why", func(ctx context.Context, args []string) error {
		return runAnalyze(ctx, args, os.Stdout, os.Stderr)
	})
}

// runAnalyze implements `blueprint analyze [-o json|table] DIR`.
func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("o", "table", "output format: json or table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blueprint analyze [-o json|table] DIR\n\nLabels every //blueprint:job function in the Go package in DIR.")
		fs.PrintDefaults()
	}
	dir, err := parsePackageDir(fs, args)
	if errors.Is(err, errUsageShown) {
		return nil
	}
	if err != nil {
		return err
	}
	if *format != "json" && *format != "table" {
		return fmt.Errorf("-o %q: use json or table", *format)
	}

	// BLUEPRINT_LOG_LEVEL=debug shows load times; the default keeps stderr for problems.
	level := hclog.LevelFromString(os.Getenv("BLUEPRINT_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "blueprint", Level: level, Output: stderr})
	// Progress goes to stderr, so `-o json > file` stays clean.
	progress := analyzer.WithProgress(func(step string) { fmt.Fprintf(stderr, "blueprint analyze: %s\n", step) })
	result, err := analyzePackage(ctx, dir, analyzer.WithLogger(logger.Named("analyzer")), progress)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(result)
	}
	return writeAnalysisTable(stdout, result)
}

// writeAnalysisTable prints one row per job with its labels, then its findings indented below.
func writeAnalysisTable(out io.Writer, pa *job.PackageAnalysis) error {
	fmt.Fprintf(out, "package %s\n", pa.Package)
	if len(pa.Jobs) == 0 {
		_, err := fmt.Fprintln(out, "no //blueprint:job functions found")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tFUNCTION\tPURE\tDETERMINISTIC\tREQUIRES_STATE\tELIGIBLE\tMODE\tMEMORY_MB\tMAX_MS\tTIMEOUT_MS\tNETWORK")
	for _, j := range pa.Jobs {
		network := strings.Join(j.NetworkCalls, ",")
		if network == "" {
			network = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%t\t%t\t%t\t%t\t%s\t%d\t%d\t%d\t%s\n", j.Name, j.Function, j.Pure, j.Deterministic,
			j.RequiresState, j.Eligible, j.Mode, j.MemoryMB, j.MaxDurationMS, j.TimeoutMS, network)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, j := range pa.Jobs {
		fmt.Fprintf(out, "\n%s:\n", j.Name)
		for _, f := range j.Findings {
			fmt.Fprintf(out, "    %-16s %s\n", f.Kind, f.Message)
			fmt.Fprintf(out, "    %-16s at %s via %s\n", "", f.Position, strings.Join(f.Chain, " → "))
		}
	}
	return nil
}
