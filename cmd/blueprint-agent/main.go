// Command blueprint-agent is the runtime agent: it reads what Terraform deployed from the state
// file and runs jobs by name over HTTP, locally or offloaded as the router decides.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/telemetry"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/router"
	"github.com/serverless-blueprint/blueprint/runtimeagent"
	"github.com/serverless-blueprint/blueprint/runtimeagent/wasmlocal"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// options is the parsed command line.
type options struct {
	state      string
	listen     string
	capacity   int
	maxLocalIn int64
	maxBody    int64
	cache      string
	// platformSettings are what the agent needs to call each platform (credentials), by
	// platform and setting name: --platform-setting NAME.KEY=VALUE.
	platformSettings map[string]platform.Settings
	token            string
	logLevel         string
	logJSON          bool
	drainTimeout     time.Duration
	poll             time.Duration
	memoBytes        int64
	hedgeRatio       float64
	retryPercent     float64
	costAware        bool
	prices           router.Prices
	batchItems       int
	batchWait        time.Duration
	idempotencyStore string
	idempotencyTTL   time.Duration
	bodyTimeout      time.Duration
	waitForState     bool
	tlsCert, tlsKey  string // serve HTTPS
	clientCA         string // require client certificates signed by this CA (mTLS)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("blueprint-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.state, "state", "", "the state that lists the deployed jobs (required): a terraform.tfstate path, `terraform show -json` or `pulumi stack export` output, or an object in S3 (s3://BUCKET/KEY) or GCS (gs://BUCKET/OBJECT), polled for changes")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "loopback address to serve the API on, or unix:///path/agent.sock for a unix socket (mode 0600: only this user's programs reach it)")
	fs.IntVar(&o.capacity, "capacity", runtime.GOMAXPROCS(0), "local executions at once before offloading; 0 = offload everything that may be offloaded")
	fs.Int64Var(&o.maxLocalIn, "max-local-input-bytes", router.DefaultMaxLocalInputBytes, "inputs larger than this are offloaded; -1 = no limit")
	fs.Int64Var(&o.maxBody, "max-body-bytes", runtimeagent.DefaultMaxBodyBytes, "largest accepted input (413 beyond)")
	fs.StringVar(&o.cache, "cache", "", "directory for fetched modules and compiled code (default: the user cache dir)/blueprint/agent")
	registry := builtin.Registry()
	o.platformSettings = map[string]platform.Settings{}
	fs.Func("platform-setting", "NAME.KEY=VALUE: a setting the agent needs to call platform NAME, e.g. wasm.token=T (repeatable; "+invokerSettingsHelp(registry)+")", func(v string) error {
		return setPlatformSetting(registry, o.platformSettings, v)
	})
	fs.Func("host-token", "bearer token of the wasm hosts; short for --platform-setting wasm.token=T (default: $BLUEPRINT_HOST_TOKEN)", func(v string) error {
		return setPlatformSetting(registry, o.platformSettings, "wasm.token="+v)
	})
	fs.StringVar(&o.token, "token", "", "require this bearer token from callers of /v1/ (default: $BLUEPRINT_AGENT_TOKEN; none when both are empty)")
	fs.StringVar(&o.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.BoolVar(&o.logJSON, "log-json", false, "write logs as JSON lines (one object per line; trace_id and span_id on an execution's lines)")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "on shutdown, how long to let running executions finish")
	fs.DurationVar(&o.poll, "poll", time.Second, "how often to check the state file for changes")
	fs.BoolVar(&o.waitForState, "wait-for-state", false, "start serving before the state can be read (an agent started with its VM before the first apply): /readyz answers 503 until it loads")
	fs.DurationVar(&o.bodyTimeout, "body-timeout", runtimeagent.DefaultBodyTimeout, "how long a request's body may take to arrive; a stalled caller loses its connection")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM); with --tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fs.StringVar(&o.clientCA, "client-ca", "", "require callers to present a client certificate signed by this CA (PEM): mutual TLS, beside or instead of --token; needs --tls-cert")
	fs.StringVar(&o.idempotencyStore, "idempotency-store", "", "state store of Idempotency-Key records for jobs without a state store of their own (default: the machine's, sqlite:// in the user data directory)")
	fs.DurationVar(&o.idempotencyTTL, "idempotency-ttl", runtimeagent.DefaultIdempotencyTTL, "how long the outcome of a request with an Idempotency-Key is replayed to retries")
	fs.Int64Var(&o.memoBytes, "memo-bytes", 64<<20, "result cache for pure and deterministic jobs, in bytes; -1 = off")
	fs.Float64Var(&o.hedgeRatio, "hedge-ratio", 0.05, "share of requests that may start a speculative remote run of a slow pure job; -1 = off")
	fs.Float64Var(&o.retryPercent, "retry-percent", 0.2, "failover retries in flight allowed, as a share of requests in flight (at least 3)")
	maxBatch := largestBatch(registry)
	fs.IntVar(&o.batchItems, "batch-max-items", runtimeagent.DefaultBatchMaxItems, fmt.Sprintf("most executions of a pure job sent to a region in one batch request (at most %d; a platform that takes fewer lowers it for its regions); 1 = no batching", maxBatch))
	fs.DurationVar(&o.batchWait, "batch-max-wait", runtimeagent.DefaultBatchMaxWait, "longest an offloaded execution of a pure job waits for others to share its batch (the wait adapts below it to the arrival rate and the caller's latency budget)")
	defaults := router.DefaultPrices()
	fs.BoolVar(&o.costAware, "cost-aware", true, "also offload when the VM is busy or the platform is cheaper than the VM's marginal cost")
	fs.Float64Var(&o.prices.VMHourly, "vm-hourly-usd", defaults.VMHourly, "what this VM costs per hour")
	fs.IntVar(&o.prices.VMCores, "vm-cores", runtime.GOMAXPROCS(0), "cores that price buys")
	fs.Float64Var(&o.prices.ServerlessGBSecond, "serverless-gb-second-usd", defaults.ServerlessGBSecond, "platform price per GB-second")
	fs.Float64Var(&o.prices.ServerlessPerRequest, "serverless-request-usd", defaults.ServerlessPerRequest, "platform price per request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; all options are flags", fs.Arg(0))
	}
	if o.state == "" {
		return o, errors.New("--state is required: the path of the terraform.tfstate written by `terraform apply`")
	}
	if o.capacity < 0 {
		return o, errors.New("--capacity must be 0 or more")
	}
	if o.maxLocalIn == 0 || o.maxLocalIn < -1 {
		return o, errors.New("--max-local-input-bytes must be positive, or -1 for no limit")
	}
	if o.maxBody <= 0 {
		return o, errors.New("--max-body-bytes must be positive")
	}
	if o.batchItems < 1 || o.batchItems > maxBatch {
		return o, fmt.Errorf("--batch-max-items must be 1 (no batching) to %d (the most any platform takes), got %d", maxBatch, o.batchItems)
	}
	if o.idempotencyTTL <= 0 {
		return o, fmt.Errorf("--idempotency-ttl must be positive, got %v", o.idempotencyTTL)
	}
	if o.idempotencyStore != "" {
		if err := anystore.Check(o.idempotencyStore); err != nil {
			return o, fmt.Errorf("--idempotency-store: %w", err)
		}
	}
	if o.batchWait <= 0 {
		return o, fmt.Errorf("--batch-max-wait must be positive, got %v (turn batching off with --batch-max-items 1)", o.batchWait)
	}
	if hclog.LevelFromString(o.logLevel) == hclog.NoLevel {
		return o, fmt.Errorf("--log-level %q: use trace, debug, info, warn or error", o.logLevel)
	}
	if o.token == "" {
		o.token = os.Getenv("BLUEPRINT_AGENT_TOKEN")
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	if o.clientCA != "" && o.tlsCert == "" {
		return o, errors.New("--client-ca needs --tls-cert and --tls-key: client certificates are checked in the TLS handshake")
	}
	if o.bodyTimeout <= 0 {
		return o, fmt.Errorf("--body-timeout must be positive, got %v", o.bodyTimeout)
	}
	if err := checkListen(o); err != nil {
		return o, err
	}
	if o.cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("no --cache given and no user cache directory: %w", err)
		}
		o.cache = filepath.Join(dir, "blueprint", "agent")
	}
	return o, nil
}

