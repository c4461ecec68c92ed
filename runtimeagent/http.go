package runtimeagent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"

	"github.com/serverless-blueprint/blueprint/internal/httpapi"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// RunResponse is the body of a successful POST /v1/jobs/{name}:run.
type RunResponse struct {
	Output     json.RawMessage `json:"output"`
	Ran        Ran             `json:"ran"`
	DurationMS float64         `json:"duration_ms"`
	Decision   string          `json:"decision"` // router.Reason of the final decision
	Attempts   int             `json:"attempts"` // regions tried (1 unless a pure job failed over)
}

// Ran says where a job ran.
type Ran struct {
	Target   string `json:"target"` // "local" or "serverless"
	Platform string `json:"platform,omitempty"`
	Region   string `json:"region,omitempty"`
}

// ErrorResponse is the body of every error (shared with the host's API).
type ErrorResponse = httpapi.ErrorResponse

// ErrorBody describes an error; Type is set for job errors (the job's error type).
type ErrorBody = httpapi.ErrorBody

// JobInfo is one entry of GET /v1/jobs.
type JobInfo struct {
	Name     string `json:"name"`
	Package  string `json:"package"`
	Function string `json:"function"`
	// Symbol is the function's Go symbol (import/path.Function), how a program calling jobs
	// as functions finds the job of a function; "" when the state does not tell.
	Symbol        string                           `json:"symbol,omitempty"`
	Mode          string                           `json:"mode"`
	Eligible      bool                             `json:"eligible"`
	Pure          bool                             `json:"pure"`
	Deterministic bool                             `json:"deterministic"`
	RequiresState bool                             `json:"requires_state"`
	MemoryMB      int64                            `json:"memory_mb"`
	TimeoutMS     int64                            `json:"timeout_ms"`
	Artifacts     map[platform.ArtifactKind]string `json:"artifacts"` // by kind: what deployments and local runs run
	// ArtifactSHA256 is the artifact this agent runs locally (what the field held before jobs
	// had several); kept for clients of earlier releases. Read artifacts instead.
	ArtifactSHA256 string                `json:"artifact_sha256,omitempty"`
	Findings       []job.Finding         `json:"findings"`
	Deployments    []platform.Deployment `json:"deployments"`
	Regions        []RegionInfo          `json:"regions"` // live statistics, same order as deployments
}

// RegionInfo is the agent's view of one deployment.
type RegionInfo struct {
	Platform            string  `json:"platform"`
	Region              string  `json:"region"`
	LatencyEWMAMS       float64 `json:"latency_ewma_ms"` // 0 until measured
	ConsecutiveFailures int     `json:"consecutive_failures"`
	// Healthy is false while the region is out of rotation (FailureThreshold failures in a
	// row); a probe's success after the cooldown restores it.
	Healthy   bool    `json:"healthy"`
	ErrorRate float64 `json:"error_rate"` // recent share of failed calls, smoothed
}

// JobList is the body of GET /v1/jobs.
type JobList struct {
	ManifestSerial int64     `json:"manifest_serial"`
	Source         string    `json:"source"`
	Jobs           []JobInfo `json:"jobs"`
}

func (a *Agent) handleRun(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutSuffix(r.PathValue("spec"), ":batch"); ok && name != "" {
		a.handleBatch(w, r, name)
		return
	}
	name, ok := strings.CutSuffix(r.PathValue("spec"), ":run")
	if !ok || name == "" {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no endpoint POST %s; run a job with POST /v1/jobs/{name}:run, or many inputs with POST /v1/jobs/{name}:batch", r.URL.Path))
		return
	}
	start := time.Now()
	snap, e, input, ok := a.readRequest(w, r, name)
	if !ok {
		return
	}
	if !json.Valid(input) {
		a.metrics.httpError(CodeInvalidJSON)
		writeError(w, http.StatusBadRequest, CodeInvalidJSON, fmt.Sprintf("the body must be the job's JSON input; got %d bytes that are not valid JSON", len(input)))
		return
	}

	ctx, ok := a.callContext(w, r, e)
	if !ok {
		return
	}
	// A caller's trace continues here (W3C traceparent).
	ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	if key := r.Header.Get(IdempotencyKeyHeader); key != "" {
		writeAnswer(w, a.runOnce(ctx, e, key, input, func(ctx context.Context) answer { return a.runAnswer(ctx, snap, e, input, start) }))
		return
	}
	writeAnswer(w, a.runAnswer(ctx, snap, e, input, start))
}

