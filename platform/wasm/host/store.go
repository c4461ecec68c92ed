package host

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/atomicfile"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// Function is one deployed function as stored and served by the host.
type Function = wasm.HostFunction

// FunctionConfig is the body of PUT /v1/functions/{name}.
type FunctionConfig struct {
	CodeSHA256  string            `json:"code_sha256"`
	Entry       string            `json:"entry"`
	MemoryMB    int64             `json:"memory_mb"`
	TimeoutMS   int64             `json:"timeout_ms"`
	Pure        bool              `json:"pure"`
	Environment map[string]string `json:"environment"`
	Tags        map[string]string `json:"tags"`
	// StateStore is where a stateful job's state lives; the host opens it (a sqlite:// file
	// must be on this machine).
	StateStore string `json:"state_store,omitempty"`
}

// Limits of what a function may ask for, from the platform's descriptor (wasm.Limits), so
// that the provider refuses at plan time what the host would refuse at deploy.
var (
	maxMemoryMB  = wasm.Limits.MaxMemoryMB
	maxTimeoutMS = wasm.Limits.MaxTimeout.Milliseconds()
)

const defaultTimeoutMS = 60 * 1000

var (
	functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	sha256Hex    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func validName(name string) error {
	if !functionName.MatchString(name) {
		return fmt.Errorf("function name %q is invalid: use 1 to 64 letters, digits, '-' or '_'", name)
	}
	return nil
}

// validate checks a function configuration and fills defaults.
func (c *FunctionConfig) validate() error {
	c.CodeSHA256 = strings.ToLower(c.CodeSHA256)
	if !sha256Hex.MatchString(c.CodeSHA256) {
		return fmt.Errorf("code_sha256 %q is not a hex SHA-256 (64 hex digits)", c.CodeSHA256)
	}
	if c.Entry == "" {
		return errors.New("entry is empty: give the job name inside the module")
	}
	if c.MemoryMB < 0 || c.MemoryMB > maxMemoryMB {
		return fmt.Errorf("memory_mb %d is out of range: use 0 (no limit) to %d", c.MemoryMB, maxMemoryMB)
	}
	if c.TimeoutMS < 0 || c.TimeoutMS > maxTimeoutMS {
		return fmt.Errorf("timeout_ms %d is out of range: use 0 (default %d) to %d", c.TimeoutMS, defaultTimeoutMS, maxTimeoutMS)
	}
	if c.TimeoutMS == 0 {
		c.TimeoutMS = defaultTimeoutMS
	}
	if c.StateStore != "" {
		if err := anystore.Check(c.StateStore); err != nil {
			return err
		}
	}
	for k := range c.Environment {
		if !envName.MatchString(k) {
			return fmt.Errorf("environment variable name %q is invalid: use letters, digits and '_', not starting with a digit", k)
		}
	}
	return nil
}

// sameConfig reports whether applying c to f would change nothing (so the version stays).
func sameConfig(f *Function, c FunctionConfig) bool {
	return f.CodeSHA256 == c.CodeSHA256 && f.Entry == c.Entry && f.MemoryMB == c.MemoryMB &&
		f.TimeoutMS == c.TimeoutMS && f.Pure == c.Pure && sameMap(f.Environment, c.Environment) && sameMap(f.Tags, c.Tags) &&
		f.StateStore == c.StateStore
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// store keeps functions and blobs on disk under the data directory:
//
//	<data>/functions/<name>.json
//	<data>/blobs/<sha256>.wasm
type store struct {
	functionsDir string
	blobsDir     string
}

func openStore(dataDir string) (*store, error) {
	s := &store{functionsDir: filepath.Join(dataDir, "functions"), blobsDir: filepath.Join(dataDir, "blobs")}
	for _, d := range []string{s.functionsDir, s.blobsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating host data directory %s: %w", d, err)
		}
	}
	return s, nil
}

func (s *store) loadFunctions() (map[string]*Function, error) {
	entries, err := os.ReadDir(s.functionsDir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.functionsDir, err)
	}
	fns := map[string]*Function{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(s.functionsDir, e.Name())
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading function %s: %w", path, err)
		}
		var f Function
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, fmt.Errorf("function file %s is corrupt (remove it to drop the function): %w", path, err)
		}
		// The file's name is the function's: a file whose content names another function
		// (copied by hand, or tampered with) would shadow or duplicate it.
		if want := strings.TrimSuffix(e.Name(), ".json"); f.Name != want || validName(f.Name) != nil {
			return nil, fmt.Errorf("function file %s holds function %q, not %q (rename or remove it)", path, f.Name, want)
		}
		fns[f.Name] = &f
	}
	return fns, nil
}

func (s *store) saveFunction(f *Function) error {
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.functionsDir, f.Name+".json"), raw)
}

func (s *store) deleteFunction(name string) error {
	err := os.Remove(filepath.Join(s.functionsDir, name+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// removeUnreferenced deletes modules no function uses and temporary files a crash left behind,
// returning what it removed. Run at start only: at run time an upload waits for its deploy.
func (s *store) removeUnreferenced(fns map[string]*Function) ([]string, error) {
	used := map[string]bool{}
	for _, f := range fns {
		used[f.CodeSHA256+".wasm"] = true
	}
	var removed []string
	for _, dir := range []string{s.blobsDir, s.functionsDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return removed, fmt.Errorf("reading %s: %w", dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			orphan := dir == s.blobsDir && strings.HasSuffix(name, ".wasm") && !used[name]
			if !orphan && !strings.HasPrefix(name, ".tmp-") {
				continue
			}
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return removed, fmt.Errorf("removing %s: %w", filepath.Join(dir, name), err)
			}
			removed = append(removed, name)
		}
	}
	return removed, nil
}

func (s *store) blobPath(sha string) string { return filepath.Join(s.blobsDir, sha+".wasm") }

// blobAge is how long ago a module was uploaded (its file's modification time).
func (s *store) blobAge(sha string) (time.Duration, bool) {
	st, err := os.Stat(s.blobPath(sha))
	if err != nil {
		return 0, false
	}
	return time.Since(st.ModTime()), true
}

func (s *store) hasBlob(sha string) bool {
	_, err := os.Stat(s.blobPath(sha))
	return err == nil
}

func (s *store) readBlob(sha string) ([]byte, error) { return os.ReadFile(s.blobPath(sha)) }

func (s *store) writeBlob(sha string, code []byte) error {
	return atomicfile.Write(s.blobPath(sha), code)
}

func (s *store) deleteBlob(sha string) error {
	err := os.Remove(s.blobPath(sha))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
