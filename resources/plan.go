package resources

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// SpecError is bad input in a job spec. Field names the spec attribute to fix ("package",
// "function", "regions", ...) so engines can point at it.
type SpecError struct {
	Field   string
	Message string
	Err     error // the underlying cause (an analysis error, for instance), if any
}

func (e *SpecError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *SpecError) Unwrap() error { return e.Err }

// FindingForcedServerless marks a job deployed although the analysis found it ineligible.
const FindingForcedServerless = "forced_serverless"

// FindingForcedLocal marks a job kept off every platform by force_local.
const FindingForcedLocal = "forced_local"

// Plan analyzes the job's package (which gives the job's code hash) and works out where it
// would be deployed. It changes nothing, so engines call it while planning. For a job that exists
// already, engines call PlanUpdate.
func (m *Manager) Plan(ctx context.Context, spec JobSpec) (Planned, error) {
	if err := validateSpec(spec); err != nil {
		return Planned{}, err
	}
	targets, err := m.targets(spec)
	if err != nil {
		return Planned{}, err
	}
	analysis, packageJobs, err := m.analyzeJob(ctx, spec)
	if err != nil {
		return Planned{}, err
	}
	analysis = applyOverrides(analysis, spec)
	p := Planned{Name: analysis.Name, Analysis: analysis, Eligible: analysis.Eligible, SourceHash: analysis.CodeHash,
		Code: analysis.Code, PackageJobs: packageJobs}
	if p.SourceHash == "" {
		// An analyzer without code hashes: any change to the package is a change to the job.
		if p.SourceHash, err = m.settings.SourceHash(ctx, spec.Package); err != nil {
			return Planned{}, &SpecError{Field: "package", Message: fmt.Sprintf("hashing the source of package %s", spec.Package), Err: err}
		}
	}
	if p.Eligible {
		if p.Targets, err = m.withinLimits(spec, &p.Analysis, targets); err != nil {
			return Planned{}, err
		}
		p.Eligible = p.Analysis.Eligible
		if err := m.checkStateReach(p); err != nil {
			return Planned{}, err
		}
		if err := m.preflight(ctx, p.Targets); err != nil {
			return Planned{}, err
		}
	}
	return p, nil
}

// checkStateReach refuses to deploy a stateful job where its state store cannot be reached:
// it would answer differently there, or not at all.
func (m *Manager) checkStateReach(p Planned) error {
	if !p.Analysis.RequiresState || len(p.Targets) == 0 {
		return nil
	}
	if m.settings.StateStore == "" {
		return &SpecError{Field: "package", Message: fmt.Sprintf("job %q keeps state (job.State) but the provider has no state_store: set one, or force_local", p.Name)}
	}
	for _, t := range p.Targets {
		c, ok := m.settings.Deployers[t.Platform].(platform.StateStoreChecker)
		if !ok {
			return &SpecError{Field: "platforms", Message: fmt.Sprintf("job %q keeps state (job.State), and platform %s cannot reach a state store yet: leave %s out of this job's platforms, or set force_local", p.Name, t.Platform, t.Platform)}
		}
		if err := c.CheckStateStore(t.Region, m.settings.StateStore); err != nil {
			return &SpecError{Field: "regions", Message: fmt.Sprintf("job %q keeps state (job.State) in %s, which %s region %s cannot reach", p.Name, m.settings.StateStore, t.Platform, t.Region), Err: err}
		}
	}
	return nil
}

// stateStore is where a planned job's state lives: the provider's store for stateful jobs.
func (m *Manager) stateStore(p Planned) string {
	if p.Analysis.RequiresState {
		return m.settings.StateStore
	}
	return ""
}

// FindingBeyondPlatformLimits marks a platform a job was not deployed to because it needs
// more memory or time than that platform gives one function.
const FindingBeyondPlatformLimits = "beyond_platform_limits"

