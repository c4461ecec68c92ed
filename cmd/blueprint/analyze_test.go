package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

func analyzeTestdataDir(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "analyzer", "testdata"}, parts...)...)
}

func TestAnalyzeCommandJSON(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	// Flags after DIR work too.
	if err := runAnalyze(ctx, []string{analyzeTestdataDir("extmod", "images"), "-o", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("analyze: %v\nstderr: %s", err, stderr.String())
	}
	var pa job.PackageAnalysis
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pa); err != nil {
		t.Fatalf("output is not a job.PackageAnalysis: %v", err)
	}
	if pa.Package != "example.com/userjobs/images" || len(pa.Jobs) != 2 {
		t.Fatalf("package %q with %d jobs", pa.Package, len(pa.Jobs))
	}
	fetch, ok := pa.Find("fetch")
	if !ok || fetch.Pure || !fetch.Eligible || len(fetch.NetworkCalls) != 1 || fetch.NetworkCalls[0] != "images.example.net" {
		t.Errorf("fetch = %+v", fetch)
	}
}

func TestAnalyzeCommandTable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	if err := runAnalyze(ctx, []string{"-o", "table", analyzeTestdataDir("extmod", "images")}, &stdout, &stderr); err != nil {
		t.Fatalf("analyze: %v", err)
	}
	out := stdout.String()
	for _, want := range []string{
		"package example.com/userjobs/images",
		"JOB", "ELIGIBLE",
		"resize_image  ResizeImage  true",
		"fetch:", "network", "images.example.net", "via Fetch → (*http.Client).Do",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestAnalyzeCommandErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tests := []struct {
		args []string
		want string
	}{
		{args: nil, want: "want exactly one package directory"},
		{args: []string{"a", "b"}, want: "want exactly one package directory, got 2"},
		{args: []string{"-o", "yaml", "."}, want: `-o "yaml": use json or table`},
		{args: []string{analyzeTestdataDir("src", "badoptions")}, want: "8 problem(s) to fix"},
		{args: []string{analyzeTestdataDir("src", "broken")}, want: "broken.go:7:9: does not compile"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		err := runAnalyze(ctx, tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("analyze %v: err = %v, want it to contain %q", tc.args, err, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("analyze %v printed to stdout on error: %s", tc.args, stdout.String())
		}
	}
}
