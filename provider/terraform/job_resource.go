package terraform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/resources"
)

var (
	_ resource.Resource                = (*jobResource)(nil)
	_ resource.ResourceWithConfigure   = (*jobResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*jobResource)(nil)
	_ resource.ResourceWithImportState = (*jobResource)(nil)
)

func newJobResource() resource.Resource { return &jobResource{} }

type jobResource struct {
	data *providerData
}

// jobResourceModel's attribute names are a contract: the runtime agent reads them from
// terraform.tfstate (v4 JSON).
type jobResourceModel struct {
	ID              types.String `tfsdk:"id"`
	Package         types.String `tfsdk:"package"`
	Function        types.String `tfsdk:"function"`
	ForceServerless types.Bool   `tfsdk:"force_serverless"`
	ForceLocal      types.Bool   `tfsdk:"force_local"`
	MemoryMB        types.Int64  `tfsdk:"memory_mb"`
	TimeoutS        types.Int64  `tfsdk:"timeout_s"`
	Platforms       types.List   `tfsdk:"platforms"`
	Regions         types.List   `tfsdk:"regions"`
	Environment     types.Map    `tfsdk:"environment"`
	Name            types.String `tfsdk:"name"`
	Analysis        types.Object `tfsdk:"analysis"`
	Eligible        types.Bool   `tfsdk:"eligible"`
	SourceHash      types.String `tfsdk:"source_hash"`
	ArtifactSHA256  types.String `tfsdk:"artifact_sha256"`
	Artifacts       types.Map    `tfsdk:"artifacts"`
	ArtifactStore   types.String `tfsdk:"artifact_store"`
	StateStore      types.String `tfsdk:"state_store"`
	Deployments     types.List   `tfsdk:"deployments"`
	// The provider's routing settings, copied here for the runtime agent.
	CostThreshold      types.Float64 `tfsdk:"cost_threshold"`
	LatencyThresholdMS types.Int64   `tfsdk:"latency_threshold_ms"`
}

func (r *jobResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_job"
}

func (r *jobResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Go job function, analyzed at plan time and deployed to every configured platform and region when the analysis finds it eligible for serverless. " +
			"A code change is an in-place update of the jobs whose code it reaches (see `source_hash`): they are rebuilt and redeployed. The runtime agent reads this resource's state to route executions.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The job name (same as `name`); also the name to import by.",
			},
			"package": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Directory of the Go package that holds the job, relative to the working directory (usually `path.module`-based). Changing it replaces the job.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"function": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the Go function marked `//blueprint:job`. Changing it replaces the job.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"force_serverless": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Deploy even when the analysis finds the job not eligible for serverless (a finding of kind `forced_serverless` records it).",
			},
			"force_local": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Deploy the job nowhere: the agent always runs it on the VM.",
			},
			"memory_mb": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Memory limit in MB, instead of the profiled value of the analysis.",
			},
			"timeout_s": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Per-execution time limit in seconds, instead of the analysis value.",
			},
			"platforms": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Platforms for this job; defaults to the provider's `platforms`.",
			},
			"regions": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Regions for this job; defaults to the provider's `regions`.",
			},
			"environment": schema.MapAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "Environment variables given to the deployed functions and to local runs. Where they are kept: in the Terraform state, in clear (protect the state: an encrypted remote backend); in each Lambda function's and Cloud Function's configuration (encrypted at rest by the platform); on a `blueprint host`, sealed with AES-256-GCM under the host's key (its API shows only their SHA-256); the agent passes them to local runs from the state and never echoes them.",
			},
			"name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Job name: the directive's `name=` option, or the snake_case function name. Functions are deployed under it.",
			},
			"analysis": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What the analyzer proved about the job, with the overrides applied. Field names match `blueprint analyze -o json`.",
				Attributes:          analysisResourceAttributes(),
			},
			"eligible": schema.BoolAttribute{
				Computed:            true,
				MarkdownDescription: "Whether the job is deployed to serverless platforms (the analysis verdict after `force_serverless` / `force_local`).",
			},
			"source_hash": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`sha256:` digest of the code this job can reach: the functions of your modules in its call graph (comments and positions aside), the types and package variables they use, the versions of third-party modules it calls and the Go version. A change plans a redeploy of this job only; an edit no job reaches plans nothing, and the plan's `code_changed` finding names what changed. States written by earlier releases hold a digest of the whole package: the first plan after an upgrade redeploys each job once.",
			},
			"artifact_sha256": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Hex SHA-256 of the built artifact when the job's platforms all run one kind of artifact; null when they run several kinds or the job is deployed nowhere. Use `artifacts`, which names each kind.",
				DeprecationMessage:  "Use artifacts[kind] (for example artifacts[\"wasm\"]): a job deployed to platforms that run different kinds of artifacts has one hash per kind.",
			},
			"artifacts": schema.MapAttribute{
				ElementType:         types.StringType,
				Computed:            true,
				MarkdownDescription: "Hex SHA-256 of each artifact built for the job, by kind (`wasm`, `native`, `lambda_zip`, `gcf_source`): every deployment runs the artifact of its platform's kind, and the runtime agent runs the one of its local kind. Empty when the job is deployed nowhere.",
			},
			"state_store": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Where the job's `job.State` lives (the provider's `state_store`), for the agent and every platform it runs on. Null for jobs without state.",
			},
			"artifact_store": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Where the job's `native` artifact is kept for the runtime agent (the provider's `artifact_store`).",
			},
			"cost_threshold": schema.Float64Attribute{
				Computed:            true,
				MarkdownDescription: "The provider's `cost_threshold`, copied here so that the runtime agent, which reads the state, routes by it. Null when the provider sets none.",
			},
			"latency_threshold_ms": schema.Int64Attribute{
				Computed:            true,
				MarkdownDescription: "The provider's `latency_threshold_ms`, copied here for the runtime agent. Null when the provider sets none.",
			},
			"deployments": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "One entry per platform and region the job is deployed to.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"platform":    schema.StringAttribute{Computed: true, MarkdownDescription: "Platform name, e.g. `wasm`."},
					"region":      schema.StringAttribute{Computed: true, MarkdownDescription: "Region name."},
					"function_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Platform identifier of the function (name, ARN or resource name)."},
					"version":     schema.StringAttribute{Computed: true, MarkdownDescription: "Platform version of the deployed code and configuration."},
					"endpoint":    schema.StringAttribute{Computed: true, MarkdownDescription: "Base URL the agent invokes the function through."},
					"code_sha256": schema.StringAttribute{Computed: true, MarkdownDescription: "Hex SHA-256 of the code the platform runs."},
				}},
			},
		},
	}
}

