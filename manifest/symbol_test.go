package manifest

import (
	"testing"

	"github.com/serverless-blueprint/blueprint/job"
)

func TestJobSymbol(t *testing.T) {
	for _, c := range []struct {
		name string
		pkg  string
		code []string
		want string
	}{
		{"the job's own function", "./jobs", []string{"func example.com/app/jobs.Resize", "func example.com/app/jobs.helper", "module x"}, "example.com/app/jobs.Resize"},
		{"a same-named function it calls, told apart by the directory", "./jobs", []string{"func example.com/app/jobs.Resize", "func example.com/img.Resize"}, "example.com/app/jobs.Resize"},
		{"methods are not the job", "./x", []string{"func example.com/app/jobs.Resize", "func (*example.com/img.T).Resize"}, "example.com/app/jobs.Resize"},
		{"no code digest (an old state)", "./jobs", nil, ""},
		{"two candidates the directory cannot tell apart", "./x", []string{"func a.com/jobs.Resize", "func b.com/jobs.Resize"}, ""},
	} {
		j := Job{Package: c.pkg, Function: "Resize", Analysis: job.Analysis{Code: map[string]string{}}}
		for _, k := range c.code {
			j.Analysis.Code[k] = "00"
		}
		if got := j.Symbol(); got != c.want {
			t.Errorf("%s: Symbol() = %q, want %q", c.name, got, c.want)
		}
	}
}
