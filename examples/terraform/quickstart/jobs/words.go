package jobs

import (
	"context"
	"sort"
	"strings"
	"unicode"
)

// WordsRequest is a text and how many of its most frequent words to return.
type WordsRequest struct {
	Text string `json:"text"`
	Top  int    `json:"top"`
}

// WordCount is one word and how often it occurs.
type WordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// TopWords counts words case-insensitively and returns the most frequent ones. The counts
// live in a map, but the result is sorted, so the job stays deterministic.
//
//blueprint:job
func TopWords(ctx context.Context, in WordsRequest) ([]WordCount, error) {
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(in.Text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		counts[w]++
	}
	words := make([]WordCount, 0, len(counts))
	for w, c := range counts {
		words = append(words, WordCount{Word: w, Count: c})
	}
	sort.Slice(words, func(i, j int) bool {
		if words[i].Count != words[j].Count {
			return words[i].Count > words[j].Count
		}
		return words[i].Word < words[j].Word
	})
	if in.Top > 0 && in.Top < len(words) {
		words = words[:in.Top]
	}
	return words, nil
}
