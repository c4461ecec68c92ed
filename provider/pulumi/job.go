package pulumi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/serverless-blueprint/blueprint/resources"
)

// Job is blueprint:index:Job, the Pulumi face of Terraform's blueprint_job: a Go job function,
// analyzed on preview and deployed on up to every configured platform and region when the
// analysis finds it eligible. Every decision is the engine-neutral lifecycle's (resources/).
type Job struct{ prov *providerState }

// JobArgs are what the user sets.
type JobArgs struct {
	Package         string            `pulumi:"package"`
	Function        string            `pulumi:"function"`
	ForceServerless *bool             `pulumi:"forceServerless,optional"`
	ForceLocal      *bool             `pulumi:"forceLocal,optional"`
	MemoryMb        *int              `pulumi:"memoryMb,optional"`
	TimeoutS        *int              `pulumi:"timeoutS,optional"`
	Platforms       []string          `pulumi:"platforms,optional"`
	Regions         []string          `pulumi:"regions,optional"`
	Environment     map[string]string `pulumi:"environment,optional" provider:"secret"`
}

// Annotate describes the inputs in the schema.
func (a *JobArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Package, "Directory of the Go package that holds the job, relative to the program's directory. Changing it replaces the job.")
	an.Describe(&a.Function, "Name of the Go function marked //blueprint:job. Changing it replaces the job.")
	an.Describe(&a.ForceServerless, "Deploy even when the analysis finds the job not eligible (a warning says why it was not).")
	an.Describe(&a.ForceLocal, "Deploy nowhere: the runtime agent always runs the job on the VM.")
	an.Describe(&a.MemoryMb, "Memory per function in MB; unset = what the analysis measured.")
	an.Describe(&a.TimeoutS, "Timeout per execution in seconds; unset = what the analysis derived.")
	an.Describe(&a.Platforms, "Platforms to deploy to; unset = the provider's.")
	an.Describe(&a.Regions, "Regions to deploy to; unset = the provider's.")
	an.Describe(&a.Environment, "Environment of the job's functions and local runs (secret: Pulumi encrypts it in the state).")
}

// JobState is what the engine records: the inputs and what the lifecycle found and did.
type JobState struct {
	JobArgs
	Name          string            `pulumi:"name"`
	Analysis      Analysis          `pulumi:"analysis"`
	Eligible      bool              `pulumi:"eligible"`
	SourceHash    string            `pulumi:"sourceHash"`
	Artifacts     map[string]string `pulumi:"artifacts"`
	ArtifactStore *string           `pulumi:"artifactStore,optional"`
	StateStore    *string           `pulumi:"stateStore,optional"`
	Deployments   []Deployment      `pulumi:"deployments"`
	// The provider's routing settings, copied here for the runtime agent.
	CostThreshold      *float64 `pulumi:"costThreshold,optional"`
	LatencyThresholdMs *int     `pulumi:"latencyThresholdMs,optional"`
	// CodeParts names what sourceHash digests, so the next preview can say what changed.
	CodeParts map[string]string `pulumi:"codeParts,optional"`
}

// Annotate describes the outputs in the schema.
func (s *JobState) Annotate(an infer.Annotator) {
	an.Describe(&s.Name, "The job name (the directive's name= or the snake_case of the function); also the resource ID and the name to import by.")
	an.Describe(&s.SourceHash, "Hash of the code the job can reach: it changes when, and only when, that code changes, and then the job is redeployed.")
	an.Describe(&s.Artifacts, "SHA-256 of each kind of artifact built for the job (native, wasm, lambda_zip).")
	an.Describe(&s.Deployments, "Where the job is deployed: one function per platform and region.")
	an.Describe(&s.CodeParts, "The parts sourceHash digests, by name.")
}

// Annotate describes the resource in the schema.
func (j *Job) Annotate(an infer.Annotator) {
	an.Describe(j, "A Go job function, analyzed on preview and deployed on up to every configured platform and region when the analysis finds it eligible for serverless. "+
		"A code change is an in-place update of the jobs whose code it reaches: they are rebuilt and redeployed. The runtime agent reads the stack export to route executions.")
}

func (a JobArgs) spec() resources.JobSpec {
	return resources.JobSpec{
		Package: a.Package, Function: a.Function,
		ForceServerless: deref(a.ForceServerless), ForceLocal: deref(a.ForceLocal),
		MemoryMB: int64(deref(a.MemoryMb)), TimeoutS: int64(deref(a.TimeoutS)),
		Platforms: a.Platforms, Regions: a.Regions, Environment: a.Environment,
	}
}

