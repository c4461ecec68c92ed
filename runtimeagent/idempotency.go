package runtimeagent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// Idempotency keys. A caller that may retry a run (a timeout, a dropped connection) sends the
// same Idempotency-Key with each try; the first try's outcome is recorded and every later try
// with that key gets it back instead of running the job again. This is what makes retrying a
// job that is not pure safe: the router never runs such a job twice on its own, and with a key
// neither does a caller's retry, wherever the first try ran.
//
// The record lives in a state store, as AWS Lambda Powertools keeps its in DynamoDB: the job's
// own store when it has one (so agents on several VMs sharing that store share the records),
// else the agent's. A try claims the key with an in-progress record (a conditional write, so two
// tries cannot both claim it) that expires after the job's timeout, in case this agent dies
// mid-run; the outcome replaces it and is kept for IdempotencyTTL. A duplicate arriving while
// the first try runs gets 409 idempotency_in_progress with Retry-After. The same key with
// another input is a 422 idempotency_key_reused: a key names one request, not a slot.

// IdempotencyKeyHeader is the request header that carries a caller's key.
const IdempotencyKeyHeader = "Idempotency-Key"

// IdempotentReplayedHeader marks an answer replayed from the record of an earlier try.
const IdempotentReplayedHeader = "Idempotent-Replayed"

// MaxIdempotencyKeyBytes bounds a key (it is hashed before it is stored).
const MaxIdempotencyKeyBytes = 255

// DefaultIdempotencyTTL is how long an outcome is replayed.
const DefaultIdempotencyTTL = time.Hour

// idempotencyNamespace is the "job" the records are kept under in a store: not a valid job
// name (those start with a letter), so no job can read or write them.
const idempotencyNamespace = "_idempotency"

// idempotencyRecord is what the store keeps for one key.
type idempotencyRecord struct {
	State       string          `json:"state"`   // recordInProgress or recordDone
	Expires     int64           `json:"expires"` // unix milliseconds
	Fingerprint string          `json:"fingerprint"`
	Status      int             `json:"status,omitempty"`
	Body        json.RawMessage `json:"body,omitempty"` // the API's answer; empty when too large to keep
	BodyBytes   int             `json:"body_bytes,omitempty"`
}

const (
	recordInProgress = "in_progress"
	recordDone       = "done"
)

// maxRecordedBody leaves room in a store value (statestore.MaxValueBytes) for the record's
// own fields and the body's JSON escaping.
const maxRecordedBody = statestore.MaxValueBytes / 2

type idempotencyKey struct{}

// WithIdempotencyKey returns a context whose executions through Execute are idempotent under
// key (IdempotencyKeyHeader over HTTP).
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, idempotencyKey{}, key)
}

func idempotencyKeyOf(ctx context.Context) string {
	k, _ := ctx.Value(idempotencyKey{}).(string)
	return k
}

// checkIdempotencyKey refuses keys that are empty, too long or not printable ASCII.
func checkIdempotencyKey(key string) error {
	if len(key) == 0 || len(key) > MaxIdempotencyKeyBytes {
		return fmt.Errorf("%s must be 1 to %d characters", IdempotencyKeyHeader, MaxIdempotencyKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return fmt.Errorf("%s must be printable ASCII (a UUID is a good key)", IdempotencyKeyHeader)
		}
	}
	return nil
}

// answer is a run's HTTP answer: what is written, and what a record replays.
type answer struct {
	status   int
	body     []byte
	code     ErrorCode // of an error answered by this agent now ("" for a success or a replay)
	replayed bool
	notRun   bool   // refused before the job started
	ran      string // for the X-Blueprint-Ran header: "local", or "serverless platform/region"
	decision string // for the X-Blueprint-Decision header: the router's reason
}

