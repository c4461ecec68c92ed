// Package concurrency holds corpus jobs with goroutines: disjoint writes joined before return
// are deterministic; arrival order, shared appends and select are not.
package concurrency

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// In is the input of every job in this package.
type In struct {
	Words []string `json:"words"`
}

// Out is the output of every job in this package.
type Out struct {
	Words  []string `json:"words"`
	Number int      `json:"number"`
	Text   string   `json:"text"`
}

// DisjointSlots exercises goroutines that each write their own slot, joined with a WaitGroup.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DisjointSlots(ctx context.Context, in In) (Out, error) {
	out := make([]string, len(in.Words))
	var wg sync.WaitGroup
	for i, w := range in.Words {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = strings.ToUpper(w)
		}()
	}
	wg.Wait()
	return Out{Words: out}, nil
}

// MutexAppend exercises goroutines appending to one slice under a mutex (order is a race).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func MutexAppend(ctx context.Context, in In) (Out, error) {
	var (
		mu  sync.Mutex
		out []string
		wg  sync.WaitGroup
	)
	for _, w := range in.Words {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			out = append(out, strings.ToUpper(w))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return Out{Words: out}, nil
}

// ArrivalOrder exercises results collected from a channel in the order they arrive.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ArrivalOrder(ctx context.Context, in In) (Out, error) {
	ch := make(chan string)
	for _, w := range in.Words {
		go func() { ch <- strings.ToUpper(w) }()
	}
	out := make([]string, 0, len(in.Words))
	for range in.Words {
		out = append(out, <-ch)
	}
	return Out{Words: out}, nil
}

type indexed struct {
	i int
	s string
}

// IndexedResults exercises results sent on a channel with their index and put back in place.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func IndexedResults(ctx context.Context, in In) (Out, error) {
	ch := make(chan indexed)
	for i, w := range in.Words {
		go func() { ch <- indexed{i, strings.ToUpper(w)} }()
	}
	out := make([]string, len(in.Words))
	for range in.Words {
		r := <-ch
		out[r.i] = r.s
	}
	return Out{Words: out}, nil
}

// SelectTwo exercises a select between two channels fed by racing goroutines.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func SelectTwo(ctx context.Context, in In) (Out, error) {
	a, b := make(chan string, 1), make(chan string, 1)
	go func() { a <- "first" }()
	go func() { b <- "second" }()
	select {
	case s := <-a:
		return Out{Text: s}, nil
	case s := <-b:
		return Out{Text: s}, nil
	}
}

// OneWorker exercises a single goroutine whose one result is received.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func OneWorker(ctx context.Context, in In) (Out, error) {
	ch := make(chan int)
	go func() { ch <- len(in.Words) }()
	return Out{Number: <-ch}, nil
}

// AtomicSum exercises goroutines adding to a local atomic counter (the sum is order-free).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func AtomicSum(ctx context.Context, in In) (Out, error) {
	var n atomic.Int64
	var wg sync.WaitGroup
	for _, w := range in.Words {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.Add(int64(len(w)))
		}()
	}
	wg.Wait()
	return Out{Number: int(n.Load())}, nil
}

// seen counts words across runs; GlobalFromGoroutines writes it.
var (
	seenMu sync.Mutex
	seen   int
)

// GlobalFromGoroutines exercises goroutines writing a package-level counter under a mutex.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func GlobalFromGoroutines(ctx context.Context, in In) (Out, error) {
	var wg sync.WaitGroup
	for range in.Words {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seenMu.Lock()
			seen++
			seenMu.Unlock()
		}()
	}
	wg.Wait()
	seenMu.Lock()
	defer seenMu.Unlock()
	return Out{Number: seen}, nil
}

// Timeout exercises a select between a worker's result and a timer (which wins depends on timing).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func Timeout(ctx context.Context, in In) (Out, error) {
	done := make(chan int, 1)
	go func() { done <- len(in.Words) }()
	select {
	case n := <-done:
		return Out{Number: n}, nil
	case <-time.After(time.Second):
		return Out{Number: -1}, nil
	}
}
