package holdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout/kit"
	"github.com/serverless-blueprint/blueprint/job"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// PooledBuffer exercises a package-level sync.Pool whose buffer is reset before use and copied
// out (buf.String copies): the pool only saves allocations, so nothing one call does is seen by
// another. (Labelled impure and stateful until issue "Analyzer: the hard cases of real
// application code" settled that such a pool is not observable state.)
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PooledBuffer(ctx context.Context, in In) (Out, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	for i, n := range in.Numbers {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.FormatFloat(n, 'g', -1, 64))
	}
	return Out{Text: buf.String()}, nil
}

// MemoSyncMap exercises a sync.Map global cache in another package (kit.Memo): the value
// returned may be read back from the global.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func MemoSyncMap(ctx context.Context, in In) (Out, error) {
	v := kit.Memo(in.Text, func() string { return strings.ToUpper(in.Text) })
	return Out{Text: v}, nil
}

// AtomicHits exercises an atomic counter in another package's global, returned.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func AtomicHits(ctx context.Context, in In) (Out, error) {
	return Out{Count: int(kit.Hit())}, nil
}

var (
	unitsOnce sync.Once
	units     map[string]float64
)

func loadUnits() {
	units = map[string]float64{"km": 1000, "m": 1, "cm": 0.01, "mi": 1609.344}
}

// LazyUnits exercises a table initialised lazily with sync.Once on the first call (a write to a
// global after package init, then reads of it reach the output).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func LazyUnits(ctx context.Context, in In) (Out, error) {
	unitsOnce.Do(loadUnits)
	f, ok := units[in.Op]
	if !ok {
		return Out{}, fmt.Errorf("unknown unit %q", in.Op)
	}
	return Out{Value: in.A * f}, nil
}

var audit []string

// AuditClosure exercises a closure over a global slice that the job calls (the output does
// not depend on the global).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func AuditClosure(ctx context.Context, in In) (Out, error) {
	record := func(msg string) { audit = append(audit, msg) }
	words := strings.Fields(in.Text)
	for _, w := range words {
		record("saw " + w)
	}
	return Out{Count: len(words)}, nil
}

var opCalls int

var ops = map[string]func(a, b float64) float64{
	"add": func(a, b float64) float64 { return a + b },
	"mul": func(a, b float64) float64 { return a * b },
	"calls": func(a, b float64) float64 {
		opCalls++
		return float64(opCalls)
	},
}

// OpTable exercises a function table in which one entry increments and returns a global.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func OpTable(ctx context.Context, in In) (Out, error) {
	f, ok := ops[in.Op]
	if !ok {
		return Out{}, fmt.Errorf("unknown op %q", in.Op)
	}
	return Out{Value: f(in.A, in.B)}, nil
}

var comparisons int

type byLen []string

func (b byLen) less(i, j int) bool {
	comparisons++
	return len(b[i]) < len(b[j])
}

// CountingLess exercises a method value passed to sort.Slice whose method increments a global
// (the count never reaches the output).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func CountingLess(ctx context.Context, in In) (Out, error) {
	words := byLen(strings.Fields(in.Text))
	sort.SliceStable(words, words.less)
	return Out{Lines: words}, nil
}

var (
	statsMu sync.Mutex
	stats   = map[string]int{}
)

// RegionStats exercises a mutex-guarded global map updated per call and returned.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RegionStats(ctx context.Context, in In) (Out, error) {
	statsMu.Lock()
	defer statsMu.Unlock()
	stats[in.Region]++
	return Out{Count: stats[in.Region]}, nil
}

type entry struct {
	val     string
	expires time.Time
}

var (
	ttlMu    sync.Mutex
	ttlCache = map[string]entry{}
)

// TTLCache exercises a global cache whose entries expire by the clock.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func TTLCache(ctx context.Context, in In) (Out, error) {
	ttlMu.Lock()
	defer ttlMu.Unlock()
	if e, ok := ttlCache[in.ID]; ok && time.Now().Before(e.expires) {
		return Out{Text: e.val}, nil
	}
	v := strings.Repeat(in.ID, 2)
	ttlCache[in.ID] = entry{val: v, expires: time.Now().Add(time.Minute)}
	return Out{Text: v}, nil
}

