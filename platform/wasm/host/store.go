package host

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
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
//	<data>/functions/<name>.json   the function, its environment sealed (AES-256-GCM)
//	<data>/blobs/<sha256>.wasm
//	<data>/environment.key         the sealing key, unless the host is given one
type store struct {
	functionsDir string
	blobsDir     string
	aead         cipher.AEAD // seals environments at rest
}

// storedFunction is a function file: the function (whose Environment is not serialized) with
// its environment sealed. Environment is read only from files written before sealing, which
// are rewritten sealed when the host starts.
type storedFunction struct {
	Function
	EnvironmentSealed string            `json:"environment_sealed,omitempty"` // base64(nonce ‖ ciphertext)
	Environment       map[string]string `json:"environment,omitempty"`
}

// EnvironmentKeyFile is the sealing key's file in a data directory when none is given.
const EnvironmentKeyFile = "environment.key"

// openStore opens the data directory. keyFile names the 32-byte key that seals environments;
// "" = <data>/environment.key, created (mode 0600) on first use.
func openStore(dataDir, keyFile string) (*store, error) {
	s := &store{functionsDir: filepath.Join(dataDir, "functions"), blobsDir: filepath.Join(dataDir, "blobs")}
	for _, d := range []string{s.functionsDir, s.blobsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating host data directory %s: %w", d, err)
		}
	}
	key, err := environmentKey(dataDir, keyFile)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return s, nil
}

// environmentKey reads the sealing key, or creates the data directory's own.
func environmentKey(dataDir, keyFile string) ([]byte, error) {
	given := keyFile != ""
	if !given {
		keyFile = filepath.Join(dataDir, EnvironmentKeyFile)
	}
	key, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) && !given {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(keyFile, key); err != nil { // mode 0600
			return nil, fmt.Errorf("creating the environment key %s: %w", keyFile, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the environment key %s: %w", keyFile, err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the environment key %s holds %d bytes; it must hold 32 random bytes (head -c 32 /dev/urandom > %s)", keyFile, len(key), keyFile)
	}
	return key, nil
}

// seal encrypts a function's environment, bound to its name: a sealed environment copied into
// another function's file does not open.
func (s *store) seal(name string, env map[string]string) (string, error) {
	if len(env) == 0 {
		return "", nil
	}
	plain, err := json.Marshal(env)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

func (s *store) open(name, sealed string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, errors.New("the sealed environment is not base64 of a nonce and ciphertext")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return nil, errors.New("the sealed environment does not open with this host's key (another data directory's file, or another key)")
	}
	var env map[string]string
	return env, json.Unmarshal(plain, &env)
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
		var sf storedFunction
		if err := json.Unmarshal(raw, &sf); err != nil {
			return nil, fmt.Errorf("function file %s is corrupt (remove it to drop the function): %w", path, err)
		}
		f := sf.Function
		// The file's name is the function's: a file whose content names another function
		// (copied by hand, or tampered with) would shadow or duplicate it.
		if want := strings.TrimSuffix(e.Name(), ".json"); f.Name != want || validName(f.Name) != nil {
			return nil, fmt.Errorf("function file %s holds function %q, not %q (rename or remove it)", path, f.Name, want)
		}
		switch {
		case sf.EnvironmentSealed != "":
			env, err := s.open(f.Name, sf.EnvironmentSealed)
			if err != nil {
				return nil, fmt.Errorf("function file %s: %w", path, err)
			}
			f.Environment = env
		case sf.Environment != nil:
			// Written before environments were sealed: seal it now.
			f.Environment = sf.Environment
			if err := s.saveFunction(&f); err != nil {
				return nil, fmt.Errorf("sealing the environment of %s: %w", path, err)
			}
		}
		f.EnvironmentSHA256 = wasm.EnvironmentDigest(f.Environment)
		fns[f.Name] = &f
	}
	return fns, nil
}

func (s *store) saveFunction(f *Function) error {
	sealed, err := s.seal(f.Name, f.Environment)
	if err != nil {
		return err
	}
	raw, err := json.MarshalIndent(storedFunction{Function: *f, EnvironmentSealed: sealed}, "", "  ")
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
