package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

func init() {
	register("explain", "ask the runtime agent where it would run a job now, and why", runExplain)
}

func runExplain(ctx context.Context, args []string) error {
	return explain(ctx, args, os.Stdout, os.Stderr)
}

func explain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agent := fs.String("agent", "http://127.0.0.1:8080", "base URL of the runtime agent")
	token := fs.String("token", os.Getenv("BLUEPRINT_AGENT_TOKEN"), "the agent's bearer token, when it requires one (default: $BLUEPRINT_AGENT_TOKEN)")
	inputBytes := fs.Int64("input-bytes", 0, "size of the input to decide for (the router weighs it)")
	budget := fs.Duration("latency-budget", 0, "how long the caller could wait (as X-Blueprint-Latency-Budget-Ms)")
	output := fs.String("o", "text", "output: text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blueprint explain [--agent URL] [--input-bytes N] [--latency-budget D] [-o text|json] JOB")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("name one job")
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("-o %q: use text or json", *output)
	}
	u := strings.TrimRight(*agent, "/") + "/v1/jobs/" + url.PathEscape(fs.Arg(0)) + ":explain"
	if *inputBytes > 0 {
		u += fmt.Sprintf("?input_bytes=%d", *inputBytes)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	if *budget > 0 {
		req.Header.Set(runtimeagent.LatencyBudgetHeader, fmt.Sprint(max(budget.Milliseconds(), 1)))
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("asking the agent at %s: %w", *agent, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the agent answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if *output == "json" {
		_, err := stdout.Write(body)
		return err
	}
	var ex runtimeagent.Explanation
	if err := json.Unmarshal(body, &ex); err != nil {
		return fmt.Errorf("the agent's answer: %w", err)
	}
	printExplanation(stdout, ex)
	return nil
}

func printExplanation(w io.Writer, ex runtimeagent.Explanation) {
	d := ex.Decision
	fmt.Fprintf(w, "job %s: %s (%s)", ex.Job, d.Target, d.Reason)
	if len(d.Regions) > 0 {
		fmt.Fprintf(w, ", regions in order: %s", strings.Join(d.Regions, ", "))
	}
	in := ex.Inputs
	fmt.Fprintf(w, "\n\nmode %s, eligible %v, pure %v; input %d bytes (offloaded above %d)\n", in.Mode, in.Eligible, in.Pure, in.InputBytes, in.MaxLocalInput)
	fmt.Fprintf(w, "here: %d of %d local slots busy, utilization %.0f%%", in.LocalInFlight, in.LocalCapacity, 100*in.Utilization)
	if in.ExpectedMS > 0 {
		fmt.Fprintf(w, ", local p50 %.2f ms", in.ExpectedMS)
	}
	if in.LocalP95MS > 0 {
		fmt.Fprintf(w, ", p95 %.2f ms", in.LocalP95MS)
	}
	fmt.Fprintln(w)
	if in.LocalCostUSD != nil {
		fmt.Fprintf(w, "cost of one run: here $%.3g, on the platform $%.3g\n", *in.LocalCostUSD, *in.ServerlessCostUSD)
	}
	if len(ex.Regions) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tHEALTHY\tFAILURES\tERROR RATE\tLATENCY\tTAIL\tTHROTTLED UNTIL")
		for _, r := range ex.Regions {
			fmt.Fprintf(tw, "%s/%s\t%v\t%d\t%.0f%%\t%.2f ms\t%.2f ms\t%s\n", r.Platform, r.Region, r.Healthy, r.ConsecutiveFailures, 100*r.ErrorRate, r.LatencyEWMAMS, r.TailMS, r.ThrottledUntil)
		}
		tw.Flush()
	}
	a := ex.Allows
	fmt.Fprintf(w, "\nretry elsewhere %v, hedge %v, batch %v, memoize %v: %s\n", a.RetryElsewhere, a.Hedge, a.Batch, a.Memoize, a.Why)
	for _, f := range ex.Findings {
		fmt.Fprintf(w, "  %s: %s (%s)\n", f.Kind, f.Message, f.Position)
	}
}
