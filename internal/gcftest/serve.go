// Package gcftest runs a Cloud Functions source zip the way the Go runtime of Cloud Functions
// does, on 127.0.0.1: it unpacks the zip, adds a main that starts functions-framework-go
// (funcframework.StartHostPort, which keeps a global registry and blocks, so one process per
// function), builds it with the go command and runs it with the function's environment.
package gcftest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
	"github.com/serverless-blueprint/blueprint/packager"
)

const serveMain = `package main

import (
	"log"
	"os"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	_ "blueprint.gcf/function"
)

func main() {
	if err := funcframework.StartHostPort("127.0.0.1", os.Getenv("PORT")); err != nil {
		log.Fatal(err)
	}
}
`

// Function is a running function process.
type Function struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
	out  *strings.Builder
}

// Build unpacks zipped into dir and builds its server binary there, returning its path.
func Build(zipped []byte, dir string) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		return "", fmt.Errorf("reading the source zip: %w", err)
	}
	for _, f := range zr.File {
		dst := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(dst, filepath.Clean(dir)+string(os.PathSeparator)) {
			return "", fmt.Errorf("the source zip holds %q, outside its root", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "blueprint_serve"), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "blueprint_serve", "main.go"), []byte(serveMain), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "server")
	cmd := exec.Command("go", "build", "-o", bin, "./blueprint_serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build failed: %v\n%s", err, out)
	}
	return bin, nil
}

// Start runs a built server with env on a free port and waits until it answers.
func Start(bin string, env map[string]string) (*Function, error) {
	port, err := mototest.FreePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	// Cloud Functions sets FUNCTION_TARGET to the entry point; the framework serves it at "/".
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "FUNCTION_TARGET="+packager.GCFEntryPoint)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &Function{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan error, 1), out: out}
	go func() { f.done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-f.done:
			return nil, fmt.Errorf("the function exited before serving: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get(f.URL + "/robots.txt"); err == nil {
			resp.Body.Close()
			return f, nil
		}
		if time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("the function did not answer on %s within 20 s\n%s", f.URL, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the process.
func (f *Function) Stop() {
	_ = f.cmd.Process.Kill()
	<-f.done
}

// Serve builds and starts a source zip for a test, stopping it when the test ends.
func Serve(t testing.TB, zipped []byte, env map[string]string) *Function {
	t.Helper()
	bin, err := Build(zipped, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := Start(bin, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}