type settings struct {
	Verbose bool
	Prefix  string
}

var current settings

// ConfigureGlobal exercises a job that stores its input into a package-level config struct
// and then formats its answer from that struct.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func ConfigureGlobal(ctx context.Context, in In) (Out, error) {
	current.Prefix = in.Region
	current.Verbose = in.N > 0
	return Out{Text: current.Prefix + ":" + in.ID}, nil
}

// ListDir exercises os.ReadDir (a local file system read).
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func ListDir(ctx context.Context, in In) (Out, error) {
	entries, err := os.ReadDir(".")
	if err != nil {
		return Out{}, err
	}
	out := Out{}
	for _, e := range entries {
		out.Lines = append(out.Lines, e.Name())
	}
	return out, nil
}

// WorkingDir exercises os.Getwd (reading: every platform has a working directory, so its name
// is an environment-like read: not deterministic, still eligible).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func WorkingDir(ctx context.Context, in In) (Out, error) {
	wd, err := os.Getwd()
	return Out{Text: wd}, err
}

type appConfig struct {
	Endpoint string `json:"endpoint"`
	Retries  int    `json:"retries"`
}

// ConfigFile exercises configuration loading from a local JSON file.
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func ConfigFile(ctx context.Context, in In) (Out, error) {
	data, err := os.ReadFile("config.json")
	if err != nil {
		return Out{}, fmt.Errorf("read config.json: %w", err)
	}
	var c appConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return Out{}, fmt.Errorf("config.json: %w", err)
	}
	return Out{Text: c.Endpoint, Count: c.Retries}, nil
}

// TempReport exercises writing a temporary file (the output is only the byte count).
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func TempReport(ctx context.Context, in In) (Out, error) {
	if f, err := os.CreateTemp("", "report-*.txt"); err == nil {
		_, _ = f.WriteString(in.Text)
		_ = f.Close()
	}
	return Out{Count: len(in.Text)}, nil
}

// EnvDefault exercises setting an environment variable when it is missing, then returning it
// (environment write: impure and implicit process state; the read makes it not deterministic).
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func EnvDefault(ctx context.Context, in In) (Out, error) {
	if _, ok := os.LookupEnv("APP_MODE"); !ok {
		_ = os.Setenv("APP_MODE", "batch")
	}
	return Out{Text: os.Getenv("APP_MODE")}, nil
}

// FindTool exercises exec.LookPath only (os/exec is VM-only; searching PATH reads the file system).
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func FindTool(ctx context.Context, in In) (Out, error) {
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		return Out{Text: ""}, nil
	}
	return Out{Text: p}, nil
}

// ResolveConst exercises net.LookupHost of a constant name (reading: a DNS lookup is a network
// call for that host).
// expect: pure=false deterministic=false state=false eligible=true hosts=db.example.com
//
//blueprint:job
func ResolveConst(ctx context.Context, in In) (Out, error) {
	addrs, err := net.LookupHost("db.example.com")
	return Out{Lines: addrs}, err
}

