package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/runtimeagent"
)

func TestExplain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jobs/resize:explain" || r.URL.Query().Get("input_bytes") != "2048" || r.Header.Get("Authorization") != "Bearer t" {
			http.Error(w, `{"error":{"code":"not_found","message":"no"}}`, 404)
			return
		}
		json.NewEncoder(w).Encode(runtimeagent.Explanation{Job: "resize",
			Decision: runtimeagent.ExplainedDecision{Target: "serverless", Reason: "local_capacity", Regions: []string{"wasm/local-b", "wasm/local-a"}},
			Inputs:   runtimeagent.ExplainedInputs{Mode: "auto", Eligible: true, Pure: true, InputBytes: 2048, LocalInFlight: 2, LocalCapacity: 2},
			Regions:  []runtimeagent.ExplainedRegion{{Platform: "wasm", Region: "local-a", Healthy: false, ConsecutiveFailures: 3}},
			Allows:   runtimeagent.ExplainedAllowance{RetryElsewhere: true, Why: "pure"}})
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	if err := explain(context.Background(), []string{"--agent", srv.URL, "--token", "t", "--input-bytes", "2048", "resize"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"job resize: serverless (local_capacity), regions in order: wasm/local-b, wasm/local-a", "2 of 2 local slots busy", "wasm/local-a  false"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	if err := explain(context.Background(), []string{"--agent", srv.URL, "other"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown job: %v", err)
	}
}
