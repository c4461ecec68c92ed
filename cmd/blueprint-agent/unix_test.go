package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

// TestRun_unixSocket serves the real agent on a unix socket with a token, and calls it the way
// a Go program does (sdk/go/jobcall): only this user may connect, a wrong token is refused, and
// a job that never returns is answered as a typed timeout naming the job, twice (the agent
// keeps serving).
func TestRun_unixSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	state, hostToken := spinState(t)
	dir, err := os.MkdirTemp("", "agent-sock") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	o, err := parseOptions([]string{"--state", state, "--listen", "unix://" + sock, "--token", "caller-secret", "--capacity", "2",
		"--cache", t.TempDir(), "--host-token", hostToken, "--log-level", "error"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	urls := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- run(ctx, o, func(url string) { urls <- url }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-runErr:
		t.Fatalf("agent did not start: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("agent did not start within a minute")
	}
	if url != "unix://"+sock {
		t.Fatalf("agent reports %q", url)
	}
	fi, err := os.Stat(sock)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %s: %v, mode %v (want 0600)", sock, err, fi.Mode())
	}

	spin := jobcall.Define("spin", func(ctx context.Context, n int) (int, error) { return 0, errors.New("runs in the agent") })
	intruder, err := jobcall.Connect(url, "wrong")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spin.Call(ctx, 1, jobcall.Using(intruder)); !errors.Is(err, jobcall.ErrUnauthorized) {
		t.Fatalf("wrong token: %v", err)
	}
	c, err := jobcall.Connect(url, "caller-secret")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, placement := range []jobcall.Placement{jobcall.PlaceLocal, jobcall.PlaceServerless} {
		start := time.Now()
		_, err := spin.Call(ctx, 1, jobcall.Using(c), jobcall.WithPlacement(placement))
		var e *jobcall.Error
		if !errors.Is(err, jobcall.ErrTimeout) || !errors.As(err, &e) || e.Job != "spin" {
			t.Fatalf("%s: a job past its 1 s timeout: %#v", placement, err)
		}
		// The first local run also waits for the module to compile (seconds under -race on a
		// cold cache): the bound is about not hanging, the timeout itself is the job's 1 s.
		if took := time.Since(start); took > time.Minute {
			t.Fatalf("%s: answered after %v", placement, took)
		}
	}
	stop()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket file is left behind after a clean stop: %v", err)
	}
}
