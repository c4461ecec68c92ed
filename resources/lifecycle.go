package resources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// TagConfigHash is set on every function next to platform.TagSourceHash: a digest of the
// function's configuration (memory, timeout, purity, environment), so Update can tell an
// up-to-date function from one that needs redeploying without storing secrets in state.
const TagConfigHash = "blueprint:config_hash"

// TargetError is a deployment or deletion that failed in one place.
type TargetError struct {
	Target Target
	Err    error
}

func (e *TargetError) Error() string {
	return fmt.Sprintf("%s region %s: %v", e.Target.Platform, e.Target.Region, e.Err)
}

func (e *TargetError) Unwrap() error { return e.Err }

// PartialError reports the targets that failed while others succeeded. The state returned
// next to it holds exactly the functions that exist, so the next apply converges.
type PartialError struct {
	Op     string // "deploying", "deleting"
	Job    string
	Failed []*TargetError
}

func (e *PartialError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("%s job %q failed in %d region(s): %s", e.Op, e.Job, len(e.Failed), strings.Join(parts, "; "))
}

// FailedRegions names the regions that failed, for messages.
func (e *PartialError) FailedRegions() []string {
	out := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Target.Region
	}
	return out
}

// Create builds the job once per platform and deploys it to every target in parallel.
func (m *Manager) Create(ctx context.Context, spec JobSpec) (JobState, error) {
	p, err := m.Plan(ctx, spec)
	if err != nil {
		return JobState{}, err
	}
	st := m.newState(spec, p)
	defer jobLocks.lock(p.Name)()
	if len(p.Targets) > 0 {
		if err := m.checkNotDeployed(ctx, p, m.journal.pending(p.Name)); err != nil {
			return JobState{}, err
		}
	}
	// The local artifact first: a package that does not build fails before anything is deployed.
	local, err := m.buildLocal(ctx, spec, p)
	if err != nil {
		return JobState{}, err
	}
	if len(p.Targets) == 0 {
		m.logger.Info("job not deployed", "job", p.Name, "reason", notDeployedReason(p))
		st.Artifacts = m.withLocal(nil, local)
		return st, nil
	}
	token, err := m.journal.begin(p.Name)
	if err != nil {
		return JobState{}, err
	}
	deps, built, err := m.deploy(ctx, spec, p, p.Targets, token)
	st.Deployments = deps
	st.Artifacts = m.withLocal(m.artifactsInUse(built, deps), local)
	// The state goes back to the engine now, which records it: from here on the functions
	// are owned, and a later create must not take them over.
	if ferr := m.journal.finish(p.Name); ferr != nil {
		m.logger.Warn("create journal not cleared", "job", p.Name, "error", ferr)
	}
	return st, err
}

// buildLocal builds the artifact the agent runs on the VM and puts it in the store. It returns
// its hash, "" when the provider builds none.
func (m *Manager) buildLocal(ctx context.Context, spec JobSpec, p Planned) (string, error) {
	l := m.settings.Local
	if l == nil {
		return "", nil
	}
	a, err := m.build(ctx, l.Kind, l.Build, spec, p)
	if err != nil {
		return "", err // a *SpecError that names the job and the artifact
	}
	if err := l.Store.Put(ctx, a.Path, a.SHA256); err != nil {
		return "", fmt.Errorf("keeping the %s artifact of job %q in %s: %w", l.Kind, p.Name, l.Store.URL(), err)
	}
	m.logger.Info("stored job", "job", p.Name, "artifact", l.Kind, "sha256", a.SHA256, "store", l.Store.URL())
	return a.SHA256, nil
}

// withLocal adds the local artifact's hash to the job's artifacts.
func (m *Manager) withLocal(artifacts map[platform.ArtifactKind]string, sha string) map[platform.ArtifactKind]string {
	if artifacts == nil {
		artifacts = map[platform.ArtifactKind]string{}
	}
	if sha != "" {
		artifacts[m.settings.Local.Kind] = sha
	}
	return artifacts
}

// LocalKind is the kind of the artifact the agent runs locally, "" when none is built.
func (m *Manager) LocalKind() platform.ArtifactKind {
	if m.settings.Local == nil {
		return ""
	}
	return m.settings.Local.Kind
}

