package jobcall_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

// The jobs of these tests: plain functions, as a job package holds them.

type Person struct {
	Name string `json:"name"`
}

type Greeting struct {
	Text string `json:"text"`
}

// ValidationError is a job's own error type.
type ValidationError struct{ Field string }

func (e *ValidationError) Error() string { return "field " + e.Field + " is invalid" }

func Greet(ctx context.Context, in Person) (Greeting, error) {
	if in.Name == "" {
		return Greeting{}, &ValidationError{Field: "name"}
	}
	return Greeting{Text: "hello, " + in.Name}, nil
}

func Explode(ctx context.Context, in Person) (Greeting, error) {
	var names []string
	return Greeting{Text: names[len(in.Name)]}, nil // out of range: the job panics
}

// hangRelease ends every Hang run; hangReturned counts the runs that ended.
var (
	hangRelease  atomic.Pointer[chan struct{}]
	hangReturned atomic.Int64
)

// Hang ignores its context and its timeout (200 ms in the state) until the test releases it.
func Hang(ctx context.Context, in Person) (Greeting, error) {
	<-*hangRelease.Load()
	hangReturned.Add(1)
	return Greeting{Text: "late"}, nil
}

type Vote struct {
	Counter string `json:"counter"`
}

type Count struct {
	Votes int `json:"votes"`
}

// Tally counts votes in job.State with optimistic writes.
func Tally(ctx context.Context, st job.State, in Vote) (Count, error) {
	for {
		raw, version, err := st.Get(ctx, in.Counter)
		if err != nil {
			return Count{}, err
		}
		var c Count
		if raw != nil {
			if err := json.Unmarshal(raw, &c); err != nil {
				return Count{}, err
			}
		}
		c.Votes++
		raw, _ = json.Marshal(c)
		if _, err := st.Put(ctx, in.Counter, raw, version); errors.Is(err, job.ErrVersionConflict) {
			continue
		} else if err != nil {
			return Count{}, err
		}
		return c, nil
	}
}

// testJob is one blueprint_job of the state the tests write.
type testJob struct {
	name, function string
	pure, stateful bool
	timeoutMS      int64
}

var testJobs = []testJob{
	{name: "greet", function: "Greet", pure: true, timeoutMS: 5000},
	{name: "explode", function: "Explode", pure: true, timeoutMS: 5000},
	{name: "hang", function: "Hang", pure: true, timeoutMS: 200},
	{name: "tally", function: "Tally", stateful: true, timeoutMS: 5000},
	{name: "add", function: "Add", pure: true, timeoutMS: 5000},
	{name: "spin", function: "Spin", pure: true, timeoutMS: 5000},
}

// writeState writes a terraform.tfstate (v4, as Terraform writes it) holding the test jobs as
// local-only jobs (nothing deployed) whose analysis names their functions, and returns its path.
func writeState(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	pkg := strings.TrimSuffix(funcName(Greet), ".Greet")
	var resources []any
	for _, j := range testJobs {
		resources = append(resources, map[string]any{
			"mode": "managed", "type": "blueprint_job", "name": j.name,
			"provider": `provider["registry.terraform.io/serverless-blueprint/blueprint"]`,
			"instances": []any{map[string]any{
				"schema_version": 0,
				"attributes": map[string]any{
					"id": j.name, "name": j.name, "package": "./jobcall", "function": j.function,
					"analysis": map[string]any{"name": j.name, "function": j.function, "pure": j.pure, "deterministic": j.pure,
						"requires_state": j.stateful, "network_calls": []string{}, "max_duration_ms": 10, "memory_mb": 128,
						"timeout_ms": j.timeoutMS, "mode": "auto", "eligible": false, "findings": []any{},
						"code": map[string]string{"func " + pkg + "." + j.function: "00"}},
					"eligible": false, "source_hash": "sha256:00", "artifacts": map[string]string{}, "deployments": []any{},
					"state_store": "sqlite://" + filepath.Join(dir, "state.db"),
				},
			}},
		})
	}
	data, err := json.Marshal(map[string]any{"version": 4, "terraform_version": "1.5.7", "serial": 1, "lineage": "test", "outputs": map[string]any{}, "resources": resources})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "terraform.tfstate")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func funcName(fn any) string {
	return runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
}

// clients returns an embedded client and a client of an agent (the embedded router's own
// HTTP API, served on loopback): the two ways a program calls jobs.
func clients(t *testing.T) map[string]*jobcall.Client {
	t.Helper()
	embedded, err := jobcall.Embed(context.Background(), jobcall.EmbedConfig{State: writeState(t), Capacity: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { embedded.Close() })
	// The agent's local runs are this process's functions too.
	for _, err := range []error{jobcall.Register(embedded, Greet), jobcall.Register(embedded, Explode), jobcall.Register(embedded, Hang), jobcall.RegisterStateful(embedded, Tally)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(embedded.Agent().Handler())
	t.Cleanup(srv.Close)
	viaAgent, err := jobcall.Connect(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaAgent.Close() })
	return map[string]*jobcall.Client{"embedded": embedded, "agent": viaAgent}
}

func TestCall_outputAndTypedErrors(t *testing.T) {
	for mode, c := range clients(t) {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			var ran jobcall.Ran
			out, err := jobcall.Call(ctx, Greet, Person{Name: "ada"}, jobcall.Using(c), jobcall.Where(&ran))
			if err != nil || out.Text != "hello, ada" || ran.Target != "local" {
				t.Fatalf("Call = %+v, %v (ran %+v)", out, err, ran)
			}

			_, err = jobcall.Call(ctx, Greet, Person{}, jobcall.Using(c))
			var fe *jobcall.FunctionError
			if !errors.As(err, &fe) || fe.Job != "greet" || fe.Type != "ValidationError" || fe.Message != "field name is invalid" {
				t.Fatalf("job error: %#v", err)
			}

			_, err = jobcall.Call(ctx, Explode, Person{Name: "x"}, jobcall.Using(c))
			if !errors.As(err, &fe) || fe.Job != "explode" || fe.Type != "Panic" || !strings.Contains(fe.Message, "index out of range") {
				t.Fatalf("panic: %#v", err)
			}

			_, err = jobcall.Call(ctx, Greet, Person{Name: "ada"}, jobcall.Using(c), jobcall.WithPlacement(jobcall.PlaceServerless))
			var e *jobcall.Error
			if !errors.As(err, &e) || !errors.Is(err, jobcall.ErrBadRequest) || !strings.Contains(e.Message, "cannot be forced to serverless") {
				t.Fatalf("forced serverless without a deployment: %#v", err)
			}

			// Still serving after all that.
			if out, err := jobcall.Call(ctx, Greet, Person{Name: "again"}, jobcall.Using(c)); err != nil || out.Text != "hello, again" {
				t.Fatalf("after errors: %+v, %v", out, err)
			}
		})
	}
}