// setPlatformSetting parses NAME.KEY=VALUE into settings, checking that platform NAME exists
// and takes KEY.
func setPlatformSetting(registry *platform.Registry, settings map[string]platform.Settings, v string) error {
	nameKey, value, ok := strings.Cut(v, "=")
	name, key, dotted := strings.Cut(nameKey, ".")
	if !ok || !dotted || name == "" || key == "" {
		return fmt.Errorf("%q: write NAME.KEY=VALUE, e.g. wasm.token=T", v)
	}
	d, found := registry.Lookup(name)
	if !found {
		return registry.UnknownError(name)
	}
	decl, found := platform.FindSetting(d.InvokerSettings, key)
	if !found {
		return fmt.Errorf("platform %s has no agent setting %q; it has: %s", name, key, strings.Join(platform.SettingNames(d.InvokerSettings), ", "))
	}
	parsed, err := platform.ParseSetting(decl, value)
	if err != nil {
		return fmt.Errorf("%s.%s: %v", name, key, err)
	}
	if settings[name] == nil {
		settings[name] = platform.Settings{}
	}
	settings[name][key] = parsed
	return nil
}

// invokerSettingsHelp lists what each platform lets the agent set, for --help.
func invokerSettingsHelp(registry *platform.Registry) string {
	var parts []string
	for _, d := range registry.Descriptors() {
		for _, s := range d.InvokerSettings {
			p := d.Name + "." + s.Name
			if s.EnvDefault != "" {
				p += " (default $" + s.EnvDefault + ")"
			}
			parts = append(parts, p)
		}
	}
	return "known: " + strings.Join(parts, ", ")
}

