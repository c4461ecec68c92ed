package builtin

import "testing"

func TestRegistry(t *testing.T) {
	r := Registry()
	if len(r.Names()) == 0 {
		t.Fatal("no built-in platform")
	}
	for _, d := range r.Descriptors() {
		if d.Limits.MaxMemoryMB <= 0 || d.Limits.MaxTimeout <= 0 || d.Limits.MaxPayloadBytes <= 0 {
			t.Errorf("platform %s: limits incomplete: %+v", d.Name, d.Limits)
		}
		if d.Description == "" {
			t.Errorf("platform %s has no description for the provider docs", d.Name)
		}
	}
}
