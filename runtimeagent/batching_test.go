package runtimeagent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/router"
)

// batchingRemote is a remote that also takes batches. Single calls and items of a batch answer
// alike; a region in failBatches fails every request (a batch as a whole) with a transport
// error after it may have reached the host, one in unsupported refuses batches.
type batchingRemote struct {
	*fakeRemote
	mu          sync.Mutex
	batches     map[string][]int // region -> sizes of the batches it received
	failBatches map[string]bool
	unsupported map[string]bool
	delay       time.Duration // every batch takes this long, so that callers pile up
}

func newBatchingRemote() *batchingRemote {
	return &batchingRemote{fakeRemote: newFakeRemote(), batches: map[string][]int{}, failBatches: map[string]bool{}, unsupported: map[string]bool{}}
}

func (b *batchingRemote) InvokeBatch(ctx context.Context, d platform.Deployment, inputs [][]byte) ([]platform.BatchItemResult, error) {
	b.mu.Lock()
	fail, unsupported := b.failBatches[d.Region], b.unsupported[d.Region]
	if !unsupported {
		b.batches[d.Region] = append(b.batches[d.Region], len(inputs))
	}
	b.mu.Unlock()
	if unsupported {
		return nil, fmt.Errorf("%w: region %s: not pure there", ErrBatchUnsupported, d.Region)
	}
	time.Sleep(b.delay)
	if fail {
		return nil, fmt.Errorf("region %s: connection reset by peer", d.Region)
	}
	out := make([]platform.BatchItemResult, len(inputs))
	for i, in := range inputs {
		if strings.Contains(string(in), `"fail"`) {
			out[i].Err = &platform.FunctionError{Type: "BadInput", Message: "remote says no to " + string(in)}
			continue
		}
		out[i].Output = []byte(fmt.Sprintf(`{"ran":%q,"input":%s}`, d.Region, in))
	}
	return out, nil
}

// Invoke answers a single call as an item of a batch would be answered.
func (b *batchingRemote) Invoke(ctx context.Context, d platform.Deployment, input []byte) ([]byte, error) {
	b.fakeRemote.mu.Lock()
	b.fakeRemote.calls[d.Region]++
	b.fakeRemote.mu.Unlock()
	b.mu.Lock()
	fail := b.failBatches[d.Region]
	b.mu.Unlock()
	time.Sleep(b.delay)
	if fail {
		return nil, fmt.Errorf("region %s: connection reset by peer", d.Region)
	}
	if strings.Contains(string(input), `"fail"`) {
		return nil, &platform.FunctionError{Type: "BadInput", Message: "remote says no to " + string(input)}
	}
	return []byte(fmt.Sprintf(`{"ran":%q,"input":%s}`, d.Region, input)), nil
}

func (b *batchingRemote) sizes(region string) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.batches[region]...)
}

// runConcurrently sends n runs of job at once; input i is {"i":i}, or {"fail":i} when failing(i).
func runConcurrently(t *testing.T, f *fixture, job string, n int, failing func(int) bool) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			body := fmt.Sprintf(`{"i":%d}`, i)
			if failing(i) {
				body = fmt.Sprintf(`{"fail":%d}`, i)
			}
			r, err := f.tryRun(job, body)
			if err != nil {
				t.Errorf("run %d: %v", i, err)
			}
			out[i] = r
		})
	}
	close(start)
	wg.Wait()
	return out
}

