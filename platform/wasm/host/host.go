package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"
	"github.com/serverless-blueprint/blueprint/internal/tracelog"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/platform/wasm/engine"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/anystore"
)

// Config configures a Host.
type Config struct {
	Region  string
	DataDir string
	// Token is required: the host accepts code, so every endpoint but /healthz checks it.
	Token string
	// MaxConcurrency bounds concurrent invocations; beyond it the host answers 429 with
	// Retry-After. 0 = 2*GOMAXPROCS.
	MaxConcurrency int
	// MaxBodyBytes limits an invocation's input; 0 = 6 MiB (Lambda's synchronous limit).
	MaxBodyBytes int64
	// Runtime runs the modules; nil = one created with its compilation cache under DataDir.
	Runtime *engine.Runtime
	Logger  hclog.Logger
	// EnvironmentKeyFile holds the 32-byte key that seals functions' environments on disk;
	// "" = DataDir/environment.key, created on first start. Keep it apart from the data
	// directory (another disk, a secrets mount) for the sealing to protect a copied disk.
	EnvironmentKeyFile string
}

// defaultMaxBodyBytes is the platform's payload limit (wasm.Limits), which the agent checks too.
var defaultMaxBodyBytes = wasm.Limits.MaxPayloadBytes

const (
	// maxBlobBytes bounds an uploaded module: Go modules are a few MB, 256 MiB is far beyond.
	maxBlobBytes = 256 << 20
	// FunctionErrorHeader marks a 200 response whose body is a job error, as Lambda's
	// X-Amz-Function-Error does.
	FunctionErrorHeader = "X-Blueprint-Function-Error"
)

// Host serves the function host HTTP API. It is safe for concurrent use.
type Host struct {
	tracer      trace.Tracer
	metrics     *hostMetrics
	region      string
	token       []byte
	maxBody     int64
	log         hclog.Logger
	rt          *engine.Runtime
	ownsRuntime bool
	states      *statestore.Stores // the state stores of stateful functions, opened once each
	store       *store
	slots       chan struct{}

	mu        sync.RWMutex
	functions map[string]*Function
	modules   map[string]*engine.Module // by code sha256, loaded on first use
}

