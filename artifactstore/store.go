package artifactstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrNotFound is an artifact the store does not hold.
var ErrNotFound = errors.New("artifact not found in the store")

// Store holds artifacts by content hash.
type Store interface {
	// URL names the store the way the state records it (file:///abs/dir).
	URL() string
	// Put stores the file at path under its SHA-256, which must be sha; storing what is
	// already there is a no-op.
	Put(ctx context.Context, path, sha string) error
	// Fetch copies the artifact sha to dst, verifying its hash; a missing one wraps ErrNotFound.
	Fetch(ctx context.Context, sha, dst string) error
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Open returns the store a URL names: file:///abs/dir, or a plain absolute directory path.
func Open(raw string) (Store, error) {
	if raw == "" {
		return nil, errors.New("no artifact store given: set a directory (file:///path) the provider writes and the agent reads")
	}
	dir := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("artifact store %q: %v", raw, err)
		}
		switch u.Scheme {
		case "file":
			dir = u.Path
		case "s3", "gs":
			return nil, fmt.Errorf("artifact store %q: %s:// stores come with the cloud platforms; use a directory (file:///path) for now", raw, u.Scheme)
		default:
			return nil, fmt.Errorf("artifact store %q: unknown scheme %q; use file:///path", raw, u.Scheme)
		}
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("artifact store %q: give an absolute directory, so the agent finds the same place", raw)
	}
	return &dirStore{dir: filepath.Clean(dir)}, nil
}

// Default is the store used when none is configured: a directory in the user's cache.
func Default() (Store, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return nil, fmt.Errorf("no artifact store configured and no user cache directory: %w", err)
	}
	return Open(filepath.Join(cache, "blueprint", "artifact-store"))
}

type dirStore struct{ dir string }

// LocalDir is the directory a store keeps its artifacts in, when it is one on this machine.
func LocalDir(s Store) (string, bool) {
	d, ok := s.(*dirStore)
	if !ok {
		return "", false
	}
	return d.dir, true
}

func (s *dirStore) URL() string { return (&url.URL{Scheme: "file", Path: s.dir}).String() }

func (s *dirStore) path(sha string) string { return filepath.Join(s.dir, sha) }

func (s *dirStore) Put(ctx context.Context, path, sha string) error {
	if !sha256Hex.MatchString(sha) {
		return fmt.Errorf("storing %s: %q is not a hex SHA-256", path, sha)
	}
	if got, err := hashFile(s.path(sha)); err == nil && got == sha {
		return nil
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("creating artifact store %s: %w", s.dir, err)
	}
	tmp, err := os.CreateTemp(s.dir, ".put-*")
	if err != nil {
		return fmt.Errorf("writing to artifact store %s: %w", s.dir, err)
	}
	defer os.Remove(tmp.Name())
	got, err := copyHashing(tmp, path)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("storing %s in %s: %w", path, s.dir, err)
	}
	if got != sha {
		return fmt.Errorf("storing %s: its SHA-256 is %s, not %s (changed while building?)", path, got, sha)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.path(sha))
}

func (s *dirStore) Fetch(ctx context.Context, sha, dst string) error {
	if !sha256Hex.MatchString(sha) {
		return fmt.Errorf("fetching artifact: %q is not a hex SHA-256", sha)
	}
	src := s.path(sha)
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: %s has no %s (was it applied on another machine? point the agent at the same store)", ErrNotFound, s.URL(), sha)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	got, err := copyHashing(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching %s from %s: %w", sha, s.URL(), err)
	}
	if got != sha {
		return fmt.Errorf("artifact %s in %s is corrupt: its content hashes to %s; run terraform apply again to store it anew", sha, s.URL(), got)
	}
	if err := os.Chmod(tmp.Name(), 0o700); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func copyHashing(dst io.Writer, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(dst, h), f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(path string) (string, error) { return copyHashing(io.Discard, path) }
