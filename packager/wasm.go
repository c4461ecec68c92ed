package packager

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/atomicfile"
	"github.com/serverless-blueprint/blueprint/job"
)

// Artifact is a built module on disk.
type Artifact struct {
	Path   string
	SHA256 string // lowercase hex
	Size   int64
}

// WASMBuild describes one module to build from a job package.
type WASMBuild struct {
	Dir      string         // the job package directory (inside any Go module, maybe the user's own)
	Jobs     []job.Analysis // jobs to include (Name and Function are used)
	CacheDir string         // "" = os.UserCacheDir()/blueprint/artifacts
	Logger   hclog.Logger   // progress; nil = hclog.NewNullLogger()
}

// abiVersion must equal wasm.ABIVersion (platform/wasm/abi.go); a test checks it. The packager
// does not import platform/wasm so that building never drags wazero into its callers.
const abiVersion = 2

// wrapperDir is the virtual directory, inside the job package directory, that holds the
// generated main package. It only exists in the -overlay given to go build: the user's tree is
// never written. Inside the job directory so that even a job package under internal/ may be
// imported by it.
const wrapperDir = "blueprint_wasm_main"

// wasmBuildFlags are the go build flags of every module. -trimpath and -buildvcs=false keep
// machine paths and VCS state out of the output (reproducible), c-shared makes a WASI reactor
// whose runtime stays resident between calls, -s -w drop symbol tables and DWARF.
var wasmBuildFlags = []string{"-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-ldflags=-s -w"}

var wasmBuildEnv = []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}

//go:embed wrapper.go.tmpl
var wrapperTemplateText string

var wrapperTemplate = template.Must(template.New("wrapper").Parse(wrapperTemplateText))

// jobEntry is one job in the generated wrapper.
type jobEntry struct {
	Name     string
	Function string
	Stateful bool
}

// BuildWASM builds the jobs of the package in b.Dir into one reactor module and stores it,
// content-addressed, as <CacheDir>/<sha256>.wasm. A build whose source hash and job list were
// built before is served from the cache without running the Go compiler.
func BuildWASM(ctx context.Context, b WASMBuild) (Artifact, error) {
	return build(ctx, wasmTarget, b.Dir, b.Jobs, b.CacheDir, b.Logger)
}

// target is one kind of artifact the packager builds: how the wrapper looks and how it is built.
type target struct {
	what       string // "wasm module", for messages
	env        []string
	flags      []string
	template   *template.Template
	text       string // the template's text, part of the build key
	wrapperDir string // see wrapperDir
	ext        string // file name extension in the cache
	data       func(importPath string, entries []jobEntry) any
	// requires are modules the wrapper imports beyond the job package and the standard
	// library ("path@version"). They are added to a copy of the package's go.mod given to the
	// go command with -modfile: the user's go.mod and go.sum are never written.
	requires []string
}

var wasmTarget = target{
	what: "wasm module", env: wasmBuildEnv, flags: wasmBuildFlags, template: wrapperTemplate, text: wrapperTemplateText,
	wrapperDir: wrapperDir, ext: ".wasm", data: wrapperData,
}