// largestBatch is the most items any built-in platform takes in one batch.
func largestBatch(registry *platform.Registry) int {
	n := 1
	for _, d := range registry.Descriptors() {
		n = max(n, d.Limits.MaxBatchItems)
	}
	return n
}

// checkListen refuses to serve other machines unless callers are authenticated: the agent
// runs code on their behalf. Loopback and unix sockets are this machine's; any other address
// needs TLS and a token or client certificates (a bearer token in clear text on a network is
// anyone's who can watch it).
func checkListen(o options) error {
	addr := o.listen
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if !filepath.IsAbs(path) {
			return fmt.Errorf("--listen %q: a unix socket needs an absolute path, e.g. unix:///run/blueprint/agent.sock", addr)
		}
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v; use 127.0.0.1:PORT", addr, err)
	}
	if httpapi.IsLoopbackHost(host) {
		return nil
	}
	if o.token == "" && o.clientCA == "" {
		return fmt.Errorf("--listen %q is reachable from other machines, and the agent runs code for its callers: give --token (or $BLUEPRINT_AGENT_TOKEN) or --client-ca, or listen on 127.0.0.1", addr)
	}
	if o.tlsCert == "" {
		return fmt.Errorf("--listen %q is reachable from other machines: serve HTTPS (--tls-cert, --tls-key) so the token or the traffic cannot be read on the way", addr)
	}
	return nil
}

