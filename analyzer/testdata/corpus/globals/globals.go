// Package globals holds corpus jobs about package-level variables: read-only tables (pure,
// no state) against variables that some code writes (state, not eligible).
package globals

import (
	"context"
	"reflect"
	"strings"
	"unsafe"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib"
)

// In is the input of every job in this package.
type In struct {
	Name  string `json:"name"`
	Key   string `json:"key"`
	Value string `json:"value"`
	N     int    `json:"n"`
}

// Out is the output of every job in this package.
type Out struct {
	Text   string `json:"text"`
	Number int    `json:"number"`
}

// codes is read-only: set in its var initializer, never written.
var codes = map[string]int{"ok": 200, "missing": 404, "broken": 500}

// vowels is read-only: filled in init, never written afterwards.
var vowels map[rune]bool

func init() {
	vowels = map[rune]bool{}
	for _, r := range "aeiou" {
		vowels[r] = true
	}
}

// counter is incremented by Counter.
var counter int

// total is written through a pointer by PointerToGlobal and read by ReadMutable.
var total int

// last is only ever stored to, by LastWriter.
var last string

// config is a package-level struct whose field a pointer method writes.
type config struct{ Name string }

func (c *config) rename(name string) { c.Name = name }

var cfg = config{Name: "default"}

// settings is written through reflection by ReflectWrite.
var settings struct{ Mode string }

// limit is written through an unsafe pointer by UnsafeWrite.
var limit int

// ReadOnlyTable exercises reading a map set in its var initializer and never written.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ReadOnlyTable(ctx context.Context, in In) (Out, error) {
	return Out{Number: codes[in.Key]}, nil
}

// InitTable exercises reading a table filled in init and never written afterwards.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func InitTable(ctx context.Context, in In) (Out, error) {
	n := 0
	for _, r := range strings.ToLower(in.Name) {
		if vowels[r] {
			n++
		}
	}
	return Out{Number: n}, nil
}

// Counter exercises incrementing a package-level counter and returning it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func Counter(ctx context.Context, in In) (Out, error) {
	counter++
	return Out{Number: counter}, nil
}

// CounterDeep exercises a counter in another package: lib.Hit increments lib.Hits.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func CounterDeep(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Hit()}, nil
}

// RegistryWrite exercises a global map of another package written through a helper chain:
// lib.Register -> deep.Store writes lib.Registry.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RegistryWrite(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Register(in.Key, in.Value)}, nil
}

// PointerToGlobal exercises a helper of another package writing through a pointer to a global.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PointerToGlobal(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Bump(&total)}, nil
}

// ReadMutable exercises only reading a global that another job (PointerToGlobal) writes.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func ReadMutable(ctx context.Context, in In) (Out, error) {
	return Out{Number: total + in.N}, nil
}

// LastWriter exercises a plain store to a global that never reaches the output.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func LastWriter(ctx context.Context, in In) (Out, error) {
	last = in.Name
	return Out{Text: in.Name}, nil
}

// JournalDeep exercises appending to another package's global slice: lib.Record -> deep.Append.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func JournalDeep(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Record(in.Name)}, nil
}

// MethodOnGlobal exercises a pointer method writing a field of a package-level struct.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func MethodOnGlobal(ctx context.Context, in In) (Out, error) {
	cfg.rename(in.Name)
	return Out{Text: cfg.Name}, nil
}

// ReflectWrite exercises reflection that writes a global's field.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func ReflectWrite(ctx context.Context, in In) (Out, error) {
	reflect.ValueOf(&settings).Elem().FieldByName("Mode").SetString(in.Value)
	return Out{Text: settings.Mode}, nil
}

// ReflectLocal exercises reflection that writes only a local struct.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ReflectLocal(ctx context.Context, in In) (Out, error) {
	var local struct{ Mode string }
	reflect.ValueOf(&local).Elem().FieldByName("Mode").SetString(in.Value)
	return Out{Text: local.Mode}, nil
}

// UnsafeWrite exercises writing a global through an unsafe.Pointer.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func UnsafeWrite(ctx context.Context, in In) (Out, error) {
	p := (*int)(unsafe.Pointer(&limit))
	*p += in.N
	return Out{Number: limit}, nil
}
