package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serverless-blueprint/blueprint/internal/callgen"
)

// wrapFile is the file `blueprint wrap` writes in its output directory.
const wrapFile = "blueprint_jobs.go"

func init() {
	register("wrap", "write typed Go wrappers that call a package's jobs through Blueprint (for go generate)", runWrap)
}

func runWrap(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wrap", flag.ContinueOnError)
	out := fs.String("o", ".", "directory of the wrapper package; "+wrapFile+" is written there")
	pkg := fs.String("package", "", "name of the wrapper package (default: the directory's name)")
	check := fs.Bool("check", false, "write nothing; fail when "+wrapFile+" is not what would be written")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: blueprint wrap [-o DIR] [-package NAME] [-check] JOBDIR\n\nWrites one function per job of the package in JOBDIR, with the job's signature, that runs it\nthrough the runtime agent or an embedded router (sdk/go/jobcall). Use it from go generate:\n  //go:generate go run github.com/serverless-blueprint/blueprint/cmd/blueprint wrap -o . ../jobs")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give the directory of one job package")
	}
	dir, err := filepath.Abs(*out)
	if err != nil {
		return err
	}
	name := *pkg
	if name == "" {
		name = filepath.Base(dir)
	}
	src, err := callgen.Generate(fs.Arg(0), name)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, wrapFile)
	if *check {
		have, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(have, src) {
			return fmt.Errorf("%s is stale: run `make generate` (or go generate) to rewrite it", path)
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}
