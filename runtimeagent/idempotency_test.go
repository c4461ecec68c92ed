package runtimeagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// keyedFixture is an agent over fakes that keeps idempotency records in store (a SQLite file).
func keyedFixture(t *testing.T, store string, local *fakeLocal) *fixture {
	t.Helper()
	states := statestore.NewStores(nil)
	t.Cleanup(states.Close)
	cfg := Config{Policy: router.Policy{LocalCapacity: 4}, MemoBytes: -1, HedgeRatio: -1, States: states, IdempotencyStore: store}
	if local != nil {
		cfg.Local = local
	}
	return newFixtureConfig(t, cfg)
}

type keyedAnswer struct {
	status   int
	body     string
	replayed bool
	retry    string
}

func (f *fixture) keyed(t *testing.T, name, key, body string, header map[string]string) keyedAnswer {
	t.Helper()
	h := map[string]string{IdempotencyKeyHeader: key}
	for k, v := range header {
		h[k] = v
	}
	status, data, got := f.post(t, name+":run", body, h)
	return keyedAnswer{status: status, body: data, replayed: got.Get(IdempotentReplayedHeader) == "true", retry: got.Get("Retry-After")}
}

// The acceptance case: a non-pure job offloaded on the first try, retried with the same key
// where it would run locally, runs once.
func TestIdempotency_offloadedThenLocalRunsOnce(t *testing.T) {
	f := keyedFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "idem.db"), nil)
	first := f.keyed(t, "charge", "order-1", `{"n":1}`, map[string]string{PlacementHeader: "serverless"})
	if first.status != 200 || !strings.Contains(first.body, `"target":"serverless"`) || first.replayed {
		t.Fatalf("first try: %+v", first)
	}
	retry := f.keyed(t, "charge", "order-1", `{"n":1}`, map[string]string{PlacementHeader: "local"})
	if retry.status != 200 || retry.body != first.body || !retry.replayed {
		t.Fatalf("retry: %+v, want the first answer replayed:\n%s", retry, first.body)
	}
	if n := f.remote.count("a") + f.remote.count("b"); n != 1 || f.local.calls.Load() != 0 {
		t.Fatalf("charge ran %d times remotely and %d locally, want once in all", n, f.local.calls.Load())
	}
	if r := f.keyed(t, "charge", "order-1", `{"n":2}`, nil); r.status != 422 || !strings.Contains(r.body, `"code":"idempotency_key_reused"`) {
		t.Fatalf("same key, another input: %+v", r)
	}
	if r := f.keyed(t, "charge", "order-2", `{"n":1}`, nil); r.status != 200 || r.replayed || f.local.calls.Load() != 1 {
		t.Fatalf("a new key runs: %+v (local runs %d)", r, f.local.calls.Load())
	}
	// The job's own error is an outcome too.
	failed := f.keyed(t, "charge", "order-3", `{"fail":"job"}`, nil)
	again := f.keyed(t, "charge", "order-3", `{"fail":"job"}`, nil)
	if failed.status != 422 || again.body != failed.body || !again.replayed || f.local.calls.Load() != 2 {
		t.Fatalf("job error: %+v then %+v (local runs %d)", failed, again, f.local.calls.Load())
	}
	// The embedded path (Execute) shares the records.
	res, err := f.agent.Execute(WithIdempotencyKey(context.Background(), "order-2"), "charge", []byte(`{"n":1}`))
	if err != nil || res.Ran.Target != "local" || f.local.calls.Load() != 2 {
		t.Fatalf("Execute with a recorded key: %+v, %v (local runs %d)", res, err, f.local.calls.Load())
	}
	metrics := f.scrape(t)
	for _, want := range []string{`blueprint_agent_idempotent_requests_total{outcome="replayed"} 3`, `blueprint_agent_idempotent_requests_total{outcome="recorded"} 3`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestIdempotency_duplicateWhileRunning(t *testing.T) {
	local := &fakeLocal{block: make(chan struct{}), started: make(chan struct{}, 1)}
	f := keyedFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "idem.db"), local)
	var wg sync.WaitGroup
	var first keyedAnswer
	wg.Add(1)
	go func() { defer wg.Done(); first = f.keyed(t, "charge", "k", `{"n":1}`, nil) }()
	<-local.started
	dup := f.keyed(t, "charge", "k", `{"n":1}`, nil)
	if dup.status != 409 || !strings.Contains(dup.body, `"code":"idempotency_in_progress"`) || dup.retry == "" {
		t.Fatalf("duplicate while the first runs: %+v", dup)
	}
	close(local.block)
	wg.Wait()
	if first.status != 200 {
		t.Fatalf("first: %+v", first)
	}
	if r := f.keyed(t, "charge", "k", `{"n":1}`, nil); !r.replayed || r.body != first.body || local.calls.Load() != 1 {
		t.Fatalf("after: %+v (runs %d)", r, local.calls.Load())
	}
}