func TestBatching_concurrentRunsShareInvocations(t *testing.T) {
	remote := newBatchingRemote()
	remote.delay = 3 * time.Millisecond
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1, BatchMaxWait: 5 * time.Millisecond,
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	const n = 40
	failing := func(i int) bool { return i%7 == 3 }
	res := runConcurrently(t, f, "resize", n, failing)
	for i, r := range res {
		if failing(i) {
			if r.status != 422 || r.err.Code != "job_error" || r.err.Message != fmt.Sprintf(`remote says no to {"fail":%d}`, i) {
				t.Errorf("run %d: %d %s, want its own job error", i, r.status, r.raw)
			}
			continue
		}
		if want := fmt.Sprintf(`{"ran":%q,"input":{"i":%d}}`, r.run.Ran.Region, i); r.status != 200 || string(r.run.Output) != want || r.run.Ran.Target != "serverless" {
			t.Errorf("run %d: %d %s, want output %s", i, r.status, r.raw, want)
		}
	}
	sizes := append(remote.sizes("a"), remote.sizes("b")...)
	single := remote.count("a") + remote.count("b")
	batched := 0
	for _, s := range sizes {
		batched += s
	}
	if batched+single != n || len(sizes)+single >= n || len(sizes) == 0 {
		t.Fatalf("%d executions reached the regions in %d batches %v and %d single calls; want all %d in fewer than %d requests", batched+single, len(sizes), sizes, single, n, n)
	}
	t.Logf("%d executions: batches %v and %d single calls", n, sizes, single)
	m := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{
		fmt.Sprintf(`blueprint_agent_batched_executions_total{job="resize"} %d`, batched),
		fmt.Sprintf(`blueprint_agent_batch_size_count{job="resize"} %d`, len(sizes)),
		fmt.Sprintf(`blueprint_agent_batch_size_sum{job="resize"} %d`, batched),
		`blueprint_agent_batch_size_bucket{job="resize",le="+Inf"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A job that is not pure is never batched: a batch that fails may be retried item by item.
	before, singleBefore := len(remote.sizes("a"))+len(remote.sizes("b")), single
	res = runConcurrently(t, f, "charge", 8, func(int) bool { return false })
	for i, r := range res {
		if r.status != 200 {
			t.Errorf("charge %d: %d %s", i, r.status, r.raw)
		}
	}
	if got, single := len(remote.sizes("a"))+len(remote.sizes("b")), remote.count("a")+remote.count("b")-singleBefore; got != before || single != 8 {
		t.Fatalf("non-pure job: %d new batches and %d single calls, want 0 and 8", got-before, single)
	}
}

// TestBatching_wholeBatchFailureFailsOver: a batch that fails as a whole fails each of its
// executions with a transport error; pure jobs then fail over to the next region one by one,
// as single calls do, within the retry budget.
func TestBatching_wholeBatchFailureFailsOver(t *testing.T) {
	remote := newBatchingRemote()
	// Slow enough that, while the first calls to region a are still failing, the others pile
	// up into batches for it even when the machine is busy and the callers arrive spread out.
	remote.delay = 20 * time.Millisecond
	remote.failBatches["a"] = true
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1,
		RetryMinConcurrent: 1000, // this test watches failover, not the budget
		Platforms:          fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	const n = 24
	res := runConcurrently(t, f, "resize", n, func(int) bool { return false })
	failedOver := 0
	for i, r := range res {
		// Runs that came after region a's failures may skip it (the router saw it fail).
		if want := fmt.Sprintf(`{"ran":"b","input":{"i":%d}}`, i); r.status != 200 || string(r.run.Output) != want {
			t.Errorf("run %d: %d %s, want %s", i, r.status, r.raw, want)
		}
		if r.run.Attempts == 2 {
			failedOver++
		}
	}
	if failedOver == 0 || len(remote.sizes("a")) == 0 || len(remote.sizes("b")) == 0 {
		t.Fatalf("%d runs failed over; batches: a %v, b %v", failedOver, remote.sizes("a"), remote.sizes("b"))
	}
	m := get(t, f.srv.URL+"/metrics")
	if !strings.Contains(m, fmt.Sprintf(`blueprint_agent_remote_attempts_total{job="resize",outcome="transport_error",platform="fake",region="a"} %d`, failedOver)) {
		t.Errorf("/metrics does not count %d transport errors in region a", failedOver)
	}

	// With the default budget (3 retries in flight at least, 20% of requests), a burst that
	// fails at once cannot all retry: the ones over the budget do not go to region b; this
	// pure job then runs here, the last capacity, as after any failed offload (or is refused
	// as busy when that is full too).
	g := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1,
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	remote.delay = 20 * time.Millisecond // the retries overlap
	res = runConcurrently(t, g, "resize", n, func(int) bool { return false })
	for i, r := range res {
		// The local fallback has one slot and a short queue: beyond it, busy.
		ranB := r.status == 200 && r.run.Ran.Region == "b"
		ranHere := r.status == 200 && r.run.Ran.Target == "local" && r.run.Decision == "no_healthy_region"
		if !ranB && !ranHere && !(r.status == 503 && r.err.Code == "busy") {
			t.Errorf("run %d: %d %s", i, r.status, r.raw)
		}
	}
	if m := get(t, g.srv.URL+"/metrics"); !strings.Contains(m, `blueprint_agent_remote_attempts_total{job="resize",outcome="retry_budget",platform="fake",region="b"}`) {
		t.Errorf("no run was refused a retry: the budget did not bound failover of a failed batch")
	}
}

func TestBatching_unsupportedAndOff(t *testing.T) {
	remote := newBatchingRemote()
	remote.unsupported["a"], remote.unsupported["b"] = true, true
	remote.delay = 2 * time.Millisecond
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1,
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	for round := range 2 {
		res := runConcurrently(t, f, "resize", 10, func(i int) bool { return i == 4 })
		for i, r := range res {
			if i == 4 && r.status == 422 && r.err.Code == "job_error" {
				continue
			}
			if r.status != 200 || r.run.Ran.Target != "serverless" {
				t.Errorf("round %d run %d: %d %s", round, i, r.status, r.raw)
			}
		}
	}
	if single := remote.count("a") + remote.count("b"); single != 20 {
		t.Fatalf("regions that do not batch got %d single calls, want 20", single)
	}

	remote = newBatchingRemote()
	remote.delay = 2 * time.Millisecond
	g := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1, BatchMaxItems: 1,
		Platforms: fakePlatforms(t, map[string]platform.Invoker{"fake": remote})})
	runConcurrently(t, g, "resize", 10, func(int) bool { return false })
	if len(remote.sizes("a"))+len(remote.sizes("b")) != 0 || remote.count("a")+remote.count("b") != 10 {
		t.Fatalf("--batch-max-items 1: %v %v batches, %d single calls", remote.sizes("a"), remote.sizes("b"), remote.count("a")+remote.count("b"))
	}

	// A platform's own batch limit caps what the agent gathers for its deployments.
	capped := newBatchingRemote()
	capped.delay = 2 * time.Millisecond
	d := fakeDescriptor("fake", capped, 6<<20)
	d.Limits.MaxBatchItems = 3
	reg, err := platform.NewRegistry(d)
	if err != nil {
		t.Fatal(err)
	}
	platforms, err := NewPlatforms(reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: -1}, MemoBytes: -1, HedgeRatio: -1, BatchMaxItems: 16, Platforms: platforms})
	runConcurrently(t, h, "resize", 12, func(int) bool { return false })
	for _, n := range append(capped.sizes("a"), capped.sizes("b")...) {
		if n > 3 {
			t.Fatalf("a batch of %d went to a platform that takes 3 (batches %v %v)", n, capped.sizes("a"), capped.sizes("b"))
		}
	}
}
