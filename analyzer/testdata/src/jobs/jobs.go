// Package jobs holds one job per rule of the analyzer; analyzer_test.go states what each
// one must be labelled.
package jobs

import (
	"context"
	"crypto/rand"
	"fmt"
	"image"
	"io"
	"log"
	mrand "math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/src/other"
	"github.com/serverless-blueprint/blueprint/job"
)

type Text struct {
	Body string            `json:"body"`
	Tags map[string]string `json:"tags,omitempty"`
	When time.Time         `json:"when"`
}

type Count struct {
	Words int      `json:"words"`
	List  []string `json:"list,omitempty"`
}

//blueprint:job
func WordCount(ctx context.Context, in Text) (Count, error) {
	log.Printf("counting %d bytes", len(in.Body))
	fmt.Println("counting")
	words := strings.Fields(in.Body)
	if err := ctx.Err(); err != nil {
		return Count{}, fmt.Errorf("counting: %w", err)
	}
	return Count{Words: len(words)}, nil
}

//blueprint:job name=stamp memory=256 timeout=2m
func StampTime(ctx context.Context, in Text) (Count, error) {
	return Count{Words: int(time.Now().Unix())}, nil
}

//blueprint:job
func RandGlobal(ctx context.Context, in Text) (Count, error) {
	return Count{Words: mrand.Intn(10)}, nil
}

//blueprint:job
func RandSeeded(ctx context.Context, in Text) (Count, error) {
	r := mrand.New(mrand.NewSource(1))
	return Count{Words: r.Intn(10)}, nil
}

//blueprint:job
func CryptoRand(ctx context.Context, in Text) (Count, error) {
	b := make([]byte, 4)
	_, err := rand.Read(b)
	return Count{Words: int(b[0])}, err
}

//blueprint:job
func WriteReport(ctx context.Context, in Text) (Count, error) {
	return Count{}, os.WriteFile("/tmp/report.txt", []byte(in.Body), 0o644)
}

//blueprint:job
func ReadConfig(ctx context.Context, in Text) (Count, error) {
	b, err := os.ReadFile("/etc/app.conf")
	return Count{Words: len(b)}, err
}

//blueprint:job
func ReadOnlyOpen(ctx context.Context, in Text) (Count, error) {
	f, err := os.OpenFile("/etc/hosts", os.O_RDONLY, 0)
	if err != nil {
		return Count{}, err
	}
	defer f.Close()
	return Count{}, nil
}

//blueprint:job
func FromEnv(ctx context.Context, in Text) (Count, error) {
	return Count{Words: len(os.Getenv("GREETING"))}, nil
}

//blueprint:job
func RunTool(ctx context.Context, in Text) (Count, error) {
	out, err := exec.CommandContext(ctx, "wc", "-w").Output()
	return Count{Words: len(out)}, err
}

//blueprint:job
func FetchConst(ctx context.Context, in Text) (Count, error) {
	resp, err := http.Get("https://api.example.com/v1/words")
	if err != nil {
		return Count{}, err
	}
	defer resp.Body.Close()
	return Count{}, nil
}

//blueprint:job
func FetchComputed(ctx context.Context, in Text) (Count, error) {
	resp, err := http.Get(in.Body)
	if err != nil {
		return Count{}, err
	}
	defer resp.Body.Close()
	return Count{}, nil
}

