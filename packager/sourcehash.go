package packager

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// SourceHash is the content hash of the package in dir and everything it depends on inside its
// module: the Go, assembly and embedded files of every dependency that belongs to the main
// module (or to a module replaced by a local directory), the module path and version of every
// other dependency, go.mod, go.sum and the Go version. A change to a package that the one in
// dir does not import leaves the hash unchanged. The format is "sha256:<hex>".
func SourceHash(ctx context.Context, dir string) (string, error) {
	return sourceHash(ctx, dir, nil)
}

func sourceHash(ctx context.Context, dir string, env []string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("resolving package directory %q: %w", dir, err)
	}
	pkgs, err := goList(ctx, abs, env, "-deps", ".")
	if err != nil {
		return "", err
	}
	return hashListed(ctx, abs, pkgs, env)
}

// hashListed hashes the output of `go list -deps -json .` run in abs with env.
func hashListed(ctx context.Context, abs string, pkgs []listedPackage, env []string) (string, error) {
	version, err := goVersion(ctx, abs, pkgs)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	field(h, "go", version)
	for _, e := range env {
		field(h, "env", e)
	}
	// go list -deps prints dependencies before dependents in a deterministic order; sort anyway
	// so the hash never depends on that.
	pkgs = append([]listedPackage(nil), pkgs...)
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })
	var mainMod *listedModule
	for _, p := range pkgs {
		if p.Standard {
			continue
		}
		if p.Module == nil {
			return "", fmt.Errorf("package %s in %s is not inside a Go module: run `go mod init` first", p.ImportPath, p.Dir)
		}
		field(h, "package", p.ImportPath)
		mod := p.Module
		if mod.Main && mainMod == nil {
			mainMod = mod
		}
		local := mod.Main || (mod.Replace != nil && mod.Replace.Version == "")
		if !local {
			field(h, "module", mod.Path+"@"+mod.Version)
			if mod.Replace != nil {
				field(h, "replace", mod.Replace.Path+"@"+mod.Replace.Version)
			}
			continue
		}
		files := append(append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.SFiles...), p.EmbedFiles...)
		sort.Strings(files)
		for _, f := range files {
			if err := fileField(h, f, filepath.Join(p.Dir, f)); err != nil {
				return "", err
			}
		}
	}
	if mainMod == nil {
		return "", fmt.Errorf("package in %s is not inside a Go module: run `go mod init` first", abs)
	}
	if mainMod.GoMod != "" {
		if err := fileField(h, "go.mod", mainMod.GoMod); err != nil {
			return "", err
		}
		sum := filepath.Join(filepath.Dir(mainMod.GoMod), "go.sum")
		if err := fileField(h, "go.sum", sum); err != nil && !os.IsNotExist(unwrapPathError(err)) {
			return "", err
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// field writes a length-prefixed, tagged value so that no two different inputs hash alike.
func field(h hash.Hash, tag, value string) {
	fmt.Fprintf(h, "%s %d %s\n", tag, len(value), value)
}

func fileField(h hash.Hash, name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return &pathError{err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("hashing %s: %w", path, err)
	}
	fmt.Fprintf(h, "file %d %s %d\n", len(name), name, st.Size())
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hashing %s: %w", path, err)
	}
	return nil
}

type pathError struct{ err error }

func (e *pathError) Error() string { return "hashing source: " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

func unwrapPathError(err error) error {
	if pe, ok := err.(*pathError); ok {
		return pe.err
	}
	return err
}
