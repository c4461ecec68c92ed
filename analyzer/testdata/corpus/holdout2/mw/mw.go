package mw

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Handler turns one request string into a response.
type Handler func(req string) (string, error)

// Middleware wraps a Handler.
type Middleware func(next Handler) Handler

// Chain wraps h so that the first middleware is the outermost.
func Chain(h Handler, ms ...Middleware) Handler {
	for i := len(ms) - 1; i >= 0; i-- {
		h = ms[i](h)
	}
	return h
}

// Trim removes surrounding white space before the next handler.
func Trim() Middleware {
	return func(next Handler) Handler {
		return func(req string) (string, error) { return next(strings.TrimSpace(req)) }
	}
}

// Limit rejects requests longer than n bytes.
func Limit(n int) Middleware {
	return func(next Handler) Handler {
		return func(req string) (string, error) {
			if len(req) > n {
				return "", fmt.Errorf("request of %d bytes is over the %d-byte limit", len(req), n)
			}
			return next(req)
		}
	}
}

// Logged prints every request and its outcome to stderr.
func Logged(name string) Middleware {
	return func(next Handler) Handler {
		return func(req string) (string, error) {
			resp, err := next(req)
			fmt.Fprintf(os.Stderr, "%s: %d bytes in, err=%v\n", name, len(req), err)
			return resp, err
		}
	}
}

// Calls counts the requests that went through Counted, process-wide.
var Calls atomic.Int64

// Counted counts every request in Calls.
func Counted() Middleware {
	return func(next Handler) Handler {
		return func(req string) (string, error) {
			Calls.Add(1)
			return next(req)
		}
	}
}

// RequireToken asks verifyURL whether the token is valid before the next handler runs.
func RequireToken(verifyURL, token string) Middleware {
	return func(next Handler) Handler {
		return func(req string) (string, error) {
			resp, err := http.Get(verifyURL + "?token=" + url.QueryEscape(token))
			if err != nil {
				return "", fmt.Errorf("verify token: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return "", fmt.Errorf("token rejected: %s", resp.Status)
			}
			return next(req)
		}
	}
}

// Formatter pads and prefixes lines.
type Formatter struct {
	prefix string
	width  int
	upper  bool
}

// Option configures a Formatter.
type Option func(*Formatter)

// WithPrefix sets the line prefix.
func WithPrefix(p string) Option { return func(f *Formatter) { f.prefix = p } }

// WithWidth sets the padded width.
func WithWidth(w int) Option { return func(f *Formatter) { f.width = w } }

// Upper makes lines upper case.
func Upper() Option { return func(f *Formatter) { f.upper = true } }

// NewFormatter builds a Formatter from constant defaults and the options.
func NewFormatter(opts ...Option) *Formatter {
	f := &Formatter{prefix: "- ", width: 0}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Format formats one line.
func (f *Formatter) Format(s string) string {
	if f.upper {
		s = strings.ToUpper(s)
	}
	return fmt.Sprintf("%s%-*s|", f.prefix, f.width, s)
}

// Policy says how often and how slowly to retry.
type Policy struct {
	Attempts int
	Base     time.Duration
}

var (
	defaultAttempts = 3
	defaultBase     = 100 * time.Millisecond
)

// SetDefaultAttempts changes the process-wide default number of attempts.
func SetDefaultAttempts(n int) { defaultAttempts = n }

// PolicyOption configures a Policy.
type PolicyOption func(*Policy)

// WithAttempts overrides the number of attempts.
func WithAttempts(n int) PolicyOption { return func(p *Policy) { p.Attempts = n } }

// NewPolicy starts from the process-wide defaults and applies the options.
func NewPolicy(opts ...PolicyOption) Policy {
	p := Policy{Attempts: defaultAttempts, Base: defaultBase}
	for _, o := range opts {
		o(&p)
	}
	return p
}