func TestCall_hangAnswersAtTimeout(t *testing.T) {
	release := make(chan struct{})
	hangRelease.Store(&release)
	hangReturned.Store(0)
	cs := clients(t)
	ctx := context.Background()
	for _, mode := range []string{"embedded", "agent"} {
		c := cs[mode]
		start := time.Now()
		_, err := jobcall.Call(ctx, Hang, Person{Name: "x"}, jobcall.Using(c))
		took := time.Since(start)
		if !errors.Is(err, jobcall.ErrTimeout) {
			t.Fatalf("%s: hang: %#v", mode, err)
		}
		if took < 200*time.Millisecond || took > 3*time.Second {
			t.Fatalf("%s: answered after %v, want at the 200 ms timeout", mode, took)
		}
		if out, err := jobcall.Call(ctx, Greet, Person{Name: "next"}, jobcall.Using(c)); err != nil || out.Text != "hello, next" {
			t.Fatalf("%s: after a hang: %+v, %v", mode, out, err)
		}
	}
	metrics := scrape(t, cs["embedded"])
	if !strings.Contains(metrics, "blueprint_agent_local_abandoned 2") {
		t.Fatalf("metrics do not count the two goroutines still running:\n%s", grep(metrics, "abandoned"))
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for hangReturned.Load() < 2 || !strings.Contains(scrape(t, cs["embedded"]), "blueprint_agent_local_abandoned 0") {
		if time.Now().After(deadline) {
			t.Fatalf("abandoned runs not booked after they returned:\n%s", grep(scrape(t, cs["embedded"]), "abandoned"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCallStateful_sameStoreBothWays(t *testing.T) {
	cs := clients(t)
	ctx := context.Background()
	want := 0
	for _, mode := range []string{"embedded", "agent", "embedded"} {
		want++
		out, err := jobcall.CallStateful(ctx, Tally, Vote{Counter: "c"}, jobcall.Using(cs[mode]))
		if err != nil || out.Votes != want {
			t.Fatalf("%s: vote %d: %+v, %v", mode, want, out, err)
		}
	}
}

func TestCall_noJobForFunction(t *testing.T) {
	c := clients(t)["embedded"]
	_, err := jobcall.Call(context.Background(), notAJob, Person{}, jobcall.Using(c))
	if !errors.Is(err, jobcall.ErrJobNotFound) || !strings.Contains(err.Error(), "notAJob") {
		t.Fatalf("got %v", err)
	}
}

func notAJob(ctx context.Context, in Person) (Greeting, error) { return Greeting{}, nil }

func TestDefault_needsAnAgent(t *testing.T) {
	t.Setenv("BLUEPRINT_AGENT", "")
	jobcall.SetDefault(nil)
	_, err := jobcall.Call(context.Background(), Greet, Person{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "BLUEPRINT_AGENT") {
		t.Fatalf("got %v", err)
	}
}

func scrape(t *testing.T, c *jobcall.Client) string {
	t.Helper()
	rec := httptest.NewRecorder()
	c.Agent().MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return fmt.Sprint(out)
}

// A retried call with the same idempotency key gets the first outcome, in either mode and
// across them (the records live in the job's store).
func TestCall_idempotencyKey(t *testing.T) {
	cs := clients(t)
	ctx := context.Background()
	for i, mode := range []string{"embedded", "agent", "embedded"} {
		out, err := jobcall.CallStateful(ctx, Tally, Vote{Counter: "idem"}, jobcall.Using(cs[mode]), jobcall.WithIdempotencyKey("vote-1"))
		if err != nil || out.Votes != 1 {
			t.Fatalf("try %d (%s): %+v, %v; want the first vote's answer", i+1, mode, out, err)
		}
	}
	if out, err := jobcall.CallStateful(ctx, Tally, Vote{Counter: "idem"}, jobcall.Using(cs["agent"]), jobcall.WithIdempotencyKey("vote-2")); err != nil || out.Votes != 2 {
		t.Fatalf("a new key: %+v, %v", out, err)
	}
	_, err := jobcall.CallStateful(ctx, Tally, Vote{Counter: "other"}, jobcall.Using(cs["embedded"]), jobcall.WithIdempotencyKey("vote-1"))
	if !errors.Is(err, jobcall.ErrKeyReused) {
		t.Fatalf("the key with another input: %v", err)
	}
}
