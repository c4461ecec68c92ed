// Package holdout is a held-out set of corpus jobs, labelled from the DESIGN.md definitions
// before the analyzer was run on them; it measures accuracy on code the analyzer was not tuned on.
package holdout

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"
)

// Item is one line of an invoice.
type Item struct {
	Qty   int     `json:"qty"`
	Price float64 `json:"price"`
}

// In is the input of every job in this package.
type In struct {
	Text    string          `json:"text"`
	Numbers []float64       `json:"numbers"`
	Items   map[string]Item `json:"items"`
	ID      string          `json:"id"`
	Region  string          `json:"region"`
	Op      string          `json:"op"`
	A       float64         `json:"a"`
	B       float64         `json:"b"`
	Epoch   int64           `json:"epoch"`
	N       int             `json:"n"`
}

// Out is the output of every job in this package.
type Out struct {
	Text   string         `json:"text"`
	Lines  []string       `json:"lines"`
	Value  float64        `json:"value"`
	Count  int            `json:"count"`
	Counts map[string]int `json:"counts"`
}

// ParseCSV exercises encoding/csv over a strings.Reader, summing a numeric column.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ParseCSV(ctx context.Context, in In) (Out, error) {
	r := csv.NewReader(strings.NewReader(in.Text))
	records, err := r.ReadAll()
	if err != nil {
		return Out{}, fmt.Errorf("parse csv: %w", err)
	}
	var total float64
	for i, rec := range records {
		if i == 0 || len(rec) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			return Out{}, fmt.Errorf("row %d: %w", i+1, err)
		}
		total += v
	}
	return Out{Value: total, Count: len(records)}, nil
}

type feed struct {
	XMLName xml.Name `xml:"feed"`
	Entries []struct {
		Title string `xml:"title"`
	} `xml:"entry"`
}

// DecodeXML exercises encoding/xml unmarshalling into a local value.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DecodeXML(ctx context.Context, in In) (Out, error) {
	var f feed
	if err := xml.Unmarshal([]byte(in.Text), &f); err != nil {
		return Out{}, fmt.Errorf("decode feed: %w", err)
	}
	out := Out{}
	for _, e := range f.Entries {
		out.Lines = append(out.Lines, e.Title)
	}
	return out, nil
}

// Base64RoundTrip exercises base64 encoding and decoding.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Base64RoundTrip(ctx context.Context, in In) (Out, error) {
	enc := base64.URLEncoding.EncodeToString([]byte(in.Text))
	dec, err := base64.URLEncoding.DecodeString(enc)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: enc, Count: len(dec)}, nil
}

// WordFrequency exercises a bufio.Scanner over a string, counting words into a map output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func WordFrequency(ctx context.Context, in In) (Out, error) {
	sc := bufio.NewScanner(strings.NewReader(in.Text))
	sc.Split(bufio.ScanWords)
	counts := map[string]int{}
	for sc.Scan() {
		counts[strings.ToLower(sc.Text())]++
	}
	return Out{Counts: counts}, sc.Err()
}

// Number is a constraint over the numeric kinds the aggregation accepts.
type Number interface {
	~int | ~int64 | ~float64
}

func sumOf[T Number](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

func maxOf[T cmp.Ordered](xs []T) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = max(m, x)
	}
	return m, true
}

// GenericStats exercises generic helpers with a user constraint and cmp.Ordered.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GenericStats(ctx context.Context, in In) (Out, error) {
	m, ok := maxOf(in.Numbers)
	if !ok {
		return Out{}, errors.New("numbers: need at least one value")
	}
	return Out{Value: sumOf(in.Numbers) / m, Count: len(in.Numbers)}, nil
}

// Namer names a data source.
type Namer interface{ Name() string }

// Source is a data source: an interface that embeds Namer.
type Source interface {
	Namer
	Values() []float64
}

type sliceSource struct {
	name string
	vals []float64
}

func (s sliceSource) Name() string      { return s.name }
func (s sliceSource) Values() []float64 { return s.vals }

func describe(s Source) string {
	return fmt.Sprintf("%s: %d values", s.Name(), len(s.Values()))
}

// EmbeddedInterface exercises calls through an interface that embeds another (pure methods).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func EmbeddedInterface(ctx context.Context, in In) (Out, error) {
	return Out{Text: describe(sliceSource{name: in.ID, vals: in.Numbers})}, nil
}

type table struct {
	names []string
}

func (t *table) less(i, j int) bool {
	if len(t.names[i]) != len(t.names[j]) {
		return len(t.names[i]) < len(t.names[j])
	}
	return t.names[i] < t.names[j]
}

// SortMethodValue exercises a pure method value passed to sort.Slice.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortMethodValue(ctx context.Context, in In) (Out, error) {
	t := &table{names: strings.Fields(in.Text)}
	sort.Slice(t.names, t.less)
	return Out{Lines: t.names}, nil
}

