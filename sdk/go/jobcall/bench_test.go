package jobcall_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

type Pair struct {
	A int `json:"a"`
	B int `json:"b"`
}

type Sum struct {
	Sum int `json:"sum"`
}

// Add is the trivial job: what a call costs beyond the function.
func Add(ctx context.Context, in Pair) (Sum, error) { return Sum{Sum: in.A + in.B}, nil }

type Rounds struct {
	N int `json:"n"`
}

type Digest struct {
	Sum [32]byte `json:"sum"`
}

// Spin is a CPU job: N rounds of SHA-256 over a 4 KiB buffer (N = 10000 is about 20 ms here).
func Spin(ctx context.Context, in Rounds) (Digest, error) {
	var buf [4096]byte
	var d Digest
	for i := 0; i < in.N; i++ {
		copy(buf[:], d.Sum[:])
		d.Sum = sha256.Sum256(buf[:])
	}
	return d, nil
}

const spinRounds = 10000

func embeddedClient(b *testing.B) *jobcall.Client {
	c, err := jobcall.Embed(context.Background(), jobcall.EmbedConfig{State: writeState(b), Capacity: 64})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkDirectAdd calls the trivial function itself: the baseline.
func BenchmarkDirectAdd(b *testing.B) {
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if out, err := Add(ctx, Pair{A: i, B: 1}); err != nil || out.Sum != i+1 {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkEmbeddedAdd calls it through an embedded router that runs it here (the default
// client, as a program that embeds sets it).
func BenchmarkEmbeddedAdd(b *testing.B) {
	jobcall.SetDefault(embeddedClient(b))
	b.Cleanup(func() { jobcall.SetDefault(nil) })
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if out, err := jobcall.Call(ctx, Add, Pair{A: i, B: 1}); err != nil || out.Sum != i+1 {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkDirectSpin and BenchmarkEmbeddedSpin: a 20 ms CPU job, direct and embedded.
func BenchmarkDirectSpin(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := Spin(ctx, Rounds{N: spinRounds}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEmbeddedSpin(b *testing.B) {
	c := embeddedClient(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := jobcall.Call(ctx, Spin, Rounds{N: spinRounds}, jobcall.Using(c)); err != nil {
			b.Fatal(err)
		}
	}
}

// agentServer serves an agent on loopback whose local runs are this process's functions, so
// that what is measured is the call path, not a worker.
func agentServer(b *testing.B) string {
	c := embeddedClient(b)
	if err := jobcall.Register(c, Add); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(c.Agent().Handler())
	b.Cleanup(srv.Close)
	return srv.URL
}

// BenchmarkAgentHandWrittenHTTP is the baseline for a call through the agent: a request built
// by hand, as a program without the SDK would (net/http, keep-alive, encoding/json).
func BenchmarkAgentHandWrittenHTTP(b *testing.B) {
	url := agentServer(b) + "/v1/jobs/add:run"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	for i := 0; b.Loop(); i++ {
		body, _ := json.Marshal(Pair{A: i, B: 1})
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Output Sum `json:"output"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || resp.StatusCode != 200 || r.Output.Sum != i+1 {
			b.Fatalf("%d %s", resp.StatusCode, raw)
		}
	}
}

// BenchmarkAgentSDK is the same call through jobcall.
func BenchmarkAgentSDK(b *testing.B) {
	c, err := jobcall.Connect(agentServer(b), "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if out, err := jobcall.Call(ctx, Add, Pair{A: i, B: 1}, jobcall.Using(c)); err != nil || out.Sum != i+1 {
			b.Fatal(out, err)
		}
	}
}

// BenchmarkAgent100Calls and BenchmarkAgent100Batched: a program with 100 inputs of the trivial
// job, through the agent, as 100 calls (16 at a time, each its own request) or one CallBatch
// (one request; the agent runs the inputs several at a time). One op is all 100 inputs.
const fanOut = 100

func BenchmarkAgent100Calls(b *testing.B) {
	c, err := jobcall.Connect(agentServer(b), "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range fanOut {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if out, err := jobcall.Call(ctx, Add, Pair{A: i, B: 1}, jobcall.Using(c)); err != nil || out.Sum != i+1 {
					b.Error(out, err)
				}
			}()
		}
		wg.Wait()
	}
}

func BenchmarkAgent100Batched(b *testing.B) {
	c, err := jobcall.Connect(agentServer(b), "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	ins := make([]Pair, fanOut)
	for i := range ins {
		ins[i] = Pair{A: i, B: 1}
	}
	for b.Loop() {
		res, err := jobcall.CallBatch(ctx, Add, ins, jobcall.Using(c))
		if err != nil {
			b.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || r.Output.Sum != i+1 {
				b.Fatal(i, r)
			}
		}
	}
}
