package realapp

import (
	"context"
	"log"
	"strings"
	"sync/atomic"
	"time"
)

// SlowWarning arms a timer that only logs when the job runs long and stops it on return:
// nothing the job answers depends on when (or whether) it fired.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SlowWarning(ctx context.Context, in In) (Out, error) {
	t := time.AfterFunc(time.Second, func() { log.Printf("job %s is slow", in.ID) })
	defer t.Stop()
	return Out{Text: strings.Repeat(in.Name, 2)}, nil
}

// LateFlag lets a timer set a flag the job then reads: the answer depends on how long the
// work took.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func LateFlag(ctx context.Context, in In) (Out, error) {
	var late atomic.Bool
	t := time.AfterFunc(time.Millisecond, func() { late.Store(true) })
	text := strings.ToUpper(in.Name)
	t.Stop()
	if late.Load() {
		return Out{Text: "late: " + text}, nil
	}
	return Out{Text: text}, nil
}

// StoppedInTime answers whether Stop caught the timer before it fired: timing reaches the
// output.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func StoppedInTime(ctx context.Context, in In) (Out, error) {
	t := time.AfterFunc(time.Millisecond, func() {})
	text := strings.ToLower(in.Name)
	if !t.Stop() {
		text += " (timer fired)"
	}
	return Out{Text: text}, nil
}

// Watchdog cancels the job's context after a deadline: a job that runs too long fails
// rather than answering differently, as with a context deadline.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Watchdog(ctx context.Context, in In) (Out, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := time.AfterFunc(5*time.Second, cancel)
	defer t.Stop()
	if err := ctx.Err(); err != nil {
		return Out{}, err
	}
	return Out{Text: in.Name + in.ID}, nil
}