// New opens (or creates) the data directory and loads the functions stored there.
func New(ctx context.Context, cfg Config) (*Host, error) {
	if cfg.Region == "" {
		return nil, errors.New("host region is empty: give the region this host serves")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("host data directory is empty: give a directory to keep functions and modules in")
	}
	if cfg.Token == "" {
		return nil, errors.New("host token is empty: the host accepts code, so it always requires a token")
	}
	if cfg.MaxConcurrency < 0 || cfg.MaxBodyBytes < 0 {
		return nil, errors.New("host limits must not be negative")
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("host")
	st, err := openStore(cfg.DataDir, cfg.EnvironmentKeyFile)
	if err != nil {
		return nil, err
	}
	fns, err := st.loadFunctions()
	if err != nil {
		return nil, err
	}
	// A module uploaded but never deployed (a client that died between the two calls) would
	// otherwise stay forever; a client that is still deploying re-uploads on blob_missing.
	removed, err := st.removeUnreferenced(fns)
	if err != nil {
		return nil, err
	}
	if len(removed) > 0 {
		log.Info("removed unused files from the data directory", "files", removed)
	}
	for name, f := range fns {
		if !st.hasBlob(f.CodeSHA256) {
			log.Warn("function has no module on disk; invocations will fail until it is deployed again", "function", name, "code_sha256", f.CodeSHA256)
		}
	}
	h := &Host{
		tracer:    otel.GetTracerProvider().Tracer("github.com/serverless-blueprint/blueprint/platform/wasm/host"),
		states:    statestore.NewStores(anystore.Opener(context.Background())),
		region:    cfg.Region,
		token:     []byte(cfg.Token),
		maxBody:   cfg.MaxBodyBytes,
		log:       log,
		rt:        cfg.Runtime,
		store:     st,
		functions: fns,
		modules:   map[string]*engine.Module{},
	}
	if h.maxBody == 0 {
		h.maxBody = defaultMaxBodyBytes
	}
	n := cfg.MaxConcurrency
	if n == 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	h.slots = make(chan struct{}, n)
	h.metrics = newHostMetrics(h)
	if h.rt == nil {
		// As many resident instances as concurrent invocations: fewer would make a busy host
		// start fresh instances (milliseconds each) for pure jobs.
		h.rt, err = engine.NewRuntime(ctx, engine.RuntimeConfig{CacheDir: filepath.Join(cfg.DataDir, "wazero-cache"), Logger: log, MaxIdleInstances: n})
		if err != nil {
			return nil, err
		}
		h.ownsRuntime = true
	}
	log.Info("host ready", "region", h.region, "functions", len(fns), "data", cfg.DataDir)
	return h, nil
}

// Close releases the runtime if the host created it.
func (h *Host) Close(ctx context.Context) error {
	h.states.Close()
	if h.ownsRuntime {
		return h.rt.Close(ctx)
	}
	return nil
}

// Handler returns the HTTP API.
func (h *Host) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.healthz)
	mux.Handle("PUT /v1/blobs/{sha256}", h.auth(h.putBlob))
	mux.Handle("GET /v1/blobs/{sha256}", h.auth(h.getBlob)) // also serves HEAD
	mux.Handle("GET /v1/functions", h.auth(h.listFunctions))
	mux.Handle("PUT /v1/functions/{name}", h.auth(h.putFunction))
	mux.Handle("GET /v1/functions/{name}", h.auth(h.getFunction))
	mux.Handle("DELETE /v1/functions/{name}", h.auth(h.deleteFunction))
	mux.Handle("POST /v1/functions/{name}/invoke", h.auth(h.metrics.counted(h.invoke)))
	mux.Handle("POST /v1/functions/{name}/invoke-batch", h.auth(h.metrics.counted(h.invokeBatch)))
	mux.Handle("GET /metrics", h.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path))
	})
	// A caller's trace (the agent's attempt) continues into the host: a server span per
	// request, with the global tracer provider and propagator (internal/telemetry sets them).
	return otelhttp.NewHandler(mux, "blueprint-host", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
		if r.Pattern != "" {
			return r.Pattern // "POST /v1/functions/{name}/invoke": the route, not the function
		}
		return r.Method + " " + r.URL.Path
	}))
}

func (h *Host) auth(next http.HandlerFunc) http.Handler {
	return httpapi.RequireBearer(string(h.token), "blueprint-host", "the host's --token or BLUEPRINT_HOST_TOKEN", nil, next)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	httpapi.WriteError(w, status, code, msg)
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteJSON(w, status, v) }

func (h *Host) healthz(w http.ResponseWriter, r *http.Request) {
	h.mu.RLock()
	n := len(h.functions)
	h.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "region": h.region, "functions": n})
}

func (h *Host) putBlob(w http.ResponseWriter, r *http.Request) {
	want := r.PathValue("sha256")
	if !sha256Hex.MatchString(want) {
		writeError(w, http.StatusBadRequest, "invalid_hash", fmt.Sprintf("%q is not a lowercase hex SHA-256", want))
		return
	}
	code, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBlobBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("module is larger than %d bytes", maxBlobBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "read_failed", "reading module: "+err.Error())
		return
	}
	sum := sha256.Sum256(code)
	if got := hex.EncodeToString(sum[:]); got != want {
		writeError(w, http.StatusBadRequest, "hash_mismatch", fmt.Sprintf("hash mismatch: the URL names %s but the body hashes to %s", want, got))
		return
	}
	if h.store.hasBlob(want) {
		writeJSON(w, http.StatusOK, map[string]any{"sha256": want, "size": len(code)})
		return
	}
	mod, err := h.rt.Load(r.Context(), code)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_module", err.Error())
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.store.writeBlob(want, code); err != nil {
		h.log.Error("storing module", "sha256", want, "error", err)
		writeError(w, http.StatusInternalServerError, "storage", "storing module: "+err.Error())
		return
	}
	h.modules[want] = mod
	h.log.Info("module stored", "sha256", want, "bytes", len(code))
	writeJSON(w, http.StatusCreated, map[string]any{"sha256": want, "size": len(code)})
}

