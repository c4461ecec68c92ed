package holdout4

import (
	"context"
	"fmt"
	"strings"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout4/notify"
	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout4/notify/audit"
	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout4/notify/mailer"
	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout4/notify/memo"
)

// notifierFactories is only written by its initializer.
var notifierFactories = map[string]func() notify.Notifier{
	"memo":   func() notify.Notifier { return memo.New() },
	"mailer": func() notify.Notifier { return mailer.New() },
}

// NotifyMemo exercises an interface (embedding another) whose dynamic type here is memo's,
// in another package, though mailer and audit also implement it.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func NotifyMemo(ctx context.Context, in In) (Out, error) {
	m := memo.New()
	var n notify.Notifier = m
	for _, l := range in.Lines {
		if err := n.Notify(ctx, l); err != nil {
			return Out{}, err
		}
	}
	return Out{Text: n.Name(), Lines: m.Lines}, nil
}

// NotifyMailer exercises the same interface with mailer's implementation (a constant host
// in that package).
// expect: pure=false deterministic=false state=false eligible=true hosts=mail.example.com
//
//blueprint:job
func NotifyMailer(ctx context.Context, in In) (Out, error) {
	names, err := notify.Broadcast(ctx, in.Text, mailer.New())
	if err != nil {
		return Out{}, err
	}
	return Out{Lines: names}, nil
}

// NotifyAudited exercises notify.Broadcast to memo and audit: audit appends to its package's
// global, whose contents never reach the output (write only: deterministic).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func NotifyAudited(ctx context.Context, in In) (Out, error) {
	m := memo.New()
	names, err := notify.Broadcast(ctx, in.Text, m, audit.Log{})
	if err != nil {
		return Out{}, err
	}
	return Out{Text: strings.Join(names, ","), Lines: m.Lines}, nil
}

// AuditTail exercises a read, through another package's helper, of the trail audit.Log writes.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func AuditTail(ctx context.Context, in In) (Out, error) {
	e := audit.Entries()
	n := min(max(in.N, 0), len(e))
	return Out{Lines: e[len(e)-n:], Count: len(e)}, nil
}

// NotifyByName exercises a factory table (read-only map of closures) that can return memo or
// mailer, chosen by the input; the job can reach mailer's call.
// expect: pure=false deterministic=false state=false eligible=true hosts=mail.example.com
//
//blueprint:job
func NotifyByName(ctx context.Context, in In) (Out, error) {
	f, ok := notifierFactories[in.Key]
	if !ok {
		return Out{}, fmt.Errorf("notifier %q: unknown (want memo or mailer)", in.Key)
	}
	names, err := notify.Broadcast(ctx, in.Text, f())
	if err != nil {
		return Out{}, err
	}
	return Out{Lines: names}, nil
}