func build(ctx context.Context, t target, pkgDir string, jobs []job.Analysis, cacheDirSetting string, log hclog.Logger) (Artifact, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("packager")
	if pkgDir == "" {
		return Artifact{}, fmt.Errorf("building %s: no package directory given", t.what)
	}
	dir, err := filepath.Abs(pkgDir)
	if err != nil {
		return Artifact{}, fmt.Errorf("resolving package directory %q: %w", pkgDir, err)
	}
	if len(jobs) == 0 {
		return Artifact{}, fmt.Errorf("building %s for %s: no jobs given", t.what, dir)
	}
	cacheDir, err := artifactCacheDir(cacheDirSetting)
	if err != nil {
		return Artifact{}, err
	}

	// One go list serves both the package facts and the source hash: on a cached build it is
	// most of the time spent.
	deps, err := goList(ctx, dir, t.env, "-deps", ".")
	if err != nil {
		return Artifact{}, err
	}
	// go list -deps prints dependencies first and the named package last.
	var pkg listedPackage
	if n := len(deps); n > 0 && !deps[n-1].Standard {
		pkg = deps[n-1]
	}
	if pkg.ImportPath == "" {
		return Artifact{}, fmt.Errorf("building %s: no Go package in %s", t.what, dir)
	}
	if pkg.Name == "main" {
		return Artifact{}, fmt.Errorf("package %s in %s is a main package, which cannot be imported: move the jobs into a library package", pkg.ImportPath, dir)
	}
	sigs, err := jobSignatures(dir, append(append([]string{}, pkg.GoFiles...), pkg.CgoFiles...))
	if err != nil {
		return Artifact{}, err
	}
	entries, err := jobEntries(jobs, sigs, pkg.ImportPath)
	if err != nil {
		return Artifact{}, err
	}

	srcHash, err := hashListed(ctx, dir, deps, t.env)
	if err != nil {
		return Artifact{}, err
	}
	key := t.buildKey(srcHash, pkg.ImportPath, entries)
	if art, ok := cachedArtifact(cacheDir, key, t.ext); ok {
		log.Debug(t.what+" served from cache", "package", pkg.ImportPath, "sha256", art.SHA256)
		return art, nil
	}

	var src bytes.Buffer
	if err := t.template.Execute(&src, t.data(pkg.ImportPath, entries)); err != nil {
		return Artifact{}, fmt.Errorf("generating the %s wrapper for %s: %w", t.what, pkg.ImportPath, err)
	}
	work, err := os.MkdirTemp(cacheDir, "build-")
	if err != nil {
		return Artifact{}, fmt.Errorf("creating build directory in %s: %w", cacheDir, err)
	}
	defer os.RemoveAll(work)
	mainFile := filepath.Join(work, "main.go")
	if err := os.WriteFile(mainFile, src.Bytes(), 0o644); err != nil {
		return Artifact{}, fmt.Errorf("writing generated wrapper: %w", err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(dir, t.wrapperDir, "main.go"): mainFile},
	})
	if err != nil {
		return Artifact{}, err
	}
	overlayFile := filepath.Join(work, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return Artifact{}, fmt.Errorf("writing build overlay: %w", err)
	}
	outFile := filepath.Join(work, "artifact"+t.ext)
	args := []string{"build", "-overlay", overlayFile, "-o", outFile}
	if len(t.requires) > 0 {
		modFile, err := requireModules(ctx, dir, pkg, work, t.env, t.requires)
		if err != nil {
			return Artifact{}, fmt.Errorf("building %s for %s: %w", t.what, pkg.ImportPath, err)
		}
		// -mod=mod lets the build add the go.sum lines of what the wrapper imports beyond the
		// job package (aws-lambda-go, the DynamoDB client of stateful jobs) to that copy.
		args = append(args, "-modfile", modFile, "-mod=mod")
	}
	args = append(append(args, t.flags...), "./"+t.wrapperDir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), t.env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	log.Info("building "+t.what, "package", pkg.ImportPath, "jobs", len(entries))
	start := time.Now()
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Artifact{}, fmt.Errorf("building %s for %s: %w", t.what, pkg.ImportPath, ctx.Err())
		}
		return Artifact{}, fmt.Errorf("building %s for %s: go build failed:\n%s", t.what, pkg.ImportPath, compilerMessage(stderr.String(), t.wrapperDir))
	}
	sum, size, err := hashFile(outFile)
	if err != nil {
		return Artifact{}, err
	}
	final := filepath.Join(cacheDir, sum+t.ext)
	if err := os.Rename(outFile, final); err != nil {
		return Artifact{}, fmt.Errorf("storing %s in %s: %w", t.what, cacheDir, err)
	}
	if err := writeIndex(cacheDir, key, sum); err != nil {
		return Artifact{}, err
	}
	log.Info("built "+t.what, "package", pkg.ImportPath, "sha256", sum, "bytes", size, "duration", time.Since(start).Round(time.Millisecond))
	return Artifact{Path: final, SHA256: sum, Size: size}, nil
}