func (h *Host) getBlob(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha256")
	if !sha256Hex.MatchString(sha) {
		writeError(w, http.StatusBadRequest, "invalid_hash", fmt.Sprintf("%q is not a lowercase hex SHA-256", sha))
		return
	}
	code, err := h.store.readBlob(sha)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no module %s on this host", sha))
		return
	}
	w.Header().Set("Content-Type", "application/wasm")
	w.Header().Set("Content-Length", strconv.Itoa(len(code)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(code)
	}
}

func (h *Host) listFunctions(w http.ResponseWriter, r *http.Request) {
	h.mu.RLock()
	out := make([]Function, 0, len(h.functions))
	for _, f := range h.functions {
		out = append(out, *f)
	}
	h.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	writeJSON(w, http.StatusOK, map[string]any{"functions": out})
}

// function returns a copy of the named function.
func (h *Host) function(name string) (Function, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	f, ok := h.functions[name]
	if !ok {
		return Function{}, false
	}
	return *f, true
}

// invokeCurrent runs fn's entry. When the module was unloaded before the call got an
// instance (the function was deleted, or redeployed with other code, meanwhile; the job did
// not run), it runs the function as it is now, a few times at most; a function deleted
// meanwhile gives an error wrapping platform.ErrNotFound.
func (h *Host) invokeCurrent(ctx context.Context, fn Function, mod *engine.Module, input []byte, opts engine.InvokeOptions) ([]byte, error) {
	out, err := mod.Invoke(ctx, fn.Entry, input, opts)
	sha := fn.CodeSHA256
	for try := 0; try < 3 && errors.Is(err, engine.ErrUnloaded); try++ {
		// A load that raced the unload may have remembered the closed module: forget it.
		h.mu.Lock()
		if h.modules[sha] == mod {
			delete(h.modules, sha)
		}
		h.mu.Unlock()
		now, ok := h.function(fn.Name)
		if !ok {
			return nil, fmt.Errorf("function %q was deleted while the invocation started: %w", fn.Name, platform.ErrNotFound)
		}
		sha = now.CodeSHA256
		if mod, err = h.module(ctx, sha); err != nil {
			return nil, err
		}
		opts.MemoryMB, opts.Timeout, opts.Environment = now.MemoryMB, time.Duration(now.TimeoutMS)*time.Millisecond, now.Environment
		opts.Pure = opts.Pure && now.Pure
		out, err = mod.Invoke(ctx, now.Entry, input, opts)
	}
	return out, err
}

// lookup returns a copy of the function the request names, or answers 404 and returns false.
func (h *Host) lookup(w http.ResponseWriter, r *http.Request) (Function, bool) {
	name := r.PathValue("name")
	fn, ok := h.function(name)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no function %q in region %s", name, h.region))
	}
	return fn, ok
}

func (h *Host) getFunction(w http.ResponseWriter, r *http.Request) {
	if fn, ok := h.lookup(w, r); ok {
		writeJSON(w, http.StatusOK, fn)
	}
}

