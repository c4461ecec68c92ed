package terraform

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/resources"
)

func TestAddErrorDiagnostics(t *testing.T) {
	analysisErr := &resources.SpecError{Field: "package", Message: "analyzing package ./jobs", Err: &analyzer.Error{Problems: []analyzer.Problem{
		{Position: "/src/jobs/a.go:3:1", Message: "first problem"},
		{Position: "/src/jobs/b.go:9:2", Message: "second problem"},
	}}}
	tests := []struct {
		name    string
		err     error
		count   int
		path    path.Path // empty: not attached to an attribute
		summary string
		detail  string
	}{
		{"analysis problems, one each, with positions", analysisErr, 2, path.Root("package"), "Job analysis failed", "/src/jobs/a.go:3:1: first problem"},
		{"bad input on its attribute", &resources.SpecError{Field: "function", Message: "package x has no function Y"}, 1, path.Root("function"), "Cannot plan job", "no function Y"},
		{"partial failure", &resources.PartialError{Op: "deploying", Job: "greet", Failed: []*resources.TargetError{{Target: resources.Target{Platform: "wasm", Region: "local-b"}, Err: errors.New("unreachable")}}}, 1, path.Empty(), "Cannot plan job", "region local-b: unreachable"},
		{"other errors", fmt.Errorf("reading job: %w", errors.New("boom")), 1, path.Empty(), "Cannot plan job", "reading job: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.Diagnostics
			addErrorDiagnostics(&diags, "Cannot plan job", tt.err)
			if len(diags) != tt.count {
				t.Fatalf("got %d diagnostics, want %d: %v", len(diags), tt.count, diags)
			}
			d := diags[0]
			if d.Severity() != diag.SeverityError || d.Summary() != tt.summary || !strings.Contains(d.Detail(), tt.detail) {
				t.Fatalf("diagnostic %q / %q, want %q containing %q", d.Summary(), d.Detail(), tt.summary, tt.detail)
			}
			var got path.Path
			if wp, ok := d.(diag.DiagnosticWithPath); ok {
				got = wp.Path()
			}
			if got.String() != tt.path.String() {
				t.Fatalf("path %v, want %v", got, tt.path)
			}
		})
	}
}
