package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/telemetry"
	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
)

func init() {
	register("host", "run a wasm function host for one region", func(ctx context.Context, args []string) error {
		return runHost(ctx, args, os.Stdout, os.Stderr)
	})
}

// runHost implements `blueprint host --listen ADDR --region NAME --data DIR [--token T]
// [--max-concurrency N] [--tls-cert F --tls-key F]`. It serves until ctx is cancelled.
func runHost(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8700", "address to listen on (loopback only unless TLS is configured)")
	region := fs.String("region", "local", "region this host serves")
	dataDir := fs.String("data", "", "directory for functions and modules (default: <user config dir>/blueprint/host/<region>)")
	token := fs.String("token", "", "bearer token clients must send (default: $BLUEPRINT_HOST_TOKEN, else a generated one printed at start)")
	maxConc := fs.Int("max-concurrency", 0, "concurrent invocations before answering 429 (0 = 2 x CPUs)")
	maxBody := fs.Int64("max-body-bytes", 0, "largest invocation input in bytes (0 = 6 MiB)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (with --tls-key: serve HTTPS and allow non-loopback addresses)")
	tlsKey := fs.String("tls-key", "", "TLS key file")
	logJSON := fs.Bool("log-json", false, "write logs as JSON lines")
	envKey := fs.String("env-key-file", "", "file of the 32-byte key that seals functions' environments on disk (default: <data>/environment.key, created on first start)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: blueprint host [flags]\n\nRuns the function host of one region: deploy modules to it and invoke them over HTTP.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	useTLS := *tlsCert != "" || *tlsKey != ""
	if useTLS && (*tlsCert == "" || *tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if err := checkListenAddress(*listen, useTLS); err != nil {
		return err
	}
	if *dataDir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return fmt.Errorf("finding a default data directory (give --data): %w", err)
		}
		*dataDir = filepath.Join(base, "blueprint", "host", *region)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "blueprint", Level: hclog.Info, Output: stderr, JSONFormat: *logJSON})
	// The agent's trace continues here (W3C traceparent); spans are exported when
	// OTEL_EXPORTER_OTLP_ENDPOINT is set.
	_, shutdownTracing, err := telemetry.Setup(ctx, "blueprint-host")
	if err != nil {
		return err
	}
	defer shutdownTracing()
	if lvl := os.Getenv("BLUEPRINT_LOG_LEVEL"); lvl != "" {
		logger.SetLevel(hclog.LevelFromString(lvl))
	}

	tok := *token
	if tok == "" {
		tok = os.Getenv("BLUEPRINT_HOST_TOKEN")
	}
	if tok == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("generating a token: %w", err)
		}
		tok = hex.EncodeToString(b)
		fmt.Fprintf(stdout, "host token (generated; pass --token or set BLUEPRINT_HOST_TOKEN to choose one): %s\n", tok)
	}

	h, err := host.New(ctx, host.Config{
		Region: *region, DataDir: *dataDir, Token: tok,
		MaxConcurrency: *maxConc, MaxBodyBytes: *maxBody, Logger: logger, EnvironmentKeyFile: *envKey,
	})
	if err != nil {
		return err
	}
	defer h.Close(context.Background())

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *listen, err)
	}
	srv := &http.Server{
		Handler:           h.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	scheme := "http"
	go func() {
		if useTLS {
			serveErr <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	if useTLS {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "host listening on %s://%s region=%s\n", scheme, ln.Addr(), *region)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight invocations")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// checkListenAddress refuses to expose the host beyond this machine without TLS: it accepts
// code, and its token would cross the network in clear text.
func checkListenAddress(addr string, useTLS bool) error {
	hostPart, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want HOST:PORT, e.g. 127.0.0.1:8700: %v", addr, err)
	}
	if port == "" {
		return fmt.Errorf("--listen %q: give a port (0 picks a free one)", addr)
	}
	if useTLS {
		return nil
	}
	if !httpapi.IsLoopbackHost(hostPart) {
		ip := net.ParseIP(hostPart)
		what := hostPart
		if hostPart == "" || (ip != nil && ip.IsUnspecified()) {
			what = "every interface"
		}
		return fmt.Errorf("--listen %q would expose the host on %s without TLS: listen on 127.0.0.1, or give --tls-cert and --tls-key", addr, what)
	}
	return nil
}
