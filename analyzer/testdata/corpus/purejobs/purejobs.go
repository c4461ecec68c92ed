// Package purejobs holds corpus jobs that are pure and deterministic by the definitions in
// DESIGN.md "Analysis": each line above a job's directive states the expected labels.
package purejobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib"
)

// In is the input of every job in this package.
type In struct {
	Name    string   `json:"name"`
	Words   []string `json:"words"`
	Numbers []int    `json:"numbers"`
	N       int      `json:"n"`
}

// Out is the output of every job in this package.
type Out struct {
	Text   string   `json:"text"`
	Number int      `json:"number"`
	Words  []string `json:"words"`
}

// word is a package-level compiled regexp, only used for matching (its internal caches are
// invisible to callers).
var word = regexp.MustCompile(`^[a-z]+$`)

// squares is filled once at package init and only read afterwards.
var squares map[int]int

func init() {
	squares = make(map[int]int, 10)
	for i := 0; i < 10; i++ {
		squares[i] = i * i
	}
}

// Echo exercises the trivial case: the input returned as output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Echo(ctx context.Context, in In) (Out, error) {
	return Out{Text: in.Name}, nil
}

// Sum exercises a plain loop over the input.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Sum(ctx context.Context, in In) (Out, error) {
	total := 0
	for _, n := range in.Numbers {
		total += n
	}
	return Out{Number: total}, nil
}

// Shout exercises standard-library string and number formatting.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Shout(ctx context.Context, in In) (Out, error) {
	return Out{Text: strings.ToUpper(in.Name) + "!" + strconv.Itoa(in.N)}, nil
}

// DoubleAcross exercises a pure call chain across packages: lib.Double -> deep.Add.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DoubleAcross(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Double(in.N)}, nil
}

// NormalizeName exercises a pure call chain across packages: lib.Normalize -> deep.Trim.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func NormalizeName(ctx context.Context, in In) (Out, error) {
	return Out{Text: lib.Normalize(in.Name)}, nil
}

// EncodeJSON exercises encoding/json on a struct (reflection that only reads).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func EncodeJSON(ctx context.Context, in In) (Out, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return Out{}, fmt.Errorf("encoding input: %w", err)
	}
	return Out{Text: string(b)}, nil
}

// SortWords exercises sorting a copy of the input.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortWords(ctx context.Context, in In) (Out, error) {
	words := append([]string(nil), in.Words...)
	sort.Strings(words)
	return Out{Words: words}, nil
}

// PrimeSum exercises reading a read-only table of another package (var initializer).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PrimeSum(ctx context.Context, in In) (Out, error) {
	total := 0
	for i, p := range lib.Primes {
		if i < in.N {
			total += p
		}
	}
	return Out{Number: total}, nil
}

// Square exercises reading a table filled at package init and never written again.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Square(ctx context.Context, in In) (Out, error) {
	return Out{Number: squares[in.N%10]}, nil
}

// SeededRandom exercises a local generator with a constant seed.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SeededRandom(ctx context.Context, in In) (Out, error) {
	r := rand.New(rand.NewSource(42))
	return Out{Number: r.Intn(100) + in.N}, nil
}

// LogPrintf exercises logging through the log package (benign).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func LogPrintf(ctx context.Context, in In) (Out, error) {
	log.Printf("greeting %s", in.Name)
	return Out{Text: "hello " + in.Name}, nil
}

// FmtPrintln exercises printing to stdout with fmt.Println (benign).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FmtPrintln(ctx context.Context, in In) (Out, error) {
	fmt.Println("counting", len(in.Words))
	return Out{Number: len(in.Words)}, nil
}

// SlogInfo exercises structured logging through log/slog's default logger (benign).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SlogInfo(ctx context.Context, in In) (Out, error) {
	slog.Info("job ran", "name", in.Name)
	return Out{Text: in.Name}, nil
}

// Validate exercises an error return for bad input.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Validate(ctx context.Context, in In) (Out, error) {
	if in.Name == "" {
		return Out{}, errors.New("name is required")
	}
	return Out{Text: in.Name}, nil
}

// Fibonacci exercises recursion.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Fibonacci(ctx context.Context, in In) (Out, error) {
	return Out{Number: fib(in.N % 25)}, nil
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// UnsafeString exercises unsafe on local memory only (a zero-copy string of a local buffer).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func UnsafeString(ctx context.Context, in In) (Out, error) {
	buf := []byte(in.Name)
	if len(buf) == 0 {
		return Out{}, nil
	}
	return Out{Text: unsafe.String(&buf[0], len(buf))}, nil
}

// PointerToLocal exercises a helper writing through a pointer to a local variable.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PointerToLocal(ctx context.Context, in In) (Out, error) {
	n := in.N
	return Out{Number: lib.Bump(&n)}, nil
}

// RegexpMatch exercises matching with a package-level compiled regexp.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RegexpMatch(ctx context.Context, in In) (Out, error) {
	n := 0
	for _, w := range in.Words {
		if word.MatchString(w) {
			n++
		}
	}
	return Out{Number: n}, nil
}

// DecodeJSON exercises json.Unmarshal into a local value.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DecodeJSON(ctx context.Context, in In) (Out, error) {
	var words []string
	if err := json.Unmarshal([]byte(in.Name), &words); err != nil {
		return Out{}, fmt.Errorf("name must be a JSON array of strings: %w", err)
	}
	return Out{Words: words}, nil
}

// JoinBuilder exercises strings.Builder.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func JoinBuilder(ctx context.Context, in In) (Out, error) {
	var b strings.Builder
	for i, w := range in.Words {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(w)
	}
	return Out{Text: b.String()}, nil
}

// SortByLength exercises slices.SortStableFunc with a comparison closure.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortByLength(ctx context.Context, in In) (Out, error) {
	words := slices.Clone(in.Words)
	slices.SortStableFunc(words, func(a, b string) int { return len(a) - len(b) })
	return Out{Words: words}, nil
}

// DurationMath exercises time.ParseDuration and arithmetic without reading the clock.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DurationMath(ctx context.Context, in In) (Out, error) {
	d, err := time.ParseDuration(in.Name)
	if err != nil {
		return Out{}, err
	}
	return Out{Number: int((d * 2).Milliseconds())}, nil
}

type base struct{ sep string }

func (b base) join(words []string) string { return strings.Join(words, b.sep) }

type csv struct{ base }

// PromotedMethod exercises a method promoted from an embedded struct.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PromotedMethod(ctx context.Context, in In) (Out, error) {
	return Out{Text: csv{base{sep: ","}}.join(in.Words)}, nil
}

// ReadAllString exercises io.ReadAll over a strings.Reader (an io.Reader whose type is visible).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ReadAllString(ctx context.Context, in In) (Out, error) {
	b, err := io.ReadAll(strings.NewReader(in.Name))
	return Out{Number: len(b)}, err
}

// FprintStderr exercises fmt.Fprintln to os.Stderr (logging to stderr, benign).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FprintStderr(ctx context.Context, in In) (Out, error) {
	fmt.Fprintln(os.Stderr, "processing", in.Name)
	return Out{Text: in.Name}, nil
}
