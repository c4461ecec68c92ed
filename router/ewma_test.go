package router

import (
	"testing"
	"time"
)

func TestDurationEWMA(t *testing.T) {
	var e DurationEWMA
	if e.Value() != 0 {
		t.Fatalf("no sample: %v", e.Value())
	}
	e.Observe(10*time.Millisecond, 5)
	if e.Value() != 10*time.Millisecond {
		t.Fatalf("first sample sets it: %v", e.Value())
	}
	e.Observe(20*time.Millisecond, 5) // a fifth of the way to 20 ms
	if e.Value() != 12*time.Millisecond {
		t.Fatalf("after 20 ms at weight 5: %v, want 12ms", e.Value())
	}
	e.Reset(0)
	if e.Value() != 1 { // 0 would read as "no sample"
		t.Fatalf("reset to 0: %v, want 1ns", e.Value())
	}
	e.Observe(0, 8)
	if e.Value() != 1 {
		t.Fatalf("a zero sample: %v, want 1ns", e.Value())
	}
}