// runAnswer runs one execution and renders the API's answer to it.
func (a *Agent) runAnswer(ctx context.Context, snap *snapshot, e *jobEntry, input []byte, start time.Time) answer {
	res, err := a.execute(ctx, snap, e, input)
	if status, ebody := outcome(e.job.Name, res, err); ebody != nil {
		var re *runError
		body, _ := json.Marshal(ErrorResponse{Error: *ebody})
		return answer{status: status, body: body, code: ErrorCode(ebody.Code), notRun: errors.As(err, &re) && re.notRun}
	}
	ran := res.target.String()
	if res.platform != "" {
		ran += " " + res.platform + "/" + res.region
	}
	body, _ := json.Marshal(RunResponse{
		Output:     res.output,
		Ran:        Ran{Target: res.target.String(), Platform: res.platform, Region: res.region},
		DurationMS: float64(time.Since(start).Microseconds()) / 1000,
		Decision:   res.reason.String(),
		Attempts:   res.attempts,
	})
	return answer{status: http.StatusOK, body: body, ran: ran, decision: res.reason.String()}
}

// Headers of a successful run's answer: where it ran and the router's reason (the body's "ran"
// and "decision"), for proxies and logs that do not read bodies.
const (
	RanHeader      = "X-Blueprint-Ran"      // "local", or "serverless wasm/local-a"
	DecisionHeader = "X-Blueprint-Decision" // e.g. "local_capacity"
)

// writeAnswer writes a run's answer with the headers its status calls for.
func writeAnswer(w http.ResponseWriter, ans answer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if (ans.status == http.StatusServiceUnavailable && ans.code == CodeBusy) || ans.status == http.StatusConflict {
		h.Set("Retry-After", "1")
	}
	if ans.replayed {
		h.Set(IdempotentReplayedHeader, "true")
	}
	if ans.ran != "" {
		h.Set(RanHeader, ans.ran)
		h.Set(DecisionHeader, ans.decision)
	}
	w.WriteHeader(ans.status)
	w.Write(ans.body)
	w.Write([]byte("\n"))
}

// callContext carries what the caller's headers ask of the router (a latency budget, a forced
// placement) into the request's context. On a bad header it writes a 400 and returns false.
func (a *Agent) callContext(w http.ResponseWriter, r *http.Request, e *jobEntry) (context.Context, bool) {
	ctx := r.Context()
	if v := r.Header.Get(LatencyBudgetHeader); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			a.metrics.httpError(CodeBadRequest)
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("header %s must be a positive number of milliseconds, got %q", LatencyBudgetHeader, v))
			return nil, false
		}
		ctx = withLatencyBudget(ctx, time.Duration(ms)*time.Millisecond)
	}
	if v := r.Header.Get(PlacementHeader); v != "" {
		p, err := ParsePlacement(v)
		if err != nil {
			a.metrics.httpError(CodeBadRequest)
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("header %s: %v", PlacementHeader, err))
			return nil, false
		}
		ctx = WithPlacement(ctx, p)
		if err := checkPlacement(ctx, e); err != nil {
			a.metrics.httpError(CodeBadRequest)
			writeError(w, http.StatusBadRequest, CodeBadRequest, err.Error())
			return nil, false
		}
	}
	return ctx, true
}

// isJSON reports whether a Content-Type is application/json (parameters such as charset allowed).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// outcome maps an execution's result to the HTTP status and, when it failed, the error body.
func outcome(name string, res runResult, err error) (int, *ErrorBody) {
	if err != nil {
		var re *runError
		if !errors.As(err, &re) {
			re = &runError{status: 500, code: CodeInternal, message: err.Error()}
		}
		body := &ErrorBody{Code: string(re.code), Message: re.message}
		if re.fnErr != nil {
			body.Type = re.fnErr.Type
		}
		return re.status, body
	}
	if !json.Valid(res.output) {
		return http.StatusBadGateway, &ErrorBody{Code: "invalid_output", Message: fmt.Sprintf("job %q returned output that is not JSON", name)}
	}
	return http.StatusOK, nil
}