// ValidateAll exercises errors.Join collecting every validation problem.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ValidateAll(ctx context.Context, in In) (Out, error) {
	var errs []error
	if in.ID == "" {
		errs = append(errs, errors.New("id: required"))
	}
	if in.N < 0 {
		errs = append(errs, fmt.Errorf("n: must be >= 0, got %d", in.N))
	}
	if in.Region != "" && !strings.HasPrefix(in.Region, "eu-") {
		errs = append(errs, fmt.Errorf("region %q: only eu-* regions", in.Region))
	}
	if err := errors.Join(errs...); err != nil {
		return Out{}, err
	}
	return Out{Text: "ok"}, nil
}

// CancelProducer exercises context cancellation of a single producer goroutine whose values
// are received in order until the consumer has enough.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CancelProducer(ctx context.Context, in In) (Out, error) {
	// Derived from Background, not ctx, so a caller's deadline cannot cut the stream short.
	stream, cancel := context.WithCancel(context.Background())
	defer cancel()
	squares := make(chan int)
	go func() {
		defer close(squares)
		for i := 1; ; i++ {
			select {
			case squares <- i * i:
			case <-stream.Done():
				return
			}
		}
	}()
	total := 0
	for i := 0; i < in.N; i++ {
		total += <-squares
	}
	cancel()
	return Out{Count: total}, nil
}

// InvoiceSorted exercises a map of structs iterated with its keys sorted first.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func InvoiceSorted(ctx context.Context, in In) (Out, error) {
	names := make([]string, 0, len(in.Items))
	for name := range in.Items {
		names = append(names, name)
	}
	sort.Strings(names)
	out := Out{}
	for _, name := range names {
		it := in.Items[name]
		out.Lines = append(out.Lines, fmt.Sprintf("%s x%d %.2f", name, it.Qty, float64(it.Qty)*it.Price))
	}
	return out, nil
}

// InvoiceUnsorted exercises a map of structs iterated straight into the output lines.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func InvoiceUnsorted(ctx context.Context, in In) (Out, error) {
	out := Out{}
	for name, it := range in.Items {
		out.Lines = append(out.Lines, fmt.Sprintf("%s x%d", name, it.Qty))
	}
	return out, nil
}

// FloatTotal exercises a float sum over a map: float addition is not associative, so the
// iteration order reaches the output (reading: this counts as order reaching the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func FloatTotal(ctx context.Context, in In) (Out, error) {
	var total float64
	for _, it := range in.Items {
		total += float64(it.Qty) * it.Price
	}
	return Out{Value: total}, nil
}

// QtyTotal exercises an int sum over a map of structs (order-free).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func QtyTotal(ctx context.Context, in In) (Out, error) {
	total := 0
	for _, it := range in.Items {
		total += it.Qty
	}
	return Out{Count: total}, nil
}

// DrainDefault exercises select with default on a local buffered channel, no goroutines.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DrainDefault(ctx context.Context, in In) (Out, error) {
	ch := make(chan string, len(in.Numbers))
	for _, n := range in.Numbers {
		ch <- strconv.FormatFloat(n, 'f', -1, 64)
	}
	out := Out{}
	for {
		select {
		case s := <-ch:
			out.Lines = append(out.Lines, s)
		default:
			return out, nil
		}
	}
}

// PollWorker exercises select with default against a goroutine's result (whether the
// result is there yet is a race).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func PollWorker(ctx context.Context, in In) (Out, error) {
	done := make(chan float64, 1)
	go func() { done <- sumOf(in.Numbers) }()
	select {
	case v := <-done:
		return Out{Value: v, Text: "computed"}, nil
	default:
		return Out{Text: "pending"}, nil
	}
}

// ElapsedOut exercises time.Since whose result reaches the output.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ElapsedOut(ctx context.Context, in In) (Out, error) {
	start := time.Now()
	s := sumOf(in.Numbers)
	return Out{Value: s, Text: time.Since(start).String()}, nil
}

// ElapsedLogged exercises time.Since that is only logged (reading: a clock read that cannot
// reach the output does not break determinism; logging is benign).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ElapsedLogged(ctx context.Context, in In) (Out, error) {
	start := time.Now()
	s := sumOf(in.Numbers)
	log.Printf("summed %d numbers in %s", len(in.Numbers), time.Since(start))
	return Out{Value: s}, nil
}

// WorkerPoolSlots exercises a pool of workers pulling indices from a channel and writing
// each result into its own slot, joined with a WaitGroup.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func WorkerPoolSlots(ctx context.Context, in In) (Out, error) {
	words := strings.Fields(in.Text)
	out := make([]string, len(words))
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				out[i] = strings.ToUpper(words[i])
			}
		}()
	}
	for i := range words {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return Out{Lines: out}, nil
}

