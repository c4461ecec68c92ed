package packager_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

func TestLambdaGoVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github.com/aws/aws-lambda-go (v\S+)`).FindSubmatch(mod)
	if m == nil || string(m[1]) != packager.LambdaGoVersion {
		t.Fatalf("go.mod has aws-lambda-go %s, the packager builds with %s", m, packager.LambdaGoVersion)
	}
	m = regexp.MustCompile(`go.opentelemetry.io/otel (v\S+)`).FindSubmatch(mod)
	if m == nil || string(m[1]) != packager.OTelVersion {
		t.Fatalf("go.mod has go.opentelemetry.io/otel %s, the packager builds with %s", m, packager.OTelVersion)
	}
}

// nativeModule is a user module outside this repository, with two jobs.
func nativeModule(t *testing.T) string {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return writeModule(t, map[string]string{
		"go.mod": fmt.Sprintf("module example.com/native\n\ngo 1.26\n\nrequire github.com/serverless-blueprint/blueprint v0.0.0\n\nreplace github.com/serverless-blueprint/blueprint => %s\n", root),
		"jobs/jobs.go": `package jobs

import (
	"context"
	"errors"
)

type In struct{ N int }

// Double doubles.
//
//blueprint:job
func Double(ctx context.Context, in In) (int, error) {
	if in.N < 0 {
		return 0, &NegativeError{}
	}
	return in.N * 2, nil
}

// NegativeError is Double's job error.
type NegativeError struct{}

func (*NegativeError) Error() string { return "negative" }

// Boom panics.
//
//blueprint:job
func Boom(ctx context.Context, in In) (int, error) { panic(errors.New("boom")) }
`,
	})
}

func TestBuildNative(t *testing.T) {
	dir := nativeModule(t)
	before, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	jobs := []job.Analysis{{Name: "double", Function: "Double"}, {Name: "boom", Function: "Boom"}}
	a, err := packager.BuildNative(testCtx(t), packager.NativeBuild{Dir: filepath.Join(dir, "jobs"), Jobs: jobs, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	if !bytes.Equal(before, after) {
		t.Fatalf("the build changed the user's go.mod:\n%s", after)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil {
		t.Fatal("the build wrote a go.sum into the user's module")
	}
	out, err := exec.Command(a.Path, "--blueprint-jobs").Output()
	if err != nil || strings.TrimSpace(string(out)) != `["boom","double"]` {
		t.Fatalf("--blueprint-jobs: %s %v", out, err)
	}
	// Reproducible: another cache, the same bytes.
	b, err := packager.BuildNative(testCtx(t), packager.NativeBuild{Dir: filepath.Join(dir, "jobs"), Jobs: jobs, CacheDir: t.TempDir()})
	if err != nil || b.SHA256 != a.SHA256 {
		t.Fatalf("second build: %s vs %s (%v)", b.SHA256, a.SHA256, err)
	}

	// The binary speaks the Lambda Runtime API: one invocation per job, job errors and panics
	// reported the way Lambda reports them.
	for _, c := range []struct{ job, input, want string }{
		{"double", `{"N":21}`, `response 42`},
		{"double", `{"N":-1}`, `error NegativeError: negative`},
		{"double", `{"N":"x"}`, `error InvalidInput`},
		{"nope", `{}`, `error UnknownJob: this bootstrap has no job named "nope"; it has boom, double`},
		{"boom", `{}`, `error errorString: boom`},
	} {
		if got := invokeOnce(t, a.Path, c.job, c.input); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %s: %s, want %s", c.job, c.input, got, c.want)
		}
	}
}

// invokeOnce serves the Runtime API for one invocation to the bootstrap and returns what it
// answered: "response <body>" or "error <type>: <message>".
func invokeOnce(t *testing.T, bin, jobName, input string) string {
	t.Helper()
	answer := make(chan string, 1)
	served := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/invocation/next"):
			if served {
				<-r.Context().Done() // one invocation only: hold the next poll
				return
			}
			served = true
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(time.Minute).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:local:000000000000:function:"+jobName)
			io.WriteString(w, input)
		case strings.HasSuffix(r.URL.Path, "/req-1/response"):
			body, _ := io.ReadAll(r.Body)
			answer <- "response " + string(body)
			w.WriteHeader(http.StatusAccepted)
		case strings.HasSuffix(r.URL.Path, "/req-1/error"):
			var e messages.InvokeResponse_Error
			json.NewDecoder(r.Body).Decode(&e)
			answer <- "error " + e.Type + ": " + e.Message
			w.WriteHeader(http.StatusAccepted)
		default:
			http.Error(w, "unexpected "+r.URL.Path, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(srv.URL, "http://"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	select {
	case got := <-answer:
		return got
	case <-time.After(30 * time.Second):
		t.Fatalf("no answer from the bootstrap for %s", jobName)
		return ""
	}
}
