package artifactstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open("file://" + dir)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "bin")
	os.WriteFile(src, []byte("binary"), 0o644)
	sum := sha256.Sum256([]byte("binary"))
	sha := hex.EncodeToString(sum[:])
	if err := s.Put(ctx, src, sha); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, src, sha); err != nil {
		t.Fatalf("putting again: %v", err)
	}
	if err := s.Put(ctx, src, strings.Repeat("0", 64)); err == nil {
		t.Fatal("a file stored under another hash")
	}
	dst := filepath.Join(t.TempDir(), "cache", sha)
	if err := s.Fetch(ctx, sha, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "binary" {
		t.Fatalf("fetched %q", b)
	}
	if err := s.Fetch(ctx, strings.Repeat("1", 64), dst+"2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing artifact: %v", err)
	}
	// A corrupt store entry is refused, not run.
	os.WriteFile(filepath.Join(dir, sha), []byte("tampered"), 0o644)
	if err := s.Fetch(ctx, sha, dst+"3"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("corrupt artifact: %v", err)
	}
	for _, bad := range []string{"", "relative/dir", "s3://bucket/x", "ftp://x"} {
		if _, err := Open(bad); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}