//blueprint:job
func FetchPrefixed(ctx context.Context, in Text) (Count, error) {
	const base = "https://words.example.org/v2/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+in.Body, nil)
	if err != nil {
		return Count{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Count{}, err
	}
	defer resp.Body.Close()
	return Count{}, nil
}

//blueprint:job
func DialUnix(ctx context.Context, in Text) (Count, error) {
	c, err := net.Dial("unix", "/run/app.sock")
	if err != nil {
		return Count{}, err
	}
	defer c.Close()
	return Count{}, nil
}

//blueprint:job
func DialTCP(ctx context.Context, in Text) (Count, error) {
	c, err := net.Dial("tcp", "db.internal:5432")
	if err != nil {
		return Count{}, err
	}
	defer c.Close()
	return Count{}, nil
}

var (
	seen     = map[string]int{} // written by Remember: mutable
	prefixes = []string{"a", "b"}
	limit    = 10 // set only in init: read-only afterwards
	mu       sync.Mutex
)

func init() { limit = 20 }

//blueprint:job
func Remember(ctx context.Context, in Text) (Count, error) {
	mu.Lock()
	defer mu.Unlock()
	seen[in.Body]++
	return Count{}, nil
}

//blueprint:job
func ReadSeen(ctx context.Context, in Text) (Count, error) {
	return Count{Words: seen[in.Body]}, nil
}

//blueprint:job
func ReadLimit(ctx context.Context, in Text) (Count, error) {
	n := len(strings.Fields(in.Body))
	return Count{Words: min(n, limit), List: prefixes}, nil
}

//blueprint:job
func SortedTags(ctx context.Context, in Text) (Count, error) {
	var keys []string
	for k := range in.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return Count{List: keys}, nil
}

//blueprint:job
func UnsortedTags(ctx context.Context, in Text) (Count, error) {
	var keys []string
	for k := range in.Tags {
		keys = append(keys, k)
	}
	return Count{List: keys}, nil
}

//blueprint:job
func CountTags(ctx context.Context, in Text) (Count, error) {
	total := 0
	for _, v := range in.Tags {
		if v != "" {
			total++
		}
	}
	return Count{Words: total}, nil
}

//blueprint:job
func FirstDone(ctx context.Context, in Text) (Count, error) {
	a, b := make(chan int, 1), make(chan int, 1)
	go func() { a <- 1 }()
	go func() { b <- 2 }()
	select {
	case n := <-a:
		return Count{Words: n}, nil
	case n := <-b:
		return Count{Words: n}, nil
	}
}

//blueprint:job
func Transitive(ctx context.Context, in Text) (Count, error) {
	return Count{Words: outer(in.Body)}, nil
}

func outer(s string) int { return inner(s) + 1 }

func inner(s string) int {
	b, _ := os.ReadFile(s)
	return len(b)
}

//blueprint:job
func InClosure(ctx context.Context, in Text) (Count, error) {
	stamp := func() int64 { return time.Now().UnixNano() }
	return Count{Words: int(stamp() % 7)}, nil
}

type tally struct{ n int }

func (t *tally) add(words []string) { t.n += len(words) }

func (t *tally) save() error { return os.WriteFile("/tmp/tally", []byte(fmt.Sprint(t.n)), 0o600) }

//blueprint:job
func LocalMethod(ctx context.Context, in Text) (Count, error) {
	var t tally
	t.add(strings.Fields(in.Body))
	return Count{Words: t.n}, nil
}

//blueprint:job
func LocalMethodEffect(ctx context.Context, in Text) (Count, error) {
	t := &tally{}
	t.add(strings.Fields(in.Body))
	return Count{Words: t.n}, t.save()
}

//blueprint:job name=tally memory=512 timeout=30s mode=auto
func Tally(ctx context.Context, st job.State, in Text) (Count, error) {
	_, version, err := st.Get(ctx, in.Body)
	if err != nil {
		return Count{}, err
	}
	_, err = st.Put(ctx, in.Body, []byte("1"), version)
	return Count{}, err
}

//blueprint:job
func CallsOther(ctx context.Context, in Text) (Count, error) {
	return Count{Words: other.Double(len(in.Body))}, nil
}

type counter interface{ Count(string) int }

//blueprint:job
func ThroughInterface(ctx context.Context, in Text) (Count, error) {
	var c counter = wordCounter{}
	return Count{Words: c.Count(in.Body)}, nil
}

type wordCounter struct{}

func (wordCounter) Count(s string) int { return len(strings.Fields(s)) }

//blueprint:job
func ThroughFuncValue(ctx context.Context, in Text) (Count, error) {
	return Count{Words: apply(in.Body, func(s string) int { return len(s) })}, nil
}

func apply(s string, f func(string) int) int { return f(s) }

//blueprint:job mode=local
func StaysLocal(ctx context.Context, in Text) (Count, error) {
	return Count{Words: len(in.Body)}, nil
}

//blueprint:job
func HTTPGet(ctx context.Context, in *Text) (*Count, error) {
	return &Count{}, nil
}

// Brightness goes through image.Image and color.Color: standard value interfaces.
//
//blueprint:job
func Brightness(ctx context.Context, in Text) (Count, error) {
	var img image.Image = image.NewGray(image.Rect(0, 0, 2, 2))
	b := img.Bounds()
	total := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			total += int(r)
		}
	}
	return Count{Words: total}, nil
}

//blueprint:job
func FetchUser(ctx context.Context, in Text) (Count, error) {
	u := fmt.Sprintf("https://users.example.com:8443/v1/%s", in.Body)
	resp, err := http.Post(u, "application/json", nil)
	if err != nil {
		return Count{}, err
	}
	defer resp.Body.Close()
	return Count{}, nil
}

// Tree is recursive, which JSON handles and the check must too.
type Tree struct {
	Name     string  `json:"name"`
	Children []*Tree `json:"children,omitempty"`
}

//blueprint:job
func CountNodes(ctx context.Context, in Tree) (int, error) {
	return countNodes(&in), nil
}

func countNodes(t *Tree) int {
	n := 1
	for _, c := range t.Children {
		n += countNodes(c)
	}
	return n
}

//blueprint:job
func RawPid(ctx context.Context, in Text) (int, error) {
	return syscall.Getpid(), nil
}

//blueprint:job
func PeekBytes(ctx context.Context, in Text) (int, error) {
	b := []byte(in.Body)
	if len(b) == 0 {
		return 0, nil
	}
	return int(*(*byte)(unsafe.Pointer(&b[0]))), nil
}

//blueprint:job
func CallsOtherEffect(ctx context.Context, in Text) (Count, error) {
	return Count{}, other.Save("/tmp/out.txt", []byte(in.Body))
}

type sink interface{ Put(string) error }

type fileSink struct{ path string }

func (f fileSink) Put(s string) error { return os.WriteFile(f.path, []byte(s), 0o600) }

//blueprint:job
func ThroughInterfaceEffect(ctx context.Context, in Text) (Count, error) {
	var s sink = fileSink{path: "/tmp/sink.txt"}
	return Count{}, s.Put(in.Body)
}

// ThroughStdInterface reads through an io.Reader that only the standard library builds: the
// analyzer cannot see which Read runs.
//
//blueprint:job
func ThroughStdInterface(ctx context.Context, in Text) (Count, error) {
	var r io.Reader = io.MultiReader(strings.NewReader(in.Body))
	buf := make([]byte, 8)
	n, _ := r.Read(buf)
	return Count{Words: n}, nil
}

//blueprint:job
func ReflectCall(ctx context.Context, in Text) (Count, error) {
	out := reflect.ValueOf(strings.ToUpper).Call([]reflect.Value{reflect.ValueOf(in.Body)})
	return Count{Words: len(out[0].String())}, nil
}
