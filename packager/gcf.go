package packager

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	_ "embed"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/mod/modfile"

	"github.com/serverless-blueprint/blueprint/job"
)

// FunctionsFrameworkVersion is the github.com/GoogleCloudPlatform/functions-framework-go a
// Cloud Functions source zip is built with (the generated module requires it; this module
// does not import it).
const FunctionsFrameworkVersion = "v1.9.2"

// GCFEntryPoint is the entry point (functions-framework name) of every generated function.
const GCFEntryPoint = "Blueprint"

// GCFModule is the module path of the generated function; the job's module is beside it, in
// src/, through a replace directive.
const GCFModule = "blueprint.gcf/function"

//go:embed gcf.go.tmpl
var gcfTemplateText string

var gcfTemplate = template.Must(template.New("gcf").Parse(gcfTemplateText))

// GCFBuild describes one Cloud Functions source zip to make from a job package.
type GCFBuild struct {
	Dir      string         // the job package directory
	Jobs     []job.Analysis // jobs to include (Name and Function are used)
	CacheDir string         // "" = os.UserCacheDir()/blueprint/artifacts
	Logger   hclog.Logger
}

// zipEpoch is the modification time of every entry: the same source gives the same bytes.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildGCFSource makes the source zip Cloud Functions (2nd gen, Go runtime) builds a function
// from: at its root a generated package (module blueprint.gcf/function) whose init registers
// the entry point "Blueprint" with functions-framework-go and dispatches the package's jobs by
// BLUEPRINT_JOB; the packages of the job's module that the job package needs under src/,
// required through a replace directive; a go.mod and go.sum that resolve everything. Zips are
// reproducible (sorted entries, fixed times and modes) and stored as <CacheDir>/<sha256>.zip.
func BuildGCFSource(ctx context.Context, b GCFBuild) (Artifact, error) {
	log := b.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("packager")
	dir, err := filepath.Abs(b.Dir)
	if err != nil {
		return Artifact{}, fmt.Errorf("resolving package directory %q: %w", b.Dir, err)
	}
	if len(b.Jobs) == 0 {
		return Artifact{}, fmt.Errorf("building a Cloud Functions source for %s: no jobs given", dir)
	}
	cacheDir, err := artifactCacheDir(b.CacheDir)
	if err != nil {
		return Artifact{}, err
	}
	deps, err := goList(ctx, dir, nil, "-deps", ".")
	if err != nil {
		return Artifact{}, err
	}
	var pkg listedPackage
	if n := len(deps); n > 0 && !deps[n-1].Standard {
		pkg = deps[n-1]
	}
	if pkg.ImportPath == "" {
		return Artifact{}, fmt.Errorf("building a Cloud Functions source: no Go package in %s", dir)
	}
	if pkg.Name == "main" {
		return Artifact{}, fmt.Errorf("package %s in %s is a main package, which cannot be imported: move the jobs into a library package", pkg.ImportPath, dir)
	}
	if pkg.Module == nil || pkg.Module.GoMod == "" || pkg.Module.Dir == "" {
		return Artifact{}, fmt.Errorf("package %s is not in a Go module: run go mod init in its module root", pkg.ImportPath)
	}
	sigs, err := jobSignatures(dir, append(append([]string{}, pkg.GoFiles...), pkg.CgoFiles...))
	if err != nil {
		return Artifact{}, err
	}
	entries, err := jobEntries(b.Jobs, sigs, pkg.ImportPath)
	if err != nil {
		return Artifact{}, err
	}
	srcHash, err := hashListed(ctx, dir, deps, nil)
	if err != nil {
		return Artifact{}, err
	}
	t := target{what: "Cloud Functions source", text: gcfTemplateText, requires: []string{"github.com/GoogleCloudPlatform/functions-framework-go@" + FunctionsFrameworkVersion, "go.opentelemetry.io/otel@" + OTelVersion}}
	key := t.buildKey(srcHash, pkg.ImportPath, entries)
	if art, ok := cachedArtifact(cacheDir, key, ".zip"); ok {
		log.Debug("Cloud Functions source served from cache", "package", pkg.ImportPath, "sha256", art.SHA256)
		return art, nil
	}

	log.Info("making Cloud Functions source", "package", pkg.ImportPath, "jobs", len(entries))
	work, err := os.MkdirTemp(cacheDir, "gcf-")
	if err != nil {
		return Artifact{}, fmt.Errorf("creating build directory in %s: %w", cacheDir, err)
	}
	defer os.RemoveAll(work)
	files, err := moduleFiles(pkg.Module, deps)
	if err != nil {
		return Artifact{}, err
	}
	var src bytes.Buffer
	if err := gcfTemplate.Execute(&src, wrapperData(pkg.ImportPath, entries)); err != nil {
		return Artifact{}, fmt.Errorf("generating the Cloud Functions entry point for %s: %w", pkg.ImportPath, err)
	}
	goMod, goSum, err := gcfModule(ctx, work, pkg, src.Bytes(), files, t.requires)
	if err != nil {
		return Artifact{}, fmt.Errorf("making the Cloud Functions source of %s: %w", pkg.ImportPath, err)
	}
	entriesOut := map[string][]byte{"go.mod": goMod, "go.sum": goSum, "function.go": src.Bytes()}
	for rel, abs := range files {
		data, err := os.ReadFile(abs)
		if err != nil {
			return Artifact{}, err
		}
		entriesOut[path.Join("src", rel)] = data
	}
	zipped, err := reproducibleZip(entriesOut)
	if err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(zipped)
	hexSum := hex.EncodeToString(sum[:])
	final := filepath.Join(cacheDir, hexSum+".zip")
	if err := os.WriteFile(final, zipped, 0o644); err != nil {
		return Artifact{}, fmt.Errorf("storing the Cloud Functions source in %s: %w", cacheDir, err)
	}
	if err := writeIndex(cacheDir, key, hexSum); err != nil {
		return Artifact{}, err
	}
	log.Info("made Cloud Functions source", "package", pkg.ImportPath, "sha256", hexSum, "bytes", len(zipped))
	return Artifact{Path: final, SHA256: hexSum, Size: int64(len(zipped))}, nil
}