func (r *jobResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("The blueprint provider handed over %T; this is a bug in the provider, please report it.", req.ProviderData))
		return
	}
	r.data = data
}

func (r *jobResource) manager(ctx context.Context, diags *diag.Diagnostics) *resources.Manager {
	if r.data == nil {
		diags.AddError("Provider not configured", "The blueprint provider has no configuration; add a provider \"blueprint\" block with a wasm block.")
		return nil
	}
	m, err := r.data.manager(ctx)
	if err != nil {
		diags.AddError("Invalid provider configuration", err.Error())
		return nil
	}
	return m
}

// ModifyPlan runs the analysis at plan time, so the plan shows the job's labels and whether
// (and why) it will be redeployed.
func (r *jobResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return // destroy, or the provider is not configured yet (validate)
	}
	var plan jobResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, known := specFromModel(ctx, plan, &resp.Diagnostics)
	if !known || resp.Diagnostics.HasError() {
		return
	}
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil {
		return
	}
	var state jobResourceModel
	var prior resources.JobState
	exists := !req.State.Raw.IsNull()
	if exists {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		var diags diag.Diagnostics
		prior, diags = stateFromModel(ctx, state)
		resp.Diagnostics.Append(diags...)
		prior.Code = readCode(ctx, req.Private, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	var p resources.Planned
	var err error
	if exists {
		p, err = m.PlanUpdate(ctx, spec, prior)
	} else {
		p, err = m.Plan(ctx, spec)
	}
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot plan job", err)
		return
	}
	analysis, diags := analysisValue(ctx, p.Analysis)
	resp.Diagnostics.Append(diags...)
	plan.ID = types.StringValue(p.Name)
	plan.Name = types.StringValue(p.Name)
	plan.Analysis = analysis
	plan.Eligible = types.BoolValue(p.Eligible)
	plan.SourceHash = types.StringValue(p.SourceHash)
	plan.StateStore = types.StringNull()
	if p.Analysis.RequiresState {
		plan.StateStore = types.StringValue(r.data.settings.StateStore)
	}
	plan.CostThreshold, plan.LatencyThresholdMS = r.data.costThreshold, r.data.latencyThresholdMS
	for _, f := range p.Analysis.Findings {
		if f.Kind == resources.FindingForcedServerless {
			resp.Diagnostics.AddAttributeWarning(path.Root("force_serverless"), "Job deployed although not eligible", f.Message)
		}
	}

	redeploy := true
	if exists {
		why := m.Changes(prior, p)
		if !configEqual(plan, state) {
			why = append(why, "configuration changed")
		}
		redeploy = len(why) > 0
		if redeploy {
			tflog.Info(ctx, "job will be redeployed", map[string]interface{}{"job": p.Name, "reasons": why})
		}
		plan.ArtifactSHA256 = state.ArtifactSHA256
		plan.Artifacts = state.Artifacts
		plan.ArtifactStore = state.ArtifactStore
		plan.Deployments = state.Deployments
	}
	if redeploy {
		local := m.LocalKind() != ""
		plan.ArtifactStore = types.StringNull()
		if local {
			plan.ArtifactStore = types.StringValue(r.data.settings.Local.Store.URL())
		}
		if len(p.Targets) == 0 {
			// Deployed nowhere: known right away.
			plan.Deployments = types.ListValueMust(deploymentObjectType, []attr.Value{})
			if req.State.Raw.IsNull() {
				plan.ArtifactSHA256 = types.StringNull()
				plan.Artifacts = types.MapValueMust(types.StringType, map[string]attr.Value{})
			}
		} else {
			plan.Deployments = types.ListUnknown(deploymentObjectType)
			plan.ArtifactSHA256 = types.StringUnknown()
			plan.Artifacts = types.MapUnknown(types.StringType)
		}
		if local {
			// The agent's artifact is built on apply, for every job.
			plan.Artifacts = types.MapUnknown(types.StringType)
			if len(p.Targets) > 0 {
				plan.ArtifactSHA256 = types.StringUnknown()
			}
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *jobResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan jobResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, _ := specFromModel(ctx, plan, &resp.Diagnostics)
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil || resp.Diagnostics.HasError() {
		return
	}
	st, err := m.Create(ctx, spec)
	if err != nil && len(st.Deployments) == 0 {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot create job", err)
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(setComputed(ctx, &plan, st)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	writeCode(ctx, resp.Private, st.Code, &resp.Diagnostics)
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Job deployed only in part", err)
	}
}

func (r *jobResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state jobResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	prior, diags := stateFromModel(ctx, state)
	resp.Diagnostics.Append(diags...)
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil || resp.Diagnostics.HasError() {
		return
	}
	st, err := m.Read(ctx, prior)
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot read job", err)
		return
	}
	deployments, diags := deploymentsValue(ctx, st.Deployments)
	resp.Diagnostics.Append(diags...)
	state.ID = types.StringValue(st.Name)
	state.Deployments = deployments
	if state.Artifacts.IsNull() {
		// Written by a release that recorded one artifact_sha256: record it by kind.
		state.ArtifactSHA256, state.Artifacts = artifactsValue(prior.Artifacts)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *jobResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state jobResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, _ := specFromModel(ctx, plan, &resp.Diagnostics)
	prior, diags := stateFromModel(ctx, state)
	resp.Diagnostics.Append(diags...)
	prior.Code = readCode(ctx, req.Private, &resp.Diagnostics)
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil || resp.Diagnostics.HasError() {
		return
	}
	st, err := m.Update(ctx, spec, prior)
	var partial *resources.PartialError
	if err != nil && !errors.As(err, &partial) {
		// Nothing changed on any platform: keep the prior state (and the prior settings, so
		// the next plan still shows the change).
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		addErrorDiagnostics(&resp.Diagnostics, "Cannot update job", err)
		return
	}
	recorded := plan
	if partial != nil {
		// Some regions still run the prior settings: record those, so the next plan sees the
		// difference and redeploys there. With the new settings recorded, a change that only
		// touched configuration (environment, memory_mb, ...) would plan nothing.
		recorded = withSettingsOf(plan, state)
	}
	resp.Diagnostics.Append(setComputed(ctx, &recorded, st)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &recorded)...)
	writeCode(ctx, resp.Private, st.Code, &resp.Diagnostics)
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Job updated only in part", err)
	}
}

// withSettingsOf returns m with the settings that shape the deployed functions (those
// configEqual compares) taken from prior.
func withSettingsOf(m, prior jobResourceModel) jobResourceModel {
	m.ForceServerless, m.ForceLocal = prior.ForceServerless, prior.ForceLocal
	m.MemoryMB, m.TimeoutS = prior.MemoryMB, prior.TimeoutS
	m.Platforms, m.Regions = prior.Platforms, prior.Regions
	m.Environment = prior.Environment
	return m
}

func (r *jobResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state jobResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	prior, diags := stateFromModel(ctx, state)
	resp.Diagnostics.Append(diags...)
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil || resp.Diagnostics.HasError() {
		return
	}
	if err := m.Delete(ctx, prior); err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot delete job", err)
	}
}

