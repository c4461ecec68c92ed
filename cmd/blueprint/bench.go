package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register("bench", "drive a runtime agent with stepped open-loop load; table + SVG chart", runBench)
}

// benchConfig is the parsed command line of `blueprint bench`.
type benchConfig struct {
	agent       string
	job         string
	input       []byte
	rates       []float64
	step        time.Duration
	svgPath     string
	jsonPath    string
	maxInFlight int
	timeout     time.Duration
	replay      string // results JSON to render again instead of sending load
	token       string // the agent's bearer token, if it requires one
}

func parseBenchFlags(args []string, stderr io.Writer) (benchConfig, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c benchConfig
	var input, rates string
	fs.StringVar(&c.agent, "agent", "http://127.0.0.1:8080", "base URL of the runtime agent")
	fs.StringVar(&c.job, "job", "", "name of the job to run (required)")
	fs.StringVar(&input, "input", "{}", "the job's JSON input, or @FILE to read it from a file")
	fs.StringVar(&rates, "rates", "20,50,100,200,400", "comma-separated request rates (per second), one step each")
	fs.DurationVar(&c.step, "step", 5*time.Second, "duration of each step")
	fs.StringVar(&c.svgPath, "svg", "", "write an SVG chart of the results to this file")
	fs.StringVar(&c.jsonPath, "json", "", "write the results as JSON to this file")
	fs.IntVar(&c.maxInFlight, "max-in-flight", 512, "most requests outstanding at once; beyond it requests are dropped (counted), keeping the load open-loop")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.StringVar(&c.token, "token", os.Getenv("BLUEPRINT_AGENT_TOKEN"), "the agent's bearer token, when it requires one (default: $BLUEPRINT_AGENT_TOKEN)")
	fs.StringVar(&c.replay, "replay", "", "print the table and write the chart of an earlier --json FILE instead of sending load")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blueprint bench --job NAME [--agent URL] [--input JSON|@file] [--rates 20,50,100] [--step 5s] [--svg out.svg] [--json out.json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q; all options are flags", fs.Arg(0))
	}
	if c.replay != "" {
		return c, nil
	}
	if c.job == "" {
		return c, errors.New("--job is required: the name of a job the agent knows (GET /v1/jobs lists them)")
	}
	u, err := url.Parse(c.agent)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("--agent %q is not an http(s) URL like http://127.0.0.1:8080", c.agent)
	}
	c.agent = strings.TrimSuffix(c.agent, "/")
	if strings.HasPrefix(input, "@") {
		data, err := os.ReadFile(input[1:])
		if err != nil {
			return c, fmt.Errorf("--input: %w", err)
		}
		input = string(data)
	}
	if !json.Valid([]byte(input)) {
		return c, fmt.Errorf("--input is not valid JSON: %.80q", input)
	}
	c.input = []byte(input)
	for _, f := range strings.Split(rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 || r > 100000 {
			return c, fmt.Errorf("--rates: %q is not a rate between 0 and 100000 per second", f)
		}
		c.rates = append(c.rates, r)
	}
	if c.step < 100*time.Millisecond {
		return c, fmt.Errorf("--step %v is too short; use at least 100ms", c.step)
	}
	if c.maxInFlight < 1 {
		return c, errors.New("--max-in-flight must be at least 1")
	}
	if c.timeout <= 0 {
		return c, errors.New("--timeout must be positive")
	}
	return c, nil
}

func runBench(ctx context.Context, args []string) error {
	c, err := parseBenchFlags(args, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var res *benchResults
	if c.replay != "" {
		res, err = readBenchResults(c.replay)
	} else {
		res, err = bench(ctx, c, os.Stdout)
	}
	if err != nil {
		return err
	}
	printBenchTable(os.Stdout, res)
	if c.svgPath != "" {
		if err := writeFileWith(c.svgPath, func(w io.Writer) error { return writeBenchSVG(w, res) }); err != nil {
			return fmt.Errorf("writing the chart: %w", err)
		}
		fmt.Printf("chart written to %s\n", c.svgPath)
	}
	if c.jsonPath != "" {
		if err := writeFileWith(c.jsonPath, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(res)
		}); err != nil {
			return fmt.Errorf("writing the JSON results: %w", err)
		}
		fmt.Printf("results written to %s\n", c.jsonPath)
	}
	return nil
}

func readBenchResults(path string) (*benchResults, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--replay: %w", err)
	}
	var res benchResults
	if err := json.Unmarshal(data, &res); err != nil || len(res.Steps) == 0 {
		return nil, fmt.Errorf("--replay: %s is not the --json output of blueprint bench", path)
	}
	return &res, nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchResults is the machine-readable output (--json) and what the table and chart show.
type benchResults struct {
	Agent       string      `json:"agent"`
	Job         string      `json:"job"`
	StepSeconds float64     `json:"step_seconds"`
	Steps       []benchStep `json:"steps"`
}

type benchStep struct {
	TargetRate   float64            `json:"target_rate"`
	AchievedRate float64            `json:"achieved_rate"` // completed requests per second of the step
	Sent         int                `json:"sent"`
	OK           int                `json:"ok"`
	Errors       int                `json:"errors"`
	Dropped      int                `json:"dropped"` // not sent: --max-in-flight was reached
	P50MS        float64            `json:"p50_ms"`
	P99MS        float64            `json:"p99_ms"`
	MeanMS       float64            `json:"mean_ms"`
	ShareLocal   float64            `json:"share_local"`   // of OK runs
	ShareRegions map[string]float64 `json:"share_regions"` // offloaded OK runs by "platform/region"
	ErrorSamples []string           `json:"error_samples,omitempty"`
}