// jobState is the lifecycle's view of what Pulumi recorded.
func (s JobState) jobState() resources.JobState {
	st := resources.JobState{
		Name: s.Name, Package: s.Package, Function: s.Function, SourceHash: s.SourceHash,
		Code: s.CodeParts, ArtifactStore: deref(s.ArtifactStore), StateStore: deref(s.StateStore),
		Artifacts: artifactsByKind(s.Artifacts), Analysis: s.Analysis.job(), Eligible: s.Eligible,
	}
	for _, d := range s.Deployments {
		st.Deployments = append(st.Deployments, d.platform())
	}
	return st
}

// record fills the computed outputs from what the lifecycle reports.
func record(args JobArgs, st resources.JobState, cfg *Config) JobState {
	out := JobState{
		JobArgs: args, Name: st.Name, Analysis: analysisOf(st.Analysis), Eligible: st.Eligible,
		SourceHash: st.SourceHash, Artifacts: artifactsOf(st.Artifacts), Deployments: deploymentsOf(st.Deployments),
		CodeParts: cloneMap(st.Code),
	}
	if st.ArtifactStore != "" {
		out.ArtifactStore = &st.ArtifactStore
	}
	if st.StateStore != "" {
		out.StateStore = &st.StateStore
	}
	if cfg != nil {
		out.CostThreshold, out.LatencyThresholdMs = cfg.CostThreshold, cfg.LatencyThresholdMs
	}
	return out
}

// planned is the state a preview shows: the analysis and where the job will go, with no
// deployment made.
func planned(args JobArgs, p resources.Planned, settings *resources.Settings, cfg *Config) JobState {
	st := resources.JobState{Name: p.Name, Package: args.Package, Function: args.Function, SourceHash: p.SourceHash,
		Code: p.Code, Analysis: p.Analysis, Eligible: p.Eligible}
	if p.Analysis.RequiresState {
		st.StateStore = settings.StateStore
	}
	if settings.Local != nil {
		st.ArtifactStore = settings.Local.Store.URL()
	}
	return record(args, st, cfg)
}