// ImportState finds the job by name on every configured platform and region; package,
// function and source hash come back from the tags on its functions.
func (r *jobResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m := r.manager(ctx, &resp.Diagnostics)
	if m == nil {
		return
	}
	st, spec, err := m.Import(ctx, req.ID)
	if errors.Is(err, resources.ErrNotFound) {
		resp.Diagnostics.AddError("Cannot import non-existent job",
			fmt.Sprintf("No function named %q exists on any configured platform or region. Check the job name (the directive's name= or the snake_case function name) and the provider's regions.", req.ID))
		return
	}
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot import job", err)
		return
	}
	model := jobResourceModel{
		Package:         types.StringValue(spec.Package),
		Function:        types.StringValue(spec.Function),
		ForceServerless: types.BoolNull(),
		ForceLocal:      types.BoolNull(),
		MemoryMB:        types.Int64Null(),
		TimeoutS:        types.Int64Null(),
		Platforms:       types.ListNull(types.StringType),
		Regions:         types.ListNull(types.StringType),
		Environment:     types.MapNull(types.StringType),
	}
	if r.data != nil {
		model.CostThreshold, model.LatencyThresholdMS = r.data.costThreshold, r.data.latencyThresholdMS
	} else {
		model.CostThreshold, model.LatencyThresholdMS = types.Float64Null(), types.Int64Null()
	}
	resp.Diagnostics.Append(setComputed(ctx, &model, st)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
	writeCode(ctx, resp.Private, st.Code, &resp.Diagnostics)
}

