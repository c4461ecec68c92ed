// Package dispatch holds corpus jobs whose effects (or lack of them) are reached through
// closures, method values, interfaces, generics and function tables rather than direct calls.
package dispatch

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib"
)

// In is the input of every job in this package.
type In struct {
	Name  string   `json:"name"`
	Key   string   `json:"key"`
	Words []string `json:"words"`
	N     int      `json:"n"`
	Loud  bool     `json:"loud"`
}

// Out is the output of every job in this package.
type Out struct {
	Text   string   `json:"text"`
	Number int      `json:"number"`
	Words  []string `json:"words"`
	Counts []int    `json:"counts"`
}

// visits is package-level state written by the effectful closures and methods below.
var visits = map[string]int{}

// ClosureCalled exercises a closure over a local variable, called directly.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ClosureCalled(ctx context.Context, in In) (Out, error) {
	n := 0
	add := func(k int) { n += k }
	for _, w := range in.Words {
		add(len(w))
	}
	return Out{Number: n}, nil
}

// hooks holds a callback that the job stores and calls later.
type hooks struct{ onName func(string) int }

// ClosureStored exercises a closure that writes a global, stored in a struct field, then called.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func ClosureStored(ctx context.Context, in In) (Out, error) {
	h := hooks{onName: func(name string) int {
		visits[name]++
		return visits[name]
	}}
	return Out{Number: h.onName(in.Name)}, nil
}

// ClosureStoredPure exercises pure closures stored in a local slice, then called.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ClosureStoredPure(ctx context.Context, in In) (Out, error) {
	steps := []func(string) string{strings.TrimSpace, strings.ToLower, func(s string) string { return s + "!" }}
	s := in.Name
	for _, step := range steps {
		s = step(s)
	}
	return Out{Text: s}, nil
}

// recorder returns a closure that writes the package-level visits map.
func recorder(prefix string) func(string) int {
	return func(name string) int {
		visits[prefix+name]++
		return len(visits)
	}
}

// ClosureReturned exercises a global-writing closure returned by a helper, then called.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func ClosureReturned(ctx context.Context, in In) (Out, error) {
	record := recorder("user:")
	return Out{Number: record(in.Name)}, nil
}

// scaler has a pure method.
type scaler struct{ factor int }

func (s scaler) scale(n int) int { return s.factor * n }

// MethodValuePure exercises a method value of a pure method: f := v.M; f().
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func MethodValuePure(ctx context.Context, in In) (Out, error) {
	f := scaler{factor: 3}.scale
	return Out{Number: f(in.N)}, nil
}

// tally has a method that writes the package-level visits map.
type tally struct{ key string }

func (t tally) bump() int {
	visits[t.key]++
	return visits[t.key]
}

// MethodValueEffect exercises a method value of a method that writes a global: f := v.M; f().
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func MethodValueEffect(ctx context.Context, in In) (Out, error) {
	f := tally{key: in.Key}.bump
	return Out{Number: f()}, nil
}

// InterfacePure exercises an interface call whose only possible dynamic type is pure (lib.Echo).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func InterfacePure(ctx context.Context, in In) (Out, error) {
	var n lib.Notifier = lib.Echo{Prefix: "hi "}
	return Out{Text: n.Notify(in.Name)}, nil
}

// InterfaceEffect exercises an interface call whose dynamic type writes global state
// (lib.Journaler -> deep.Append).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func InterfaceEffect(ctx context.Context, in In) (Out, error) {
	var n lib.Notifier = lib.Journaler{}
	return Out{Text: n.Notify(in.Name)}, nil
}

// InterfaceEither exercises an interface that holds either type depending on the input.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func InterfaceEither(ctx context.Context, in In) (Out, error) {
	var n lib.Notifier = lib.Echo{}
	if in.Loud {
		n = lib.Journaler{}
	}
	return Out{Text: n.Notify(in.Name)}, nil
}

// GenericPure exercises a pure generic helper with a pure function argument.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GenericPure(ctx context.Context, in In) (Out, error) {
	return Out{Words: lib.MapSlice(in.Words, strings.ToUpper)}, nil
}

// GenericGlobal exercises a generic helper that writes a package-level map (lib.Remember).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func GenericGlobal(ctx context.Context, in In) (Out, error) {
	return Out{Number: lib.Remember(in.Key, in.N)}, nil
}

// GenericEffectfulCallback exercises a pure generic helper called with a callback that
// writes a global (lib.MapSlice calling lib.Hit).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func GenericEffectfulCallback(ctx context.Context, in In) (Out, error) {
	counts := lib.MapSlice(in.Words, func(string) int { return lib.Hit() })
	return Out{Counts: counts}, nil
}

// formatters is a read-only table of pure functions, set in its var initializer.
var formatters = map[string]func(string) string{
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"title": func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
}

// FunctionTable exercises calling a pure function looked up in a read-only global table.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FunctionTable(ctx context.Context, in In) (Out, error) {
	f, ok := formatters[in.Key]
	if !ok || in.Name == "" {
		return Out{Text: in.Name}, nil
	}
	return Out{Text: f(in.Name)}, nil
}

// DeferredEffect exercises a global write reached only through a deferred call.
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func DeferredEffect(ctx context.Context, in In) (Out, error) {
	defer lib.Hit()
	return Out{Text: in.Name}, nil
}

// MethodExpression exercises a method expression of a pure method: f := T.M; f(v, x).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func MethodExpression(ctx context.Context, in In) (Out, error) {
	notify := lib.Echo.Notify
	return Out{Text: notify(lib.Echo{Prefix: "> "}, in.Name)}, nil
}

// label is a fmt.Stringer whose String method writes the package-level visits map.
type label struct{ name string }

func (l label) String() string {
	visits["label:"+l.name]++
	return fmt.Sprintf("%s#%d", l.name, visits["label:"+l.name])
}

// StringerEffect exercises a global write reached only through fmt calling String on a %v operand.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func StringerEffect(ctx context.Context, in In) (Out, error) {
	return Out{Text: fmt.Sprintf("%v", label{name: in.Name})}, nil
}

// byLength is a sort.Interface with pure methods.
type byLength []string

func (b byLength) Len() int           { return len(b) }
func (b byLength) Less(i, j int) bool { return len(b[i]) < len(b[j]) }
func (b byLength) Swap(i, j int)      { b[i], b[j] = b[j], b[i] }

// SortInterface exercises sort.Stable calling a user type's pure methods through sort.Interface.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SortInterface(ctx context.Context, in In) (Out, error) {
	words := byLength(append([]string(nil), in.Words...))
	sort.Stable(words)
	return Out{Words: words}, nil
}
