package packager_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/internal/gcftest"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

const gcfJobs = `package jobs

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// TraceOf answers the trace its context is part of: the caller's, from its traceparent.
//
//blueprint:job
func TraceOf(ctx context.Context, in In) (string, error) {
	return trace.SpanContextFromContext(ctx).TraceID().String(), nil
}

type In struct {
	Name string ` + "`json:\"name\"`" + `
}

type Out struct {
	Greeting string ` + "`json:\"greeting\"`" + `
}

type RefusedError struct{ Name string }

func (e *RefusedError) Error() string { return "refused: " + e.Name }

//blueprint:job
func Greet(ctx context.Context, in In) (Out, error) {
	switch in.Name {
	case "refuse":
		return Out{}, &RefusedError{Name: in.Name}
	case "panic":
		panic("asked to panic")
	case "slow":
		time.Sleep(5 * time.Second)
	}
	return Out{Greeting: "hello " + in.Name}, nil
}
`

// TestGCFSource: the source zip is reproducible and, run the way Cloud Functions runs it (the
// real functions-framework-go, a process of its own), answers a single input, a batch mixing
// outputs, job errors and panics, a job error and a panic with a structured body and a non-2xx
// status, and a job past its timeout with 504.
func TestGCFSource(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"go.mod": "module example.com/gcfjobs\n\ngo 1.26.8\n", "jobs.go": gcfJobs} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The jobs import OpenTelemetry's API, as a user's would after go get.
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir = dir
	tidy.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v: %s", err, out)
	}
	build := func(cache string) packager.Artifact {
		t.Helper()
		a, err := packager.BuildGCFSource(context.Background(), packager.GCFBuild{Dir: dir, CacheDir: cache,
			Jobs: []job.Analysis{{Name: "greet", Function: "Greet"}, {Name: "trace_of", Function: "TraceOf"}}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := build(t.TempDir()), build(t.TempDir())
	if a.SHA256 != b.SHA256 {
		t.Fatalf("the same source made two zips: %s and %s", a.SHA256, b.SHA256)
	}
	zipped, err := os.ReadFile(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := gcftest.Build(zipped, t.TempDir())
	if err != nil {
		t.Fatalf("the source does not build as Cloud Functions builds it: %v", err)
	}
	start := func(env map[string]string) string {
		t.Helper()
		f, err := gcftest.Start(bin, env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.Stop)
		return f.URL
	}
	pure := start(map[string]string{"BLUEPRINT_JOB": "greet", "BLUEPRINT_PURE": "1", "BLUEPRINT_TIMEOUT_MS": "1000"})
	post := func(url, body string, batch bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if batch {
			req.Header.Set("X-Blueprint-Batch", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	if code, out := post(pure, `{"name":"ada"}`, false); code != 200 || out != `{"greeting":"hello ada"}` {
		t.Errorf("single: %d %s", code, out)
	}
	if code, out := post(pure, `{"name":"refuse"}`, false); code != 422 || !strings.Contains(out, `"errorType":"RefusedError"`) {
		t.Errorf("job error: %d %s", code, out)
	}
	if code, out := post(pure, `{"name":"panic"}`, false); code != 500 || !strings.Contains(out, `"code":"panic"`) || !strings.Contains(out, "asked to panic") {
		t.Errorf("panic: %d %s", code, out)
	}
	if code, out := post(pure, `{"name":"slow"}`, false); code != 504 || !strings.Contains(out, `"code":"timeout"`) {
		t.Errorf("timeout: %d %s", code, out)
	}
	code, out := post(pure, `{"inputs":[{"name":"a"},{"name":"refuse"},{"name":"panic"},{"name":7},{"name":"b"}]}`, true)
	var batch struct {
		Results []struct {
			Output json.RawMessage
			Error  *struct{ ErrorType, Code string }
		}
	}
	if err := json.Unmarshal([]byte(out), &batch); code != 200 || err != nil || len(batch.Results) != 5 {
		t.Fatalf("batch: %d %s", code, out)
	}
	if string(batch.Results[0].Output) != `{"greeting":"hello a"}` || string(batch.Results[4].Output) != `{"greeting":"hello b"}` {
		t.Errorf("batch outputs: %s", out)
	}
	for i, want := range map[int]string{1: "RefusedError", 2: "string", 3: "InvalidInput"} {
		if e := batch.Results[i].Error; e == nil || e.ErrorType != want {
			t.Errorf("batch item %d: %s", i, out)
		}
	}
	// The caller's trace reaches the job's context, so spans the job makes join it.
	traced := start(map[string]string{"BLUEPRINT_JOB": "trace_of"})
	req, _ := http.NewRequest(http.MethodPost, traced, strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != `"4bf92f3577b34da6a3ce929d0e0e4736"` {
			t.Errorf("the job's context is not in the caller's trace: %d %s", resp.StatusCode, got)
		}
	}
	impure := start(map[string]string{"BLUEPRINT_JOB": "greet"})
	if code, out := post(impure, `{"inputs":[{"name":"a"}]}`, true); code != 409 || !strings.Contains(out, "BatchRefused") {
		t.Errorf("a batch of a function not configured pure: %d %s", code, out)
	}
}
