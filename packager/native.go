package packager

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/template"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
)

// LambdaGoVersion is the github.com/aws/aws-lambda-go the native bootstrap is built with; a
// test keeps it equal to this module's go.mod.
const LambdaGoVersion = "v1.55.1"

// OTelVersion is the go.opentelemetry.io/otel the native bootstrap and the Cloud Functions
// source are built with: they read the agent's trace context into the job's context (the
// propagation package; the API only, no SDK). A test keeps it equal to this module's go.mod.
const OTelVersion = "v1.47.0"

// NativeBuild describes one native bootstrap to build from a job package.
type NativeBuild struct {
	Dir      string         // the job package directory
	Jobs     []job.Analysis // jobs to include (Name and Function are used)
	GOOS     string         // "" = this machine's
	GOARCH   string         // "" = this machine's
	CacheDir string         // "" = os.UserCacheDir()/blueprint/artifacts
	Logger   hclog.Logger
}

//go:embed native.go.tmpl
var nativeTemplateText string

var nativeTemplate = template.Must(template.New("native").Parse(nativeTemplateText))

// nativeWrapperDir is the overlay directory of the native wrapper (see wrapperDir).
const nativeWrapperDir = "blueprint_native_main"

// BuildNative builds the jobs of the package into one static executable that speaks the AWS
// Lambda Runtime API through github.com/aws/aws-lambda-go: the `bootstrap` of a provided.al2023
// function, and the worker the runtime agent runs locally (it serves the same API to it). Each
// invocation runs the job named by BLUEPRINT_JOB, else by the function name in the invoked ARN,
// else by AWS_LAMBDA_FUNCTION_NAME. Builds are reproducible and stored content-addressed as
// <CacheDir>/<sha256>.bin.
func BuildNative(ctx context.Context, b NativeBuild) (Artifact, error) {
	goos, goarch := b.GOOS, b.GOARCH
	if goos == "" {
		goos = runtime.GOOS
	}
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	t := target{
		what: "native bootstrap", env: []string{"GOOS=" + goos, "GOARCH=" + goarch, "CGO_ENABLED=0"},
		// lambda.norpc leaves out the RPC mode of the go1.x runtime, which provided.al2023 and
		// the agent never use.
		flags:    []string{"-trimpath", "-buildvcs=false", "-tags=lambda.norpc", "-ldflags=-s -w -buildid="},
		template: nativeTemplate, text: nativeTemplateText, wrapperDir: nativeWrapperDir, ext: ".bin",
		data:     wrapperData,
		requires: []string{"github.com/aws/aws-lambda-go@" + LambdaGoVersion, "go.opentelemetry.io/otel@" + OTelVersion},
	}
	return build(ctx, t, b.Dir, b.Jobs, b.CacheDir, b.Logger)
}

// requireModules writes a go.mod (and go.sum) for the build into work: a copy of the job
// package's module's own, with the given modules added by `go get -modfile`. Replace
// directives keep working (the go command resolves them from the module root); nothing in
// the user's tree changes.
func requireModules(ctx context.Context, dir string, pkg listedPackage, work string, env, requires []string) (string, error) {
	if pkg.Module == nil || pkg.Module.GoMod == "" {
		return "", fmt.Errorf("package %s is not in a Go module: run go mod init in its module root", pkg.ImportPath)
	}
	modFile := filepath.Join(work, "go.mod")
	if err := copyFile(pkg.Module.GoMod, modFile); err != nil {
		return "", err
	}
	sum := strings.TrimSuffix(pkg.Module.GoMod, ".mod") + ".sum"
	if err := copyFile(sum, filepath.Join(work, "go.sum")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	args := append([]string{"get", "-modfile", modFile}, requires...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("adding %s to a copy of %s (the Go module proxy must serve it once; it is cached after): %v: %s",
			strings.Join(requires, ", "), pkg.Module.GoMod, err, strings.TrimSpace(string(out)))
	}
	return modFile, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
