package runtimeagent

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/router"
)

func postBatch(t *testing.T, f *fixture, name, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(f.srv.URL+"/v1/jobs/"+name+":batch", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestBatchAnswersItemByItem(t *testing.T) {
	// A slot for every item: the items run at once, and this test is about the answers, not
	// where they run (with fewer slots the last item may be offloaded to the fake region).
	f := newFixture(t, router.Policy{LocalCapacity: 4})
	status, body := postBatch(t, f, "resize", `[{"w":1}, {"fail":true}, {"w":3}]`)
	if status != 200 {
		t.Fatalf("batch: %d %s", status, body)
	}
	var got BatchResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 3 {
		t.Fatalf("%d results for 3 inputs: %s", len(got.Results), body)
	}
	for _, i := range []int{0, 2} {
		r := got.Results[i]
		if r.Status != 200 || r.Error != nil || r.Ran == nil || !strings.Contains(string(r.Output), `"w":`) {
			t.Errorf("item %d: %+v; want its own output", i, r)
		}
	}
	if !strings.Contains(string(got.Results[0].Output), `"w":1`) || !strings.Contains(string(got.Results[2].Output), `"w":3`) {
		t.Errorf("outputs out of order: %s", body)
	}
	if r := got.Results[1]; r.Status != 422 || r.Error == nil || r.Error.Code != "job_error" || r.Error.Type != "BadInput" {
		t.Errorf("failing item: %+v; want a 422 job_error of type BadInput, the others unaffected", r)
	}
}

func TestBatchBadInput(t *testing.T) {
	f := newFixture(t, router.Policy{LocalCapacity: 2})
	for _, c := range []struct {
		job, body string
		status    int
		want      string
	}{
		{"resize", `{"w":1}`, 400, "JSON array"},
		{"resize", `[]`, 400, "1 to 1000"},
		{"resize", `[1, 2`, 400, "JSON array"},
		{"nope", `[1]`, 404, "GET /v1/jobs"},
		{"resize", "[" + strings.Repeat(`"xxxxxxxxxx",`, 200) + `"x"]`, 413, "larger than"},
	} {
		status, body := postBatch(t, f, c.job, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("batch %s %.30q: %d %s; want %d mentioning %q", c.job, c.body, status, body, c.status, c.want)
		}
	}
}
