package platform

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Registry holds the platforms a binary is built with. It is immutable: NewRegistry and With
// return new registries, so a test that adds a platform never changes what another sees, and
// nothing registers itself behind a caller's back (no init side effects).
type Registry struct {
	byName map[string]Descriptor
	names  []string // sorted
}

// NewRegistry checks and holds the given platforms.
func NewRegistry(ds ...Descriptor) (*Registry, error) {
	r := &Registry{byName: map[string]Descriptor{}}
	for _, d := range ds {
		var err error
		if r, err = r.With(d); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// With returns a registry that also holds d.
func (r *Registry) With(d Descriptor) (*Registry, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if _, dup := r.byName[d.Name]; dup {
		return nil, fmt.Errorf("platform %s is registered twice", d.Name)
	}
	out := &Registry{byName: make(map[string]Descriptor, len(r.byName)+1)}
	for k, v := range r.byName {
		out.byName[k] = v
	}
	out.byName[d.Name] = d
	out.names = append(slices.Clone(r.names), d.Name)
	sort.Strings(out.names)
	return out, nil
}

// Lookup returns the platform named name.
func (r *Registry) Lookup(name string) (Descriptor, bool) {
	d, ok := r.byName[name]
	return d, ok
}

// Names lists the registered platforms, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Descriptors lists the registered platforms, sorted by name.
func (r *Registry) Descriptors() []Descriptor {
	out := make([]Descriptor, len(r.names))
	for i, n := range r.names {
		out[i] = r.byName[n]
	}
	return out
}

// UnknownError says that name is not a platform of this build, and which are.
func (r *Registry) UnknownError(name string) error {
	return fmt.Errorf("platform %q is not built into this release of Blueprint; the platforms it has are: %s", name, strings.Join(r.names, ", "))
}
