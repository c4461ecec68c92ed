package terraform

import (
	"context"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// newTFLogger returns an hclog.Logger whose lines go to tflog with the request's context, so
// the lifecycle's progress shows up in TF_LOG output next to the framework's own lines.
func newTFLogger(ctx context.Context) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: "blueprint", Output: io.Discard, Level: hclog.Trace})
	l.RegisterSink(tflogSink{ctx: ctx})
	return l
}

type tflogSink struct{ ctx context.Context }

func (s tflogSink) Accept(name string, level hclog.Level, msg string, args ...interface{}) {
	fields := make(map[string]interface{}, len(args)/2+1)
	fields["logger"] = name
	for i := 0; i+1 < len(args); i += 2 {
		key := fmt.Sprint(args[i])
		switch v := args[i+1].(type) {
		case error:
			fields[key] = v.Error()
		case fmt.Stringer:
			fields[key] = v.String()
		default:
			fields[key] = v
		}
	}
	switch level {
	case hclog.Trace:
		tflog.Trace(s.ctx, msg, fields)
	case hclog.Debug:
		tflog.Debug(s.ctx, msg, fields)
	case hclog.Warn:
		tflog.Warn(s.ctx, msg, fields)
	case hclog.Error:
		tflog.Error(s.ctx, msg, fields)
	default:
		tflog.Info(s.ctx, msg, fields)
	}
}