func (h *Host) putFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := validName(name); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_name", err.Error())
		return
	}
	var cfg FunctionConfig
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_config", "reading function configuration: "+err.Error())
		return
	}
	if err := cfg.validate(); err != nil {
		h.releaseIfUnused(r.Context(), cfg.CodeSHA256)
		writeError(w, http.StatusBadRequest, "invalid_config", err.Error())
		return
	}
	if !h.store.hasBlob(cfg.CodeSHA256) {
		writeError(w, http.StatusConflict, "blob_missing", fmt.Sprintf("module %s is not on this host: upload it first with PUT /v1/blobs/%s", cfg.CodeSHA256, cfg.CodeSHA256))
		return
	}
	// Catch a wrong entry at deploy time, not at the first invocation.
	mod, err := h.module(r.Context(), cfg.CodeSHA256)
	if err != nil {
		writeError(w, http.StatusConflict, "blob_missing", err.Error())
		return
	}
	jobs, err := mod.Jobs(r.Context())
	if err != nil {
		h.releaseIfUnused(r.Context(), cfg.CodeSHA256)
		writeError(w, http.StatusBadRequest, "invalid_module", err.Error())
		return
	}
	if !slices.Contains(jobs, cfg.Entry) {
		h.releaseIfUnused(r.Context(), cfg.CodeSHA256)
		writeError(w, http.StatusBadRequest, "unknown_entry", fmt.Sprintf("module %s has no job %q; its jobs are: %s", cfg.CodeSHA256, cfg.Entry, strings.Join(jobs, ", ")))
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.store.hasBlob(cfg.CodeSHA256) {
		writeError(w, http.StatusConflict, "blob_missing", fmt.Sprintf("module %s is not on this host: upload it first with PUT /v1/blobs/%s", cfg.CodeSHA256, cfg.CodeSHA256))
		return
	}
	old, exists := h.functions[name]
	if exists && sameConfig(old, cfg) {
		writeJSON(w, http.StatusOK, *old)
		return
	}
	version := 1
	if exists {
		v, _ := strconv.Atoi(old.Version)
		version = v + 1
	}
	f := &Function{
		Name: name, Region: h.region, Version: strconv.Itoa(version),
		CodeSHA256: cfg.CodeSHA256, Entry: cfg.Entry, MemoryMB: cfg.MemoryMB, TimeoutMS: cfg.TimeoutMS,
		Pure: cfg.Pure, Environment: cfg.Environment, EnvironmentSHA256: wasm.EnvironmentDigest(cfg.Environment), Tags: cfg.Tags, StateStore: cfg.StateStore,
	}
	if err := h.store.saveFunction(f); err != nil {
		if !exists {
			h.collectBlobLocked(r.Context(), cfg.CodeSHA256)
		}
		h.log.Error("storing function", "function", name, "error", err)
		writeError(w, http.StatusInternalServerError, "storage", "storing function: "+err.Error())
		return
	}
	h.functions[name] = f
	if exists && old.CodeSHA256 != f.CodeSHA256 {
		h.collectBlobLocked(r.Context(), old.CodeSHA256)
	}
	h.sweepOrphansLocked(r.Context())
	h.log.Info("function deployed", "function", name, "version", f.Version, "code_sha256", f.CodeSHA256)
	writeJSON(w, http.StatusOK, *f)
}

func (h *Host) deleteFunction(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h.mu.Lock()
	defer h.mu.Unlock()
	f, ok := h.functions[name]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no function %q in region %s", name, h.region))
		return
	}
	if err := h.store.deleteFunction(name); err != nil {
		writeError(w, http.StatusInternalServerError, "storage", "deleting function: "+err.Error())
		return
	}
	delete(h.functions, name)
	h.collectBlobLocked(r.Context(), f.CodeSHA256)
	h.sweepOrphansLocked(r.Context())
	h.log.Info("function deleted", "function", name)
	w.WriteHeader(http.StatusNoContent)
}

// releaseIfUnused removes a module that a refused deploy uploaded, unless a function uses it:
// otherwise it would stay on disk, unused, until the host restarts. A client deploying the
// same module at this moment gets blob_missing and uploads it again.
func (h *Host) releaseIfUnused(ctx context.Context, sha string) {
	if !sha256Hex.MatchString(sha) || !h.store.hasBlob(sha) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.collectBlobLocked(ctx, sha)
}

// orphanGrace is how long an uploaded module may wait for the deploy that uses it. A client
// uploads, then deploys; one killed in between leaves a module no function will ever use.
const orphanGrace = 10 * time.Minute

// sweepOrphansLocked removes modules no function uses that were uploaded more than orphanGrace
// ago. It runs after each deploy and delete (and every module no function uses goes when the
// host starts), so an abandoned upload does not stay until the next restart.
func (h *Host) sweepOrphansLocked(ctx context.Context) {
	for sha := range h.modules {
		if age, ok := h.store.blobAge(sha); ok && age > orphanGrace {
			h.collectBlobLocked(ctx, sha)
		}
	}
}

