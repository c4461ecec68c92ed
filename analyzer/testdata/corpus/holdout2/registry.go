package holdout2

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// handlers maps an operation name to its implementation; the init functions in
// registry_ops.go fill it, nothing writes it afterwards.
var handlers = map[string]func(In) (Out, error){}

func register(name string, h func(In) (Out, error)) {
	if _, dup := handlers[name]; dup {
		panic("holdout2: operation registered twice: " + name)
	}
	handlers[name] = h
}

// Dispatch exercises a registry filled by init functions in another file and only read by the job.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Dispatch(ctx context.Context, in In) (Out, error) {
	h, ok := handlers[in.Op]
	if !ok {
		names := make([]string, 0, len(handlers))
		for n := range handlers {
			names = append(names, n)
		}
		sort.Strings(names)
		return Out{}, fmt.Errorf("unknown op %q, want one of %v", in.Op, names)
	}
	return h(in)
}

var (
	patternsMu sync.Mutex
	patterns   = map[string]*regexp.Regexp{}
)

func compiled(expr string) (*regexp.Regexp, error) {
	patternsMu.Lock()
	defer patternsMu.Unlock()
	if re, ok := patterns[expr]; ok {
		return re, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	patterns[expr] = re
	return re, nil
}

// PatternCache exercises a global cache of compiled regexps keyed by the input pattern: written
// per call, and the regexp that produces the output is read back from it.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PatternCache(ctx context.Context, in In) (Out, error) {
	re, err := compiled(in.Op)
	if err != nil {
		return Out{}, fmt.Errorf("pattern %q: %w", in.Op, err)
	}
	return Out{Lines: re.FindAllString(in.Text, -1)}, nil
}
