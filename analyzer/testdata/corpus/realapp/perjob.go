package realapp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
)

// step is one stage of a text pipeline; layer wraps a step.
type step func(s string) (string, error)
type layer func(next step) step

func pipeline(last step, layers ...layer) step {
	for i := len(layers) - 1; i >= 0; i-- {
		last = layers[i](last)
	}
	return last
}

func trimmed() layer {
	return func(next step) step {
		return func(s string) (string, error) { return next(strings.TrimSpace(s)) }
	}
}

var pipelineCalls atomic.Int64

func counted() layer {
	return func(next step) step {
		return func(s string) (string, error) {
			pipelineCalls.Add(1)
			return next(s)
		}
	}
}

func fromEnvironment() layer {
	return func(next step) step {
		return func(s string) (string, error) { return next(s + os.Getenv("SUFFIX")) }
	}
}

func shout(s string) (string, error) { return strings.ToUpper(s), nil }

// PipelineTrimmed builds a pipeline of pure layers; other jobs build the same kind of
// pipeline with a counting layer and an environment-reading layer, which this job never
// creates.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PipelineTrimmed(ctx context.Context, in In) (Out, error) {
	s, err := pipeline(shout, trimmed())(in.Name)
	return Out{Text: s}, err
}

// PipelineCounted adds the layer that counts calls in a package variable (never returned).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func PipelineCounted(ctx context.Context, in In) (Out, error) {
	s, err := pipeline(shout, counted(), trimmed())(in.Name)
	return Out{Text: s}, err
}

// PipelineFromEnvironment adds the layer that reads the environment.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func PipelineFromEnvironment(ctx context.Context, in In) (Out, error) {
	s, err := pipeline(shout, fromEnvironment())(in.Name)
	return Out{Text: s}, err
}

// renderer is a strategy picked by each job.
type renderer interface {
	render(s string) string
}

type plainRenderer struct{}

func (plainRenderer) render(s string) string { return "[" + s + "]" }

var rendered []string

type journalRenderer struct{}

func (journalRenderer) render(s string) string {
	rendered = append(rendered, s)
	return fmt.Sprintf("#%d %s", len(rendered), s)
}

func renderAll(r renderer, items []string) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(r.render(it))
	}
	return b.String()
}

// RenderPlain hands the shared helper the plain strategy; another job hands it the one that
// keeps a journal in a package variable.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderPlain(ctx context.Context, in In) (Out, error) {
	return Out{Text: renderAll(plainRenderer{}, strings.Fields(in.Name))}, nil
}

// RenderJournal uses the journalling strategy: it writes and reads a package variable.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RenderJournal(ctx context.Context, in In) (Out, error) {
	return Out{Text: renderAll(journalRenderer{}, strings.Fields(in.Name))}, nil
}

// afterHooks are registered by a job at run time and run by another.
var afterHooks []func(string)

// RegisterHook leaves a hook in a package variable; the hook writes the environment.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func RegisterHook(ctx context.Context, in In) (Out, error) {
	afterHooks = append(afterHooks, func(s string) { os.Setenv("LAST_NAME", s) })
	return Out{Text: in.Name}, nil
}

// RunHooks runs whatever hooks earlier calls of RegisterHook left: the one that sets the
// environment among them, although this job never creates it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RunHooks(ctx context.Context, in In) (Out, error) {
	for _, h := range afterHooks {
		h(in.Name)
	}
	return Out{Text: in.Name}, nil
}

// pendingTasks carries tasks from one job's calls to another's.
var pendingTasks = make(chan func() string, 16)

// QueueTask sends a task that changes the environment on a package-level channel. (Whether
// the send happens depends on how full the channel is, but the answer is the same either way;
// the analyzer's rule for select calls that a race: a known miss on the safe side.)
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func QueueTask(ctx context.Context, in In) (Out, error) {
	select {
	case pendingTasks <- func() string { os.Setenv("LAST_TASK", in.Name); return in.Name }:
	default:
	}
	return Out{Text: in.Name}, nil
}

// DrainTask runs a task an earlier QueueTask call left on the channel: it changes the
// environment although this job never creates that task.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func DrainTask(ctx context.Context, in In) (Out, error) {
	select {
	case task := <-pendingTasks:
		return Out{Text: task()}, nil
	default:
		return Out{Text: in.Name}, nil
	}
}