// localUpToDate reports whether prior's local artifact is the one this provider would build
// and keep: same source, in the same store. Builds are reproducible, so the hash it would get
// is the one it has.
func (m *Manager) localUpToDate(prior JobState, p Planned) bool {
	l := m.settings.Local
	return l == nil || (prior.Artifacts[l.Kind] != "" && prior.SourceHash == p.SourceHash && prior.ArtifactStore == l.Store.URL())
}

// checkNotDeployed refuses to create a job whose function already exists in a target: it is
// managed elsewhere (another resource, another state), and silently taking it over would let
// two owners delete each other's function. The one exception is a function carrying
// pendingToken, the token of this job's create that died before returning its state (see
// createJournal): no engine records it, and the deploy updates it in place.
func (m *Manager) checkNotDeployed(ctx context.Context, p Planned, pendingToken string) error {
	errs := make([]error, len(p.Targets))
	var wg sync.WaitGroup
	for i, t := range p.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := m.settings.Deployers[t.Platform].Get(ctx, t.Region, p.Name)
			switch {
			case errors.Is(err, platform.ErrNotFound):
			case err != nil:
				errs[i] = fmt.Errorf("checking whether job %q already exists in %s region %s: %w", p.Name, t.Platform, t.Region, err)
			case pendingToken != "" && d.Tags[TagCreateToken] == pendingToken && d.Tags[platform.TagJob] == p.Name:
				m.logger.Warn("taking over a function an interrupted create left behind", "job", p.Name, "platform", t.Platform, "region", t.Region)
			default:
				from := ""
				if pkg := d.Tags[platform.TagPackage]; pkg != "" {
					from = fmt.Sprintf(" (deployed from package %s)", pkg)
				}
				errs[i] = fmt.Errorf("job %q already exists in %s region %s%s: import it (terraform import <address> %s) instead of creating it, or delete that function first",
					p.Name, t.Platform, t.Region, from, p.Name)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Update brings the deployments in line with the spec: it redeploys functions whose code or
// configuration changed, deploys missing targets and deletes the ones no longer configured.
func (m *Manager) Update(ctx context.Context, spec JobSpec, prior JobState) (JobState, error) {
	p, err := m.PlanUpdate(ctx, spec, prior)
	if err != nil {
		return prior, err
	}
	defer jobLocks.lock(p.Name)()
	st := m.newState(spec, p)
	cfg := m.configHash(spec, p)

	priorByTarget := map[Target]platform.Deployment{}
	for _, d := range prior.Deployments {
		priorByTarget[Target{d.Platform, d.Region}] = d
	}
	desired := map[Target]bool{}
	var toDeploy []Target
	var kept []platform.Deployment
	for _, t := range p.Targets {
		desired[t] = true
		d, ok := priorByTarget[t]
		if !ok {
			toDeploy = append(toDeploy, t)
			continue
		}
		cur, upToDate, err := m.current(ctx, t, d.FunctionID, p, cfg, prior.Artifacts[m.artifactKind(t.Platform)])
		if err != nil {
			return prior, err
		}
		if upToDate {
			kept = append(kept, cur)
		} else {
			toDeploy = append(toDeploy, t)
		}
	}

	artifacts := maps.Clone(prior.Artifacts)
	if !m.localUpToDate(prior, p) {
		local, err := m.buildLocal(ctx, spec, p)
		if err != nil {
			return prior, err // nothing changed anywhere
		}
		artifacts = m.withLocal(artifacts, local)
	}
	var deployErr error
	var deployed []platform.Deployment
	if len(toDeploy) > 0 {
		var built map[platform.ArtifactKind]string
		deployed, built, deployErr = m.deploy(ctx, spec, p, toDeploy, "")
		var partial *PartialError
		if deployErr != nil && !errors.As(deployErr, &partial) {
			// Nothing was deployed (the build failed): change nothing else either.
			return prior, deployErr
		}
		if artifacts == nil {
			artifacts = map[platform.ArtifactKind]string{}
		}
		maps.Copy(artifacts, built)
	}
	// A failed redeploy leaves the old function in place: keep recording it so nothing is
	// orphaned; its code hash differs from its kind's artifact, so the next plan retries it.
	succeeded := map[Target]bool{}
	for _, d := range deployed {
		succeeded[Target{d.Platform, d.Region}] = true
	}
	for _, t := range toDeploy {
		if d, ok := priorByTarget[t]; ok && !succeeded[t] && d.FunctionID == p.Name {
			kept = append(kept, d)
		}
	}

	// Delete what is no longer wanted: targets dropped from the spec, and functions left
	// under an old name when the job was renamed.
	var stale []platform.Deployment
	for _, d := range prior.Deployments {
		t := Target{d.Platform, d.Region}
		if !desired[t] || (d.FunctionID != p.Name && succeeded[t]) {
			stale = append(stale, d)
		}
	}
	remaining, deleteErr := m.deleteAll(ctx, p.Name, stale)

	st.Deployments = append(append(kept, deployed...), remaining...)
	sortDeployments(st.Deployments)
	inUse := m.artifactsInUse(artifacts, st.Deployments)
	if len(st.Deployments) == 0 {
		inUse = maps.Clone(artifacts) // deployed nowhere now: remember what was built last
	}
	if kind := m.LocalKind(); kind != "" && artifacts[kind] != "" {
		inUse = m.withLocal(inUse, artifacts[kind])
	}
	st.Artifacts = inUse
	return st, errors.Join(deployErr, deleteErr)
}

// current reads a deployed function and reports whether it already runs the planned code
// and configuration. Builds are reproducible, so with an unchanged source hash the code must
// still be the last artifact; anything else was changed out of band.
func (m *Manager) current(ctx context.Context, t Target, functionID string, p Planned, cfg, lastArtifact string) (platform.Deployment, bool, error) {
	d, err := m.settings.Deployers[t.Platform].Get(ctx, t.Region, functionID)
	if errors.Is(err, platform.ErrNotFound) {
		return platform.Deployment{}, false, nil
	}
	if err != nil {
		return platform.Deployment{}, false, fmt.Errorf("reading job %q in %s region %s: %w", p.Name, t.Platform, t.Region, err)
	}
	upToDate := functionID == p.Name && d.Version != "" && // no version: it serves nothing yet
		d.Tags[platform.TagSourceHash] == p.SourceHash &&
		d.Tags[TagConfigHash] == cfg &&
		(lastArtifact == "" || d.CodeSHA256 == lastArtifact)
	return d, upToDate, nil
}

// Read refreshes every deployment from its platform and drops the ones that vanished or were
// changed outside Blueprint (drift: the platform's version is not the one recorded): the
// engine then plans to redeploy them.
func (m *Manager) Read(ctx context.Context, st JobState) (JobState, error) {
	type result struct {
		d     platform.Deployment
		found bool
		err   error
	}
	results := make([]result, len(st.Deployments))
	var wg sync.WaitGroup
	for i, d := range st.Deployments {
		dep, ok := m.settings.Deployers[d.Platform]
		if !ok {
			return st, fmt.Errorf("job %q is deployed on platform %s, which is not configured in the provider: add its block so Blueprint can manage that deployment", st.Name, d.Platform)
		}
		if !slices.Contains(dep.Regions(), d.Region) {
			// The provider no longer has a host for this region: it cannot be checked, so
			// keep it as recorded; the plan then tries to delete it and says what to do.
			m.logger.Warn("deployment in a region that is no longer configured; cannot refresh it", "job", st.Name, "platform", d.Platform, "region", d.Region)
			results[i] = result{d: d, found: true}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cur, err := dep.Get(ctx, d.Region, d.FunctionID)
			switch {
			case errors.Is(err, platform.ErrNotFound):
				m.logger.Warn("deployment vanished; it will be redeployed", "job", st.Name, "platform", d.Platform, "region", d.Region)
			case err != nil:
				results[i].err = fmt.Errorf("reading job %q in %s region %s: %w", st.Name, d.Platform, d.Region, err)
			case d.Version != "" && cur.Version != d.Version:
				// Every deploy records the version it made; another version means someone
				// changed the function outside Blueprint (its code, memory, environment…).
				// Treated like a vanished deployment, so the plan puts the recorded one back.
				m.logger.Warn("deployment changed outside Blueprint; it will be redeployed", "job", st.Name,
					"platform", d.Platform, "region", d.Region, "recorded_version", d.Version, "found_version", cur.Version)
			default:
				results[i] = result{d: cur, found: true}
			}
		}()
	}
	wg.Wait()
	out := st
	out.Deployments = nil
	var errs []error
	for i, r := range results {
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
			out.Deployments = append(out.Deployments, st.Deployments[i])
		case r.found:
			out.Deployments = append(out.Deployments, r.d)
		}
	}
	sortDeployments(out.Deployments)
	return out, errors.Join(errs...)
}

// Delete removes every deployment of the job; functions already gone count as deleted.
func (m *Manager) Delete(ctx context.Context, st JobState) error {
	defer jobLocks.lock(st.Name)()
	_, err := m.deleteAll(ctx, st.Name, st.Deployments)
	return err
}

// Import finds a job by name on every configured platform and region and rebuilds its spec
// and state from the tags Blueprint put on its functions.
func (m *Manager) Import(ctx context.Context, name string) (JobState, JobSpec, error) {
	if strings.TrimSpace(name) == "" {
		return JobState{}, JobSpec{}, errors.New("import needs a job name, for example: terraform import blueprint_job.resize resize_image")
	}
	targets, err := m.targets(JobSpec{})
	if err != nil {
		return JobState{}, JobSpec{}, err
	}
	type result struct {
		d     platform.Deployment
		found bool
		err   error
	}
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := m.settings.Deployers[t.Platform].Get(ctx, t.Region, name)
			switch {
			case errors.Is(err, platform.ErrNotFound):
			case err != nil:
				results[i].err = fmt.Errorf("looking for job %q in %s region %s: %w", name, t.Platform, t.Region, err)
			default:
				results[i] = result{d: d, found: true}
			}
		}()
	}
	wg.Wait()
	var deps []platform.Deployment
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		} else if r.found {
			deps = append(deps, r.d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return JobState{}, JobSpec{}, err
	}
	if len(deps) == 0 {
		return JobState{}, JobSpec{}, fmt.Errorf("%w: no function named %q on any configured platform or region", ErrNotFound, name)
	}
	sortDeployments(deps)
	first := deps[0]
	spec := JobSpec{Package: first.Tags[platform.TagPackage], Function: first.Tags[platform.TagFunction]}
	if spec.Package == "" || spec.Function == "" || first.Tags[platform.TagJob] != name {
		return JobState{}, JobSpec{}, fmt.Errorf("function %q in %s region %s was not deployed by Blueprint (it lacks the %s and %s tags), so it cannot be imported as a job",
			name, first.Platform, first.Region, platform.TagPackage, platform.TagFunction)
	}
	analysis, packageJobs, err := m.analyzeJob(ctx, spec)
	if err != nil {
		return JobState{}, JobSpec{}, fmt.Errorf("importing job %q: %w", name, err)
	}
	analysis = applyOverrides(analysis, spec)
	// Each platform's functions run the artifact of its kind; the first found per kind stands
	// for it (a deployment running other code shows up in the next plan).
	artifacts := map[platform.ArtifactKind]string{}
	for _, d := range deps {
		if kind := m.artifactKind(d.Platform); artifacts[kind] == "" && d.CodeSHA256 != "" {
			artifacts[kind] = d.CodeSHA256
		}
	}
	st := JobState{
		Name:        name,
		Package:     spec.Package,
		Function:    spec.Function,
		SourceHash:  first.Tags[platform.TagSourceHash],
		Artifacts:   artifacts,
		Analysis:    analysis,
		Eligible:    analysis.Eligible,
		Deployments: deps,
	}
	if analysis.CodeHash == st.SourceHash {
		st.Code = analysis.Code // the deployed code is the code on disk
	}
	// The agent's artifact is on no platform to read back; builds are reproducible, so build
	// (and store) it again.
	local, err := m.buildLocal(ctx, spec, Planned{Name: name, Analysis: analysis, SourceHash: st.SourceHash, PackageJobs: packageJobs})
	if err != nil {
		return JobState{}, JobSpec{}, fmt.Errorf("importing job %q: %w", name, err)
	}
	st.Artifacts = m.withLocal(st.Artifacts, local)
	if local != "" {
		st.ArtifactStore = m.settings.Local.Store.URL()
	}
	st.StateStore = m.stateStore(Planned{Analysis: analysis})
	return st, spec, nil
}