// sample is one request's outcome.
type sample struct {
	latency time.Duration
	ok      bool
	where   string // "local" or "platform/region"
	err     string
}

// runReply is the part of the agent's run response bench reads.
type runReply struct {
	Ran struct {
		Target   string `json:"target"`
		Platform string `json:"platform"`
		Region   string `json:"region"`
	} `json:"ran"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func bench(ctx context.Context, c benchConfig, progress io.Writer) (*benchResults, error) {
	client := &http.Client{
		Timeout: c.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        c.maxInFlight,
			MaxIdleConnsPerHost: c.maxInFlight, // reuse connections: a new one per request would measure TCP, not the agent
			IdleConnTimeout:     30 * time.Second,
		},
	}
	defer client.CloseIdleConnections()
	target := c.agent + "/v1/jobs/" + url.PathEscape(c.job) + ":run"

	// One request first, so a wrong URL or job name fails fast with the agent's own message.
	if s := benchOnce(ctx, client, target, c.input, c.token); !s.ok {
		hint := ""
		if s.where == "" && !strings.HasPrefix(s.err, "HTTP ") {
			hint = fmt.Sprintf("; is blueprint-agent running at %s?", c.agent)
		}
		return nil, fmt.Errorf("first request to %s failed: %s%s", target, s.err, hint)
	}

	res := &benchResults{Agent: c.agent, Job: c.job, StepSeconds: c.step.Seconds()}
	for i, rate := range c.rates {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fmt.Fprintf(progress, "step %d/%d: %g req/s for %v ", i+1, len(c.rates), rate, c.step)
		st := benchStepRun(ctx, client, target, c, rate, progress)
		fmt.Fprintf(progress, " done: %d ok, %d errors, %d dropped, p50 %.2f ms, local %.0f%%\n", st.OK, st.Errors, st.Dropped, st.P50MS, st.ShareLocal*100)
		res.Steps = append(res.Steps, st)
	}
	return res, nil
}

func benchOnce(ctx context.Context, client *http.Client, target string, input []byte, token string) sample {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(input))
	if err != nil {
		return sample{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return sample{latency: time.Since(start), err: err.Error()}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	resp.Body.Close()
	s := sample{latency: time.Since(start)}
	if err != nil {
		s.err = "reading the response: " + err.Error()
		return s
	}
	var r runReply
	if jerr := json.Unmarshal(body, &r); jerr != nil {
		s.err = fmt.Sprintf("HTTP %d with a body that is not the agent's JSON: %.120q", resp.StatusCode, body)
		return s
	}
	if resp.StatusCode != http.StatusOK {
		if r.Error != nil {
			s.err = fmt.Sprintf("HTTP %d %s: %s", resp.StatusCode, r.Error.Code, r.Error.Message)
		} else {
			s.err = fmt.Sprintf("HTTP %d", resp.StatusCode)
		}
		return s
	}
	s.ok = true
	s.where = r.Ran.Target
	if r.Ran.Target != "local" {
		s.where = r.Ran.Platform + "/" + r.Ran.Region
	}
	return s
}

// benchStepRun sends requests at a fixed schedule (open loop: a slow answer does not delay the
// next request, as with real independent callers), then waits for the stragglers.
func benchStepRun(ctx context.Context, client *http.Client, target string, c benchConfig, rate float64, progress io.Writer) benchStep {
	interval := time.Duration(float64(time.Second) / rate)
	total := int(rate * c.step.Seconds())
	if total < 1 {
		total = 1
	}
	var (
		mu       sync.Mutex
		samples  = make([]sample, 0, total)
		wg       sync.WaitGroup
		inFlight atomic.Int64
		dropped  int
	)
	start := time.Now()
	nextDot := start.Add(time.Second)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				i = total // stop sending; still wait for what is in flight
				continue
			}
		}
		if time.Now().After(nextDot) {
			fmt.Fprint(progress, ".")
			nextDot = nextDot.Add(time.Second)
		}
		if inFlight.Load() >= int64(c.maxInFlight) {
			dropped++
			continue
		}
		inFlight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inFlight.Add(-1)
			s := benchOnce(ctx, client, target, c.input, c.token)
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if elapsed < c.step {
		elapsed = c.step
	}
	return summarizeStep(rate, samples, dropped, elapsed)
}

func summarizeStep(rate float64, samples []sample, dropped int, elapsed time.Duration) benchStep {
	st := benchStep{TargetRate: rate, Sent: len(samples), Dropped: dropped, ShareRegions: map[string]float64{}}
	var latencies []time.Duration
	var sum time.Duration
	local := 0
	regions := map[string]int{}
	errSeen := map[string]bool{}
	for _, s := range samples {
		if !s.ok {
			st.Errors++
			if len(st.ErrorSamples) < 5 && !errSeen[s.err] {
				errSeen[s.err] = true
				st.ErrorSamples = append(st.ErrorSamples, s.err)
			}
			continue
		}
		st.OK++
		latencies = append(latencies, s.latency)
		sum += s.latency
		if s.where == "local" {
			local++
		} else {
			regions[s.where]++
		}
	}
	st.AchievedRate = float64(len(samples)) / elapsed.Seconds()
	if st.OK > 0 {
		sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
		st.P50MS = ms(percentile(latencies, 0.50))
		st.P99MS = ms(percentile(latencies, 0.99))
		st.MeanMS = ms(sum / time.Duration(st.OK))
		st.ShareLocal = float64(local) / float64(st.OK)
		for r, n := range regions {
			st.ShareRegions[r] = float64(n) / float64(st.OK)
		}
	}
	return st
}

// percentile uses the nearest-rank method on sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(sorted))+0.999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
