package holdout3

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// ParsePricesFanOut exercises an errgroup written by hand: one goroutine per item, results
// and errors stored by index, the first error by index returned after the join.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ParsePricesFanOut(ctx context.Context, in In) (Out, error) {
	vals := make([]float64, len(in.Prices))
	errs := make([]error, len(in.Prices))
	var wg sync.WaitGroup
	for i, p := range in.Prices {
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			v, err := strconv.ParseFloat(strings.TrimPrefix(p, "$"), 64)
			if err != nil {
				errs[i] = fmt.Errorf("price %d: %w", i, err)
				return
			}
			vals[i] = v
		}(i, p)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return Out{}, err
		}
	}
	var total float64
	for _, v := range vals {
		total += v
	}
	return Out{Value: total, Count: len(vals)}, nil
}

// WordCountPool exercises a worker pool whose int results arrive on a channel in any order
// and are summed (an order-free integer sum).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func WordCountPool(ctx context.Context, in In) (Out, error) {
	jobs := make(chan string)
	results := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range jobs {
				results <- len(strings.Fields(line))
			}
		}()
	}
	go func() {
		for _, l := range in.Lines {
			jobs <- l
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	total := 0
	for n := range results {
		total += n
	}
	return Out{Count: total}, nil
}

// UpperPool exercises the same worker pool with string results concatenated in arrival order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func UpperPool(ctx context.Context, in In) (Out, error) {
	jobs := make(chan string)
	results := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range jobs {
				results <- strings.ToUpper(line)
			}
		}()
	}
	go func() {
		for _, l := range in.Lines {
			jobs <- l
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	var b strings.Builder
	for s := range results {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return Out{Text: b.String()}, nil
}

// FirstValid exercises racing validators where the first answer on a shared channel wins
// and the rest are cancelled through the context (arrival order reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func FirstValid(ctx context.Context, in In) (Out, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	found := make(chan string, len(in.Items))
	var wg sync.WaitGroup
	for _, it := range in.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := strconv.Atoi(it); err == nil {
				select {
				case found <- it:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(found)
	}()
	s, ok := <-found
	if !ok {
		return Out{}, errors.New("no numeric item")
	}
	return Out{Text: s}, nil
}