// deploy builds one artifact per kind the targets' platforms run (two platforms of one kind
// share a build) and deploys to the targets in parallel. It returns the deployments that
// succeeded (and only those) and the hash of every artifact it built, by kind.
func (m *Manager) deploy(ctx context.Context, spec JobSpec, p Planned, targets []Target, createToken string) ([]platform.Deployment, map[platform.ArtifactKind]string, error) {
	byKind := map[platform.ArtifactKind][]Target{}
	for _, t := range targets {
		kind := m.artifactKind(t.Platform)
		byKind[kind] = append(byKind[kind], t)
	}
	artifacts := map[platform.ArtifactKind]platform.Artifact{}
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		a, err := m.build(ctx, kind, m.buildFunc(byKind[kind][0].Platform), spec, p)
		if err != nil {
			return nil, nil, err
		}
		artifacts[kind] = a
	}

	tags := map[string]string{
		platform.TagJob:        p.Name,
		platform.TagPackage:    spec.Package,
		platform.TagFunction:   spec.Function,
		platform.TagSourceHash: p.SourceHash,
		TagConfigHash:          m.configHash(spec, p),
	}
	if createToken != "" {
		tags[TagCreateToken] = createToken
	}
	results := make([]platform.Deployment, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		a := artifacts[m.artifactKind(t.Platform)]
		// Plan checked the limits, so rounding cannot fail here.
		memory, _ := m.descriptor(t.Platform).Limits.RoundMemoryMB(p.Analysis.MemoryMB)
		fn := platform.Function{
			Name:        p.Name,
			Entry:       p.Name,
			MemoryMB:    memory,
			TimeoutMS:   p.Analysis.TimeoutMS,
			Pure:        p.Analysis.Pure,
			Environment: spec.Environment,
			StateStore:  m.stateStore(p),
			Tags:        tags,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.logger.Info("deploying job", "job", p.Name, "platform", t.Platform, "region", t.Region)
			d, err := m.settings.Deployers[t.Platform].Deploy(ctx, platform.DeployRequest{
				Region: t.Region, Function: fn, ArtifactPath: a.Path, ArtifactSHA256: a.SHA256,
			})
			if err != nil {
				errs[i] = err
				m.logger.Error("deploy failed", "job", p.Name, "platform", t.Platform, "region", t.Region, "error", err)
				return
			}
			// Record where it landed even if the platform leaves these out.
			d.Platform, d.Region = t.Platform, t.Region
			results[i] = d
			m.logger.Info("deployed job", "job", p.Name, "platform", t.Platform, "region", t.Region, "version", d.Version)
		}()
	}
	wg.Wait()
	var deps []platform.Deployment
	var failed []*TargetError
	for i, t := range targets {
		if errs[i] != nil {
			failed = append(failed, &TargetError{Target: t, Err: errs[i]})
		} else {
			deps = append(deps, results[i])
		}
	}
	sortDeployments(deps)
	built := make(map[platform.ArtifactKind]string, len(artifacts))
	for kind, a := range artifacts {
		built[kind] = a.SHA256
	}
	if len(failed) > 0 {
		return deps, built, &PartialError{Op: "deploying", Job: p.Name, Failed: failed}
	}
	return deps, built, nil
}

