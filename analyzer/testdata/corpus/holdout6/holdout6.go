// Package holdout6 is a second held-out round for issue "Analyzer: the hard cases of real
// application code", written (by the engineer who made the fixes; no one else was available)
// to probe the new rules where they could be wrong on the unsafe side: values that reach a
// dynamic call by paths the per-job narrowing must not lose, factories and tables used in
// ways that must not be narrowed, and copies that must still count. Every label was fixed
// before the analyzer first ran on the package. First run: 73 of 75 labels, no unsafe miss;
// both misses on the safe side: SaveViaGeneric (os.TempDir only chooses where a file goes,
// the analyzer counts the environment read; left as it is) and RecordViaMethodValue (loading
// the pointer a method value binds counted as a read; a general rule now says it is not).
package holdout6

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// In is every job's input.
type In struct {
	Key  string   `json:"key"`
	Kind string   `json:"kind"`
	Tags []string `json:"tags"`
}

// Out is every job's output.
type Out struct {
	Text string `json:"text"`
}

// ---- values reaching dynamic calls -----------------------------------------------------

type store interface{ save(k, v string) error }

type memStore struct{ m map[string]string }

func (s *memStore) save(k, v string) error { s.m[k] = v; return nil }

type fileStore struct{ dir string }

func (s fileStore) save(k, v string) error { return os.WriteFile(s.dir+"/"+k, []byte(v), 0o600) }

var defaultFiles = &fileStore{dir: "/var/lib/app"}

// SaveThroughDefault converts a package-level *fileStore (made at init as a pointer, not as an
// interface) to the store interface inside the job.
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func SaveThroughDefault(ctx context.Context, in In) (Out, error) {
	var s store = defaultFiles
	return Out{Text: in.Key}, s.save(in.Key, in.Kind)
}

// SaveInMemory uses a store made in the job.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SaveInMemory(ctx context.Context, in In) (Out, error) {
	var s store = &memStore{m: map[string]string{}}
	if err := s.save(in.Key, in.Kind); err != nil {
		return Out{}, err
	}
	return Out{Text: in.Key}, nil
}

func newStore[T store](s T) store { return s }

// SaveViaGeneric makes the interface value inside a generic constructor.
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func SaveViaGeneric(ctx context.Context, in In) (Out, error) {
	s := newStore(fileStore{dir: os.TempDir()})
	return Out{Text: in.Key}, s.save(in.Key, in.Kind)
}

type auditLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *auditLog) record(s string) { l.mu.Lock(); l.entries = append(l.entries, s); l.mu.Unlock() }

var audit = &auditLog{}

// RecordViaMethodValue calls a method value bound to a package-level object.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func RecordViaMethodValue(ctx context.Context, in In) (Out, error) {
	record := audit.record
	record(in.Key)
	return Out{Text: in.Key}, nil
}

type loggedStore struct {
	store
	prefix string
}

var shared = loggedStore{store: fileStore{dir: "/srv/data"}, prefix: "app"}

// SaveEmbedded calls the store a package-level struct embeds (made at init).
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func SaveEmbedded(ctx context.Context, in In) (Out, error) {
	return Out{Text: shared.prefix}, shared.save(in.Key, in.Kind)
}

// ParallelHooks runs closures made in the job on goroutines.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ParallelHooks(ctx context.Context, in In) (Out, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var parts []string
	for _, t := range in.Tags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			parts = append(parts, strings.ToUpper(t))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return Out{Text: strings.Join(parts, ",")}, nil
}

type byLen []string

func (s byLen) Len() int           { return len(s) }
func (s byLen) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }
func (s byLen) Less(i, j int) bool { return len(s[i]) < len(s[j]) }

// ReverseByLength sorts the input's tags with sort.Reverse around a sort.Interface (no map).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ReverseByLength(ctx context.Context, in In) (Out, error) {
	tags := append([]string(nil), in.Tags...)
	sort.Sort(sort.Reverse(byLen(tags)))
	return Out{Text: strings.Join(tags, ",")}, nil
}

type validationError struct{ field string }

func (e validationError) Error() string {
	return fmt.Sprintf("%s is invalid (checked at %s)", e.field, time.Now().Format(time.TimeOnly))
}