// runOnce answers a run under an idempotency key: from the key's record when an earlier try has
// one, else by running (run) and recording the outcome. The run goes on when the caller leaves
// (a dropped connection is why a caller retries with its key): the retry then gets the job's
// outcome, or 409 while it still runs, instead of a recorded "the caller gave up". It is
// bounded by the claim, so no run outlives its in-progress record.
func (a *Agent) runOnce(ctx context.Context, e *jobEntry, key string, input []byte, run func(context.Context) answer) answer {
	if err := checkIdempotencyKey(key); err != nil {
		return errorAnswer(http.StatusBadRequest, CodeBadRequest, err.Error())
	}
	st, err := a.idempotencyState(e)
	if err != nil {
		a.log.Error("idempotency store unavailable", traced(ctx, "job", e.job.Name, "error", err)...)
		return errorAnswer(http.StatusServiceUnavailable, CodeIdempotencyUnavailable, fmt.Sprintf("the store of idempotency records cannot be opened (%v); nothing ran: retry later", err))
	}
	sum := sha256.Sum256([]byte(key))
	recordKey := e.job.Name + "/" + hex.EncodeToString(sum[:])
	inputSum := sha256.Sum256(input)
	fingerprint := hex.EncodeToString(inputSum[:])

	var claimed int64
	var claimExpires time.Time
	for attempt := 0; ; attempt++ {
		raw, version, err := st.Get(ctx, recordKey)
		if err != nil {
			return errorAnswer(http.StatusServiceUnavailable, CodeIdempotencyUnavailable, fmt.Sprintf("reading the idempotency record: %v; nothing ran: retry later", err))
		}
		now := time.Now()
		if raw != nil {
			var rec idempotencyRecord
			if err := json.Unmarshal(raw, &rec); err == nil && now.UnixMilli() < rec.Expires {
				if rec.Fingerprint != fingerprint {
					return errorAnswer(http.StatusUnprocessableEntity, CodeIdempotencyKeyReused, fmt.Sprintf("%s %q was first used with another input; a key names one request: use a new key for a new input", IdempotencyKeyHeader, key))
				}
				if rec.State == recordInProgress {
					a.metrics.idempotency("in_progress")
					return errorAnswer(http.StatusConflict, CodeIdempotencyInProgress, fmt.Sprintf("a request with %s %q is running; retry after it answers", IdempotencyKeyHeader, key))
				}
				a.metrics.idempotency("replayed")
				if len(rec.Body) == 0 {
					return errorAnswer(http.StatusConflict, CodeIdempotencyInProgress, fmt.Sprintf("the request with %s %q already ran (HTTP %d); its answer of %d bytes was too large to keep, and it is not run again", IdempotencyKeyHeader, key, rec.Status, rec.BodyBytes))
				}
				return answer{status: rec.Status, body: rec.Body, replayed: true}
			}
		}
		// No live record: claim the key until the job could have finished.
		claimExpires = now.Add(e.job.EffectiveTimeout() + remoteGrace)
		claim, _ := json.Marshal(idempotencyRecord{State: recordInProgress, Expires: claimExpires.UnixMilli(), Fingerprint: fingerprint})
		claimed, err = st.Put(ctx, recordKey, claim, version)
		if errors.Is(err, job.ErrVersionConflict) && attempt < 3 {
			continue // another try claimed or finished it first: read what it wrote
		}
		if err != nil {
			return errorAnswer(http.StatusServiceUnavailable, CodeIdempotencyUnavailable, fmt.Sprintf("claiming the idempotency key: %v; nothing ran: retry later", err))
		}
		break
	}

	runCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), claimExpires)
	done := make(chan answer, 1)
	go func() {
		defer cancel()
		ans := run(runCtx)
		a.record(runCtx, e, st, recordKey, claimed, fingerprint, ans)
		done <- ans
	}()
	select {
	case ans := <-done:
		return ans
	case <-ctx.Done():
		select {
		case ans := <-done: // finished as the caller left
			return ans
		default:
		}
		return errorAnswer(http.StatusGatewayTimeout, CodeCanceled, fmt.Sprintf("the caller gave up (%v); the run goes on, and a retry with %s %q gets its outcome", ctx.Err(), IdempotencyKeyHeader, key))
	}
}

// record replaces the claim (at version claimed) with the outcome of the run.
func (a *Agent) record(ctx context.Context, e *jobEntry, st job.State, recordKey string, claimed int64, fingerprint string, ans answer) {
	rec := idempotencyRecord{State: recordDone, Expires: time.Now().Add(a.idempotencyTTL()).UnixMilli(), Fingerprint: fingerprint,
		Status: ans.status, BodyBytes: len(ans.body)}
	if !ran(ans) {
		// Nothing ran (refused before the job started): free the key so a retry runs it.
		rec = idempotencyRecord{State: recordDone, Expires: 0, Fingerprint: fingerprint}
	} else if len(ans.body) <= maxRecordedBody {
		rec.Body = ans.body
	}
	data, _ := json.Marshal(rec)
	// The outcome must land even at the run's deadline: the job ran.
	if _, err := st.Put(context.WithoutCancel(ctx), recordKey, data, claimed); err != nil {
		a.log.Error("recording the outcome of an idempotent run failed; a retry with its key gets 409 until the claim expires",
			traced(ctx, "job", e.job.Name, "error", err)...)
	}
	a.metrics.idempotency("recorded")
}

// ran reports whether an answer comes from a run that started (or may have): only then is it
// an outcome a retry must get back instead of running again.
func ran(ans answer) bool {
	if ans.notRun {
		return false
	}
	if ans.status < 400 {
		return true
	}
	switch ans.code {
	case CodeBusy, CodeBadRequest, CodeInvalidJSON, CodeInputTooLarge, CodeJobNotFound:
		return false
	}
	return true
}

func errorAnswer(status int, code ErrorCode, message string) answer {
	body, _ := json.Marshal(ErrorResponse{Error: ErrorBody{Code: string(code), Message: message}})
	return answer{status: status, body: body, code: code}
}

// idempotencyState is where e's records are kept: the job's own store, else the agent's.
func (a *Agent) idempotencyState(e *jobEntry) (job.State, error) {
	if a.cfg.States == nil {
		return nil, errors.New("this agent has no state stores")
	}
	url := e.job.StateStore
	if url == "" {
		url = a.cfg.IdempotencyStore
	}
	if url == "" {
		var err error
		if url, err = statestore.DefaultURL(); err != nil {
			return nil, err
		}
	}
	return a.cfg.States.For(url, idempotencyNamespace)
}

func (a *Agent) idempotencyTTL() time.Duration {
	if a.cfg.IdempotencyTTL > 0 {
		return a.cfg.IdempotencyTTL
	}
	return DefaultIdempotencyTTL
}
