package realapp

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// tally is a word and how often it appears.
type tally struct {
	word  string
	count int
}

func countWords(text string) map[string]int {
	counts := map[string]int{}
	for _, w := range strings.Fields(text) {
		counts[w]++
	}
	return counts
}

// TopByCount sorts (word, count) pairs built in map order by count alone: words with equal
// counts come out in the map's order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TopByCount(ctx context.Context, in In) (Out, error) {
	var list []tally
	for w, n := range countWords(in.Name) {
		list = append(list, tally{word: w, count: n})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].count > list[j].count })
	return Out{Text: fmt.Sprint(list)}, nil
}

// TopByCountThenWord breaks ties by the word, which came from the map's key: a total order.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TopByCountThenWord(ctx context.Context, in In) (Out, error) {
	var list []tally
	for w, n := range countWords(in.Name) {
		list = append(list, tally{word: w, count: n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].count != list[j].count {
			return list[i].count > list[j].count
		}
		return list[i].word < list[j].word
	})
	return Out{Text: fmt.Sprint(list)}, nil
}

// KeysByValue sorts the map's keys by the value each maps to: equal values keep map order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func KeysByValue(ctx context.Context, in In) (Out, error) {
	counts := countWords(in.Name)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	return Out{Text: strings.Join(keys, ",")}, nil
}

// KeysByValueThenKey sorts the keys by value and then by the key itself: total.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func KeysByValueThenKey(ctx context.Context, in In) (Out, error) {
	counts := countWords(in.Name)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return Out{Text: strings.Join(keys, ",")}, nil
}

// StableByCount uses a stable sort by count: a stable sort keeps ties in the order they came
// in, which is the map's.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func StableByCount(ctx context.Context, in In) (Out, error) {
	var list []*tally
	for w, n := range countWords(in.Name) {
		list = append(list, &tally{word: w, count: n})
	}
	slices.SortStableFunc(list, func(a, b *tally) int { return cmp.Compare(b.count, a.count) })
	var out []string
	for _, t := range list {
		out = append(out, t.word)
	}
	return Out{Text: strings.Join(out, ",")}, nil
}

// byLengthThenText orders strings by length, then by their text.
type byLengthThenText []string

func (s byLengthThenText) Len() int      { return len(s) }
func (s byLengthThenText) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s byLengthThenText) Less(i, j int) bool {
	if len(s[i]) != len(s[j]) {
		return len(s[i]) < len(s[j])
	}
	return s[i] < s[j]
}

// byLength orders strings by length only.
type byLength []string

func (s byLength) Len() int           { return len(s) }
func (s byLength) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLength) Less(i, j int) bool { return len(s[i]) < len(s[j]) }

// KeysByLengthThenText sorts the map's keys with a sort.Interface whose Less breaks ties by
// the text: total.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func KeysByLengthThenText(ctx context.Context, in In) (Out, error) {
	var keys []string
	for k := range countWords(in.Name) {
		keys = append(keys, k)
	}
	sort.Sort(byLengthThenText(keys))
	return Out{Text: strings.Join(keys, ",")}, nil
}

// KeysByLength sorts the map's keys by length only: words of one length keep map order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func KeysByLength(ctx context.Context, in In) (Out, error) {
	var keys []string
	for k := range countWords(in.Name) {
		keys = append(keys, k)
	}
	sort.Sort(byLength(keys))
	return Out{Text: strings.Join(keys, ",")}, nil
}

// pairUpper is a word made upper case and its count; both fields are compared.
type pairUpper struct {
	upper string
	count int
}

// UpperByAllFields sorts pairs by every field they have: equal pairs are the same pair, so
// the order is total even though the key went through strings.ToUpper.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func UpperByAllFields(ctx context.Context, in In) (Out, error) {
	var list []pairUpper
	for w, n := range countWords(in.Name) {
		list = append(list, pairUpper{upper: strings.ToUpper(w), count: n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].count != list[j].count {
			return list[i].count < list[j].count
		}
		return list[i].upper < list[j].upper
	})
	return Out{Text: fmt.Sprint(list)}, nil
}

// SumOfSortedCounts sorts counts taken from the map (plain ints: equal ones are
// indistinguishable) before joining them.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SumOfSortedCounts(ctx context.Context, in In) (Out, error) {
	var counts []int
	for _, n := range countWords(in.Name) {
		counts = append(counts, n)
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i] > counts[j] })
	return Out{Text: fmt.Sprint(counts)}, nil
}

// entry is a name and a size; its name is filled from map keys in one place and from the
// input's words (which may repeat) in another.
type entry struct {
	name string
	size int
}

func entriesOf(counts map[string]int) []entry {
	var out []entry
	for k, n := range counts {
		out = append(out, entry{name: k, size: n})
	}
	return out
}

// EntriesByName sorts entries built from a map's keys by name: the names are the keys here,
// so the order is total. (The analyzer sees the field filled from other text elsewhere in the
// program and assumes names may tie: a known miss, on the safe side.)
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func EntriesByName(ctx context.Context, in In) (Out, error) {
	list := entriesOf(countWords(in.Name))
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return Out{Text: fmt.Sprint(list)}, nil
}

// WordEntriesByName fills the same field from words that may repeat, keyed in a map by their
// position's parity, and sorts by name alone: equal names with different sizes keep the map's
// order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func WordEntriesByName(ctx context.Context, in In) (Out, error) {
	byParity := map[int]string{}
	for i, w := range strings.Fields(in.Name) {
		byParity[i%2] = w
	}
	var list []entry
	for parity, w := range byParity {
		list = append(list, entry{name: w, size: parity})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
	return Out{Text: fmt.Sprint(list)}, nil
}