// specFromModel reads the user's settings; known is false while any of them is unknown.
func specFromModel(ctx context.Context, m jobResourceModel, diags *diag.Diagnostics) (resources.JobSpec, bool) {
	for _, v := range []attr.Value{m.Package, m.Function, m.ForceServerless, m.ForceLocal, m.MemoryMB, m.TimeoutS, m.Platforms, m.Regions, m.Environment} {
		if v.IsUnknown() {
			return resources.JobSpec{}, false
		}
	}
	spec := resources.JobSpec{
		Package:         m.Package.ValueString(),
		Function:        m.Function.ValueString(),
		ForceServerless: m.ForceServerless.ValueBool(),
		ForceLocal:      m.ForceLocal.ValueBool(),
		MemoryMB:        m.MemoryMB.ValueInt64(),
		TimeoutS:        m.TimeoutS.ValueInt64(),
	}
	var known bool
	if spec.Platforms, known = stringList(ctx, m.Platforms, diags); !known {
		return spec, false
	}
	if spec.Regions, known = stringList(ctx, m.Regions, diags); !known {
		return spec, false
	}
	if !m.Environment.IsNull() {
		var env map[string]types.String
		diags.Append(m.Environment.ElementsAs(ctx, &env, false)...)
		spec.Environment = make(map[string]string, len(env))
		for k, v := range env {
			if v.IsUnknown() {
				return spec, false
			}
			spec.Environment[k] = v.ValueString()
		}
	}
	return spec, true
}

func stateFromModel(ctx context.Context, m jobResourceModel) (resources.JobState, diag.Diagnostics) {
	var diags diag.Diagnostics
	analysis, d := analysisFromValue(ctx, m.Analysis)
	diags.Append(d...)
	deployments, d := deploymentsFromValue(ctx, m.Deployments)
	diags.Append(d...)
	name := m.Name.ValueString()
	if name == "" {
		name = m.ID.ValueString()
	}
	return resources.JobState{
		Name:          name,
		Package:       m.Package.ValueString(),
		Function:      m.Function.ValueString(),
		SourceHash:    m.SourceHash.ValueString(),
		Artifacts:     artifactsFromModel(ctx, m, &diags),
		ArtifactStore: m.ArtifactStore.ValueString(),
		StateStore:    m.StateStore.ValueString(),
		Analysis:      analysis,
		Eligible:      m.Eligible.ValueBool(),
		Deployments:   deployments,
	}, diags
}

