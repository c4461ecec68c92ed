package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoRun answers each input with itself, fails items containing "bad", and records batch sizes.
type echoRun struct {
	mu    sync.Mutex
	sizes []int
}

func (e *echoRun) run(_ context.Context, inputs [][]byte) []BatchResult {
	e.mu.Lock()
	e.sizes = append(e.sizes, len(inputs))
	e.mu.Unlock()
	out := make([]BatchResult, len(inputs))
	for i, in := range inputs {
		if bytes.Contains(in, []byte("bad")) {
			out[i].Err = fmt.Errorf("item %s failed", in)
			continue
		}
		out[i].Output = append([]byte("echo:"), in...)
	}
	return out
}

func (e *echoRun) batches() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.sizes...)
}

// busy makes the batcher gather: every request slot counts as taken, so executions wait for
// company (or for MaxWait) instead of going alone.
func busy(b *Batcher) *Batcher {
	b.mu.Lock()
	b.inFlight = b.policy.MaxInFlight
	b.mu.Unlock()
	return b
}

func doAll(b *Batcher, inputs ...string) ([]string, []error) {
	outs, errs := make([]string, len(inputs)), make([]error, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := b.Do(context.Background(), []byte(in))
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	return outs, errs
}

func TestBatcherResultsOneToOneWithErrorsPerItem(t *testing.T) {
	e := &echoRun{}
	b := busy(NewBatcher(BatchPolicy{MaxItems: 4, MaxWait: time.Second}, e.run))
	outs, errs := doAll(b, "a", "bad", "c", "d")
	for i, want := range []string{"echo:a", "", "echo:c", "echo:d"} {
		if outs[i] != want {
			t.Errorf("item %d: output %q, want %q", i, outs[i], want)
		}
	}
	if errs[1] == nil || errs[0] != nil || errs[2] != nil || errs[3] != nil {
		t.Errorf("errors %v: want only the bad item to fail", errs)
	}
	if got := e.batches(); len(got) != 1 || got[0] != 4 {
		t.Errorf("batches %v: want one full batch of 4 (flushed on size, not on the 1 s wait)", got)
	}
}

func TestBatcherFlushesOnPayloadLimit(t *testing.T) {
	e := &echoRun{}
	b := busy(NewBatcher(BatchPolicy{MaxItems: 10, MaxBytes: 10, MaxWait: 20 * time.Millisecond}, e.run))
	_, errs := doAll(b, "123456", "abcdef")
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := e.batches(); len(got) != 2 || got[0] != 1 || got[1] != 1 {
		t.Fatalf("batches %v: two 6-byte inputs must not share a 10-byte batch", got)
	}
}

// blockingRun is a RunBatch whose calls wait until released, recording the batches.
type blockingRun struct {
	mu      sync.Mutex
	batches [][]string
	release chan struct{} // closed or sent to let a call return; nil = return at once
}

func (b *blockingRun) run(ctx context.Context, inputs [][]byte) []BatchResult {
	b.mu.Lock()
	batch := make([]string, len(inputs))
	for i, in := range inputs {
		batch[i] = string(in)
	}
	b.batches = append(b.batches, batch)
	release := b.release
	b.mu.Unlock()
	if release != nil {
		<-release
	}
	out := make([]BatchResult, len(inputs))
	for i, in := range inputs {
		out[i].Output = append([]byte("out:"), in...)
	}
	return out
}

func (b *blockingRun) seen() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]string(nil), b.batches...)
}

// do runs g.Do in a goroutine and returns a channel with its output (or error text).
func do(ctx context.Context, b *Batcher, input string) <-chan string {
	ch := make(chan string, 1)
	go func() {
		out, err := b.Do(ctx, []byte(input))
		if err != nil {
			ch <- "error: " + err.Error()
			return
		}
		ch <- string(out)
	}()
	return ch
}

