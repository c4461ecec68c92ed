package main

import (
	"context"
	"path/filepath"
	"testing"
)

// TestWrappersUpToDate fails when examples/app/quickstart is stale: run `make generate`.
func TestWrappersUpToDate(t *testing.T) {
	root := filepath.Join("..", "..")
	err := runWrap(context.Background(), []string{"-check", "-o", filepath.Join(root, "examples", "app", "quickstart"),
		filepath.Join(root, "examples", "terraform", "quickstart", "jobs")})
	if err != nil {
		t.Fatal(err)
	}
}