// Diff plans the update: a new package or function replaces the job; a change of code the
// job reaches (sourceHash) or of a setting that shapes its functions updates it in place.
func (j *Job) Diff(ctx context.Context, req infer.DiffRequest[JobArgs, JobState]) (infer.DiffResponse, error) {
	diff := map[string]p.PropertyDiff{}
	if req.Inputs.Package != req.State.Package {
		diff["package"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if req.Inputs.Function != req.State.Function {
		diff["function"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if len(diff) > 0 {
		return infer.DiffResponse{HasChanges: true, DetailedDiff: diff, DeleteBeforeReplace: true}, nil
	}
	for name, changed := range map[string]bool{
		"forceServerless": deref(req.Inputs.ForceServerless) != deref(req.State.ForceServerless),
		"forceLocal":      deref(req.Inputs.ForceLocal) != deref(req.State.ForceLocal),
		"memoryMb":        deref(req.Inputs.MemoryMb) != deref(req.State.MemoryMb),
		"timeoutS":        deref(req.Inputs.TimeoutS) != deref(req.State.TimeoutS),
		"platforms":       !slices.Equal(req.Inputs.Platforms, req.State.Platforms),
		"regions":         !slices.Equal(req.Inputs.Regions, req.State.Regions),
		"environment":     !maps.Equal(req.Inputs.Environment, req.State.Environment),
	} {
		if changed {
			diff[name] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
		}
	}
	m, _, err := j.prov.manager(ctx)
	if err != nil {
		return infer.DiffResponse{}, err
	}
	prior := req.State.jobState()
	pl, err := m.PlanUpdate(ctx, req.Inputs.spec(), prior)
	if err != nil {
		return infer.DiffResponse{}, err
	}
	if why := m.Changes(prior, pl); len(why) > 0 {
		p.GetLogger(ctx).Infof("job %s will be redeployed: %v", pl.Name, why)
		diff["sourceHash"] = p.PropertyDiff{Kind: p.Update}
	}
	return infer.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Create deploys the job; a preview only plans it. A job deployed in some regions but not
// others is recorded as it is (ResourceInitFailedError), so the next up finishes it.
func (j *Job) Create(ctx context.Context, req infer.CreateRequest[JobArgs]) (infer.CreateResponse[JobState], error) {
	m, cfg, err := j.prov.manager(ctx)
	if err != nil {
		return infer.CreateResponse[JobState]{}, err
	}
	if req.DryRun {
		pl, err := m.Plan(ctx, req.Inputs.spec())
		if err != nil {
			return infer.CreateResponse[JobState]{}, err
		}
		settings, _, _ := j.prov.configured()
		return infer.CreateResponse[JobState]{ID: pl.Name, Output: planned(req.Inputs, pl, settings, cfg)}, nil
	}
	st, err := m.Create(ctx, req.Inputs.spec())
	if err != nil && len(st.Deployments) == 0 {
		return infer.CreateResponse[JobState]{}, err
	}
	out := infer.CreateResponse[JobState]{ID: st.Name, Output: record(req.Inputs, st, cfg)}
	if err != nil {
		return out, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return out, nil
}

// Update brings the job in line with its inputs; a preview only plans it.
func (j *Job) Update(ctx context.Context, req infer.UpdateRequest[JobArgs, JobState]) (infer.UpdateResponse[JobState], error) {
	m, cfg, err := j.prov.manager(ctx)
	if err != nil {
		return infer.UpdateResponse[JobState]{}, err
	}
	prior := req.State.jobState()
	if req.DryRun {
		pl, err := m.PlanUpdate(ctx, req.Inputs.spec(), prior)
		if err != nil {
			return infer.UpdateResponse[JobState]{}, err
		}
		settings, _, _ := j.prov.configured()
		out := planned(req.Inputs, pl, settings, cfg)
		out.Deployments, out.Artifacts = req.State.Deployments, req.State.Artifacts
		return infer.UpdateResponse[JobState]{Output: out}, nil
	}
	st, err := m.Update(ctx, req.Inputs.spec(), prior)
	var partial *resources.PartialError
	if err != nil && !errors.As(err, &partial) {
		return infer.UpdateResponse[JobState]{}, err // nothing changed anywhere
	}
	recorded := req.Inputs
	if partial != nil {
		// Some regions still run the prior settings: record those, so the next diff sees the
		// difference and redeploys there.
		recorded = req.State.JobArgs
	}
	out := infer.UpdateResponse[JobState]{Output: record(recorded, st, cfg)}
	if err != nil {
		return out, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return out, nil
}

// Read refreshes the deployments from the platforms (`pulumi refresh`), dropping functions
// that vanished or changed out of band; with no state it imports the job by name
// (`pulumi import blueprint:index:Job NAME NAME`) from the tags on its functions.
func (j *Job) Read(ctx context.Context, req infer.ReadRequest[JobArgs, JobState]) (infer.ReadResponse[JobArgs, JobState], error) {
	m, cfg, err := j.prov.manager(ctx)
	if err != nil {
		return infer.ReadResponse[JobArgs, JobState]{}, err
	}
	if req.State.Name == "" {
		st, spec, err := m.Import(ctx, req.ID)
		if errors.Is(err, resources.ErrNotFound) {
			return infer.ReadResponse[JobArgs, JobState]{}, fmt.Errorf("no function named %q exists on any configured platform or region: check the job name (the directive's name= or the snake_case function name) and the provider's regions", req.ID)
		}
		if err != nil {
			return infer.ReadResponse[JobArgs, JobState]{}, err
		}
		args := JobArgs{Package: spec.Package, Function: spec.Function}
		return infer.ReadResponse[JobArgs, JobState]{ID: st.Name, Inputs: args, State: record(args, st, cfg)}, nil
	}
	st, err := m.Read(ctx, req.State.jobState())
	if err != nil {
		return infer.ReadResponse[JobArgs, JobState]{}, err
	}
	out := req.State
	out.Deployments = deploymentsOf(st.Deployments)
	return infer.ReadResponse[JobArgs, JobState]{ID: st.Name, Inputs: req.Inputs, State: out}, nil
}

// Delete removes the job's functions everywhere.
func (j *Job) Delete(ctx context.Context, req infer.DeleteRequest[JobState]) (infer.DeleteResponse, error) {
	m, _, err := j.prov.manager(ctx)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	return infer.DeleteResponse{}, m.Delete(ctx, req.State.jobState())
}

// WireDependencies tells the engine what a preview knows: the analysis and everything derived
// from it are computed by the preview itself (it runs the analysis), while the deployments
// and artifacts exist only after the up; the environment stays secret in the outputs.
func (j *Job) WireDependencies(f infer.FieldSelector, args *JobArgs, state *JobState) {
	for _, known := range []any{&state.Name, &state.Analysis, &state.Eligible, &state.SourceHash, &state.StateStore,
		&state.ArtifactStore, &state.CostThreshold, &state.LatencyThresholdMs, &state.CodeParts} {
		f.OutputField(known).AlwaysKnown()
	}
	f.OutputField(&state.Deployments).DependsOn(f.InputField(args))
	f.OutputField(&state.Artifacts).DependsOn(f.InputField(args))
	f.OutputField(&state.Environment).AlwaysSecret()
}
