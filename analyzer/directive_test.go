package analyzer

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseDirective(t *testing.T) {
	tests := []struct {
		text    string
		want    Directive
		ok      bool
		wantErr string
	}{
		{text: "//blueprint:job", ok: true},
		{text: "//blueprint:job\n", ok: true},
		{text: "//blueprint:job name=tally memory=256 timeout=30s mode=auto", ok: true,
			want: Directive{Name: "tally", MemoryMB: 256, Timeout: 30 * time.Second, Mode: "auto"}},
		{text: "//blueprint:job   mode=serverless\tmemory=10240MB", ok: true, want: Directive{Mode: "serverless", MemoryMB: 10240}},
		{text: "//blueprint:job timeout=15m memory=128", ok: true, want: Directive{Timeout: 15 * time.Minute, MemoryMB: 128}},
		{text: "//blueprint:jobs", ok: false},
		{text: "// blueprint:job", ok: false},
		{text: "//go:generate blueprint:job", ok: false},
		{text: "/* blueprint:job */", ok: false},
		{text: "//blueprint:job memory=127", ok: true, wantErr: "memory=127: must be between 128 and 10240 MB"},
		{text: "//blueprint:job memory=10241", ok: true, wantErr: "between 128 and 10240"},
		{text: "//blueprint:job memory=lots", ok: true, wantErr: `memory="lots": write a whole number`},
		{text: "//blueprint:job timeout=15m1s", ok: true, wantErr: "at most 15m0s"},
		{text: "//blueprint:job timeout=-1s", ok: true, wantErr: "more than 0"},
		{text: "//blueprint:job timeout=soon", ok: true, wantErr: "not a duration"},
		{text: "//blueprint:job mode=remote", ok: true, wantErr: `mode="remote": use auto, local or serverless`},
		{text: "//blueprint:job region=eu", ok: true, wantErr: `unknown option "region"`},
		{text: "//blueprint:job name=a name=b", ok: true, wantErr: `option "name" is given more than once`},
		{text: "//blueprint:job name=", ok: true, wantErr: "must look like key=value"},
		{text: "//blueprint:job =x", ok: true, wantErr: "must look like key=value"},
		{text: "//blueprint:job name=9lives", ok: true, wantErr: `name="9lives"`},
		{text: "//blueprint:job name=" + strings.Repeat("a", 64), ok: true, wantErr: "at most 63 characters"},
		{text: "//blueprint:job memory=1 mode=x", ok: true, wantErr: "memory=1: must be between 128 and 10240 MB; mode=\"x\""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, ok, err := ParseDirective(tc.text)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tc.want {
				t.Errorf("directive = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"ResizeImage":     "resize_image",
		"HTTPGet":         "http_get",
		"Tally":           "tally",
		"GetHTTPResponse": "get_http_response",
		"ParseV2Body":     "parse_v2_body",
		"ID":              "id",
		"Resize2X":        "resize2_x",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseDirective checks that no comment text makes ParseDirective panic, that every
// accepted directive is within the limits, and that String gives text that parses back to it.
func FuzzParseDirective(f *testing.F) {
	for _, seed := range []string{
		"//blueprint:job",
		"//blueprint:job name=tally memory=256 timeout=30s mode=auto",
		"//blueprint:job memory=64",
		"//blueprint:job timeout=1h",
		"//blueprint:jobs",
		"//blueprint:job ===",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, ok, err := ParseDirective(text)
		if !ok {
			if err != nil || d != (Directive{}) {
				t.Fatalf("not a directive, but err=%v d=%+v", err, d)
			}
			return
		}
		if err != nil {
			if d != (Directive{}) {
				t.Fatalf("error %v with a non-empty directive %+v", err, d)
			}
			return
		}
		if d.MemoryMB != 0 && (d.MemoryMB < MinMemoryMB || d.MemoryMB > MaxMemoryMB) {
			t.Fatalf("memory %d accepted", d.MemoryMB)
		}
		if d.Timeout < 0 || d.Timeout > MaxTimeout {
			t.Fatalf("timeout %s accepted", d.Timeout)
		}
		if d.Name != "" && !jobNamePattern.MatchString(d.Name) {
			t.Fatalf("name %q accepted", d.Name)
		}
		again, ok, err := ParseDirective(d.String())
		if !ok || err != nil || again != d {
			t.Fatalf("round trip of %q: %+v ok=%v err=%v, want %+v", d.String(), again, ok, err, d)
		}
	})
}

func ExampleParseDirective() {
	d, ok, err := ParseDirective("//blueprint:job name=tally memory=256 timeout=30s mode=auto")
	fmt.Println(d.Name, d.MemoryMB, d.Timeout, d.Mode, ok, err)
	_, ok, _ = ParseDirective("// an ordinary comment")
	fmt.Println(ok)
	// Output:
	// tally 256 30s auto true <nil>
	// false
}