// ValidateKind returns an error whose message reads the clock, wrapped by fmt.Errorf.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ValidateKind(ctx context.Context, in In) (Out, error) {
	if in.Kind == "" {
		return Out{}, fmt.Errorf("validate: %w", validationError{field: "kind"})
	}
	return Out{Text: in.Kind}, nil
}

// ---- tables and factories that must not be narrowed ----------------------------------------

type notifier func(msg string) error

var notifiers = map[string]notifier{
	"stdout": func(msg string) error { fmt.Println(msg); return nil },
}

func init() {
	notifiers["webhook"] = func(msg string) error {
		resp, err := http.Post("https://hooks.example.com/notify", "text/plain", strings.NewReader(msg))
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
}

// AddNotifier lets a caller add notifiers under any name at run time: the table is not one of
// constants any more.
func AddNotifier(name string, n notifier) { notifiers[name] = n }

// NotifyStdout reads the table under a constant key, but the table takes names from callers,
// so any notifier may be there.
// expect: pure=false deterministic=false state=true eligible=false hosts=hooks.example.com
//
//blueprint:job
func NotifyStdout(ctx context.Context, in In) (Out, error) {
	AddNotifier(in.Kind, notifiers["stdout"])
	return Out{Text: in.Key}, notifiers["stdout"](in.Key)
}

type encoder interface{ encode(s string) string }

type plainEncoder struct{}

func (plainEncoder) encode(s string) string { return s }

type stampEncoder struct{}

func (stampEncoder) encode(s string) string { return time.Now().Format(time.RFC3339) + " " + s }

func encoderFor(kind string) encoder {
	if strings.HasPrefix(kind, "stamp") {
		return stampEncoder{}
	}
	return plainEncoder{}
}

// EncodePlain asks for an encoder with a constant that a prefix test (not an equality)
// decides on: both encoders stay possible.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EncodePlain(ctx context.Context, in In) (Out, error) {
	return Out{Text: encoderFor("plain").encode(in.Key)}, nil
}

type request struct{ kind string }

func encoderOf(r request) encoder { return encoderFor2(r.kind) }

func encoderFor2(kind string) encoder {
	switch kind {
	case "stamp":
		return stampEncoder{}
	default:
		return plainEncoder{}
	}
}

// EncodeFromField passes the kind through a struct field that is empty here: only an exact
// constant may decide the switch.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EncodeFromField(ctx context.Context, in In) (Out, error) {
	r := request{}
	if in.Kind == "stamp" {
		r.kind = "stamp"
	}
	return Out{Text: encoderOf(r).encode(in.Key)}, nil
}

// ---- copies and aliasing -----------------------------------------------------------------------

type limits struct {
	perUser map[string]int
	order   []string
}

var current = limits{perUser: map[string]int{"alice": 3}, order: []string{"alice"}}

func snapshot() limits { return current }

// BumpSnapshot changes a map in what a helper returned as a copy of a package variable.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func BumpSnapshot(ctx context.Context, in In) (Out, error) {
	s := snapshot()
	s.perUser[in.Key] += 1
	return Out{Text: fmt.Sprint(s.perUser[in.Key])}, nil
}

// OrderCopy copies the package's slice with copy before sorting it: no write, but the read
// depends on what other jobs did.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func OrderCopy(ctx context.Context, in In) (Out, error) {
	names := make([]string, len(current.order))
	copy(names, current.order)
	sort.Strings(names)
	return Out{Text: strings.Join(names, ",")}, nil
}

// RegisterUser is the job that changes current's order.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func RegisterUser(ctx context.Context, in In) (Out, error) {
	current.order = append(current.order, in.Key)
	return Out{Text: in.Key}, nil
}

var errUnknown = errors.New("unknown kind")

// CheckKind compares against a package-level sentinel error (read-only).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CheckKind(ctx context.Context, in In) (Out, error) {
	err := errUnknown
	if in.Kind == "known" {
		err = nil
	}
	if errors.Is(err, errUnknown) {
		return Out{Text: "unknown"}, nil
	}
	return Out{Text: in.Kind}, nil
}
