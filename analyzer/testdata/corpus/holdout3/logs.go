package holdout3

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// accessLine matches "2026-11-02T10:04:05Z GET /path 200 12ms".
var accessLine = regexp.MustCompile(`^(\S+) (GET|POST|PUT|DELETE) (\S+) (\d{3}) (\d+)ms$`)

const logLayout = "2006-01-02T15:04:05Z07:00"

type accessEntry struct {
	at      time.Time
	method  string
	path    string
	status  int
	latency time.Duration
}

func parseAccess(line string) (accessEntry, error) {
	m := accessLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return accessEntry{}, fmt.Errorf("not an access line: %q", line)
	}
	at, err := time.Parse(logLayout, m[1])
	if err != nil {
		return accessEntry{}, fmt.Errorf("timestamp: %w", err)
	}
	status, _ := strconv.Atoi(m[4])
	ms, _ := strconv.Atoi(m[5])
	return accessEntry{at: at, method: m[2], path: m[3], status: status, latency: time.Duration(ms) * time.Millisecond}, nil
}

// StatusCounts exercises a package-level regexp and time.Parse with a fixed layout,
// aggregated in a map whose keys are sorted before the output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func StatusCounts(ctx context.Context, in In) (Out, error) {
	counts := map[int]int{}
	for _, l := range in.Lines {
		e, err := parseAccess(l)
		if err != nil {
			return Out{}, err
		}
		counts[e.status]++
	}
	codes := make([]int, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var out []string
	for _, c := range codes {
		out = append(out, fmt.Sprintf("%d=%d", c, counts[c]))
	}
	return Out{Lines: out}, nil
}

// BusyPaths exercises a map aggregation whose keys go to the output in iteration order
// (filtered, never sorted).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func BusyPaths(ctx context.Context, in In) (Out, error) {
	hits := map[string]int{}
	for _, l := range in.Lines {
		if e, err := parseAccess(l); err == nil {
			hits[e.path]++
		}
	}
	var busy []string
	for p, n := range hits {
		if n >= in.N {
			busy = append(busy, p)
		}
	}
	return Out{Lines: busy, Count: len(busy)}, nil
}

// ErrorRatio exercises integer counts kept in a map and read by key only (no iteration).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ErrorRatio(ctx context.Context, in In) (Out, error) {
	byClass := map[string]int{}
	for _, l := range in.Lines {
		e, err := parseAccess(l)
		if err != nil {
			continue
		}
		byClass[strconv.Itoa(e.status/100)+"xx"]++
	}
	total := byClass["2xx"] + byClass["3xx"] + byClass["4xx"] + byClass["5xx"]
	if total == 0 {
		return Out{}, nil
	}
	return Out{Value: float64(byClass["5xx"]) / float64(total), Count: total}, nil
}

// SlowestPerHour exercises time.Time.Truncate on parsed UTC times, a map keyed by time.Time and
// hours sorted with sort.Slice before the output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SlowestPerHour(ctx context.Context, in In) (Out, error) {
	worst := map[time.Time]time.Duration{}
	for _, l := range in.Lines {
		e, err := parseAccess(l)
		if err != nil {
			return Out{}, err
		}
		h := e.at.UTC().Truncate(time.Hour)
		if e.latency > worst[h] {
			worst[h] = e.latency
		}
	}
	hours := make([]time.Time, 0, len(worst))
	for h := range worst {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i].Before(hours[j]) })
	out := make([]string, len(hours))
	for i, h := range hours {
		out[i] = h.Format("2006-01-02 15h") + " " + worst[h].String()
	}
	return Out{Lines: out}, nil
}

// RecentErrors exercises filtering log lines against time.Now (the clock reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func RecentErrors(ctx context.Context, in In) (Out, error) {
	cutoff := time.Now().Add(-15 * time.Minute)
	var out []string
	for _, l := range in.Lines {
		e, err := parseAccess(l)
		if err == nil && e.status >= 500 && e.at.After(cutoff) {
			out = append(out, e.path)
		}
	}
	return Out{Lines: out}, nil
}

var (
	methodMu     sync.Mutex
	methodTotals = map[string]int{}
)

// TrackMethods exercises a package-level map of counters incremented per line under a mutex;
// the output is only the number of lines parsed (the global never reaches it).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func TrackMethods(ctx context.Context, in In) (Out, error) {
	n := 0
	for _, l := range in.Lines {
		e, err := parseAccess(l)
		if err != nil {
			continue
		}
		methodMu.Lock()
		methodTotals[e.method]++
		methodMu.Unlock()
		n++
	}
	return Out{Count: n}, nil
}

// ParseWindow exercises time.Date arithmetic from a fixed date and time.Parse of the input with
// a fixed layout (no clock).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ParseWindow(ctx context.Context, in In) (Out, error) {
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	at, err := time.Parse(logLayout, in.Text)
	if err != nil {
		return Out{}, fmt.Errorf("text: %w", err)
	}
	week := int(at.Sub(start).Hours()/24) / 7
	return Out{Count: week, Text: at.Weekday().String()}, nil
}
