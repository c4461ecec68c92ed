package chart

import "testing"

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{-3: 1, 0: 1, 0.7: 1, 1.2: 2, 3: 5, 7: 10, 42: 50, 130: 200, 0.031: 0.05} {
		if got := NiceCeil(in); got != want {
			t.Errorf("NiceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
