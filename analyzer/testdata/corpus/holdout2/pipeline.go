package holdout2

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout2/mw"
)

func reverseWords(req string) (string, error) {
	words := strings.Fields(req)
	for i, j := 0, len(words)-1; i < j; i, j = i+1, j-1 {
		words[i], words[j] = words[j], words[i]
	}
	return strings.Join(words, " "), nil
}

// ChainPure exercises a middleware chain of closures from mw (trim, limit, stderr logging).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ChainPure(ctx context.Context, in In) (Out, error) {
	h := mw.Chain(reverseWords, mw.Logged("reverse"), mw.Trim(), mw.Limit(4096))
	s, err := h(in.Text)
	return Out{Text: s}, err
}

// ChainCounted exercises a middleware chain where one layer increments mw.Calls, a global atomic
// counter (the count never reaches the output).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func ChainCounted(ctx context.Context, in In) (Out, error) {
	h := mw.Chain(reverseWords, mw.Counted(), mw.Trim())
	s, err := h(in.Text)
	return Out{Text: s}, err
}

// FormatOptions exercises the functional options pattern on a formatter built per call.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FormatOptions(ctx context.Context, in In) (Out, error) {
	opts := []mw.Option{mw.WithWidth(12)}
	if in.ID != "" {
		opts = append(opts, mw.WithPrefix(in.ID+": "))
	}
	if in.Op == "shout" {
		opts = append(opts, mw.Upper())
	}
	f := mw.NewFormatter(opts...)
	out := Out{}
	for _, it := range in.Items {
		out.Lines = append(out.Lines, f.Format(it))
	}
	return out, nil
}

// RetryDefaults exercises a job that changes the process-wide default of mw's retry policy and
// returns the policy built from it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RetryDefaults(ctx context.Context, in In) (Out, error) {
	mw.SetDefaultAttempts(in.N)
	p := mw.NewPolicy()
	return Out{Count: p.Attempts, Text: p.Base.String()}, nil
}

// PolicyFromDefaults exercises only reading mw's default attempts, a global that RetryDefaults
// writes (mutable package-level state reaching the output).
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PolicyFromDefaults(ctx context.Context, in In) (Out, error) {
	p := mw.NewPolicy()
	return Out{Count: p.Attempts}, nil
}

// ParseAllJoined exercises a hand-written errgroup: one goroutine per item, results and errors
// in per-index slots, joined, errors combined in index order.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ParseAllJoined(ctx context.Context, in In) (Out, error) {
	vals := make([]float64, len(in.Items))
	errs := make([]error, len(in.Items))
	var wg sync.WaitGroup
	for i, it := range in.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := strconv.ParseFloat(strings.TrimSpace(it), 64)
			if err != nil {
				errs[i] = fmt.Errorf("item %d: %w", i, err)
				return
			}
			vals[i] = v
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Out{}, err
	}
	total := 0.0
	for _, v := range vals {
		total += v
	}
	return Out{Value: total}, nil
}

// ParseAllFirstError exercises a hand-written errgroup that keeps the first error to arrive and
// cancels the rest (which error is first is a race between goroutines).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ParseAllFirstError(ctx context.Context, in In) (Out, error) {
	gctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	vals := make([]int64, len(in.Items))
	for i, it := range in.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if gctx.Err() != nil {
				return
			}
			v, err := strconv.ParseInt(it, 10, 64)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("item %d %q: %w", i, it, err)
					cancel()
				}
				mu.Unlock()
				return
			}
			vals[i] = v
		}()
	}
	wg.Wait()
	if first != nil {
		return Out{}, first
	}
	var total int64
	for _, v := range vals {
		total += v
	}
	return Out{Count: int(total)}, nil
}

// NormalizeSorted exercises results gathered from a channel in arrival order, then sorted.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func NormalizeSorted(ctx context.Context, in In) (Out, error) {
	results := make(chan string, len(in.Items))
	var wg sync.WaitGroup
	for _, it := range in.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- strings.ToLower(strings.TrimSpace(it))
		}()
	}
	wg.Wait()
	close(results)
	out := Out{}
	for s := range results {
		out.Lines = append(out.Lines, s)
	}
	sort.Strings(out.Lines)
	return out, nil
}

// Throttled exercises a fixed pause (time.Sleep) between items (reading: sleeping yields no
// value, so nothing from the clock reaches the output).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Throttled(ctx context.Context, in In) (Out, error) {
	out := Out{}
	for i, it := range in.Items {
		if i > 0 {
			time.Sleep(5 * time.Millisecond)
		}
		out.Lines = append(out.Lines, strings.ToUpper(it))
	}
	return out, nil
}

// bucket is a token-bucket rate limiter local to one call.
type bucket struct {
	tokens float64
	rate   float64
	last   time.Time
}

func (b *bucket) allow() bool {
	now := time.Now()
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*b.rate, 5)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// TokenBucket exercises a local token-bucket limiter driven by the clock: which items are
// dropped depends on timing, and the kept items are the output.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TokenBucket(ctx context.Context, in In) (Out, error) {
	b := &bucket{tokens: 5, rate: 50, last: time.Now()}
	out := Out{}
	for _, it := range in.Items {
		if b.allow() {
			out.Lines = append(out.Lines, it)
		}
	}
	return out, nil
}