// tlsConfig is the server's TLS: its certificate, and with --client-ca the CA that client
// certificates must chain to.
func tlsConfig(o options) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.clientCA != "" {
		pem, err := os.ReadFile(o.clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--client-ca %s holds no PEM certificate", o.clientCA)
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// listen opens the API's listener: TCP on loopback, or a unix socket that only this user may
// connect to (a socket file left by an agent that died is replaced). url is what clients use
// (BLUEPRINT_AGENT).
func listen(addr string) (net.Listener, string, error) {
	path, ok := strings.CutPrefix(addr, "unix://")
	if !ok {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, "", fmt.Errorf("listening on %s: %w", addr, err)
		}
		return ln, "http://" + ln.Addr().String(), nil
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, "", fmt.Errorf("--listen %s: %s exists and is not a socket; remove it or choose another path", addr, path)
		}
		if conn, err := net.Dial("unix", path); err == nil {
			conn.Close()
			return nil, "", fmt.Errorf("--listen %s: another agent is serving on %s", addr, path)
		}
		os.Remove(path) // left by an agent that did not stop cleanly
	}
	// Create the socket with no permissions for others from the start (not chmod after,
	// which leaves a window).
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, "", fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, "unix://" + path, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "blueprint-agent:", err)
		os.Exit(2)
	}
	if err := run(ctx, o, nil); err != nil {
		fmt.Fprintln(os.Stderr, "blueprint-agent:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then drains. ready, when set, gets the address once serving.
func run(ctx context.Context, o options, ready func(addr string)) error {
	log := hclog.New(&hclog.LoggerOptions{Name: "blueprint-agent", Level: hclog.LevelFromString(o.logLevel), Output: os.Stderr, JSONFormat: o.logJSON})
	// Traces: W3C context propagation always; spans exported when OTEL_EXPORTER_OTLP_ENDPOINT
	// (or ..._TRACES_ENDPOINT) is set.
	tracerProvider, shutdownTracing, err := telemetry.Setup(ctx, "blueprint-agent")
	if err != nil {
		return err
	}
	defer shutdownTracing()
	if telemetry.Exporting() {
		log.Info("exporting traces over OTLP")
	}

	rt, err := engine.NewRuntime(ctx, engine.RuntimeConfig{CacheDir: filepath.Join(o.cache, "wazero"), Logger: log.Named("wasm")})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	platforms, err := runtimeagent.NewPlatforms(builtin.Registry(), o.platformSettings, nil)
	if err != nil {
		return err
	}
	defer platforms.Close()
	// The stores of stateful jobs, shared by both executors: SQLite files on this machine, or
	// the DynamoDB table the jobs' Lambda functions use too (credentials from the AWS chain).
	states := statestore.NewStores(anystore.Opener(ctx))
	defer states.Close()
	wasmLocal, err := wasmlocal.New(wasmlocal.Config{
		Runtime: rt, Fetcher: platforms, CacheDir: filepath.Join(o.cache, "modules"), States: states, Logger: log.Named("local"),
	})
	if err != nil {
		return err
	}
	// Jobs applied with a native bootstrap run in worker processes of it; states from before
	// native artifacts run in wasm.
	nativeLocal, err := runtimeagent.NewNativeExecutor(runtimeagent.NativeExecutorConfig{
		CacheDir: filepath.Join(o.cache, "native"), Workers: max(o.capacity, 1), States: states, Logger: log.Named("local"),
	})
	if err != nil {
		return err
	}
	defer nativeLocal.Close()
	local := &runtimeagent.LocalExecutors{Native: nativeLocal, WASM: wasmLocal}
	capacity := o.capacity
	if capacity == 0 {
		capacity = -1 // router: no local capacity
	}
	// Machine load (CPU, memory) counts towards utilization where /proc exists; elsewhere the
	// agent routes on its own in-flight executions and says so.
	load, err := runtimeagent.NewLoadSampler("", time.Second)
	if err != nil {
		log.Warn("machine load is not sampled; routing on the agent's own executions only", "error", err)
		load = nil
	} else {
		go load.Run(ctx)
	}
	policy := router.Policy{LocalCapacity: capacity, MaxLocalInputBytes: o.maxLocalIn}
	if o.costAware {
		policy.Prices = &o.prices
	}
	agent, err := runtimeagent.New(ctx, runtimeagent.Config{
		StatePath:        o.state,
		Policy:           policy,
		MaxBodyBytes:     o.maxBody,
		PollInterval:     o.poll,
		Local:            local,
		Platforms:        platforms,
		Logger:           log,
		Token:            o.token,
		MemoBytes:        o.memoBytes,
		Load:             load,
		HedgeRatio:       o.hedgeRatio,
		RetryPercent:     o.retryPercent,
		BatchMaxItems:    o.batchItems,
		BatchMaxWait:     o.batchWait,
		States:           states,
		IdempotencyStore: o.idempotencyStore,
		IdempotencyTTL:   o.idempotencyTTL,
		BodyTimeout:      o.bodyTimeout,
		WaitForState:     o.waitForState,
		TracerProvider:   tracerProvider,
		// Without a token or client certificates, only requests addressed to loopback: a web
		// page could otherwise reach the agent by DNS rebinding. A unix socket has no Host.
		CheckHost: o.token == "" && o.clientCA == "" && !strings.HasPrefix(o.listen, "unix://"),
	})
	if err != nil {
		return err
	}

	ln, url, err := listen(o.listen)
	if err != nil {
		return err
	}
	if o.tlsCert != "" {
		cfg, err := tlsConfig(o)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, cfg)
		url = strings.Replace(url, "http://", "https://", 1)
	}
	srv := &http.Server{Handler: agent.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		agent.Run(watchCtx)
	}()
	// Run (and the module compiles it starts in the background) must end before the wasm
	// runtime and the stores deferred above are closed.
	defer func() {
		stopWatch()
		<-watching
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("agent listening", "url", url, "state", o.state, "capacity", o.capacity, "jobs", len(agent.Manifest().Jobs))
	fmt.Printf("agent listening on %s\n", url)
	if ready != nil {
		ready(url)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Drain: stop accepting, let running executions finish, bounded by the timeout.
	log.Info("draining", "timeout", o.drainTimeout)
	drainCtx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	if err := srv.Shutdown(drainCtx); err != nil {
		srv.Close()
		return fmt.Errorf("draining: executions still running after %v were cut off: %w", o.drainTimeout, err)
	}
	log.Info("stopped")
	return nil
}