// withinLimits drops the targets whose platform cannot give the job the memory or time the
// analysis asks for, saying so in a finding; a job no platform can take is not eligible. When
// the user set the memory or timeout, or forced the job onto serverless, a limit it breaks is
// bad input instead: the plan fails and says what to change.
func (m *Manager) withinLimits(spec JobSpec, a *job.Analysis, targets []Target) ([]Target, error) {
	var kept []Target
	refused := map[string]bool{}
	for _, t := range targets {
		if refused[t.Platform] {
			continue
		}
		limits := m.descriptor(t.Platform).Limits
		_, memErr := limits.RoundMemoryMB(a.MemoryMB)
		timeErr := limits.CheckTimeout(time.Duration(a.TimeoutMS) * time.Millisecond)
		switch {
		case memErr != nil && (spec.MemoryMB > 0 || spec.ForceServerless):
			return nil, &SpecError{Field: "memory_mb", Message: fmt.Sprintf("job %q cannot run on platform %s: memory %v; lower memory_mb or leave %s out of platforms", a.Name, t.Platform, memErr, t.Platform)}
		case timeErr != nil && (spec.TimeoutS > 0 || spec.ForceServerless):
			return nil, &SpecError{Field: "timeout_s", Message: fmt.Sprintf("job %q cannot run on platform %s: timeout %v; lower timeout_s or leave %s out of platforms", a.Name, t.Platform, timeErr, t.Platform)}
		case memErr != nil || timeErr != nil:
			refused[t.Platform] = true
			a.Findings = append(a.Findings, job.Finding{Kind: FindingBeyondPlatformLimits,
				Message: fmt.Sprintf("not deployed to %s: the job needs %d MB and %d ms, and %s gives a function at most %d MB and %s",
					t.Platform, a.MemoryMB, a.TimeoutMS, t.Platform, limits.MaxMemoryMB, limits.MaxTimeout)})
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 && len(targets) > 0 {
		a.Eligible = false
	}
	return kept, nil
}

func validateSpec(spec JobSpec) error {
	switch {
	case strings.TrimSpace(spec.Package) == "":
		return &SpecError{Field: "package", Message: "package is empty: set it to the directory of the Go package that holds the job"}
	case strings.TrimSpace(spec.Function) == "":
		return &SpecError{Field: "function", Message: "function is empty: set it to the name of a Go function marked //blueprint:job"}
	case spec.ForceServerless && spec.ForceLocal:
		return &SpecError{Field: "force_local", Message: "force_serverless and force_local are both true: set at most one of them"}
	case spec.MemoryMB < 0:
		return &SpecError{Field: "memory_mb", Message: fmt.Sprintf("memory_mb is %d: it must be positive (or left unset to use the analysis)", spec.MemoryMB)}
	case spec.TimeoutS < 0:
		return &SpecError{Field: "timeout_s", Message: fmt.Sprintf("timeout_s is %d: it must be positive (or left unset to use the analysis)", spec.TimeoutS)}
	}
	for k := range spec.Environment {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return &SpecError{Field: "environment", Message: fmt.Sprintf("environment variable name %q is not valid: names must be non-empty and contain no '='", k)}
		}
	}
	return nil
}

// analyzeJob returns the job's analysis and those of every job of its package (an artifact
// holds them all).
func (m *Manager) analyzeJob(ctx context.Context, spec JobSpec) (job.Analysis, []job.Analysis, error) {
	pkg, err := m.settings.Analyzer.Analyze(ctx, spec.Package)
	if err != nil {
		return job.Analysis{}, nil, &SpecError{Field: "package", Message: fmt.Sprintf("analyzing package %s", spec.Package), Err: err}
	}
	names := make([]string, 0, len(pkg.Jobs))
	for _, a := range pkg.Jobs {
		if a.Function == spec.Function {
			return a, pkg.Jobs, nil
		}
		names = append(names, a.Function)
	}
	sort.Strings(names)
	have := "it has no //blueprint:job functions"
	if len(names) > 0 {
		have = "its job functions are " + strings.Join(names, ", ")
	}
	return job.Analysis{}, nil, &SpecError{Field: "function", Message: fmt.Sprintf(
		"package %s has no function %s marked //blueprint:job (%s): add the directive to the function's doc comment or fix the name",
		spec.Package, spec.Function, have)}
}

func applyOverrides(a job.Analysis, spec JobSpec) job.Analysis {
	// Copy the slices: the analyzer may cache and share its result.
	a.Findings = append([]job.Finding(nil), a.Findings...)
	a.NetworkCalls = append([]string(nil), a.NetworkCalls...)
	if spec.MemoryMB > 0 {
		a.MemoryMB = spec.MemoryMB
	}
	if spec.TimeoutS > 0 {
		a.TimeoutMS = spec.TimeoutS * 1000
	}
	switch {
	case spec.ForceLocal:
		a.Eligible = false
		a.Mode = job.ModeLocal
		a.Findings = append(a.Findings, job.Finding{Kind: FindingForcedLocal,
			Message: "force_local is set: the job is deployed nowhere and always runs on the VM"})
	case spec.ForceServerless:
		if !a.Eligible {
			a.Findings = append(a.Findings, job.Finding{Kind: FindingForcedServerless,
				Message: "force_serverless is set although the analysis found the job not eligible for serverless: the findings above may make it fail or behave differently there"})
		}
		a.Eligible = true
		a.Mode = job.ModeServerless
	}
	return a
}

// targets is platforms x regions from the spec, else from the provider settings, else every
// region each configured platform knows.
func (m *Manager) targets(spec JobSpec) ([]Target, error) {
	platforms, field := spec.Platforms, "platforms"
	if len(platforms) == 0 {
		platforms, field = m.settings.Platforms, ""
	}
	if len(platforms) == 0 {
		platforms = slices.Sorted(maps.Keys(m.settings.Deployers))
	}
	regions, regionField := spec.Regions, "regions"
	if len(regions) == 0 {
		regions, regionField = m.settings.Regions, ""
	}
	var out []Target
	seen := map[Target]bool{}
	for _, p := range platforms {
		d, ok := m.settings.Deployers[p]
		if !ok {
			return nil, &SpecError{Field: field, Message: fmt.Sprintf("platform %q is not configured in the provider: add its block or use one of %v", p, slices.Sorted(maps.Keys(m.settings.Deployers)))}
		}
		known := d.Regions()
		rs := regions
		if len(rs) == 0 {
			rs = known
		}
		for _, r := range rs {
			if !slices.Contains(known, r) {
				return nil, &SpecError{Field: regionField, Message: fmt.Sprintf("region %q is not configured for platform %s: add it to the provider's %s block or use one of %v", r, p, p, known)}
			}
			t := Target{Platform: p, Region: r}
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sortTargets(out)
	return out, nil
}

func sortTargets(ts []Target) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Platform != ts[j].Platform {
			return ts[i].Platform < ts[j].Platform
		}
		return ts[i].Region < ts[j].Region
	})
}

