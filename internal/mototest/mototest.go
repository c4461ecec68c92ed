// Package mototest starts moto_server, a well-kept implementation of AWS's APIs (Lambda's
// control plane, IAM, STS, S3, DynamoDB), on 127.0.0.1 for tests. The AWS tests run against it
// instead of against fakes written here.
package mototest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env names the moto_server binary to use; `make test` sets it from tools/moto.sh.
const Env = "BLUEPRINT_MOTO_SERVER"

// Server is a running moto_server.
type Server struct {
	URL string // http://127.0.0.1:<port>
}

// Start runs a fresh moto_server for the test and stops it when the test ends. A machine
// without moto fails the test with what to run: the AWS paths are never skipped silently.
func Start(t testing.TB) *Server { return start(t) }

// StartAuthenticating runs a moto_server that checks credentials as AWS does: requests
// signed with keys it never issued are refused (InvalidClientTokenId), for tests of refused
// credentials.
func StartAuthenticating(t testing.TB) *Server {
	return start(t, "INITIAL_NO_AUTH_ACTION_COUNT=0")
}

func start(t testing.TB, env ...string) *Server {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("moto_server"); err != nil {
			t.Fatalf("moto_server not found: run tools/moto.sh (make test does) and set %s to the path it prints, or put moto 5 on PATH (pip install 'moto[server]==5.2.1')", Env)
		}
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), env...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("moto_server exited before serving: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30 s: %v\n%s", s.URL, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Serialized returns the URL of a proxy that hands moto one request at a time. moto checks a
// condition and writes the item in two steps without a lock, so two conditional writes racing
// on one item can both succeed there (measured: 1,279 on a counter after 1,280 successful
// conditional increments); DynamoDB applies writes to an item one at a time. Tests of
// concurrent conditional writes go through this proxy, so what they check is the client's
// logic under DynamoDB's semantics rather than moto's race.
func (s *Server) Serialized(t testing.TB) string {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Reset drops everything moto holds, for tests that share one server.
func (s *Server) Reset() error {
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("moto reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now, for a child
// process that takes its port on the command line.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
