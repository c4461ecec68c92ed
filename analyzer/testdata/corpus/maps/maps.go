// Package maps holds corpus jobs about map iteration order: deterministic when the order
// cannot reach the output, not deterministic when it does.
package maps

import (
	"context"
	"encoding/json"
	"sort"
)

// In is the input of every job in this package.
type In struct {
	Counts map[string]int `json:"counts"`
}

// Out is the output of every job in this package.
type Out struct {
	Keys   []string       `json:"keys"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Text   string         `json:"text"`
}

// SortedKeys exercises map iteration whose keys are sorted before they reach the output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortedKeys(ctx context.Context, in In) (Out, error) {
	keys := make([]string, 0, len(in.Counts))
	for k := range in.Counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return Out{Keys: keys}, nil
}

// UnsortedKeys exercises map iteration order reaching the output unsorted.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func UnsortedKeys(ctx context.Context, in In) (Out, error) {
	keys := make([]string, 0, len(in.Counts))
	for k := range in.Counts {
		keys = append(keys, k)
	}
	return Out{Keys: keys}, nil
}

// SumValues exercises summing ints over a map (addition does not depend on the order).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SumValues(ctx context.Context, in In) (Out, error) {
	total := 0
	for _, v := range in.Counts {
		total += v
	}
	return Out{Total: total}, nil
}

// CopyMap exercises map iteration into another map (a map has no order in the output).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CopyMap(ctx context.Context, in In) (Out, error) {
	out := make(map[string]int, len(in.Counts))
	for k, v := range in.Counts {
		out[k] = v * 2
	}
	return Out{Counts: out}, nil
}

// FirstKey exercises an early break out of map iteration: which key comes first is random.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func FirstKey(ctx context.Context, in In) (Out, error) {
	for k := range in.Counts {
		return Out{Text: k}, nil
	}
	return Out{}, nil
}

// MarshalMap exercises encoding/json on a map (it sorts the keys).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func MarshalMap(ctx context.Context, in In) (Out, error) {
	b, err := json.Marshal(in.Counts)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: string(b)}, nil
}