// A try refused before the job started frees its key: the retry (here on another agent
// sharing the store) runs the job.
func TestIdempotency_notRunFreesKey(t *testing.T) {
	store := "sqlite://" + filepath.Join(t.TempDir(), "idem.db")
	broken := keyedFixture(t, store, &fakeLocal{err: fmt.Errorf("%w: no artifact", ErrLocalUnavailable)})
	r := broken.keyed(t, "audit", "k", `{"n":1}`, nil)
	if r.status != 503 {
		t.Fatalf("first try: %+v", r)
	}
	healthy := keyedFixture(t, store, nil)
	if r := healthy.keyed(t, "audit", "k", `{"n":1}`, nil); r.status != 200 || r.replayed || healthy.local.calls.Load() != 1 {
		t.Fatalf("retry on another agent: %+v", r)
	}
	if r := broken.keyed(t, "audit", "k", `{"n":1}`, nil); r.status != 200 || !r.replayed {
		t.Fatalf("the first agent now replays: %+v", r)
	}
}

func TestIdempotency_badRequests(t *testing.T) {
	f := keyedFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "idem.db"), nil)
	if r := f.keyed(t, "charge", strings.Repeat("k", 300), `{}`, nil); r.status != 400 {
		t.Fatalf("a 300-byte key: %+v", r)
	}
	if status, _ := f.postWith(t, "charge:batch", `[{}]`, map[string]string{IdempotencyKeyHeader: "k"}); status != 400 || f.local.calls.Load() != 0 {
		t.Fatalf("a keyed batch: %d (runs %d)", status, f.local.calls.Load())
	}
	// An agent without stores refuses keys rather than running without a record.
	g := newFixture(t, router.Policy{LocalCapacity: 4})
	_, err := g.agent.Execute(WithIdempotencyKey(context.Background(), "k"), "charge", []byte(`{}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeIdempotencyUnavailable || g.local.calls.Load() != 0 {
		t.Fatalf("no stores: %#v", err)
	}
}

func (f *fixture) scrape(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestIdempotency_callerLeavesRunGoesOn: a caller whose connection drops mid-run retries with
// its key and gets 409 while the run goes on, then the run's real outcome — not a recorded
// "the caller gave up" — and the job ran once.
func TestIdempotency_callerLeavesRunGoesOn(t *testing.T) {
	local := &fakeLocal{started: make(chan struct{}, 4)}
	local.sleep.Store(int64(400 * time.Millisecond))
	f := keyedFixture(t, "sqlite://"+filepath.Join(t.TempDir(), "idem.db"), local)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/v1/jobs/charge:run", strings.NewReader(`{"n":7}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyKeyHeader, "order-7")
	first := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		first <- err
	}()
	<-local.started // the job runs: now the caller's connection drops
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the first try: %v, want the caller's own cancellation", err)
	}

	if r := f.keyed(t, "charge", "order-7", `{"n":7}`, nil); r.status != 409 || !strings.Contains(r.body, `"code":"idempotency_in_progress"`) {
		t.Fatalf("retry while the first run goes on: %+v", r)
	}
	var r keyedAnswer
	waitFor(t, "the first run's outcome", func() bool {
		r = f.keyed(t, "charge", "order-7", `{"n":7}`, nil)
		return r.status != 409
	})
	if r.status != 200 || !r.replayed || !strings.Contains(r.body, `"input":{"n":7}`) {
		t.Fatalf("retry after the run: %+v, want its output replayed", r)
	}
	if n := local.calls.Load(); n != 1 {
		t.Fatalf("charge ran %d times, want once", n)
	}
}