// moduleFiles lists the files to ship from the job's module, by slash path relative to its
// root: go.mod and go.sum, and every file in the directory of each of the module's packages
// the job package needs (sources, embedded files, assembly) — not the rest of the module,
// which may be a whole repository with binaries in it.
func moduleFiles(mod *listedModule, deps []listedPackage) (map[string]string, error) {
	out := map[string]string{}
	root := mod.Dir
	for _, name := range []string{"go.mod", "go.sum"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			out[name] = filepath.Join(root, name)
		}
	}
	for _, p := range deps {
		if p.Standard || p.Module == nil || p.Module.Path != mod.Path {
			continue
		}
		entries, err := os.ReadDir(p.Dir)
		if err != nil {
			return nil, fmt.Errorf("listing package %s: %w", p.ImportPath, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			abs := filepath.Join(p.Dir, e.Name())
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				return nil, err
			}
			out[filepath.ToSlash(rel)] = abs
		}
		for _, f := range p.EmbedFiles { // may live in subdirectories
			abs := filepath.Join(p.Dir, f)
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				return nil, err
			}
			out[filepath.ToSlash(rel)] = abs
		}
	}
	return out, nil
}

// gcfModule writes the generated module into work and resolves it: a go.mod requiring the
// job's module (replaced by ./src) and the wrapper's requires, carrying the job module's own
// replace directives (relative ones re-rooted under src/), then `go mod tidy` for go.sum.
func gcfModule(ctx context.Context, work string, pkg listedPackage, entry []byte, files map[string]string, requires []string) ([]byte, []byte, error) {
	userMod, err := os.ReadFile(pkg.Module.GoMod)
	if err != nil {
		return nil, nil, err
	}
	user, err := modfile.Parse(pkg.Module.GoMod, userMod, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", pkg.Module.GoMod, err)
	}
	f := &modfile.File{}
	if err := f.AddModuleStmt(GCFModule); err != nil {
		return nil, nil, err
	}
	goVersion := "1.22"
	if user.Go != nil {
		goVersion = user.Go.Version
	}
	if err := f.AddGoStmt(goVersion); err != nil {
		return nil, nil, err
	}
	if err := f.AddRequire(user.Module.Mod.Path, "v0.0.0-00010101000000-000000000000"); err != nil {
		return nil, nil, err
	}
	if err := f.AddReplace(user.Module.Mod.Path, "", "./src", ""); err != nil {
		return nil, nil, err
	}
	for _, r := range user.Replace {
		newPath := r.New.Path
		if r.New.Version == "" && !filepath.IsAbs(newPath) {
			newPath = "./" + path.Join("src", filepath.ToSlash(newPath))
		}
		if err := f.AddReplace(r.Old.Path, r.Old.Version, newPath, r.New.Version); err != nil {
			return nil, nil, err
		}
	}
	for _, r := range user.Require {
		if err := f.AddRequire(r.Mod.Path, r.Mod.Version); err != nil {
			return nil, nil, err
		}
	}
	f.Cleanup()
	goMod, err := f.Format()
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "go.mod"), goMod, 0o644); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(work, "function.go"), entry, 0o644); err != nil {
		return nil, nil, err
	}
	for rel, abs := range files {
		dst := filepath.Join(work, "src", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, nil, err
		}
		if err := copyFile(abs, dst); err != nil {
			return nil, nil, err
		}
	}
	// The wrapper's requirements (functions-framework-go, otel) enter the build here: add them,
	// then let tidy settle go.mod and go.sum (reproducible: the same inputs resolve to the same
	// versions).
	for _, args := range [][]string{append([]string{"get"}, requires...), {"mod", "tidy"}} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	goMod, err = os.ReadFile(filepath.Join(work, "go.mod"))
	if err != nil {
		return nil, nil, err
	}
	goSum, err := os.ReadFile(filepath.Join(work, "go.sum"))
	if err != nil {
		return nil, nil, err
	}
	return goMod, goSum, nil
}

// reproducibleZip zips files in name order with a fixed time and mode.
func reproducibleZip(files map[string][]byte) ([]byte, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		h := &zip.FileHeader{Name: n, Method: zip.Deflate, Modified: zipEpoch}
		h.SetMode(0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(files[n]); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
