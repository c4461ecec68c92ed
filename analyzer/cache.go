package analyzer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/serverless-blueprint/blueprint/internal/atomicfile"
	"github.com/serverless-blueprint/blueprint/job"
)

// cacheFormat names the analysis rules and the entry layout. Bump it whenever a change to the
// analyzer can change a label or a finding, so results of older rules are never served.
const cacheFormat = "blueprint-analysis-v4"

// CacheDirEnv overrides where analysis results are cached (default:
// os.UserCacheDir()/blueprint/analysis).
const CacheDirEnv = "BLUEPRINT_CACHE_DIR"

// WithCacheDir keeps analysis results in dir instead of the default (the BLUEPRINT_CACHE_DIR
// environment variable, else os.UserCacheDir()/blueprint/analysis).
func WithCacheDir(dir string) Option {
	return func(c *config) { c.cacheDir, c.cacheSet = dir, true }
}

// WithoutCache makes every Analyze load and analyze the package again.
func WithoutCache() Option {
	return func(c *config) { c.cacheDir, c.cacheSet = "", true }
}

// defaultCacheDir is BLUEPRINT_CACHE_DIR, else the user cache dir; "" (no cache) when
// neither can be found, which only costs speed.
func defaultCacheDir() string {
	if d := os.Getenv(CacheDirEnv); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "blueprint", "analysis")
}

// cacheEntry is one cached result. Key is stored again so that a file renamed or mixed up by
// hand is not trusted.
type cacheEntry struct {
	Format   string               `json:"format"`
	Key      string               `json:"key"`
	Analysis *job.PackageAnalysis `json:"analysis"`
}

// cacheKey is the content hash of the package in dir and everything it depends on: the files
// of every dependency in the main module or a directory replacement, module path@version of
// the others (the module cache is immutable), go.mod and go.sum, the Go version and target,
// the go command's environment and build flags, the directory (results carry absolute
// positions) and the analyzer's own rules. Only listing runs (no type checking), which is what
// makes an unchanged package fast.
func (a *ssaAnalyzer) cacheKey(ctx context.Context, dir string) (string, error) {
	h := sha256.New()
	field(h, "format", cacheFormat)
	field(h, "analyzer", analyzerBuild())
	field(h, "dir", dir)
	for _, e := range a.cfg.env {
		field(h, "env", e)
	}
	for _, f := range a.cfg.buildFlags {
		field(h, "flag", f)
	}
	field(h, "profile", strconv.FormatBool(a.cfg.profile))
	goEnv, err := a.goCommand(ctx, dir, "env", "GOVERSION", "GOOS", "GOARCH", "GOFLAGS", "GOEXPERIMENT", "CGO_ENABLED", "GOWORK")
	if err != nil {
		return "", fmt.Errorf("reading the Go version: %w", err)
	}
	field(h, "goenv", string(goEnv))

	args := append([]string{"list", "-deps", "-e", "-json=ImportPath,Dir,Standard,Module,GoFiles,CgoFiles,SFiles,EmbedFiles,IgnoredGoFiles,TestGoFiles,XTestGoFiles"}, a.cfg.buildFlags...)
	out, err := a.goCommand(ctx, dir, append(args, ".")...)
	if err != nil {
		return "", fmt.Errorf("listing dependencies: %w", err)
	}
	type module struct {
		Path    string
		Version string
		Main    bool
		GoMod   string
		Replace *module
	}
	type listed struct {
		ImportPath     string
		Dir            string
		Standard       bool
		Module         *module
		GoFiles        []string
		CgoFiles       []string
		SFiles         []string
		EmbedFiles     []string
		IgnoredGoFiles []string
		TestGoFiles    []string // profiling runs their benchmarks
		XTestGoFiles   []string
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("reading go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	goMods := map[string]bool{}
	for _, p := range pkgs {
		if p.Standard {
			continue // covered by GOVERSION
		}
		field(h, "package", p.ImportPath)
		m := p.Module
		local := m == nil || m.Main || (m.Replace != nil && m.Replace.Version == "")
		if !local {
			field(h, "module", m.Path+"@"+m.Version)
			if m.Replace != nil {
				field(h, "replace", m.Replace.Path+"@"+m.Replace.Version)
			}
			continue
		}
		if m != nil && m.GoMod != "" && !goMods[m.GoMod] {
			goMods[m.GoMod] = true
			for _, f := range []string{m.GoMod, strings.TrimSuffix(m.GoMod, ".mod") + ".sum"} {
				if err := fileField(h, f); err != nil {
					return "", err
				}
			}
		}
		// Ignored files count too: a build-tag change in the environment must not serve a
		// result computed from another file set, and they are few.
		files := append(append(append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.SFiles...), p.EmbedFiles...), p.IgnoredGoFiles...)
		files = append(append(files, p.TestGoFiles...), p.XTestGoFiles...)
		sort.Strings(files)
		for _, f := range files {
			if err := fileField(h, filepath.Join(p.Dir, f)); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// goCommand runs the go command in dir with the analyzer's environment and returns stdout; the
// error carries stderr so that a broken go.mod reads as the go command says it.
func (a *ssaAnalyzer) goCommand(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = a.cfg.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// analyzerBuild identifies the binary running the analyzer: its version control stamp when the
// go command added one, and its path, size and modification time, so that a rebuilt analyzer
// (a developer's edit, a test binary) never reads results of other rules. Stat is cheap;
// hashing a 30 MB binary on every plan would not be.
func analyzerBuild() string {
	var b strings.Builder
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			fmt.Fprintf(&b, "%s %d %d", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b.String()
	}
	b.WriteString(" " + info.Main.Version)
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			b.WriteString(" " + s.Key + "=" + s.Value)
		}
	}
	return b.String()
}

// field writes a length-prefixed name and value, so that no two different inputs hash alike.
func field(h hash.Hash, name, value string) {
	fmt.Fprintf(h, "%d:%s%d:%s", len(name), name, len(value), value)
}

// fileField hashes a file's path and contents; a missing go.sum hashes as absent.
func fileField(h hash.Hash, path string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		field(h, "absent", path)
		return nil
	}
	if err != nil {
		return fmt.Errorf("hashing %s: %w", path, err)
	}
	field(h, "file", path)
	sum := sha256.Sum256(data)
	field(h, "sha256", hex.EncodeToString(sum[:]))
	return nil
}

func cachePath(cacheDir, key string) string {
	return filepath.Join(cacheDir, key[:2], key+".json")
}

// readCache returns the cached analysis for key, or nil when there is none or the entry is
// corrupt (it is then rewritten after the analysis).
func (a *ssaAnalyzer) readCache(cacheDir, key string) *job.PackageAnalysis {
	data, err := os.ReadFile(cachePath(cacheDir, key))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			a.cfg.logger.Warn("ignoring unreadable analysis cache entry", "key", key, "error", err)
		}
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(data, &e); err != nil || e.Format != cacheFormat || e.Key != key || e.Analysis == nil {
		a.cfg.logger.Warn("ignoring corrupt analysis cache entry", "key", key, "error", err)
		return nil
	}
	return e.Analysis
}

// writeCache stores the analysis atomically (temporary file, then rename) so that concurrent
// plans never read half an entry. A failure only costs speed next time, so it is logged.
func (a *ssaAnalyzer) writeCache(cacheDir, key string, pa *job.PackageAnalysis) {
	path := cachePath(cacheDir, key)
	if err := writeFileAtomic(path, cacheEntry{Format: cacheFormat, Key: key, Analysis: pa}); err != nil {
		a.cfg.logger.Warn("cannot write analysis cache entry", "path", path, "error", err)
	}
}

func writeFileAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}
