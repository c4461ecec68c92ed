package terraform

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestTFLogger checks that lifecycle lines logged through hclog reach tflog with their
// level, logger name and structured fields.
func TestTFLogger(t *testing.T) {
	var out bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &out)
	l := newTFLogger(ctx).Named("resources")
	l.Warn("deploy failed", "job", "greet", "region", "local-b", "error", errors.New("unreachable"))

	entries, err := tflogtest.MultilineJSONDecode(&out)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("got %d entries: %v", len(entries), entries)
	}
	e := entries[0]
	want := map[string]interface{}{
		"@level": "warn", "@message": "deploy failed", "logger": "blueprint.resources",
		"job": "greet", "region": "local-b", "error": "unreachable",
	}
	for k, v := range want {
		if e[k] != v {
			t.Errorf("%s = %v, want %v (entry %v)", k, e[k], v, e)
		}
	}
}
