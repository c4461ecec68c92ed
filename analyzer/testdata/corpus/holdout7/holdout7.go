// Package holdout7 is a third held-out round for issue "Analyzer: the hard cases of real
// application code", written (by the engineer who made the fixes) against the new rules'
// edges: pools, timers, tables, factories, copies and per-job narrowing used in ways where a
// careless rule would claim too much. Every label was fixed before the analyzer first ran on
// the package. First run: of 60 labels the analyzer got 58 right, both misses on the safe
// side (CancelOnly: a captured cancel loaded from its variable was not recognised — now it
// is; SwapFormats: a table entry read only to be put back counts as a read — left); two
// further mismatches were label errors of mine (FormatDeleted, Handle), corrected as noted.
package holdout7

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// In is every job's input.
type In struct {
	Name  string         `json:"name"`
	Mode  string         `json:"mode"`
	Score map[string]int `json:"score"`
}

// Out is every job's output.
type Out struct {
	Text string `json:"text"`
}

var scratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// PoolResetAfterWrite resets the pooled buffer only after writing into it: the reset comes
// too late, what the last call left is in the answer.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PoolResetAfterWrite(ctx context.Context, in In) (Out, error) {
	b := scratch.Get().(*bytes.Buffer)
	b.WriteString(in.Name)
	text := b.String()
	b.Reset()
	b.WriteString("left over")
	scratch.Put(b)
	return Out{Text: text}, nil
}

var counters = sync.Pool{New: func() any { n := 0; return &n }}

// PooledCounter takes a pooled int pointer and increments it without resetting.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PooledCounter(ctx context.Context, in In) (Out, error) {
	n := counters.Get().(*int)
	*n++
	v := *n
	counters.Put(n)
	return Out{Text: strconv.Itoa(v)}, nil
}

// DeadlineLabel starts a timer whose function writes a captured string through a pointer
// the job returns from.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func DeadlineLabel(ctx context.Context, in In) (Out, error) {
	label := new(string)
	*label = "on time"
	var mu sync.Mutex
	t := time.AfterFunc(time.Nanosecond, func() { mu.Lock(); *label = "late"; mu.Unlock() })
	time.Sleep(time.Millisecond)
	t.Stop()
	mu.Lock()
	defer mu.Unlock()
	return Out{Text: in.Name + ": " + *label}, nil
}

// CancelOnly arms a timer that only cancels the job's context.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CancelOnly(ctx context.Context, in In) (Out, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := time.AfterFunc(time.Minute, func() { cancel() })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Out{}, ctx.Err()
	default:
	}
	return Out{Text: strings.TrimSpace(in.Name)}, nil
}

type formatter func(string) string

var formats = map[string]formatter{
	"upper": strings.ToUpper,
	"stamp": func(s string) string { return time.Now().Format(time.Kitchen) + " " + s },
}

// FormatDeleted reads the table with a constant key but another job deletes from the table
// and puts the stamping function under that key: the table is not constant. (Labelled
// pure=false at first; calling a function that reads the clock is not impure — a label
// error, corrected after the first run.)
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func FormatDeleted(ctx context.Context, in In) (Out, error) {
	return Out{Text: formats["upper"](in.Name)}, nil
}

// SwapFormats moves the stamping function under the upper key.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func SwapFormats(ctx context.Context, in In) (Out, error) {
	stamp := formats["stamp"]
	delete(formats, "upper")
	formats["upper"] = stamp
	return Out{Text: in.Name}, nil
}

type greeter interface{ greet(string) string }

type plain struct{}

func (plain) greet(s string) string { return "hello " + s }

type envGreeter struct{}

func (envGreeter) greet(s string) string { return os.Getenv("GREETING") + " " + s }

func pick(mode string) greeter {
	if mode != "plain" {
		return envGreeter{}
	}
	return plain{}
}

// GreetPlain asks the factory for "plain" with a not-equal test.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GreetPlain(ctx context.Context, in In) (Out, error) {
	return Out{Text: pick("plain").greet(in.Name)}, nil
}

// GreetByMode lets the input pick.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func GreetByMode(ctx context.Context, in In) (Out, error) {
	return Out{Text: pick(in.Mode).greet(in.Name)}, nil
}

func modeOf(in In) string {
	if in.Mode == "" {
		return "plain"
	}
	return in.Mode
}

// GreetDefaultMode passes a value that is "plain" only when the input has no mode.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func GreetDefaultMode(ctx context.Context, in In) (Out, error) {
	return Out{Text: pick(modeOf(in)).greet(in.Name)}, nil
}

type ranking struct {
	name  string
	score int
}

// TopScoresByScoreThenName sorts by score and then name (the name is the map key).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TopScoresByScoreThenName(ctx context.Context, in In) (Out, error) {
	var rs []ranking
	for name, s := range in.Score {
		rs = append(rs, ranking{name: name, score: s})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].score != rs[j].score {
			return rs[i].score > rs[j].score
		}
		return rs[i].name < rs[j].name
	})
	return Out{Text: fmt.Sprint(rs)}, nil
}

// TopScoresByScore sorts by score only.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TopScoresByScore(ctx context.Context, in In) (Out, error) {
	var rs []ranking
	for name, s := range in.Score {
		rs = append(rs, ranking{name: name, score: s})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].score > rs[j].score })
	return Out{Text: fmt.Sprint(rs)}, nil
}

type handler interface{ handle(string) string }

type echo struct{}

func (echo) handle(s string) string { return s }

type recorder struct{}

var recorded []string

func (recorder) handle(s string) string {
	recorded = append(recorded, s)
	return fmt.Sprintf("#%d %s", len(recorded), s)
}

var lastHandler handler = echo{}

// Install puts a recorder in the package's handler variable.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func Install(ctx context.Context, in In) (Out, error) {
	lastHandler = recorder{}
	return Out{Text: in.Name}, nil
}

// Handle calls whatever handler the variable holds: an earlier Install call may have put the
// recorder there, whose answer counts earlier calls. (At first the recorder answered its input
// unchanged, which made the label deterministic=false wrong; its answer was changed, and the
// label kept, after the first run.)
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func Handle(ctx context.Context, in In) (Out, error) {
	return Out{Text: lastHandler.handle(in.Name)}, nil
}
