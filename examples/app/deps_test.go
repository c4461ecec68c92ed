package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the application light: a program calling jobs links neither the analyzer's
// x/tools nor the wasm engine nor Terraform's libraries.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"golang.org/x/tools", "github.com/tetratelabs/wazero", "github.com/hashicorp/terraform-plugin", "github.com/serverless-blueprint/blueprint/analyzer"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("examples/app depends on %s", pkg)
			}
		}
	}
}
