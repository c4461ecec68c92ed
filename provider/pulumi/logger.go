package pulumi

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/go-hclog"
	p "github.com/pulumi/pulumi-go-provider"
)

// newLogger returns an hclog.Logger whose lines go to the Pulumi engine's log for this
// request (shown by `pulumi up -v` and in the Pulumi service), and info lines also as the
// resource's status, so a long build or deploy shows progress in the update view.
func newLogger(ctx context.Context) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "blueprint", Output: io.Discard, Level: hclog.Debug})
	l.RegisterSink(pulumiSink{log: p.GetLogger(ctx)})
	return l
}

type pulumiSink struct{ log p.Logger }

func (s pulumiSink) Accept(name string, level hclog.Level, msg string, args ...interface{}) {
	var b strings.Builder
	b.WriteString(msg)
	for i := 0; i+1 < len(args); i += 2 {
		fmt.Fprintf(&b, " %v=%v", args[i], args[i+1])
	}
	line := b.String()
	switch level {
	case hclog.Trace, hclog.Debug:
		s.log.Debug(line)
	case hclog.Warn:
		s.log.Warning(line)
	case hclog.Error:
		s.log.Error(line)
	default:
		s.log.InfoStatus(line)
	}
}
