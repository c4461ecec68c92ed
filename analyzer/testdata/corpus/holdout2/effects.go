package holdout2

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout2/audit"
)

// report is a package-level bytes.Buffer that every call appends to.
var report bytes.Buffer

// AppendReport exercises a global bytes.Buffer written per call and returned whole.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func AppendReport(ctx context.Context, in In) (Out, error) {
	fmt.Fprintf(&report, "%s: %d items\n", in.ID, len(in.Items))
	return Out{Text: report.String()}, nil
}

// AuditTrail exercises log.Logger output into another package's global bytes.Buffer
// (reading: logging is benign only to stdout/stderr; this is a write to a global).
// The output does not depend on the trail.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func AuditTrail(ctx context.Context, in In) (Out, error) {
	audit.Record("job " + in.ID + " ran")
	return Out{Text: strings.ToUpper(in.ID)}, nil
}

// kindCounts counts the node kinds every counter has visited, process-wide.
var kindCounts = map[string]int{}

// counter is a Visitor whose methods write the package-level kindCounts.
type counter struct{ leaves int }

func (c *counter) VisitNum(n Num) {
	c.leaves++
	kindCounts["num"]++
}

func (c *counter) VisitBin(b Bin) {
	kindCounts[string(b.Op)]++
	b.L.Accept(c)
	b.R.Accept(c)
}

// CountLeaves exercises a visitor whose methods also write a package-level map (only the local
// leaf count reaches the output).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func CountLeaves(ctx context.Context, in In) (Out, error) {
	root, err := buildTree(in.Numbers)
	if err != nil {
		return Out{}, err
	}
	c := &counter{}
	root.Accept(c)
	return Out{Count: c.leaves}, nil
}

// VerboseFromArgs exercises reading os.Args (reading: the process's arguments are like the
// environment: a read that breaks determinism, not the job's package-level state, and the
// platforms' processes have arguments too, so still eligible).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func VerboseFromArgs(ctx context.Context, in In) (Out, error) {
	verbose := slices.Contains(os.Args[1:], "-verbose")
	out := Out{Text: strings.TrimSpace(in.Text)}
	if verbose {
		out.Lines = []string{fmt.Sprintf("trimmed %d bytes", len(in.Text)-len(out.Text))}
	}
	return out, nil
}

// StampHost exercises os.Hostname reaching the output (reading: the host name is an
// environment-like read: not deterministic, still eligible).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func StampHost(ctx context.Context, in In) (Out, error) {
	h, err := os.Hostname()
	if err != nil {
		return Out{}, fmt.Errorf("hostname: %w", err)
	}
	return Out{Text: in.ID + "@" + h}, nil
}

// renderer turns markdown into HTML.
type renderer func(ctx context.Context, md string) (string, error)

type convertConfig struct {
	render renderer
	wrap   bool
}

type convertOption func(*convertConfig)

func withPandoc() convertOption {
	return func(c *convertConfig) {
		c.render = func(ctx context.Context, md string) (string, error) {
			cmd := exec.CommandContext(ctx, "pandoc", "-f", "markdown", "-t", "html")
			cmd.Stdin = strings.NewReader(md)
			out, err := cmd.Output()
			return string(out), err
		}
	}
}

func withWrap() convertOption { return func(c *convertConfig) { c.wrap = true } }

func plainRender(ctx context.Context, md string) (string, error) {
	return "<p>" + strings.ReplaceAll(md, "\n\n", "</p><p>") + "</p>", nil
}

// Markdown exercises a functional option that, for some inputs, swaps in an os/exec renderer.
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func Markdown(ctx context.Context, in In) (Out, error) {
	opts := []convertOption{withWrap()}
	if in.Op == "pandoc" {
		opts = append(opts, withPandoc())
	}
	cfg := convertConfig{render: plainRender}
	for _, o := range opts {
		o(&cfg)
	}
	html, err := cfg.render(ctx, in.Text)
	if err != nil {
		return Out{}, err
	}
	if cfg.wrap {
		html = "<article>" + html + "</article>"
	}
	return Out{Text: html}, nil
}
