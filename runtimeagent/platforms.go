package runtimeagent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
)

// Platforms gives the agent an invoker for every platform a state names, built once from the
// platform's descriptor and the agent's settings for it (credentials: the state never holds
// them). The agent never names a platform: what it can call, how big a batch may be and how
// large an input may go come from here.
type Platforms struct {
	registry *platform.Registry
	settings map[string]platform.Settings
	getenv   func(string) string

	mu       sync.Mutex
	invokers map[string]platform.Invoker
}

// NewPlatforms checks the agent's settings (by platform name, then setting name) against the
// registry. Settings not given are read from the environment variables the platforms name
// (getenv nil = os.Getenv) when an invoker is first needed.
func NewPlatforms(registry *platform.Registry, settings map[string]platform.Settings, getenv func(string) string) (*Platforms, error) {
	if registry == nil {
		return nil, errors.New("runtime agent: no platform registry")
	}
	for name, s := range settings {
		d, ok := registry.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("runtime agent: settings for %w", registry.UnknownError(name))
		}
		for key := range s {
			if _, ok := platform.FindSetting(d.InvokerSettings, key); !ok {
				return nil, fmt.Errorf("runtime agent: platform %s has no agent setting %q; it has: %v", name, key, platform.SettingNames(d.InvokerSettings))
			}
		}
	}
	return &Platforms{registry: registry, settings: settings, getenv: getenv, invokers: map[string]platform.Invoker{}}, nil
}

// Invoker returns the platform's invoker, building it on first use.
func (p *Platforms) Invoker(name string) (platform.Invoker, platform.Descriptor, error) {
	d, ok := p.registry.Lookup(name)
	if !ok {
		return nil, d, fmt.Errorf("%w: this agent was built without it; use a blueprint-agent of the release that deployed it", p.registry.UnknownError(name))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if inv := p.invokers[name]; inv != nil {
		return inv, d, nil
	}
	s, missing := platform.Resolve(d.InvokerSettings, p.settings[name], p.getenv)
	if len(missing) > 0 {
		var errs []error
		for _, e := range missing {
			errs = append(errs, fmt.Errorf("--platform-setting %s.%s %s", name, e.Setting, e.Message))
		}
		return nil, d, fmt.Errorf("platform %s: %w", name, errors.Join(errs...))
	}
	inv, err := d.NewInvoker(s)
	if err != nil {
		return nil, d, fmt.Errorf("platform %s: %w", name, err)
	}
	p.invokers[name] = inv
	return inv, d, nil
}

// check builds the invoker of every platform the manifest deploys to, so that a deployment
// the agent cannot call is an error when the state loads, not at the first request.
func (p *Platforms) check(m *manifest.Manifest) error {
	var errs []error
	seen := map[string]bool{}
	for _, j := range m.Jobs {
		for _, d := range j.Deployments {
			if seen[d.Platform] {
				continue
			}
			seen[d.Platform] = true
			if _, _, err := p.Invoker(d.Platform); err != nil {
				errs = append(errs, fmt.Errorf("job %q is deployed on platform %s (region %s): %w", j.Name, d.Platform, d.Region, err))
			}
		}
	}
	return errors.Join(errs...)
}

// FetchArtifact fetches code by hash through the invoker of d's platform, when that platform
// hands out the code it runs.
func (p *Platforms) FetchArtifact(ctx context.Context, d platform.Deployment, sha256 string) ([]byte, error) {
	inv, _, err := p.Invoker(d.Platform)
	if err != nil {
		return nil, err
	}
	f, ok := inv.(platform.ArtifactFetcher)
	if !ok {
		return nil, fmt.Errorf("platform %s does not hand out the code it runs", d.Platform)
	}
	return f.FetchArtifact(ctx, d, sha256)
}

// Sources lists, best first, the deployments that can hand out the artifact sha of the given
// kind: those known to run exactly it (the job's own first), then any other deployment on a
// platform of that kind (hosts store code by hash, so one may have it for another job).
func (p *Platforms) Sources(m *manifest.Manifest, j *manifest.Job, kind platform.ArtifactKind, sha string) []platform.Deployment {
	var exact, sameKind []platform.Deployment
	seen := map[string]bool{}
	jobs := append([]manifest.Job{*j}, m.Jobs...)
	for _, o := range jobs {
		for _, d := range o.Deployments {
			desc, ok := p.registry.Lookup(d.Platform)
			if !ok || desc.Artifact != kind || d.Endpoint == "" || seen[d.Platform+"\x00"+d.Endpoint] {
				continue
			}
			seen[d.Platform+"\x00"+d.Endpoint] = true
			if d.CodeSHA256 == sha {
				exact = append(exact, d)
			} else {
				sameKind = append(sameKind, d)
			}
		}
	}
	return slices.Concat(exact, sameKind)
}

// Close releases what the invokers hold (idle connections).
func (p *Platforms) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, inv := range p.invokers {
		if c, ok := inv.(interface{ Close() }); ok {
			c.Close()
		}
	}
}
