package holdout3

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
)

type flag struct {
	enabled bool
	rollout uint32 // percent of tenants, 0-100
}

// flagDefaults is the feature-flag table, only read after its initializer.
var flagDefaults = map[string]flag{
	"new-checkout":   {enabled: true, rollout: 25},
	"dark-mode":      {enabled: true, rollout: 100},
	"legacy-invoice": {enabled: false},
}

func bucket(flagName, tenant string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(flagName + "/" + tenant))
	return h.Sum32() % 100
}

func evalDefault(name, tenant string) (bool, error) {
	f, ok := flagDefaults[name]
	if !ok {
		return false, fmt.Errorf("unknown flag %q", name)
	}
	return f.enabled && bucket(name, tenant) < f.rollout, nil
}

// FlagEnabled exercises a read-only package-level flag table and an fnv hash that buckets the
// tenant for a percentage rollout.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FlagEnabled(ctx context.Context, in In) (Out, error) {
	on, err := evalDefault(in.Key, in.Tenant)
	if err != nil {
		return Out{}, err
	}
	return Out{OK: on}, nil
}

var (
	overridesMu sync.RWMutex
	// overrides is written by SetFlagOverride at run time.
	overrides = map[string]bool{}
)

// SetFlagOverride exercises a job that updates the package-level override table and returns
// the value it replaced (read back from the global).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func SetFlagOverride(ctx context.Context, in In) (Out, error) {
	overridesMu.Lock()
	defer overridesMu.Unlock()
	prev, had := overrides[in.Tenant+"/"+in.Key]
	overrides[in.Tenant+"/"+in.Key] = in.N > 0
	return Out{OK: prev, Count: map[bool]int{false: 0, true: 1}[had]}, nil
}

// FlagEvaluate exercises reading the override table that SetFlagOverride writes before
// falling back to the read-only defaults.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func FlagEvaluate(ctx context.Context, in In) (Out, error) {
	overridesMu.RLock()
	v, ok := overrides[in.Tenant+"/"+in.Key]
	overridesMu.RUnlock()
	if ok {
		return Out{OK: v}, nil
	}
	on, err := evalDefault(in.Key, in.Tenant)
	return Out{OK: on}, err
}

// flagChecks is a function table of the package, only read.
var flagChecks = map[string]func(tenant string) bool{
	"is-internal": func(t string) bool { return len(t) > 4 && t[:4] == "int-" },
	"is-beta": func(t string) bool {
		on, _ := evalDefault("new-checkout", t)
		return on
	},
}

// FlagChecks exercises a package-level function table looked up by the input names, in the
// input's order.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func FlagChecks(ctx context.Context, in In) (Out, error) {
	var on []string
	for _, name := range in.Items {
		check, ok := flagChecks[name]
		if !ok {
			return Out{}, fmt.Errorf("unknown check %q", name)
		}
		if check(in.Tenant) {
			on = append(on, name)
		}
	}
	return Out{Lines: on}, nil
}
