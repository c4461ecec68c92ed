// Package chart holds the small pieces the hand-written SVG charts (bench, simulate) share,
// so that their axes agree.
package chart

import "math"

// NiceCeil rounds up to 1, 2 or 5 times a power of ten, so axis labels are round numbers.
func NiceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
