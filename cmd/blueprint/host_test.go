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
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHostCommandServesAndStops(t *testing.T) {
	testHostCommand(t, nil, http.DefaultClient)
}

func TestHostCommandServesTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	testHostCommand(t, []string{"--tls-cert", certFile, "--tls-key", keyFile}, client)
}

func testHostCommand(t *testing.T, extra []string, client *http.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	args := append([]string{"--listen", "127.0.0.1:0", "--region", "cmd-test", "--data", t.TempDir(), "--token", "secret"}, extra...)
	go func() {
		done <- runHost(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var url string
	deadline := time.After(30 * time.Second)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if rest, ok := strings.CutPrefix(lines.Text(), "host listening on "); ok {
				found <- strings.Fields(rest)[0]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case url = <-found:
	case err := <-done:
		t.Fatalf("host exited early: %v", err)
	case <-deadline:
		t.Fatal("host did not print its listening line")
	}
	if len(extra) > 0 && !strings.HasPrefix(url, "https://") {
		t.Fatalf("with TLS the host announced %s", url)
	}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"region":"cmd-test"`) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("GET", url+"/v1/functions", nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("list with the --token: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("host did not stop after cancellation")
	}
}

func TestHostCommandRefusesExposureWithoutTLS(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "10.1.2.3:0"} {
		err := runHost(context.Background(), []string{"--listen", addr, "--data", t.TempDir(), "--token", "x"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "without TLS") {
			t.Errorf("--listen %s: got %v, want a refusal naming TLS", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:1", "localhost:1", "[::1]:1"} {
		if err := checkListenAddress(addr, false); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := checkListenAddress("0.0.0.0:1", true); err != nil {
		t.Errorf("with TLS: %v", err)
	}
	err := runHost(context.Background(), []string{"--tls-cert", "c.pem"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("cert without key: %v", err)
	}
}
