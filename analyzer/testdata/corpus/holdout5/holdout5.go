// Package holdout5 was a held-out round for issue "Analyzer: the hard cases of real
// application code", written after the fixes by the engineer who made them (no one else was
// available), with every label fixed before the analyzer first ran on the package. It varies
// the shapes of the classes instead of repeating realapp's cases. Its first run scored
// 100 of 110 labels: unsafe misses on LedgerWith (a returned slice sharing a global array) and
// CountRuleHits (a copied array of structs sharing their maps); safe-side misses on
// SortCatalog, CompressNone (a registry filled through a register function) and
// CompressViaFactory (a switch on a constant). General rules were added for those since, so
// it is part of the corpus now, no longer held out.
package holdout5

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// In is every job's input.
type In struct {
	Key   string            `json:"key"`
	Words []string          `json:"words"`
	Attrs map[string]string `json:"attrs"`
}

// Out is every job's output.
type Out struct {
	Text  string   `json:"text"`
	Lines []string `json:"lines"`
}

// ---- 1. aliasing writes --------------------------------------------------------------

type ledger struct{ rows []string }

var mainLedger = ledger{rows: make([]string, 0, 16)}

func (l ledger) with(row string) ledger {
	l.rows = append(l.rows, row) // the copy shares the array's spare capacity
	return l
}

// LedgerWith appends through a value receiver's copy of a package variable.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func LedgerWith(ctx context.Context, in In) (Out, error) {
	return Out{Lines: mainLedger.with(in.Key).rows}, nil
}

type catalog struct{ names []string }

var shop = &catalog{names: []string{"pear", "apple", "fig"}}

// SortCatalog sorts the package's slice in place through a local pointer to it.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func SortCatalog(ctx context.Context, in In) (Out, error) {
	c := shop
	names := c.names
	sort.Strings(names)
	return Out{Text: strings.Join(in.Words, " ")}, nil
}

type rule struct {
	name  string
	hits  map[string]int
	limit int
}

var rules = [2]rule{{name: "a", hits: map[string]int{}, limit: 3}, {name: "b", hits: map[string]int{}, limit: 5}}

// CountRuleHits copies the package's array of rules (the maps inside stay shared) and counts.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func CountRuleHits(ctx context.Context, in In) (Out, error) {
	local := rules
	local[0].hits[in.Key]++
	return Out{Text: fmt.Sprint(local[0].hits[in.Key])}, nil
}

// ---- 2. effects registered at init ---------------------------------------------------

type observer interface{ observe(event string) }

type envObserver struct{}

func (envObserver) observe(event string) { os.Setenv("LAST_EVENT", event) }

var observers []observer

func init() { observers = append(observers, envObserver{}) }

// Publish notifies the observers init registered; one of them writes the environment.
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func Publish(ctx context.Context, in In) (Out, error) {
	for _, o := range observers {
		o.observe(in.Key)
	}
	return Out{Text: in.Key}, nil
}

// ---- 3. non-determinism through indirect paths ----------------------------------------

// AttrsIntoBuffer writes map entries straight into a bytes.Buffer.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func AttrsIntoBuffer(ctx context.Context, in In) (Out, error) {
	var buf bytes.Buffer
	for k, v := range in.Attrs {
		buf.WriteString(k + "=" + v + "\n")
	}
	return Out{Text: buf.String()}, nil
}

type attr struct{ key, value string }

// AttrsSortedByKey sorts the pairs by their key (which came from the map's key): total.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func AttrsSortedByKey(ctx context.Context, in In) (Out, error) {
	pairs := make([]attr, 0, len(in.Attrs))
	for k, v := range in.Attrs {
		pairs = append(pairs, attr{key: k, value: v})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
	var lines []string
	for _, p := range pairs {
		lines = append(lines, p.key+"="+p.value)
	}
	return Out{Lines: lines}, nil
}

// AttrsSortedByValueLength sorts by the length of the value only: ties keep map order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func AttrsSortedByValueLength(ctx context.Context, in In) (Out, error) {
	pairs := make([]attr, 0, len(in.Attrs))
	for k, v := range in.Attrs {
		pairs = append(pairs, attr{key: k, value: v})
	}
	sort.SliceStable(pairs, func(i, j int) bool { return len(pairs[i].value) < len(pairs[j].value) })
	var lines []string
	for _, p := range pairs {
		lines = append(lines, p.key)
	}
	return Out{Lines: lines}, nil
}

type ticket struct{ id string }

func (t ticket) String() string { return fmt.Sprintf("%s-%04d", t.id, rand.Intn(10000)) }

// TicketLabel formats a value whose String method draws a random number.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TicketLabel(ctx context.Context, in In) (Out, error) {
	return Out{Text: fmt.Sprintf("ticket %v", ticket{in.Key})}, nil
}

type event struct {
	Name string
	At   clockStamp
}

type clockStamp struct{}

func (clockStamp) MarshalText() ([]byte, error) { return []byte(time.Now().Format(time.Kitchen)), nil }

// EventJSON marshals a struct whose field's MarshalText reads the clock.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EventJSON(ctx context.Context, in In) (Out, error) {
	b, err := json.Marshal(event{Name: in.Key})
	return Out{Text: string(b)}, err
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) { bufs.Put(b) }

// JoinWithPool takes a pooled buffer through a helper that resets it.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func JoinWithPool(ctx context.Context, in In) (Out, error) {
	b := getBuf()
	defer putBuf(b)
	for i, w := range in.Words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return Out{Text: b.String()}, nil
}

