package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/sdk/go/jobcall"
)

// startAgent runs the real agent with args (after --state and the host token) and returns
// its URL; it stops with the test.
func startAgent(t *testing.T, state, hostToken string, args ...string) string {
	t.Helper()
	all := append([]string{"--state", state, "--capacity", "2", "--cache", t.TempDir(), "--host-token", hostToken, "--log-level", "error"}, args...)
	o, err := parseOptions(all, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- run(ctx, o, func(url string) { urls <- url }) }()
	t.Cleanup(func() {
		stop()
		<-runErr
	})
	select {
	case url := <-urls:
		return url
	case err := <-runErr:
		t.Fatalf("agent did not start: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("agent did not start within a minute")
	}
	return ""
}

// TestRun_hostileRequests: an agent without a token on loopback refuses what a web page or a
// slow client could send, and runs nothing for it.
func TestRun_hostileRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	state, hostToken := spinState(t)
	url := startAgent(t, state, hostToken, "--listen", "127.0.0.1:0", "--body-timeout", "300ms")
	post := func(contentType, host string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/jobs/spin:run", strings.NewReader(`1`))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		contentType, host string
		status            int
		code              string
	}{
		{"text/plain", "", 415, "unsupported_media_type"},
		{"application/x-www-form-urlencoded", "", 415, "unsupported_media_type"},
		{"", "", 415, "unsupported_media_type"},
		{"application/json", "rebound.example:8080", 403, "host_not_allowed"},
	} {
		if status, body := post(c.contentType, c.host); status != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Errorf("%q with Host %q: %d %s, want %d %s", c.contentType, c.host, status, body, c.status, c.code)
		}
	}

	// A body that stops arriving: dropped at the body deadline, not held.
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/jobs/spin:run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[1,2,3,4,")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		resp.Body.Close()
	}
	if took := time.Since(start); err == nil && resp.StatusCode != http.StatusRequestTimeout || took > 5*time.Second {
		t.Fatalf("stalled body: %v %v after %v, want 408 (or the connection closed) within the 300 ms deadline", resp, err, took)
	}

	resp, err = http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(metrics), `blueprint_agent_runs_total{job="spin"`) {
		t.Fatalf("a hostile request ran the job:\n%s", metrics)
	}
}

// TestRun_mutualTLS: an agent that requires client certificates serves a caller with one from
// its CA, through jobcall, and refuses one from another CA in the handshake.
func TestRun_mutualTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	state, hostToken := spinState(t)
	dir := t.TempDir()
	ca := newCA(t, "agent CA")
	serverCert, serverKey := ca.issue(t, dir, "server", true)
	clientCert, clientKey := ca.issue(t, dir, "client", false)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	// Listening beyond loopback is allowed with TLS and client certificates, no token.
	url := startAgent(t, state, hostToken, "--listen", "127.0.0.1:0", "--tls-cert", serverCert, "--tls-key", serverKey, "--client-ca", caFile)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("agent URL %q", url)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.pem)
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jobcall.ConnectTLS(url, "", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spin := jobcall.Define("spin", func(ctx context.Context, n int) (int, error) { return 0, errors.New("runs in the agent") })
	var e *jobcall.Error
	if _, err := spin.Call(context.Background(), 1, jobcall.Using(c)); !errors.Is(err, jobcall.ErrTimeout) || !errors.As(err, &e) || e.Job != "spin" {
		t.Fatalf("a caller with a client certificate: %v (want the job's own timeout: it ran)", err)
	}

	rogue := newCA(t, "another CA")
	rogueCert, rogueKey := rogue.issue(t, dir, "rogue", false)
	roguePair, err := tls.LoadX509KeyPair(rogueCert, rogueKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, certs := range map[string][]tls.Certificate{"no certificate": nil, "another CA's": {roguePair}} {
		intruder, _ := jobcall.ConnectTLS(url, "", &tls.Config{RootCAs: roots, Certificates: certs})
		if _, err := spin.Call(context.Background(), 1, jobcall.Using(intruder)); !errors.Is(err, jobcall.ErrUnavailable) {
			t.Errorf("%s: %v, want refused in the handshake", name, err)
		}
	}
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate and key signed by the CA: a server's for 127.0.0.1, or a client's.
func (ca testCA) issue(t *testing.T, dir, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