func (a *Agent) handleList(w http.ResponseWriter, r *http.Request) {
	snap := a.current.Load()
	list := JobList{ManifestSerial: snap.manifest.Serial, Source: snap.manifest.Source, Jobs: make([]JobInfo, 0, len(snap.manifest.Jobs))}
	for i := range snap.manifest.Jobs {
		j := &snap.manifest.Jobs[i]
		info := JobInfo{
			Name: j.Name, Package: j.Package, Function: j.Function, Symbol: j.Symbol(), Mode: j.Mode(), Eligible: j.Eligible,
			Pure: j.Analysis.Pure, Deterministic: j.Analysis.Deterministic, RequiresState: j.Analysis.RequiresState,
			MemoryMB: j.EffectiveMemoryMB(), TimeoutMS: j.EffectiveTimeout().Milliseconds(),
			Artifacts: j.Artifacts, ArtifactSHA256: j.Artifact(a.cfg.Local.ArtifactKind(j)), Findings: j.Analysis.Findings, Deployments: j.Deployments,
			Regions: make([]RegionInfo, len(j.Deployments)),
		}
		if info.Findings == nil {
			info.Findings = []job.Finding{}
		}
		// Environment is deliberately absent: it is sensitive in the state.
		for k, d := range j.Deployments {
			s := snap.jobs[j.Name].stats[k]
			info.Regions[k] = RegionInfo{Platform: d.Platform, Region: d.Region, LatencyEWMAMS: ms(s.Latency()), ConsecutiveFailures: s.ConsecutiveFailures(),
				Healthy: s.Healthy(a.cfg.Policy.FailureThreshold), ErrorRate: s.ErrorRate()}
		}
		list.Jobs = append(list.Jobs, info)
	}
	writeJSON(w, http.StatusOK, list)
}

func (a *Agent) handleHealth(w http.ResponseWriter, r *http.Request) {
	snap := a.current.Load()
	writeJSON(w, http.StatusOK, map[string]any{
		"status":          "ok",
		"manifest_serial": snap.manifest.Serial,
		"jobs":            len(snap.manifest.Jobs),
		"local_in_flight": a.inFlight.Load(),
		"local_capacity":  max(a.capacity, 0),
	})
}

// handleReady answers 200 once a manifest has loaded (for a load balancer or an orchestrator),
// 503 before, with why.
func (a *Agent) handleReady(w http.ResponseWriter, r *http.Request) {
	snap := a.current.Load()
	if snap.loadedAt.IsZero() {
		why, _ := a.firstLoadErr.Load().(string)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "source": a.cfg.StatePath, "error": why})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ready": true, "source": snap.manifest.Source, "manifest_serial": snap.manifest.Serial, "jobs": len(snap.manifest.Jobs)})
}

func (a *Agent) handleMetrics(w http.ResponseWriter, r *http.Request) {
	a.metrics.handler().ServeHTTP(w, r)
}

func writeError(w http.ResponseWriter, status int, code ErrorCode, message string) {
	httpapi.WriteError(w, status, string(code), message)
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteJSON(w, status, v) }

// readRequest finds the job in the manifest (read once: a reload during this request does not
// change what it runs) and reads the body within the size limit. On a problem it writes the
// error and returns ok=false.
func (a *Agent) readRequest(w http.ResponseWriter, r *http.Request, name string) (snap *snapshot, e *jobEntry, body []byte, ok bool) {
	// JSON only: a browser sends text/plain or form bodies across sites without asking first
	// (no CORS preflight), application/json never.
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		a.metrics.httpError(CodeUnsupportedMediaType)
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, fmt.Sprintf("send the job's input with Content-Type: application/json (got %q)", ct))
		return nil, nil, nil, false
	}
	snap = a.current.Load()
	e, found := snap.jobs[name]
	if !found {
		a.metrics.httpError(CodeJobNotFound)
		writeError(w, http.StatusNotFound, CodeJobNotFound, fmt.Sprintf("no job named %q in the manifest (serial %d); GET /v1/jobs lists the jobs", name, snap.manifest.Serial))
		return nil, nil, nil, false
	}
	// The body has its own deadline; lifted once read, so a long job keeps its connection.
	rc := http.NewResponseController(w)
	timeout := cmp.Or(a.cfg.BodyTimeout, DefaultBodyTimeout)
	deadlineSet := rc.SetReadDeadline(time.Now().Add(timeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		// Leave the deadline passed and close the connection: the rest of the body is not
		// worth waiting for.
		w.Header().Set("Connection", "close")
		a.metrics.httpError(CodeBodyTimeout)
		writeError(w, http.StatusRequestTimeout, CodeBodyTimeout, fmt.Sprintf("the body did not arrive within %v; nothing ran", timeout))
		return nil, nil, nil, false
	}
	if deadlineSet {
		rc.SetReadDeadline(time.Time{})
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			a.metrics.httpError(CodeInputTooLarge)
			writeError(w, http.StatusRequestEntityTooLarge, CodeInputTooLarge, fmt.Sprintf("input is larger than %d bytes", a.cfg.MaxBodyBytes))
			return nil, nil, nil, false
		}
		a.metrics.httpError(CodeBadRequest)
		writeError(w, http.StatusBadRequest, CodeBadRequest, "reading the request body: "+err.Error())
		return nil, nil, nil, false
	}
	return snap, e, body, true
}