// collectBlobLocked removes a module no function uses any more, from disk and from the runtime:
// destroying the last function of a module leaves no module behind.
func (h *Host) collectBlobLocked(ctx context.Context, sha string) {
	for _, f := range h.functions {
		if f.CodeSHA256 == sha {
			return
		}
	}
	if err := h.store.deleteBlob(sha); err != nil {
		h.log.Error("removing unused module", "sha256", sha, "error", err)
	}
	delete(h.modules, sha)
	if err := h.rt.Unload(ctx, sha); err != nil {
		h.log.Warn("unloading module", "sha256", sha, "error", err)
	}
	h.log.Info("unused module removed", "sha256", sha)
}

// module returns the loaded module for a code hash, loading it from disk on first use.
func (h *Host) module(ctx context.Context, sha string) (*engine.Module, error) {
	h.mu.RLock()
	m, ok := h.modules[sha]
	h.mu.RUnlock()
	if ok {
		return m, nil
	}
	code, err := h.store.readBlob(sha)
	if err != nil {
		return nil, fmt.Errorf("module %s is missing on this host: deploy the function again", sha)
	}
	m, err = h.rt.Load(ctx, code)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	// Remember it only while the blob exists: a delete may have collected it meanwhile. One
	// remembered meanwhile (an upload's) is newer than this load: keep it.
	if cur, ok := h.modules[sha]; ok {
		m = cur
	} else if h.store.hasBlob(sha) {
		h.modules[sha] = m
	}
	h.mu.Unlock()
	return m, nil
}

var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (h *Host) invoke(w http.ResponseWriter, r *http.Request) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too_many_requests", fmt.Sprintf("all %d invocation slots are busy: retry later", cap(h.slots)))
		return
	}
	fn, ok := h.lookup(w, r)
	if !ok {
		return
	}
	ctx, span := h.tracer.Start(r.Context(), "invoke "+fn.Name, trace.WithAttributes(attribute.String("blueprint.function", fn.Name),
		attribute.String("blueprint.region", h.region), attribute.String("blueprint.code_sha256", fn.CodeSHA256)))
	defer span.End()
	r = r.WithContext(ctx)
	name := fn.Name

	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodyPool.Put(buf)
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("input is larger than %d bytes", h.maxBody))
			return
		}
		writeError(w, http.StatusBadRequest, "read_failed", "reading input: "+err.Error())
		return
	}
	input := buf.Bytes()
	if !json.Valid(input) {
		writeError(w, http.StatusBadRequest, "invalid_input", "the input is not valid JSON")
		return
	}
	mod, err := h.module(r.Context(), fn.CodeSHA256)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "module_unavailable", err.Error())
		return
	}
	opts := engine.InvokeOptions{
		Pure:        fn.Pure,
		MemoryMB:    fn.MemoryMB,
		Timeout:     time.Duration(fn.TimeoutMS) * time.Millisecond,
		Environment: fn.Environment,
	}
	if fn.StateStore != "" {
		// The job's state lives in the store the provider recorded; a host on the same machine
		// as the agent opens the same file, so the job answers alike wherever it runs.
		st, err := h.states.For(fn.StateStore, fn.Name)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, "state_unavailable", err.Error())
			return
		}
		opts.State = st
	}
	out, err := h.invokeCurrent(r.Context(), fn, mod, input, opts)
	var fe *platform.FunctionError
	switch {
	case err == nil:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out)
	case errors.As(err, &fe):
		w.Header().Set(FunctionErrorHeader, "Unhandled")
		writeJSON(w, http.StatusOK, fe)
	case errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil:
		writeError(w, http.StatusGatewayTimeout, "timeout", err.Error())
	case errors.Is(err, platform.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, engine.ErrUnknownEntry):
		writeError(w, http.StatusInternalServerError, "unknown_entry", err.Error()+": the function's entry does not name a job in its module")
	default:
		h.log.Warn("invocation failed", tracelog.KV(r.Context(), "function", name, "error", err)...)
		writeError(w, http.StatusBadGateway, "function_failed", err.Error())
	}
}
