package holdout4

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// parsedCache memoises parsed key=value documents across calls; hits and misses count lookups.
var (
	parsedCache sync.Map // string -> map[string]int
	cacheHits   atomic.Int64
	cacheMisses atomic.Int64
	nextRequest atomic.Uint64
)

func parseKV(text string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range strings.Fields(text) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("field %q: want key=value", f)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f, err)
		}
		out[k] = n
	}
	return out, nil
}

// CachedKVSum exercises a sync.Map global cache: the summed map is the one read back from it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func CachedKVSum(ctx context.Context, in In) (Out, error) {
	var m map[string]int
	if v, ok := parsedCache.Load(in.Text); ok {
		cacheHits.Add(1)
		m = v.(map[string]int)
	} else {
		cacheMisses.Add(1)
		parsed, err := parseKV(in.Text)
		if err != nil {
			return Out{}, err
		}
		v, _ := parsedCache.LoadOrStore(in.Text, parsed)
		m = v.(map[string]int)
	}
	sum := 0
	for _, n := range m {
		sum += n
	}
	return Out{Count: sum}, nil
}

// CacheHitRatio exercises atomic loads of package-level counters that CachedKVSum writes.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func CacheHitRatio(ctx context.Context, in In) (Out, error) {
	h, m := cacheHits.Load(), cacheMisses.Load()
	if h+m == 0 {
		return Out{}, nil
	}
	return Out{Value: float64(h) / float64(h+m)}, nil
}

// NextRequestID exercises an atomic package-level counter whose new value is the output.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func NextRequestID(ctx context.Context, in In) (Out, error) {
	id := nextRequest.Add(1)
	return Out{Text: in.Key + "-" + strconv.FormatUint(id, 36)}, nil
}

// LocalMemoKV exercises a cache that lives only for the call (a local map of parsed lines).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func LocalMemoKV(ctx context.Context, in In) (Out, error) {
	memo := map[string]map[string]int{}
	total := 0
	for _, line := range in.Lines {
		m, ok := memo[line]
		if !ok {
			var err error
			if m, err = parseKV(line); err != nil {
				return Out{}, err
			}
			memo[line] = m
		}
		total += m[in.Key]
	}
	return Out{Count: total}, nil
}
