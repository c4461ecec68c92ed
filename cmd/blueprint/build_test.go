package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuildCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "jobs.wasm")
	var stdout, stderr bytes.Buffer
	err := runBuild(ctx, []string{"-cache", t.TempDir(), "-o", out, filepath.Join("..", "..", "packager", "testdata", "plainjobs")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	code, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(code)
	if !strings.Contains(stdout.String(), "sha256 "+hex.EncodeToString(sum[:])) || !strings.Contains(stdout.String(), "job greet (Greet)") {
		t.Fatalf("output does not name the module's hash and jobs:\n%s", stdout.String())
	}
	if err := runBuild(ctx, []string{}, &stdout, &stderr); err == nil {
		t.Fatal("no directory must be an error")
	}
}
