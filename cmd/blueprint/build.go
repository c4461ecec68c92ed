package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/packager"
)

func init() {
	register("build", "build the jobs of a Go package into a wasm module", func(ctx context.Context, args []string) error {
		return runBuild(ctx, args, os.Stdout, os.Stderr)
	})
}

// runBuild implements `blueprint build DIR [-o FILE] [-cache DIR]`.
func runBuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	output := fs.String("o", "", "also copy the module to this file")
	cacheDir := fs.String("cache", "", "artifact cache directory (default: <user cache dir>/blueprint/artifacts)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blueprint build [-o FILE] [-cache DIR] DIR\n\nAnalyzes the Go package in DIR and builds all its jobs into one wasm module.")
		fs.PrintDefaults()
	}
	dir, err := parsePackageDir(fs, args)
	if errors.Is(err, errUsageShown) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "blueprint", Level: hclog.Info, Output: stderr})
	if lvl := os.Getenv("BLUEPRINT_LOG_LEVEL"); lvl != "" {
		logger.SetLevel(hclog.LevelFromString(lvl))
	}

	result, err := analyzePackage(ctx, dir, analyzer.WithLogger(logger.Named("analyzer")))
	if err != nil {
		return err
	}
	if len(result.Jobs) == 0 {
		return fmt.Errorf("no //blueprint:job functions in %s: mark a job function with a //blueprint:job comment", dir)
	}
	art, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: dir, Jobs: result.Jobs, CacheDir: *cacheDir, Logger: logger})
	if err != nil {
		return err
	}
	path := art.Path
	if *output != "" {
		if err := copyFile(art.Path, *output); err != nil {
			return err
		}
		path = *output
	}
	for _, j := range result.Jobs {
		fmt.Fprintf(stdout, "job %s (%s) pure=%t eligible=%t\n", j.Name, j.Function, j.Pure, j.Eligible)
	}
	fmt.Fprintf(stdout, "%s\nsha256 %s\nsize %d\n", path, art.SHA256, art.Size)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if dir := filepath.Dir(dst); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("writing module to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("writing module to %s: %w", dst, err)
	}
	return out.Close()
}