// artifactsInUse keeps the artifacts some deployment's platform runs: a kind whose last
// platform was removed from the job is no longer the job's code anywhere.
func (m *Manager) artifactsInUse(artifacts map[platform.ArtifactKind]string, deps []platform.Deployment) map[platform.ArtifactKind]string {
	out := map[platform.ArtifactKind]string{}
	for _, d := range deps {
		kind := m.artifactKind(d.Platform)
		if sha, ok := artifacts[kind]; ok {
			out[kind] = sha
		}
	}
	return out
}

// deleteAll deletes in parallel and returns the deployments it could not delete.
func (m *Manager) deleteAll(ctx context.Context, jobName string, deps []platform.Deployment) ([]platform.Deployment, error) {
	errs := make([]error, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		dep, ok := m.settings.Deployers[d.Platform]
		if !ok {
			errs[i] = fmt.Errorf("platform %s is not configured in the provider: add its block back to delete function %q, or delete it by hand", d.Platform, d.FunctionID)
			continue
		}
		if !slices.Contains(dep.Regions(), d.Region) {
			errs[i] = fmt.Errorf("the provider has no %s host or endpoint for region %s any more: add it back to delete function %q there, or delete it by hand", d.Platform, d.Region, d.FunctionID)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.logger.Info("deleting job", "job", jobName, "platform", d.Platform, "region", d.Region)
			if err := dep.Delete(ctx, d.Region, d.FunctionID); err != nil && !errors.Is(err, platform.ErrNotFound) {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	var remaining []platform.Deployment
	var failed []*TargetError
	for i, d := range deps {
		if errs[i] != nil {
			remaining = append(remaining, d)
			failed = append(failed, &TargetError{Target: Target{d.Platform, d.Region}, Err: errs[i]})
		}
	}
	if len(failed) > 0 {
		return remaining, &PartialError{Op: "deleting", Job: jobName, Failed: failed}
	}
	return nil, nil
}

// Changes lists why the deployments of prior no longer match the plan (empty: nothing to
// redeploy as far as state can tell). Engines use it to mark deployments as changing.
func (m *Manager) Changes(prior JobState, p Planned) []string {
	var why []string
	if prior.SourceHash != p.SourceHash {
		why = append(why, "code changed: "+codeChanges(prior.Code, p.Code))
	}
	if prior.Name != p.Name {
		why = append(why, fmt.Sprintf("job name changed from %q to %q", prior.Name, p.Name))
	}
	want := map[Target]bool{}
	for _, t := range p.Targets {
		want[t] = true
	}
	have := map[Target]bool{}
	for _, d := range prior.Deployments {
		t := Target{d.Platform, d.Region}
		have[t] = true
		if !want[t] {
			why = append(why, "no longer configured: "+t.String())
		}
	}
	for _, t := range p.Targets {
		if !have[t] {
			why = append(why, "missing deployment: "+t.String())
		}
	}
	for _, d := range prior.Deployments {
		built := prior.Artifacts[m.artifactKind(d.Platform)]
		if d.CodeSHA256 != "" && built != "" && d.CodeSHA256 != built {
			why = append(why, fmt.Sprintf("%s/%s runs other code than the last build", d.Platform, d.Region))
		}
	}
	if prior.Analysis.MemoryMB != p.Analysis.MemoryMB || prior.Analysis.TimeoutMS != p.Analysis.TimeoutMS || prior.Analysis.Pure != p.Analysis.Pure {
		why = append(why, "function configuration changed")
	}
	if prior.StateStore != m.stateStore(p) {
		why = append(why, fmt.Sprintf("state store changed from %q to %q", prior.StateStore, m.stateStore(p)))
	}
	if !m.localUpToDate(prior, p) {
		why = append(why, fmt.Sprintf("the %s artifact for the agent is not built and stored in %s yet", m.settings.Local.Kind, m.settings.Local.Store.URL()))
	}
	return why
}

func (m *Manager) newState(spec JobSpec, p Planned) JobState {
	st := newState(spec, p)
	if m.settings.Local != nil {
		st.ArtifactStore = m.settings.Local.Store.URL()
	}
	st.StateStore = m.stateStore(p)
	return st
}

func newState(spec JobSpec, p Planned) JobState {
	return JobState{
		Name:       p.Name,
		Package:    spec.Package,
		Function:   spec.Function,
		SourceHash: p.SourceHash,
		Code:       p.Code,
		Analysis:   p.Analysis,
		Eligible:   p.Eligible,
	}
}

func notDeployedReason(p Planned) string {
	if p.Analysis.Mode == job.ModeLocal {
		return "force_local"
	}
	return "not eligible for serverless"
}

// configHash digests what a function runs with besides its code. The environment is hashed,
// never stored, because it may hold secrets.
func (m *Manager) configHash(spec JobSpec, p Planned) string {
	h := sha256.New()
	fmt.Fprintf(h, "entry=%s\nmemory=%d\ntimeout=%d\npure=%t\n", p.Name, p.Analysis.MemoryMB, p.Analysis.TimeoutMS, p.Analysis.Pure)
	if store := m.stateStore(p); store != "" {
		fmt.Fprintf(h, "state_store=%s\n", store) // only when set: the digest of stateless jobs stays as it was
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Environment)) {
		fmt.Fprintf(h, "env %q=%q\n", k, spec.Environment[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func sortDeployments(ds []platform.Deployment) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Platform != ds[j].Platform {
			return ds[i].Platform < ds[j].Platform
		}
		return ds[i].Region < ds[j].Region
	})
}
