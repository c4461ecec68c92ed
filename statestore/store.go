package statestore

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/serverless-blueprint/blueprint/job"
)

// Store is a state store shared by all jobs; each job sees only its own keys.
type Store interface {
	// For returns the state of one job (its keys are not another job's).
	For(jobName string) job.State
	// URL names the store the way the state records it.
	URL() string
	Close() error
}

// MaxValueBytes bounds one value: state is for counters, cursors and small documents (DynamoDB
// items stop at 400 KB), not blobs.
const MaxValueBytes = 400 << 10

// MaxKeyBytes bounds a key.
const MaxKeyBytes = 1024

// Open opens the store a URL names: sqlite:///abs/path.db (or a plain absolute path).
func Open(raw string) (Store, error) {
	path, err := SQLitePath(raw)
	if err != nil {
		return nil, err
	}
	return openSQLite(path)
}

// SQLitePath returns the file of a sqlite:// store URL, or an error that says what to write.
func SQLitePath(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("no state store given: set sqlite:///path/state.db")
	}
	path := raw
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", fmt.Errorf("state store %q: %v", raw, err)
		}
		switch u.Scheme {
		case "sqlite":
			path = u.Path
		case "dynamodb":
			return "", fmt.Errorf("state store %q is a DynamoDB table, not a SQLite file: only the agent and Lambda functions reach it (a wasm host opens sqlite:///path/state.db files)", raw)
		case "firestore":
			return "", fmt.Errorf("state store %q is a Firestore collection, not a SQLite file: only the agent and Cloud Functions reach it (a wasm host opens sqlite:///path/state.db files)", raw)
		default:
			return "", fmt.Errorf("state store %q: unknown scheme %q; use sqlite:///path/state.db", raw, u.Scheme)
		}
	}
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("state store %q: give an absolute path, so every process on the machine opens the same file", raw)
	}
	return filepath.Clean(path), nil
}

// DefaultURL is the store used when none is configured: a file in the user's data directory
// ($XDG_DATA_HOME, else ~/.local/share), which the agent and hosts of the machine share.
func DefaultURL() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state store configured and no home directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return "sqlite://" + filepath.Join(dir, "blueprint", "state.db"), nil
}

// CheckKey refuses a key no store takes: empty or over MaxKeyBytes. Every store checks keys
// with it, so they all refuse the same ones.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyBytes {
		return fmt.Errorf("state key %q: use 1 to %d bytes", key, MaxKeyBytes)
	}
	return nil
}