// WorkerPoolMutexSum exercises workers adding ints to a local total under a mutex
// (integer addition is order-free).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func WorkerPoolMutexSum(ctx context.Context, in In) (Out, error) {
	words := strings.Fields(in.Text)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for _, w := range words {
		wg.Add(1)
		go func(w string) {
			defer wg.Done()
			n := len(w)
			mu.Lock()
			total += n
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return Out{Count: total}, nil
}

// lru is a tiny least-recently-used cache, local to one call.
type lru struct {
	cap   int
	order []string
	vals  map[string]int
}

func (c *lru) get(k string) (int, bool) {
	v, ok := c.vals[k]
	if ok {
		c.touch(k)
	}
	return v, ok
}

func (c *lru) put(k string, v int) {
	if _, ok := c.vals[k]; !ok && len(c.order) == c.cap {
		delete(c.vals, c.order[0])
		c.order = c.order[1:]
	}
	c.vals[k] = v
	c.touch(k)
}

func (c *lru) touch(k string) {
	c.order = slices.DeleteFunc(c.order, func(s string) bool { return s == k })
	c.order = append(c.order, k)
}

// LocalLRU exercises a cache created inside the call (no global), with pointer methods.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func LocalLRU(ctx context.Context, in In) (Out, error) {
	c := &lru{cap: 3, vals: map[string]int{}}
	hits := 0
	for _, w := range strings.Fields(in.Text) {
		if _, ok := c.get(w); ok {
			hits++
			continue
		}
		c.put(w, len(w))
	}
	return Out{Count: hits, Lines: c.order}, nil
}

// RenderTemplate exercises text/template parsed from a constant and executed into a builder.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderTemplate(ctx context.Context, in In) (Out, error) {
	tmpl, err := template.New("greet").Funcs(template.FuncMap{"upper": strings.ToUpper}).
		Parse("Hello {{upper .ID}} from {{.Region}} ({{len .Numbers}} values)\n")
	if err != nil {
		return Out{}, err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, in); err != nil {
		return Out{}, err
	}
	return Out{Text: b.String()}, nil
}

// FormatUTC exercises time formatting of an input timestamp in UTC (no clock read).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FormatUTC(ctx context.Context, in In) (Out, error) {
	t := time.Unix(in.Epoch, 0).UTC()
	next := t.AddDate(0, 1, 0).Truncate(24 * time.Hour)
	return Out{Text: t.Format(time.RFC3339), Lines: []string{next.Format("2006-01-02"), t.Weekday().String()}}, nil
}

// TimeSeeded exercises a local generator seeded from the clock.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TimeSeeded(ctx context.Context, in In) (Out, error) {
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	words := strings.Fields(in.Text)
	r.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	return Out{Lines: words}, nil
}

// SortedIterKeys exercises slices.Sorted over maps.Keys (iterators) before the output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortedIterKeys(ctx context.Context, in In) (Out, error) {
	return Out{Lines: slices.Sorted(maps.Keys(in.Items))}, nil
}

var logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))

// GlobalLogger exercises a package-level slog logger built in its var initializer
// (reading: logging through log/slog to stderr is benign, and the logger is never reassigned).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GlobalLogger(ctx context.Context, in In) (Out, error) {
	logger.Info("job start", "id", in.ID, "n", in.N)
	return Out{Count: in.N * 2}, nil
}

type token struct {
	num float64
	op  byte
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case strings.IndexByte("+-*/", c) >= 0:
			toks = append(toks, token{op: c})
			i++
		case unicode.IsDigit(rune(c)) || c == '.':
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.') {
				j++
			}
			v, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("number at %d: %w", i, err)
			}
			toks = append(toks, token{num: v})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

// eval evaluates tokens with * and / binding tighter than + and -.
func eval(toks []token) (float64, error) {
	var terms []float64
	sign, cur, op := 1.0, 0.0, byte(0)
	expectNum := true
	for _, t := range toks {
		if expectNum {
			if t.op != 0 {
				return 0, fmt.Errorf("expected a number, got %q", t.op)
			}
			switch op {
			case '*':
				cur *= t.num
			case '/':
				if t.num == 0 {
					return 0, errors.New("division by zero")
				}
				cur /= t.num
			default:
				cur = t.num
			}
			expectNum = false
			continue
		}
		switch t.op {
		case '+', '-':
			terms = append(terms, sign*cur)
			sign, op = 1, 0
			if t.op == '-' {
				sign = -1
			}
		default:
			op = t.op
		}
		expectNum = true
	}
	if expectNum {
		return 0, errors.New("expression ends with an operator")
	}
	terms = append(terms, sign*cur)
	total := 0.0
	for _, v := range terms {
		total += v
	}
	return total, nil
}

// Calculate exercises a hand-written tokenizer and evaluator.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Calculate(ctx context.Context, in In) (Out, error) {
	toks, err := tokenize(in.Text)
	if err != nil {
		return Out{}, err
	}
	v, err := eval(toks)
	return Out{Value: v}, err
}

// Fingerprint exercises crypto/sha256 and hex (crypto that is not randomness).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Fingerprint(ctx context.Context, in In) (Out, error) {
	sum := sha256.Sum256([]byte(in.Text))
	return Out{Text: hex.EncodeToString(sum[:8])}, nil
}

// PortFromEnv exercises configuration loading from an environment variable with a default.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func PortFromEnv(ctx context.Context, in In) (Out, error) {
	port := 8080
	if v, ok := os.LookupEnv("APP_PORT"); ok {
		p, err := strconv.Atoi(v)
		if err != nil {
			return Out{}, fmt.Errorf("APP_PORT %q: %w", v, err)
		}
		port = p
	}
	return Out{Count: port}, nil
}