func setComputed(ctx context.Context, m *jobResourceModel, st resources.JobState) diag.Diagnostics {
	var diags diag.Diagnostics
	analysis, d := analysisValue(ctx, st.Analysis)
	diags.Append(d...)
	deployments, d := deploymentsValue(ctx, st.Deployments)
	diags.Append(d...)
	m.ID = types.StringValue(st.Name)
	m.Name = types.StringValue(st.Name)
	m.Analysis = analysis
	m.Eligible = types.BoolValue(st.Eligible)
	m.SourceHash = types.StringValue(st.SourceHash)
	m.ArtifactSHA256, m.Artifacts = artifactsValue(st.Artifacts)
	m.ArtifactStore = types.StringNull()
	if st.ArtifactStore != "" {
		m.ArtifactStore = types.StringValue(st.ArtifactStore)
	}
	m.StateStore = types.StringNull()
	if st.StateStore != "" {
		m.StateStore = types.StringValue(st.StateStore)
	}
	m.Deployments = deployments
	return diags
}

// configEqual reports whether the settings that shape the deployed functions are unchanged.
func configEqual(a, b jobResourceModel) bool {
	return a.ForceServerless.Equal(b.ForceServerless) && a.ForceLocal.Equal(b.ForceLocal) &&
		a.MemoryMB.Equal(b.MemoryMB) && a.TimeoutS.Equal(b.TimeoutS) &&
		a.Platforms.Equal(b.Platforms) && a.Regions.Equal(b.Regions) && a.Environment.Equal(b.Environment)
}

// artifactsFromModel reads the artifacts by kind; a state written before they were recorded
// by kind has only artifact_sha256, which is then the legacy kind's.
func artifactsFromModel(ctx context.Context, m jobResourceModel, diags *diag.Diagnostics) map[platform.ArtifactKind]string {
	out := map[platform.ArtifactKind]string{}
	if m.Artifacts.IsNull() || m.Artifacts.IsUnknown() {
		if sha := m.ArtifactSHA256.ValueString(); sha != "" {
			out[platform.LegacyArtifactKind] = sha
		}
		return out
	}
	var byKind map[string]string
	diags.Append(m.Artifacts.ElementsAs(ctx, &byKind, false)...)
	for k, v := range byKind {
		out[platform.ArtifactKind(k)] = v
	}
	return out
}

// artifactsValue renders the artifacts by kind, and the deprecated artifact_sha256: the hash
// when the job's platforms run exactly one kind (the agent's own native artifact aside), else
// null.
func artifactsValue(artifacts map[platform.ArtifactKind]string) (types.String, types.Map) {
	elems := make(map[string]attr.Value, len(artifacts))
	single, platformKinds := types.StringNull(), 0
	for kind, sha := range artifacts {
		elems[string(kind)] = types.StringValue(sha)
		if kind != platform.ArtifactNative {
			single = types.StringValue(sha)
			platformKinds++
		}
	}
	if platformKinds != 1 {
		single = types.StringNull()
	}
	return single, types.MapValueMust(types.StringType, elems)
}

// codeKey is the private-state key holding the parts of the job's code at the last apply
// (resources.JobState.Code): the next plan names the ones that changed. Private state keeps
// them out of plans and outputs, where a hundred lines of digests per job would only be noise.
const codeKey = "code"

// privateState is what terraform-plugin-framework's private state offers to read and write.
type privateState interface {
	GetKey(ctx context.Context, key string) ([]byte, diag.Diagnostics)
	SetKey(ctx context.Context, key string, value []byte) diag.Diagnostics
}

// readCode returns the recorded parts, nil when none were recorded (an older release, an
// import of code that differs from the disk).
func readCode(ctx context.Context, private privateState, diags *diag.Diagnostics) map[string]string {
	if private == nil {
		return nil
	}
	raw, d := private.GetKey(ctx, codeKey)
	diags.Append(d...)
	if len(raw) == 0 {
		return nil
	}
	var code map[string]string
	if err := json.Unmarshal(raw, &code); err != nil {
		// Only the change message suffers: say so in the logs and go on without it.
		tflog.Warn(ctx, "ignoring unreadable code parts in private state", map[string]interface{}{"error": err.Error()})
		return nil
	}
	return code
}

func writeCode(ctx context.Context, private privateState, code map[string]string, diags *diag.Diagnostics) {
	if private == nil || code == nil {
		return
	}
	raw, err := json.Marshal(code)
	if err != nil {
		diags.AddError("Cannot record the job's code parts", err.Error())
		return
	}
	diags.Append(private.SetKey(ctx, codeKey, raw)...)
}
