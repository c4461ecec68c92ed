package analyzer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/serverless-blueprint/blueprint/job"
)

// directivePrefix marks a job; like //go: directives it has no space after the slashes.
const directivePrefix = "//blueprint:job"

// Limits every job must fit, taken from the strictest serverless platform (AWS Lambda):
// memory 128..10240 MB, at most 15 minutes per invocation.
const (
	MinMemoryMB = 128
	MaxMemoryMB = 10240
	MaxTimeout  = 15 * time.Minute
)

// jobNamePattern keeps names valid as Lambda and Cloud Functions names once the platforms
// map "_" to "-": lowercase start, lowercase letters, digits, "_" and "-", at most 63 chars.
var jobNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// Directive holds the options of one //blueprint:job comment. Zero fields were not given.
type Directive struct {
	Name     string
	MemoryMB int64
	Timeout  time.Duration
	Mode     string
}

// String formats d back into directive text that ParseDirective reads as d.
func (d Directive) String() string {
	var b strings.Builder
	b.WriteString(directivePrefix)
	if d.Name != "" {
		b.WriteString(" name=" + d.Name)
	}
	if d.MemoryMB != 0 {
		b.WriteString(" memory=" + strconv.FormatInt(d.MemoryMB, 10))
	}
	if d.Timeout != 0 {
		b.WriteString(" timeout=" + d.Timeout.String())
	}
	if d.Mode != "" {
		b.WriteString(" mode=" + d.Mode)
	}
	return b.String()
}

// ParseDirective reads one comment line. ok is false when the line is not a //blueprint:job
// directive (so callers can feed it every comment); err lists every bad option when it is one.
func ParseDirective(text string) (Directive, bool, error) {
	text = strings.TrimRight(text, "\r\n")
	rest, found := strings.CutPrefix(text, directivePrefix)
	if !found {
		return Directive{}, false, nil
	}
	if rest != "" && !unicode.IsSpace(rune(rest[0])) {
		// "//blueprint:jobs" or "//blueprint:job=x" is some other word, not this directive.
		return Directive{}, false, nil
	}
	var d Directive
	var errs []string
	seen := map[string]bool{}
	for _, field := range strings.Fields(rest) {
		key, value, hasValue := strings.Cut(field, "=")
		if !hasValue || key == "" || value == "" {
			errs = append(errs, fmt.Sprintf("option %q must look like key=value (keys: name, memory, timeout, mode)", field))
			continue
		}
		if seen[key] {
			errs = append(errs, fmt.Sprintf("option %q is given more than once", key))
			continue
		}
		seen[key] = true
		switch key {
		case "name":
			if !jobNamePattern.MatchString(value) {
				errs = append(errs, fmt.Sprintf("name=%q: use lowercase letters, digits, '_' or '-', starting with a letter, at most 63 characters", value))
				continue
			}
			d.Name = value
		case "memory":
			mb, err := parseMemoryMB(value)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			d.MemoryMB = mb
		case "timeout":
			t, err := time.ParseDuration(value)
			if err != nil {
				errs = append(errs, fmt.Sprintf("timeout=%q: not a duration; write e.g. timeout=30s or timeout=2m", value))
				continue
			}
			if t <= 0 || t > MaxTimeout {
				errs = append(errs, fmt.Sprintf("timeout=%s: must be more than 0 and at most %s", value, MaxTimeout))
				continue
			}
			d.Timeout = t
		case "mode":
			switch value {
			case job.ModeAuto, job.ModeLocal, job.ModeServerless:
				d.Mode = value
			default:
				errs = append(errs, fmt.Sprintf("mode=%q: use auto, local or serverless", value))
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown option %q (known: name, memory, timeout, mode)", key))
		}
	}
	if len(errs) > 0 {
		return Directive{}, true, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return d, true, nil
}

// parseMemoryMB accepts "256" or "256MB".
func parseMemoryMB(value string) (int64, error) {
	digits := strings.TrimSuffix(strings.TrimSuffix(value, "MB"), "mb")
	mb, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory=%q: write a whole number of megabytes, e.g. memory=256", value)
	}
	if mb < MinMemoryMB || mb > MaxMemoryMB {
		return 0, fmt.Errorf("memory=%s: must be between %d and %d MB", value, MinMemoryMB, MaxMemoryMB)
	}
	return mb, nil
}

// snakeCase turns a Go function name into the default job name: ResizeImage → resize_image,
// HTTPGet → http_get, parseV2Body → parse_v2_body.
func snakeCase(name string) string {
	runes := []rune(name)
	var b strings.Builder
	for i, r := range runes {
		if unicode.IsUpper(r) && i > 0 {
			prev := runes[i-1]
			nextLower := i+1 < len(runes) && unicode.IsLower(runes[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// JobName is the name of the job of function fn with directive d: name= when given, else
// fn in snake_case.
func JobName(fn string, d Directive) string {
	if d.Name != "" {
		return d.Name
	}
	return snakeCase(fn)
}
