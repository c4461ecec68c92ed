package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAgent answers like the runtime agent: the first calls run locally, later ones alternate
// between two regions, and every tenth request after 30 fails with a 502.
func fakeAgent(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jobs/echo:run" || r.Method != http.MethodPost {
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":{"code":"job_not_found","message":"no job named \"x\""}}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if !json.Valid(body) {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"code":"invalid_json","message":"bad"}}`)
			return
		}
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case i <= 10:
			fmt.Fprintf(w, `{"output":%s,"ran":{"target":"local"},"duration_ms":0.1,"decision":"local_has_capacity"}`, body)
		case i > 30 && i%10 == 0:
			w.WriteHeader(502)
			fmt.Fprint(w, `{"error":{"code":"all_targets_failed","message":"every region failed"}}`)
		default:
			region := []string{"eu", "us"}[i%2]
			time.Sleep(2 * time.Millisecond)
			fmt.Fprintf(w, `{"output":%s,"ran":{"target":"serverless","platform":"wasm","region":%q},"duration_ms":2,"decision":"local_capacity"}`, body, region)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestBench_endToEnd(t *testing.T) {
	srv, n := fakeAgent(t)
	dir := t.TempDir()
	c, err := parseBenchFlags([]string{"--agent", srv.URL + "/", "--job", "echo", "--input", `{"x":1}`, "--rates", "50,100", "--step", "400ms",
		"--svg", filepath.Join(dir, "out.svg"), "--json", filepath.Join(dir, "out.json")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	res, err := bench(context.Background(), c, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 2 || res.Steps[0].Sent != 20 || res.Steps[1].Sent != 40 {
		t.Fatalf("steps: %+v", res.Steps)
	}
	if got := n.Load(); got != 61 { // 1 probe + 20 + 40
		t.Errorf("agent saw %d requests, want 61", got)
	}
	s0, s1 := res.Steps[0], res.Steps[1]
	if s0.ShareLocal < 0.4 || s0.ShareLocal > 0.5 || s1.ShareLocal != 0 {
		t.Errorf("local shares %v %v", s0.ShareLocal, s1.ShareLocal)
	}
	if s1.Errors == 0 || s1.OK+s1.Errors != 40 || len(s1.ErrorSamples) != 1 || !strings.Contains(s1.ErrorSamples[0], "all_targets_failed") {
		t.Errorf("errors not counted: %+v", s1)
	}
	if s1.ShareRegions["wasm/eu"] == 0 || s1.ShareRegions["wasm/us"] == 0 || s1.P50MS < 2 || s1.P99MS < s1.P50MS {
		t.Errorf("regions/latency: %+v", s1)
	}
	if s0.AchievedRate < 35 || s0.AchievedRate > 55 {
		t.Errorf("achieved rate %v for a 50/s step", s0.AchievedRate)
	}
	if !strings.Contains(progress.String(), "step 2/2: 100 req/s") {
		t.Errorf("progress: %q", progress.String())
	}

	var table bytes.Buffer
	printBenchTable(&table, res)
	for _, want := range []string{"rate/s", "p99 ms", "wasm/eu", "wasm/us", "error at 100/s: HTTP 502 all_targets_failed"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}

	var svg bytes.Buffer
	if err := writeBenchSVG(&svg, res); err != nil {
		t.Fatal(err)
	}
	// The chart must be well-formed XML with one bar segment per (step, target) and both lines.
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	rects, polylines := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rect":
				rects++
			case "polyline":
				polylines++
			}
		}
	}
	// background + step 1 (local, eu, us) + step 2 (eu, us) + legend (local, eu, us)
	if rects != 1+3+2+3 || polylines != 2 {
		t.Errorf("SVG has %d rects and %d polylines", rects, polylines)
	}
}

func TestBench_runWritesFiles(t *testing.T) {
	srv, _ := fakeAgent(t)
	dir := t.TempDir()
	svgPath, jsonPath := filepath.Join(dir, "c.svg"), filepath.Join(dir, "r.json")
	stdout := os.Stdout
	devnull, _ := os.Open(os.DevNull)
	os.Stdout = devnull
	err := runBench(context.Background(), []string{"--agent", srv.URL, "--job", "echo", "--rates", "40", "--step", "100ms", "--svg", svgPath, "--json", jsonPath})
	os.Stdout = stdout
	devnull.Close()
	if err != nil {
		t.Fatal(err)
	}
	var res benchResults
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &res); err != nil || len(res.Steps) != 1 || res.Steps[0].Sent != 4 || res.Job != "echo" {
		t.Fatalf("json: %v %s", err, data)
	}
	if fi, err := os.Stat(svgPath); err != nil || fi.Size() == 0 {
		t.Fatalf("svg: %v", err)
	}

	// --replay renders the same results again without sending load.
	again := filepath.Join(dir, "again.svg")
	devnull, _ = os.Open(os.DevNull)
	os.Stdout = devnull
	err = runBench(context.Background(), []string{"--replay", jsonPath, "--svg", again})
	os.Stdout = stdout
	devnull.Close()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(svgPath)
	second, _ := os.ReadFile(again)
	if string(first) != string(second) {
		t.Error("replayed chart differs from the original")
	}
	if err := runBench(context.Background(), []string{"--replay", svgPath}); err == nil || !strings.Contains(err.Error(), "not the --json output") {
		t.Errorf("replaying a non-results file: %v", err)
	}
}

func TestBench_failsFastOnWrongJob(t *testing.T) {
	srv, _ := fakeAgent(t)
	c, err := parseBenchFlags([]string{"--agent", srv.URL, "--job", "nope", "--rates", "10", "--step", "100ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bench(context.Background(), c, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "job_not_found") {
		t.Fatalf("error = %v", err)
	}
}

func TestBench_flagErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--rates 10":                            "--job is required",
		"--job x --agent ftp://h":               "not an http(s) URL",
		"--job x --input {bad":                  "not valid JSON",
		"--job x --input @/nonexistent/in.json": "--input",
		"--job x --rates 10,abc":                `"abc" is not a rate`,
		"--job x --rates 0":                     "is not a rate",
		"--job x --step 10ms":                   "too short",
		"--job x --max-in-flight 0":             "at least 1",
		"--job x extra":                         "unexpected argument",
	} {
		_, err := parseBenchFlags(strings.Fields(args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want %q", args, err, want)
		}
	}
}

func TestNiceCeilAndPercentile(t *testing.T) {
	for in, want := range map[float64]string{2000: "2000", 1500: "1500", 250: "250", 1.5: "1.5", 0.25: "0.25", 0: "0"} {
		if got := trimFloat(in); got != want {
			t.Errorf("trimFloat(%v) = %q, want %q", in, got, want)
		}
	}
	vals := make([]time.Duration, 100)
	for i := range vals {
		vals[i] = time.Duration(i+1) * time.Millisecond
	}
	if percentile(vals, 0.5) != 50*time.Millisecond || percentile(vals, 0.99) != 99*time.Millisecond || percentile(vals[:1], 0.99) != time.Millisecond {
		t.Error("percentile wrong")
	}
}

func TestBench_failsFastWhenNoAgent(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	c, err := parseBenchFlags([]string{"--agent", url, "--job", "x", "--rates", "10", "--step", "100ms"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bench(context.Background(), c, io.Discard); err == nil || !strings.Contains(err.Error(), "is blueprint-agent running at "+url) {
		t.Fatalf("error = %v", err)
	}
}

func TestBench_sendsToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer t0k" {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"missing or wrong token"}}`)
			return
		}
		fmt.Fprint(w, `{"output":1,"ran":{"target":"local"},"duration_ms":0.1,"decision":"local_has_capacity"}`)
	}))
	defer srv.Close()
	t.Setenv("BLUEPRINT_AGENT_TOKEN", "")
	for token, wantErr := range map[string]string{"t0k": "", "": "HTTP 401 unauthorized"} {
		c, err := parseBenchFlags([]string{"--agent", srv.URL, "--job", "j", "--rates", "10", "--step", "100ms", "--token", token}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bench(context.Background(), c, io.Discard)
		if (wantErr == "" && err != nil) || (wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr))) {
			t.Errorf("token %q: error = %v, want %q", token, err, wantErr)
		}
	}
}
