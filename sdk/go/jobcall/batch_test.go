package jobcall_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

// TestCallBatch: a batch answers input by input in order, both ways: outputs, the job's own
// error and a panic as *FunctionError for their inputs only, and where each ran.
func TestCallBatch(t *testing.T) {
	for mode, c := range clients(t) {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			ins := []Person{{Name: "ada"}, {}, {Name: "bob"}}
			for i := range 40 { // more inputs than the batch runs at once
				ins = append(ins, Person{Name: strings.Repeat("x", i%5+1)})
			}
			res, err := jobcall.CallBatch(ctx, Greet, ins, jobcall.Using(c))
			if err != nil || len(res) != len(ins) {
				t.Fatalf("CallBatch: %d results, %v", len(res), err)
			}
			for i, r := range res {
				if i == 1 {
					var fe *jobcall.FunctionError
					if !errors.As(r.Err, &fe) || fe.Job != "greet" || fe.Type != "ValidationError" {
						t.Fatalf("input 1: %#v, want the job's ValidationError", r.Err)
					}
					continue
				}
				if want := "hello, " + ins[i].Name; r.Err != nil || r.Output.Text != want || r.Ran.Target != "local" {
					t.Fatalf("input %d: %+v, want %q run locally", i, r, want)
				}
			}

			res, err = jobcall.CallBatch(ctx, Explode, []Person{{Name: "a"}, {Name: "b"}}, jobcall.Using(c))
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				var fe *jobcall.FunctionError
				if !errors.As(r.Err, &fe) || fe.Type != "Panic" {
					t.Fatalf("panicking input %d: %#v", i, r.Err)
				}
			}

			// A stateful job that is not pure: each input runs once.
			votes := make([]Vote, 10)
			for i := range votes {
				votes[i] = Vote{Counter: "batch-" + mode}
			}
			counts, err := jobcall.CallBatchStateful(ctx, Tally, votes, jobcall.Using(c))
			if err != nil {
				t.Fatal(err)
			}
			seen := map[int]bool{}
			for i, r := range counts {
				if r.Err != nil || seen[r.Output.Votes] || r.Output.Votes < 1 || r.Output.Votes > len(votes) {
					t.Fatalf("vote %d: %+v (seen %v)", i, r, seen)
				}
				seen[r.Output.Votes] = true
			}

			// What the call as a whole refuses.
			if res, err := jobcall.CallBatch(ctx, Greet, nil, jobcall.Using(c)); err != nil || res != nil {
				t.Fatalf("no inputs: %v, %v", res, err)
			}
			if _, err := jobcall.CallBatch(ctx, Greet, make([]Person, jobcall.MaxBatchInputs+1), jobcall.Using(c)); !errors.Is(err, jobcall.ErrBadRequest) {
				t.Fatalf("too many inputs: %v", err)
			}
			if _, err := jobcall.CallBatch(ctx, Greet, ins[:1], jobcall.Using(c), jobcall.WithIdempotencyKey("k")); !errors.Is(err, jobcall.ErrBadRequest) {
				t.Fatalf("an idempotency key: %v", err)
			}
			if _, err := jobcall.CallBatch(ctx, notAJob, ins[:1], jobcall.Using(c)); !errors.Is(err, jobcall.ErrJobNotFound) {
				t.Fatalf("not a job: %v", err)
			}
			if _, err := jobcall.CallBatch(ctx, Greet, ins[:1], jobcall.Using(c), jobcall.WithPlacement(jobcall.PlaceServerless)); !errors.Is(err, jobcall.ErrBadRequest) || !strings.Contains(err.Error(), "cannot be forced to serverless") {
				t.Fatalf("forced serverless without a deployment: %v", err)
			}
		})
	}
}
