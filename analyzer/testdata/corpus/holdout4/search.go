package holdout4

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// liveIndex is a process-wide inverted index that IndexDocument adds to and SearchLive reads.
var (
	liveMu    sync.RWMutex
	liveIndex = map[string][]string{}
)

// terms splits text into lower-case words of letters and digits.
func terms(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// buildIndex maps each term to the numbers of the lines it occurs in.
func buildIndex(lines []string) map[string][]int {
	idx := map[string][]int{}
	for i, line := range lines {
		for _, t := range terms(line) {
			p := idx[t]
			if len(p) == 0 || p[len(p)-1] != i {
				idx[t] = append(p, i)
			}
		}
	}
	return idx
}

// BuildIndex exercises an inverted index whose terms are sorted before output (postings are
// in line order by construction).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func BuildIndex(ctx context.Context, in In) (Out, error) {
	idx := buildIndex(in.Lines)
	keys := make([]string, 0, len(idx))
	for t := range idx {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, t := range keys {
		out[i] = fmt.Sprintf("%s:%v", t, idx[t])
	}
	return Out{Lines: out}, nil
}

// IndexTermsUnsorted exercises the index's terms emitted in map iteration order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func IndexTermsUnsorted(ctx context.Context, in In) (Out, error) {
	idx := buildIndex(in.Lines)
	var out []string
	for t, p := range idx {
		out = append(out, fmt.Sprintf("%s:%d", t, len(p)))
	}
	return Out{Lines: out}, nil
}

// TopTerms exercises terms ranked by document frequency with ties broken by name
// (sort.Slice over keys collected from a map).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TopTerms(ctx context.Context, in In) (Out, error) {
	idx := buildIndex(in.Lines)
	type tf struct {
		term string
		df   int
	}
	var all []tf
	for t, p := range idx {
		all = append(all, tf{t, len(p)})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].df != all[j].df {
			return all[i].df > all[j].df
		}
		return all[i].term < all[j].term
	})
	n := min(max(in.N, 0), len(all))
	out := make([]string, 0, n)
	for _, x := range all[:n] {
		out = append(out, x.term)
	}
	return Out{Lines: out}, nil
}

// IndexDocument exercises adding to a package-level index under a mutex and returning the
// index's size read back from it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func IndexDocument(ctx context.Context, in In) (Out, error) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for _, t := range terms(in.Text) {
		if !slices.Contains(liveIndex[t], in.Key) {
			liveIndex[t] = append(liveIndex[t], in.Key)
		}
	}
	return Out{Count: len(liveIndex)}, nil
}

// SearchLive exercises a read of the package-level index that IndexDocument writes (reading:
// taking the read lock is synchronisation, not an effect, as in ReadMutable).
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func SearchLive(ctx context.Context, in In) (Out, error) {
	liveMu.RLock()
	docs := slices.Clone(liveIndex[strings.ToLower(in.Key)])
	liveMu.RUnlock()
	slices.Sort(docs)
	return Out{Lines: docs, Count: len(docs)}, nil
}