// TestBatcherGroupCommit: a lone execution goes at once; while MaxInFlight requests are out,
// executions gather and leave together when one comes back; MaxItems, MaxWait, a quarter of
// the latency budget and callers that left are honoured.
func TestBatcherGroupCommit(t *testing.T) {
	ctx := context.Background()
	forever := time.Hour

	// A lone execution is sent at once: it never waits for company that is not coming.
	r := &blockingRun{}
	g := NewBatcher(BatchPolicy{MaxItems: 16, MaxBytes: 1 << 20, MaxWait: forever}, r.run)
	for i := range 3 {
		if out := <-do(ctx, g, fmt.Sprint(i)); out != fmt.Sprintf("out:%d", i) {
			t.Fatalf("lone execution %d: %s", i, out)
		}
	}
	if got := r.seen(); len(got) != 3 {
		t.Fatalf("batches %v, want three of one", got)
	}

	// While two requests are out, executions wait and leave together when one comes back.
	r = &blockingRun{release: make(chan struct{})}
	g = NewBatcher(BatchPolicy{MaxItems: 16, MaxBytes: 1 << 20, MaxWait: forever, MaxInFlight: 2}, r.run)
	first, second := do(ctx, g, "a"), do(ctx, g, "b")
	waitFor(t, "two requests out", func() bool { return len(r.seen()) == 2 })
	var rest []<-chan string
	for k, in := range []string{"c", "d", "e"} {
		rest = append(rest, do(ctx, g, in))
		waitFor(t, in+" pending", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return len(g.pending) == k+1 })
	}
	r.release <- struct{}{} // one request comes back
	waitFor(t, "the pending executions sent", func() bool { return len(r.seen()) == 3 })
	if got := r.seen()[2]; strings.Join(got, ",") != "c,d,e" {
		t.Fatalf("third batch %v, want c,d,e", got)
	}
	close(r.release)
	for i, ch := range append([]<-chan string{first, second}, rest...) {
		if out := <-ch; out != "out:"+string(rune('a'+i)) {
			t.Errorf("execution %d: %s", i, out)
		}
	}

	// Bounds while the deployment is busy: a full batch goes at once, no execution waits past
	// MaxWait or a quarter of its latency budget, and callers that left are not run.
	r = &blockingRun{release: make(chan struct{})}
	g = NewBatcher(BatchPolicy{MaxItems: 2, MaxBytes: 1 << 20, MaxWait: forever, MaxInFlight: 2}, r.run)
	do(ctx, g, "x1")
	do(ctx, g, "x2")
	waitFor(t, "two requests out", func() bool { return len(r.seen()) == 2 })
	do(ctx, g, "full1")
	do(ctx, g, "full2")
	waitFor(t, "a full batch sent while busy", func() bool { return len(r.seen()) == 3 })
	gone, leave := context.WithCancel(ctx)
	left := do(gone, g, "left")
	leave()
	if out := <-left; !strings.Contains(out, "canceled") {
		t.Fatalf("caller that left: %s", out)
	}
	do(WithLatencyBudget(ctx, 40*time.Millisecond), g, "budget")
	waitFor(t, "the budgeted execution sent by its wait", func() bool { return len(r.seen()) == 4 })
	if got := r.seen()[3]; strings.Join(got, ",") != "budget" {
		t.Fatalf("budget batch %v: the caller that left must not run", got)
	}
	g.policy.MaxWait = 30 * time.Millisecond
	do(ctx, g, "maxwait")
	waitFor(t, "the execution sent by MaxWait", func() bool { return len(r.seen()) == 5 })
	close(r.release)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBatcherMissingResult(t *testing.T) {
	b := busy(NewBatcher(BatchPolicy{MaxItems: 2, MaxWait: time.Second}, func(context.Context, [][]byte) []BatchResult {
		return []BatchResult{{Output: []byte("only one")}}
	}))
	_, errs := doAll(b, "x", "y")
	missing := 0
	for _, err := range errs {
		if errors.Is(err, ErrBatchResultMissing) {
			missing++
		}
	}
	if missing != 1 {
		t.Fatalf("errors %v: want exactly one item told its result is missing", errs)
	}
}

func TestBatcherHammer(t *testing.T) {
	e := &echoRun{}
	b := NewBatcher(BatchPolicy{MaxItems: 8, MaxWait: time.Millisecond}, e.run)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := fmt.Sprintf("g%d-i%d", g, i)
				out, err := b.Do(context.Background(), []byte(in))
				if err != nil || string(out) != "echo:"+in {
					t.Errorf("Do(%s) = %q, %v: results crossed between callers", in, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total, batches := 0, e.batches()
	for _, n := range batches {
		total += n
	}
	if total != 16*200 {
		t.Fatalf("%d items ran, want %d", total, 16*200)
	}
	t.Logf("%d items in %d batches (%.1f per batch)", total, len(batches), float64(total)/float64(len(batches)))
}
