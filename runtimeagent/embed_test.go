package runtimeagent

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/router"
)

// postWith posts JSON to /v1/jobs/{spec} (a run or a batch) with extra headers.
func (f *fixture) postWith(t *testing.T, spec, body string, header map[string]string) (int, string) {
	t.Helper()
	status, data, _ := f.post(t, spec, body, header)
	return status, data
}

func (f *fixture) post(t *testing.T, spec, body string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/v1/jobs/"+spec, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), resp.Header
}

func TestPlacementHeader(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	serverless := map[string]string{PlacementHeader: "serverless"}

	status, body := f.postWith(t, "resize:run", `{"n":1}`, serverless)
	if status != 200 || !strings.Contains(body, `"target":"serverless"`) || !strings.Contains(body, `"decision":"mode_serverless"`) {
		t.Fatalf("forced serverless with room here: %d %s", status, body)
	}
	status, body = f.postWith(t, "resize:batch", `[{"n":1},{"n":2}]`, serverless)
	if status != 200 || strings.Count(body, `"target":"serverless"`) != 2 {
		t.Fatalf("forced serverless batch: %d %s", status, body)
	}

	// With no local capacity, local is still honoured when asked for.
	g := newFixture(t, router.Policy{LocalCapacity: -1})
	if status, body := g.postWith(t, "resize:run", `{"n":1}`, map[string]string{PlacementHeader: "local"}); status != 200 || !strings.Contains(body, `"target":"local"`) {
		t.Fatalf("forced local: %d %s", status, body)
	}

	for _, c := range []struct{ job, value, want string }{
		{"audit", "serverless", "not eligible"}, // nothing deployed and not eligible: never a silent local run
		{"resize", "elsewhere", "placement must be"},
	} {
		status, body := f.postWith(t, c.job+":run", `{}`, map[string]string{PlacementHeader: c.value})
		if status != 400 || !strings.Contains(body, `"code":"bad_request"`) || !strings.Contains(body, c.want) {
			t.Errorf("%s with %q: %d %s", c.job, c.value, status, body)
		}
	}
	if n := f.local.calls.Load(); n != 0 {
		t.Fatalf("%d local runs on the first agent, want none", n)
	}
}

func TestExecute_libraryAPI(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	ctx := context.Background()
	res, err := f.agent.Execute(ctx, "resize", []byte(`{"n":1}`))
	if err != nil || res.Ran.Target != "local" || !json.Valid(res.Output) {
		t.Fatalf("Execute: %+v, %v", res, err)
	}
	_, err = f.agent.Execute(ctx, "nope", []byte(`{}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeJobNotFound || e.Status != 404 {
		t.Fatalf("unknown job: %#v", err)
	}
	_, err = f.agent.Execute(ctx, "resize", make([]byte, 2048)) // the fixture's limit is 1 KiB
	if !errors.As(err, &e) || e.Code != CodeInputTooLarge {
		t.Fatalf("large input: %#v", err)
	}

	// BeginLocal grants a slot when the router would run here, and Done gives it back.
	var runs []LocalRun
	for i := 0; i < 4; i++ {
		r, ok := f.agent.BeginLocal(ctx, "resize")
		if !ok {
			t.Fatalf("slot %d refused with capacity 4", i)
		}
		runs = append(runs, r)
	}
	if _, ok := f.agent.BeginLocal(ctx, "resize"); ok {
		t.Fatal("a fifth slot granted with capacity 4")
	}
	if _, ok := f.agent.BeginLocal(WithPlacement(ctx, PlacementServerless), "audit"); ok {
		t.Fatal("a slot granted for a call forced serverless")
	}
	for _, r := range runs {
		r.Done(nil)
	}
	if _, ok := f.agent.BeginLocal(ctx, "nope"); ok {
		t.Fatal("a slot granted for an unknown job")
	}
	r, ok := f.agent.BeginLocal(ctx, "resize")
	if !ok {
		t.Fatal("slots not given back by Done")
	}
	r.Done(errors.New("boom"))

	// The embedded fast path takes and returns a slot without allocating.
	if n := testing.AllocsPerRun(100, func() {
		r, ok := f.agent.BeginLocal(ctx, "resize")
		if !ok {
			panic("no slot")
		}
		r.Done(nil)
	}); n != 0 {
		t.Fatalf("BeginLocal + Done allocate %v times", n)
	}
}
