package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHostCommandServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runHost(ctx, []string{"--listen", "127.0.0.1:0", "--region", "cmd-test", "--data", t.TempDir(), "--token", "secret"}, pw, io.Discard)
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
	resp, err := http.Get(url + "/healthz")
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
	resp, err = http.DefaultClient.Do(req)
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
