// Package misc covers the map-order heuristic case by case, writes to the standard streams,
// and a job behind a build tag.
package misc

import (
	"context"
	"maps"
	"os"
	"slices"
)

type In struct {
	Ints   map[string]int     `json:"ints"`
	Floats map[string]float64 `json:"floats"`
}

//blueprint:job
func SumInts(ctx context.Context, in In) (int, error) {
	total := 0
	for _, v := range in.Ints {
		total += v
	}
	return total, nil
}

//blueprint:job
func SumFloats(ctx context.Context, in In) (float64, error) {
	total := 0.0
	for _, v := range in.Floats {
		total += v // float addition is not associative: order shows in the last bits
	}
	return total, nil
}

//blueprint:job
func SameKey(ctx context.Context, in In) (map[string]int, error) {
	out := map[string]int{}
	for k, v := range in.Ints {
		if v < 0 {
			continue
		}
		doubled := v * 2
		out[k] = doubled
	}
	return out, nil
}

//blueprint:job
func Inverted(ctx context.Context, in In) (map[int]string, error) {
	out := map[int]string{}
	for k, v := range in.Ints {
		out[v] = k // two keys with one value: the last one wins, in random order
	}
	return out, nil
}

//blueprint:job
func AnyKey(ctx context.Context, in In) (string, error) {
	for k := range in.Ints {
		return k, nil
	}
	return "", nil
}

//blueprint:job
func Concat(ctx context.Context, in In) (string, error) {
	s := ""
	for k := range in.Ints {
		s += k
	}
	return s, nil
}

//blueprint:job
func KeysIterator(ctx context.Context, in In) ([]string, error) {
	var keys []string
	for k := range maps.Keys(in.Ints) {
		keys = append(keys, k)
	}
	return keys, nil
}

//blueprint:job
func SortedIterator(ctx context.Context, in In) ([]string, error) {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(in.Ints)) {
		keys = append(keys, k)
	}
	return keys, nil
}

//blueprint:job
func Prune(ctx context.Context, in In) (int, error) {
	for k, v := range in.Ints {
		if v == 0 {
			delete(in.Ints, k)
		}
	}
	return len(in.Ints), nil
}

//blueprint:job
func Streams(ctx context.Context, in In) (int, error) {
	os.Stdout.WriteString("progress\n")
	os.Stderr.Write([]byte("warning\n"))
	return 0, nil
}

//blueprint:job
func FileWriteMethod(ctx context.Context, in In) (int, error) {
	f := os.NewFile(3, "fd3") // an inherited descriptor: no open call to flag
	_, err := f.Write([]byte("x"))
	return 0, err
}