func artifactCacheDir(dir string) (string, error) {
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding the user cache directory (set a cache dir explicitly): %w", err)
		}
		dir = filepath.Join(base, "blueprint", "artifacts")
	}
	if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
		return "", fmt.Errorf("creating artifact cache %s: %w", dir, err)
	}
	return dir, nil
}

func jobEntries(jobs []job.Analysis, sigs map[string]jobSignature, importPath string) ([]jobEntry, error) {
	seen := map[string]bool{}
	entries := make([]jobEntry, 0, len(jobs))
	for _, j := range jobs {
		if j.Name == "" {
			return nil, fmt.Errorf("job for function %s has no name", j.Function)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("job name %q is used twice in %s", j.Name, importPath)
		}
		seen[j.Name] = true
		sig, ok := sigs[j.Function]
		if !ok {
			return nil, fmt.Errorf("job %q: package %s has no top-level function %s when built for GOOS=wasip1 (check its name and any build constraints on its file)", j.Name, importPath, j.Function)
		}
		if sig.problem != "" {
			return nil, fmt.Errorf("job %q (%s): %s", j.Name, sig.position, sig.problem)
		}
		entries = append(entries, jobEntry{Name: j.Name, Function: j.Function, Stateful: sig.stateful})
	}
	sort.Slice(entries, func(i, k int) bool { return entries[i].Name < entries[k].Name })
	return entries, nil
}

func wrapperData(importPath string, entries []jobEntry) any {
	stateful := false
	for _, e := range entries {
		stateful = stateful || e.Stateful
	}
	return struct {
		ABIVersion int
		ImportPath string
		Jobs       []jobEntry
		Stateful   bool
	}{abiVersion, importPath, entries, stateful}
}

// buildKey identifies a build: same key, same artifact. It covers the sources (with the Go
// version), the job list, the wrapper template, the target's environment, flags and modules.
func (t target) buildKey(srcHash, importPath string, entries []jobEntry) string {
	h := sha256.New()
	field(h, "source", srcHash)
	field(h, "package", importPath)
	for _, e := range entries {
		field(h, "job", fmt.Sprintf("%s=%s stateful=%t", e.Name, e.Function, e.Stateful))
	}
	field(h, "template", t.text)
	field(h, "abi", fmt.Sprint(abiVersion))
	field(h, "env", strings.Join(t.env, " "))
	field(h, "flags", strings.Join(t.flags, " "))
	field(h, "requires", strings.Join(t.requires, " "))
	return hex.EncodeToString(h.Sum(nil))
}

type indexEntry struct {
	SHA256 string `json:"sha256"`
}

func cachedArtifact(cacheDir, key, ext string) (Artifact, bool) {
	raw, err := os.ReadFile(filepath.Join(cacheDir, "index", key+".json"))
	if err != nil {
		return Artifact{}, false
	}
	var e indexEntry
	if json.Unmarshal(raw, &e) != nil || len(e.SHA256) != 64 {
		return Artifact{}, false
	}
	path := filepath.Join(cacheDir, e.SHA256+ext)
	// Re-hash: a cache entry that was truncated or tampered with must be rebuilt, not served.
	sum, size, err := hashFile(path)
	if err != nil || sum != e.SHA256 {
		return Artifact{}, false
	}
	return Artifact{Path: path, SHA256: sum, Size: size}, true
}

func writeIndex(cacheDir, key, sum string) error {
	raw, _ := json.Marshal(indexEntry{SHA256: sum})
	if err := atomicfile.Write(filepath.Join(cacheDir, "index", key+".json"), raw); err != nil {
		return fmt.Errorf("writing artifact cache index: %w", err)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// compilerMessage keeps the go command's output but names the generated wrapper for what it is,
// so a user does not go looking for a directory that is not on disk.
func compilerMessage(out, wrapperDir string) string {
	out = strings.TrimSpace(out)
	return strings.ReplaceAll(out, wrapperDir+"/main.go", wrapperDir+"/main.go (generated wrapper)")
}
