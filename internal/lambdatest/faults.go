package lambdatest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults are the control-plane behaviours of real Lambda that moto does not model, injected
// by the stand-in in front of it. Each count is consumed as requests arrive; zero injects
// nothing. They apply to every function.
type Faults struct {
	// PendingReads: that many GetFunction answers after a CreateFunction report State
	// "Pending" (a new function is not invocable for a few seconds on Lambda).
	PendingReads int
	// InProgressReads: that many GetFunction answers after an update report
	// LastUpdateStatus "InProgress".
	InProgressReads int
	// Conflicts: that many updates (code, configuration, PublishVersion, UpdateAlias) answer
	// 409 ResourceConflictException, as Lambda does while a previous update is in progress.
	Conflicts int
	// RoleNotAssumable: that many CreateFunction calls answer 400 InvalidParameterValueException
	// "cannot be assumed by Lambda", as for the first seconds after IAM creates a role.
	RoleNotAssumable int
	// RatePerSecond, when positive, caps control-plane requests (all but Invoke) at that rate
	// with a token bucket of one second's burst; the rest answer 429 TooManyRequestsException.
	RatePerSecond int
}

// faultState is the stand-in's bookkeeping for Faults.
type faultState struct {
	mu       sync.Mutex
	f        Faults
	pending  int // Pending reads still owed since the last create
	updating int // InProgress reads still owed since the last update
	tokens   float64
	last     time.Time
	injected map[string]int // by kind, for tests to check the faults were met
	requests int            // control-plane requests that reached moto
}

// SetFaults replaces the faults the stand-in injects from now on; reads still owed to an
// earlier create or update are forgotten.
func (s *Stand) SetFaults(f Faults) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.f = f
	s.faults.pending, s.faults.updating = 0, 0
	s.faults.tokens = float64(f.RatePerSecond)
	s.faults.last = time.Now()
}

// Injected reports how many faults of each kind were injected ("pending", "in_progress",
// "conflict", "role", "throttled"), and how many control-plane requests reached moto.
func (s *Stand) Injected() (map[string]int, int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.faults.injected {
		out[k] = v
	}
	return out, s.faults.requests
}

var (
	createPath  = regexp.MustCompile(`^/2015-03-31/functions/?$`)
	getPath     = regexp.MustCompile(`^/2015-03-31/functions/[^/]+$`)
	updatePaths = regexp.MustCompile(`^/2015-03-31/functions/[^/]+/(code|configuration|versions|aliases/[^/]+)$`)
)

// intercept injects a fault for r when one is due, writing the answer and reporting true;
// otherwise it reports false and, for reads that must look unsettled, returns a rewrite of
// moto's answer.
func (s *Stand) intercept(w http.ResponseWriter, r *http.Request) (handled bool, rewrite func(body []byte) []byte) {
	fs := &s.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.injected == nil {
		fs.injected = map[string]int{}
	}
	if rate := fs.f.RatePerSecond; rate > 0 {
		now := time.Now()
		fs.tokens = min(float64(rate), fs.tokens+now.Sub(fs.last).Seconds()*float64(rate))
		fs.last = now
		if fs.tokens < 1 {
			fs.injected["throttled"]++
			w.Header().Set("Retry-After", "1")
			lambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
			return true, nil
		}
		fs.tokens--
	}
	create := r.Method == http.MethodPost && createPath.MatchString(r.URL.Path)
	update := (r.Method == http.MethodPut || r.Method == http.MethodPost) && updatePaths.MatchString(r.URL.Path)
	switch {
	case create && fs.f.RoleNotAssumable > 0:
		fs.f.RoleNotAssumable--
		fs.injected["role"]++
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
		return true, nil
	case update && fs.f.Conflicts > 0:
		fs.f.Conflicts--
		fs.injected["conflict"]++
		lambdaError(w, http.StatusConflict, "ResourceConflictException", "The operation cannot be performed at this time. An update is in progress for resource.")
		return true, nil
	}
	fs.requests++
	switch {
	case create:
		fs.pending = fs.f.PendingReads
		if fs.pending > 0 { // Lambda's CreateFunction itself answers Pending
			return false, func(body []byte) []byte { return withField(body, "State", "Pending") }
		}
	case update && r.Method == http.MethodPut && (strings.HasSuffix(r.URL.Path, "/code") || strings.HasSuffix(r.URL.Path, "/configuration")):
		fs.updating = fs.f.InProgressReads
	case r.Method == http.MethodGet && getPath.MatchString(r.URL.Path) && r.URL.Query().Get("Qualifier") == "":
		if fs.pending > 0 {
			fs.pending--
			fs.injected["pending"]++
			return false, func(body []byte) []byte { return withConfiguration(body, "State", "Pending") }
		}
		if fs.updating > 0 {
			fs.updating--
			fs.injected["in_progress"]++
			return false, func(body []byte) []byte { return withConfiguration(body, "LastUpdateStatus", "InProgress") }
		}
	}
	return false, nil
}

// withField sets one field of a FunctionConfiguration answer (CreateFunction's).
func withField(body []byte, field, value string) []byte {
	var cfg map[string]any
	if json.Unmarshal(body, &cfg) != nil {
		return body
	}
	cfg[field] = value
	out, _ := json.Marshal(cfg)
	return out
}

// withConfiguration sets one field of a GetFunction answer's Configuration.
func withConfiguration(body []byte, field, value string) []byte {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	var cfg map[string]any
	if json.Unmarshal(doc["Configuration"], &cfg) != nil {
		return body
	}
	cfg[field] = value
	raw, _ := json.Marshal(cfg)
	doc["Configuration"] = raw
	out, _ := json.Marshal(doc)
	return out
}

// rewriting wraps w so that a successful (2xx) answer's body passes through rewrite.
type rewriting struct {
	http.ResponseWriter
	rewrite func([]byte) []byte
	status  int
	buf     bytes.Buffer
}

func (rw *rewriting) WriteHeader(status int) { rw.status = status }
func (rw *rewriting) Write(p []byte) (int, error) {
	return rw.buf.Write(p)
}

func (rw *rewriting) flush() {
	body := rw.buf.Bytes()
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	if rw.status >= 200 && rw.status < 300 { // CreateFunction answers 201
		body = rw.rewrite(body)
	}
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.ResponseWriter.WriteHeader(rw.status)
	io.Copy(rw.ResponseWriter, bytes.NewReader(body))
}