// IsSpecError reports whether err is bad input (as opposed to a platform failure) and returns it.
func IsSpecError(err error) (*SpecError, bool) {
	var se *SpecError
	ok := errors.As(err, &se)
	return se, ok
}

// FindingCodeChanged names, in a redeployed job's analysis, the parts of its code that changed
// since the previous apply: the plan shows it next to the update.
const FindingCodeChanged = "code_changed"

// PlanUpdate plans spec as a change to the job recorded in prior. When the job's code did not
// change, the analysis stays prior's unless a label differs: finding positions move when
// other code of the same file moves, and profiling measures a little differently each time,
// and neither may plan an update of a job nobody touched. When the code did change, a
// code_changed finding says which parts.
func (m *Manager) PlanUpdate(ctx context.Context, spec JobSpec, prior JobState) (Planned, error) {
	p, err := m.Plan(ctx, spec)
	if err != nil {
		return Planned{}, err
	}
	if prior.SourceHash == p.SourceHash {
		if sameLabels(prior.Analysis, p.Analysis) {
			p.Analysis = prior.Analysis
			if prior.Code != nil {
				p.Code = prior.Code
			}
		}
		return p, nil
	}
	if prior.SourceHash != "" {
		p.Analysis.Findings = append(p.Analysis.Findings, job.Finding{Kind: FindingCodeChanged,
			Message: "redeployed because its code changed since the last apply: " + codeChanges(prior.Code, p.Code),
			Chain:   []string{p.Analysis.Function}})
	}
	return p, nil
}

