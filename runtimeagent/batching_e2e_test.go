package runtimeagent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

func (env *e2eEnv) hostRequests() (invokes, batches int64) {
	for _, h := range env.hosts {
		invokes += h.invokes.Load()
		batches += h.batches.Load()
	}
	return invokes, batches
}

// TestE2E_batchingReachesHostsInFewerRequests: concurrent executions of a pure job offloaded
// to real hosts share invoke-batch requests, and every caller still gets its own output or
// job error.
func TestE2E_batchingReachesHostsInFewerRequests(t *testing.T) {
	env := newE2EWith(t, e2eOptions{hostMaxConcurrency: 64}, router.Policy{LocalCapacity: -1})
	const n = 48
	failing := func(i int) bool { return i%6 == 5 }
	out := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			body := fmt.Sprintf(`{"name":"n%d"}`, i)
			if failing(i) {
				body = fmt.Sprintf(`%d`, i) // greet cannot decode a number: a job error
			}
			r, err := env.fixture.tryRun("greet", body)
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			out[i] = r
		})
	}
	close(start)
	wg.Wait()
	for i, r := range out {
		if failing(i) {
			if r.status != 422 || r.err.Code != "job_error" || !strings.Contains(r.err.Message, "number") {
				t.Errorf("run %d: %d %s, want its own job error", i, r.status, r.raw)
			}
			continue
		}
		if want := fmt.Sprintf(`{"greeting":"hello, n%d"}`, i); r.status != 200 || string(r.run.Output) != want || r.run.Ran.Target != "serverless" {
			t.Errorf("run %d: %d %s, want %s", i, r.status, r.raw, want)
		}
	}
	invokes, batches := env.hostRequests()
	if invokes+batches >= n || batches == 0 {
		t.Fatalf("%d executions reached the hosts in %d single and %d batch requests; want fewer than %d requests", n, invokes, batches, n)
	}
	t.Logf("%d executions: %d batch requests, %d single", n, batches, invokes)
	// Executions that found the hosts idle went alone, as single invocations.
	if m := get(t, env.srv.URL+"/metrics"); !strings.Contains(m, fmt.Sprintf(`blueprint_agent_batched_executions_total{job="greet"} %d`, n-invokes)) {
		t.Errorf("/metrics does not count %d batched executions", n-invokes)
	}
}

// BenchmarkRemoteExecutions runs many small concurrent executions of a pure job through the
// agent's routing to two in-process hosts, with batching off (one HTTP request each) and on.
// It reports executions per second, the latency quantiles of single executions, and host
// requests per execution. Run:
//
//	go test ./runtimeagent -run '^$' -bench RemoteExecutions -benchtime 20000x -count 3
func BenchmarkRemoteExecutions(b *testing.B) {
	// Off and on alternate for each load, so that drift in the machine's state over the run
	// (heap, other work) does not favour one mode.
	for _, callers := range []int{1, 4, 16, 64} {
		for _, c := range []struct {
			name     string
			maxItems int
		}{{"batching=off", 1}, {"batching=on", DefaultBatchMaxItems}} {
			b.Run(fmt.Sprintf("callers=%d/%s", callers, c.name), func(b *testing.B) {
				benchRemote(b, c.maxItems, callers)
			})
		}
	}
}

func benchRemote(b *testing.B, maxItems, callers int) {
	env := newE2EWith(b, e2eOptions{
		hostMaxConcurrency: 256, // the comparison is of round trips, not of host throttling
		agent:              func(c *Config) { c.BatchMaxItems = maxItems },
	}, router.Policy{LocalCapacity: -1})
	snap := env.agent.current.Load()
	e := snap.jobs["greet"]
	input := []byte(`{"name":"bench"}`)
	ctx := context.Background()
	// Warm both hosts' instances and connections.
	for range 200 {
		if _, err := env.agent.execute(ctx, snap, e, input); err != nil {
			b.Fatal(err)
		}
	}
	inv0, bat0 := env.hostRequests()

	var next atomic.Int64
	var failures, local atomic.Int64
	lat := make([][]time.Duration, callers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				res, err := env.agent.execute(ctx, snap, e, input)
				lat[g] = append(lat[g], time.Since(t0))
				if err != nil {
					failures.Add(1)
				} else if res.target != router.Serverless {
					local.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d of %d executions failed", f, b.N)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) }
	inv, bat := env.hostRequests()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "execs/s")
	b.ReportMetric(q(0.5), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(inv-inv0+bat-bat0)/float64(b.N), "requests/exec")
	b.ReportMetric(float64(local.Load())/float64(b.N), "local-share")
}