// ParsedURL exercises url.Parse of a constant, a path added from the input, then http.Get(u.String()).
// expect: pure=false deterministic=false state=false eligible=true hosts=metrics.example.com
//
//blueprint:job
func ParsedURL(ctx context.Context, in In) (Out, error) {
	u, err := url.Parse("https://metrics.example.com/api/v2")
	if err != nil {
		return Out{}, err
	}
	u = u.JoinPath("series", in.ID)
	q := u.Query()
	q.Set("region", in.Region)
	u.RawQuery = q.Encode()
	resp, err := http.Get(u.String())
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// PostRegional exercises http.Post to a host computed from the input region.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func PostRegional(ctx context.Context, in In) (Out, error) {
	host := in.Region + ".ingest.example.com"
	resp, err := http.Post("https://"+host+"/v1/events", "application/json", strings.NewReader(in.Text))
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// WeatherClient exercises an API client whose constant base URL is stored in a struct field by
// its constructor (kit.NewWeather), then used by a method.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.weather.example.com
//
//blueprint:job
func WeatherClient(ctx context.Context, in In) (Out, error) {
	code, err := kit.NewWeather().Status(ctx, "/v1/forecast/"+url.PathEscape(in.Region))
	return Out{Count: code}, err
}

// PostEvent exercises a constant URL passed to a JSON-posting helper in another package.
// expect: pure=false deterministic=false state=false eligible=true hosts=events.example.com
//
//blueprint:job
func PostEvent(ctx context.Context, in In) (Out, error) {
	code, err := kit.PostJSON(ctx, "https://events.example.com/v1/track", map[string]string{"id": in.ID})
	return Out{Count: code}, err
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// GlobalClient exercises a package-level http.Client built in its var initializer and never
// reassigned (reading: the client's connection pool is net/http's hidden cache, not job state).
// expect: pure=false deterministic=false state=false eligible=true hosts=status.example.com
//
//blueprint:job
func GlobalClient(ctx context.Context, in In) (Out, error) {
	resp, err := httpClient.Get("https://status.example.com/ping")
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	return Out{Count: resp.StatusCode}, nil
}

// FanOutTwo exercises two constant hosts fetched from goroutines into their own slots.
// expect: pure=false deterministic=false state=false eligible=true hosts=eu.api.example.com,us.api.example.com
//
//blueprint:job
func FanOutTwo(ctx context.Context, in In) (Out, error) {
	urls := []string{"https://eu.api.example.com/health", "https://us.api.example.com/health"}
	codes := make([]int, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(u)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	return Out{Lines: []string{strconv.Itoa(codes[0]), strconv.Itoa(codes[1])}}, nil
}

// CachedRate exercises job.State as a cache in front of an HTTP call to a constant host.
// expect: pure=false deterministic=false state=true eligible=true hosts=rates.example.com
//
//blueprint:job
func CachedRate(ctx context.Context, st job.State, in In) (Out, error) {
	v, ver, err := st.Get(ctx, "rate:"+in.ID)
	if err != nil {
		return Out{}, err
	}
	if v != nil {
		return Out{Text: string(v)}, nil
	}
	resp, err := http.Get("https://rates.example.com/latest?symbol=" + url.QueryEscape(in.ID))
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	var body struct {
		Rate string `json:"rate"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return Out{}, err
	}
	if _, err := st.Put(ctx, "rate:"+in.ID, []byte(body.Rate), ver); err != nil {
		return Out{}, err
	}
	return Out{Text: body.Rate}, nil
}

// Store saves key/value pairs.
type Store interface {
	Save(key, value string)
}

type memStore struct{ m map[string]string }

func (s *memStore) Save(key, value string) { s.m[key] = value }

var sessions = &memStore{m: map[string]string{}}

// Service embeds a Store, so Save is promoted from the interface.
type Service struct {
	Store
	name string
}

// EmbeddedStore exercises a promoted method of an embedded interface field whose value is a
// global in-memory store (the output does not depend on the store).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func EmbeddedStore(ctx context.Context, in In) (Out, error) {
	svc := Service{Store: sessions, name: "sessions"}
	svc.Save(in.ID, in.Text)
	return Out{Text: svc.name + "/" + in.ID}, nil
}

// WriteReport exercises a report written through a bufio.Writer over a local file (errors of
// the write are dropped so the output does not depend on it).
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func WriteReport(ctx context.Context, in In) (Out, error) {
	lines := strings.Split(in.Text, "\n")
	if f, err := os.Create("report-" + in.ID + ".txt"); err == nil {
		w := bufio.NewWriter(f)
		for i, l := range lines {
			fmt.Fprintf(w, "%3d  %s\n", i+1, l)
		}
		_ = w.Flush()
		_ = f.Close()
	}
	return Out{Count: len(lines)}, nil
}
