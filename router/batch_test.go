package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// dense gives the batcher a history of arrivals 100 ms apart, so that it waits for company
// (a fresh batcher has no evidence that company comes and sends at once).
func dense(b *Batcher) *Batcher {
	b.mu.Lock()
	b.gapEWMA = 100 * time.Millisecond
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
	b := dense(NewBatcher(BatchPolicy{MaxItems: 4, MaxWait: time.Second}, e.run))
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
	b := NewBatcher(BatchPolicy{MaxItems: 10, MaxBytes: 10, MaxWait: time.Second}, e.run)
	for _, in := range []string{"123456", "abcdef"} {
		if _, err := b.Do(context.Background(), []byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.batches(); len(got) != 2 {
		t.Fatalf("batches %v: two 6-byte inputs must not share a 10-byte batch", got)
	}
}

func TestBatcherWaitAdapts(t *testing.T) {
	b := NewBatcher(BatchPolicy{MaxItems: 8, MaxWait: 5 * time.Millisecond}, (&echoRun{}).run)
	if w := b.Wait(); w != 0 {
		t.Fatalf("wait %v before any arrival; want 0 (no evidence that company comes)", w)
	}
	b.mu.Lock()
	b.gapEWMA = 20 * time.Millisecond // sparse: one arrival every 20 ms
	b.mu.Unlock()
	if w := b.Wait(); w != 0 {
		t.Fatalf("wait %v for arrivals 20 ms apart; want 0: waiting 5 ms buys no company", w)
	}
	b.mu.Lock()
	b.gapEWMA = 100 * time.Microsecond // dense
	b.mu.Unlock()
	if w := b.Wait(); w != 700*time.Microsecond {
		t.Fatalf("wait %v for arrivals 100 µs apart and 8 items; want the 700 µs it takes to fill", w)
	}
	b.mu.Lock()
	b.gapEWMA = time.Millisecond
	b.mu.Unlock()
	if w := b.Wait(); w != 5*time.Millisecond {
		t.Fatalf("wait %v; want MaxWait 5 ms as the cap", w)
	}
	budgeted := NewBatcher(BatchPolicy{MaxItems: 8, MaxWait: 5 * time.Millisecond, LatencyBudget: 8 * time.Millisecond}, (&echoRun{}).run)
	budgeted.gapEWMA = time.Millisecond
	if w := budgeted.Wait(); w != 2*time.Millisecond {
		t.Fatalf("wait %v with an 8 ms latency budget; want a quarter of it", w)
	}
}

func TestBatcherMissingResult(t *testing.T) {
	b := dense(NewBatcher(BatchPolicy{MaxItems: 2, MaxWait: time.Second}, func(context.Context, [][]byte) []BatchResult {
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