var lineBufs = sync.Pool{New: func() any { return new(strings.Builder) }}

// LinesNoReset forgets to reset the pooled builder.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func LinesNoReset(ctx context.Context, in In) (Out, error) {
	b := lineBufs.Get().(*strings.Builder)
	defer lineBufs.Put(b)
	b.WriteString(strings.Join(in.Words, "\n"))
	return Out{Text: b.String()}, nil
}

// TimedOutNote records in a captured variable whether a timer fired before the work ended.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TimedOutNote(ctx context.Context, in In) (Out, error) {
	var mu sync.Mutex
	note := ""
	t := time.AfterFunc(time.Microsecond, func() { mu.Lock(); note = " (slow)"; mu.Unlock() })
	text := strings.Repeat(in.Key, 100)
	t.Stop()
	mu.Lock()
	defer mu.Unlock()
	return Out{Text: text[:len(in.Key)] + note}, nil
}

// ---- 4. unix sockets -------------------------------------------------------------------

type socketTransport struct{ path string }

func (s socketTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	conn, err := net.Dial("unix", s.path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return nil, fmt.Errorf("not implemented over %s", conn.RemoteAddr())
}

// SocketClient uses an http.Client whose Transport is a type that dials a unix socket.
// expect: pure=false deterministic=false state=false eligible=false hosts=agent
//
//blueprint:job
func SocketClient(ctx context.Context, in In) (Out, error) {
	c := &http.Client{Transport: socketTransport{path: "/run/agent.sock"}}
	resp, err := c.Get("http://agent/v1/" + url.PathEscape(in.Key))
	if err != nil {
		return Out{}, err
	}
	resp.Body.Close()
	return Out{Text: resp.Status}, nil
}

// ---- 5 and 8. hosts ----------------------------------------------------------------------

const statusHost = "status.example.com"

// StatusPage builds the URL with url.URL and JoinPath.
// expect: pure=false deterministic=false state=false eligible=true hosts=status.example.com
//
//blueprint:job
func StatusPage(ctx context.Context, in In) (Out, error) {
	u := (&url.URL{Scheme: "https", Host: statusHost}).JoinPath("v2", in.Key)
	resp, err := http.Get(u.String())
	if err != nil {
		return Out{}, err
	}
	resp.Body.Close()
	return Out{Text: resp.Status}, nil
}

type mailer struct {
	endpoint string
	hc       *http.Client
}

func newMailer(endpoint string) *mailer { return &mailer{endpoint: endpoint, hc: &http.Client{}} }

func (m *mailer) send(to string) error {
	resp, err := m.hc.Post(m.endpoint+"/send", "text/plain", strings.NewReader(to))
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// SendMail passes the endpoint through a constructor into a field.
// expect: pure=false deterministic=false state=false eligible=true hosts=mail.example.com
//
//blueprint:job
func SendMail(ctx context.Context, in In) (Out, error) {
	m := newMailer("https://mail.example.com")
	return Out{Text: in.Key}, m.send(in.Key)
}

// SendMailSandbox replaces the endpoint before sending.
// expect: pure=false deterministic=false state=false eligible=true hosts=sandbox.mail.example.com
//
//blueprint:job
func SendMailSandbox(ctx context.Context, in In) (Out, error) {
	m := newMailer("https://mail.example.com")
	m.endpoint = "https://sandbox.mail.example.com"
	return Out{Text: in.Key}, m.send(in.Key)
}

// ---- 6. per-job precision ------------------------------------------------------------------

type stage interface{ apply(s string) string }

type lowerStage struct{}

func (lowerStage) apply(s string) string { return strings.ToLower(s) }

type auditStage struct{}

var auditTrail []string

func (auditStage) apply(s string) string {
	auditTrail = append(auditTrail, s)
	return s
}

func runStages(s string, stages ...stage) string {
	for _, st := range stages {
		s = st.apply(s)
	}
	return s
}

// Lowered runs the shared stage runner with the lower-casing stage only; another job adds
// the auditing stage.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Lowered(ctx context.Context, in In) (Out, error) {
	return Out{Text: runStages(in.Key, lowerStage{})}, nil
}

// Audited adds the auditing stage, which appends to a package variable.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func Audited(ctx context.Context, in In) (Out, error) {
	return Out{Text: runStages(in.Key, lowerStage{}, auditStage{})}, nil
}

type compressor interface{ compress(s string) string }

type noneCompressor struct{}

func (noneCompressor) compress(s string) string { return s }

type loggingCompressor struct{}

func (loggingCompressor) compress(s string) string {
	f, err := os.OpenFile("/var/log/compress.log", os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err == nil {
		fmt.Fprintln(f, len(s))
		f.Close()
	}
	return s
}

var compressors = map[string]compressor{}

func register(name string, c compressor) { compressors[name] = c }

func init() {
	register("none", noneCompressor{})
	register("logging", loggingCompressor{})
}

// CompressNone picks the plain compressor by a constant key from a registry that init fills
// through a register function.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CompressNone(ctx context.Context, in In) (Out, error) {
	return Out{Text: compressors["none"].compress(in.Key)}, nil
}

func newCompressor(kind string) compressor {
	switch kind {
	case "logging":
		return loggingCompressor{}
	default:
		return noneCompressor{}
	}
}

// CompressViaFactory gets the plain compressor from a switch on a constant.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CompressViaFactory(ctx context.Context, in In) (Out, error) {
	return Out{Text: newCompressor("none").compress(in.Key)}, nil
}