// sameLabels reports whether two analyses of the same code say the same about the job: every
// label and setting, and the same findings by kind and call chain. Positions, messages (a
// profile's measured times) and the measured max_duration_ms may differ; the timeout and
// memory deployed may not.
func sameLabels(a, b job.Analysis) bool {
	if a.Name != b.Name || a.Function != b.Function || a.Pure != b.Pure || a.Deterministic != b.Deterministic ||
		a.RequiresState != b.RequiresState || a.MemoryMB != b.MemoryMB || a.TimeoutMS != b.TimeoutMS ||
		a.Mode != b.Mode || a.Eligible != b.Eligible || a.InputType != b.InputType || a.OutputType != b.OutputType ||
		!slices.Equal(sortedCopy(a.NetworkCalls), sortedCopy(b.NetworkCalls)) {
		return false
	}
	return slices.Equal(findingKeys(a.Findings), findingKeys(b.Findings))
}

func sortedCopy(s []string) []string {
	return slices.Sorted(slices.Values(s))
}

// findingKeys lists findings by kind and chain, sorted, leaving out code_changed (it
// describes the last apply, not the code).
func findingKeys(fs []job.Finding) []string {
	keys := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Kind != FindingCodeChanged {
			keys = append(keys, f.Kind+"\x00"+strings.Join(f.Chain, "\x00"))
		}
	}
	slices.Sort(keys)
	return keys
}

// codeChanges says which parts of a job's code differ between two applies, e.g. "func
// example.com/jobs.helper; module golang.org/x/text v0.20.0 → v0.21.0; go go1.26.7 →
// go1.26.8". Without the earlier parts (a state written before they were recorded) it says
// so.
func codeChanges(before, after map[string]string) string {
	if before == nil {
		return "the last apply recorded no details of it"
	}
	var changes []string
	for _, k := range slices.Sorted(maps.Keys(after)) {
		old, had := before[k]
		switch {
		case !had:
			changes = append(changes, "new "+k)
		case old == after[k]:
		case strings.HasPrefix(k, "module ") || k == "go":
			changes = append(changes, fmt.Sprintf("%s %s → %s", k, old, after[k]))
		default:
			changes = append(changes, k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[k]; !ok {
			changes = append(changes, "no longer "+k)
		}
	}
	if len(changes) == 0 {
		return "the same parts, hashed differently (a new release of the code hash)"
	}
	const shown = 8
	if len(changes) > shown {
		changes = append(changes[:shown], fmt.Sprintf("and %d more", len(changes)-shown))
	}
	return strings.Join(changes, "; ")
}

// preflight runs the preflight check of every platform the targets use, once per Manager
// (one engine command): the first plan that reaches a platform pays for it, the others reuse
// its answer.
func (m *Manager) preflight(ctx context.Context, targets []Target) error {
	var errs []error
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t.Platform] {
			continue
		}
		seen[t.Platform] = true
		p, ok := m.settings.Deployers[t.Platform].(platform.Preflighter)
		if !ok {
			continue
		}
		v, _ := m.preflights.LoadOrStore(t.Platform, &preflightOnce{})
		once := v.(*preflightOnce)
		once.Do(func() { once.err = p.Preflight(ctx) })
		if once.err != nil {
			errs = append(errs, fmt.Errorf("checking the %s settings: %w", t.Platform, once.err))
		}
	}
	return errors.Join(errs...)
}

type preflightOnce struct {
	sync.Once
	err error
}
