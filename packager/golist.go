package packager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// listedModule and listedPackage are the parts of `go list -json` output the packager reads.
type listedModule struct {
	Path    string
	Version string
	Main    bool
	Dir     string
	GoMod   string
	Replace *listedModule
}

type listedPackage struct {
	ImportPath string
	Name       string
	Dir        string
	Standard   bool
	Module     *listedModule
	GoFiles    []string
	CgoFiles   []string
	EmbedFiles []string
	SFiles     []string
	Error      *struct{ Err string }
	DepsErrors []*struct{ Err string }
}

// goList runs `go list -json` with the given extra arguments in dir and decodes its stream of
// package objects. env is appended to the process environment (e.g. GOOS=wasip1).
func goList(ctx context.Context, dir string, env []string, args ...string) ([]listedPackage, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"list", "-e", "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("listing package in %s: %v: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(&stdout)
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list output for %s: %w", dir, err)
		}
		pkgs = append(pkgs, p)
	}
	for _, p := range pkgs {
		if p.Error != nil {
			return nil, fmt.Errorf("loading package %s: %s", p.ImportPath, p.Error.Err)
		}
	}
	return pkgs, nil
}

// goVersion is the version of the go command that builds, part of every hash. It reads the
// VERSION file of the GOROOT that go list reported for a standard package (saving a process
// start on every plan), and asks `go env` when there is none (development toolchains).
func goVersion(ctx context.Context, dir string, pkgs []listedPackage) (string, error) {
	for _, p := range pkgs {
		if !p.Standard || p.Dir == "" {
			continue
		}
		rel := filepath.FromSlash(p.ImportPath)
		if !strings.HasSuffix(p.Dir, string(filepath.Separator)+rel) {
			continue
		}
		goroot := filepath.Dir(strings.TrimSuffix(p.Dir, string(filepath.Separator)+rel)) // strip /src
		raw, err := os.ReadFile(filepath.Join(goroot, "VERSION"))
		if err != nil {
			break
		}
		if line, _, _ := strings.Cut(string(raw), "\n"); strings.HasPrefix(line, "go") {
			return strings.TrimSpace(line), nil
		}
		break
	}
	cmd := exec.CommandContext(ctx, "go", "env", "GOVERSION")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running go env GOVERSION (is the go command on PATH?): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
