package realapp

import (
	"context"
	"fmt"
	"strings"
)

// settings is a configuration value whose copies share its map and its slice's array.
type settings struct {
	name   string
	limits map[string]int
	tags   []string
}

var baseSettings = settings{name: "base", limits: map[string]int{"default": 1}, tags: make([]string, 1, 8)}

// WithLimitLocal copies the package's settings into a local variable and sets a limit: the
// copy shares the map, so the package variable changes, and the count returned grows.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func WithLimitLocal(ctx context.Context, in In) (Out, error) {
	s := baseSettings
	s.limits[in.ID] = 5
	return Out{Text: fmt.Sprint(len(s.limits))}, nil
}

func currentSettings() settings { return baseSettings }

// WithLimitFromHelper gets the copy from a helper: the same shared map.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func WithLimitFromHelper(ctx context.Context, in In) (Out, error) {
	s := currentSettings()
	s.limits[in.Name] = len(in.ID)
	return Out{Text: fmt.Sprint(s.limits)}, nil
}

// service holds a copy of the settings.
type service struct {
	cfg settings
}

// CountInNestedCopy keeps the copy in a struct and counts a key in its map: the count is
// written into the package variable's map (and not returned).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func CountInNestedCopy(ctx context.Context, in In) (Out, error) {
	svc := &service{cfg: baseSettings}
	svc.cfg.limits[in.ID]++
	return Out{Text: strings.ToUpper(in.Name)}, nil
}

// TagCopy appends to the copied slice: while the shared array has room, the append writes
// into the package variable's array, which concurrent calls share.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func TagCopy(ctx context.Context, in In) (Out, error) {
	s := baseSettings
	s.tags = append(s.tags, in.ID)
	return Out{Text: strings.Join(s.tags, ",")}, nil
}

// OwnMapCopy gives the copy a map of its own before writing it; reading the package's map to
// fill it is still a read of state that other jobs change.
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func OwnMapCopy(ctx context.Context, in In) (Out, error) {
	s := baseSettings
	s.limits = make(map[string]int, len(baseSettings.limits)+1)
	for k, v := range baseSettings.limits {
		s.limits[k] = v
	}
	s.limits[in.ID] = 1
	s.name = in.Name
	return Out{Text: s.name + fmt.Sprint(s.limits)}, nil
}

// RenamedCopy changes only the copy's own string field.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenamedCopy(ctx context.Context, in In) (Out, error) {
	s := baseSettings
	s.name = in.Name
	return Out{Text: s.name}, nil
}
