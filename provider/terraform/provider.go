package terraform

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/builtin"
	"github.com/serverless-blueprint/blueprint/resources"
)

var (
	_ provider.Provider                   = (*blueprintProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*blueprintProvider)(nil)
)

// New returns a constructor for the provider with the platforms built into this release, as
// providerserver and tests want it.
func New(version string) func() provider.Provider {
	return NewWithPlatforms(version, builtin.Registry())
}

// NewWithPlatforms returns a constructor for a provider with the given platforms: one block
// each, and the only names `platforms` accepts. Tests plug in platforms of their own.
func NewWithPlatforms(version string, registry *platform.Registry) func() provider.Provider {
	return func() provider.Provider { return &blueprintProvider{version: version, registry: registry} }
}

type blueprintProvider struct {
	version  string
	registry *platform.Registry
}

// providerSettings are the provider's own attributes; each platform's block is read through
// its descriptor (platform_blocks.go).
type providerSettings struct {
	Platforms          types.List    `tfsdk:"platforms"`
	Regions            types.List    `tfsdk:"regions"`
	CostThreshold      types.Float64 `tfsdk:"cost_threshold"`
	LatencyThresholdMS types.Int64   `tfsdk:"latency_threshold_ms"`
	ArtifactStore      types.String  `tfsdk:"artifact_store"`
	AgentOSArch        types.String  `tfsdk:"agent_os_arch"`
	StateStore         types.String  `tfsdk:"state_store"`
}

// providerData is what Configure hands to resources and data sources.
type providerData struct {
	settings resources.Settings
	// Routing settings of the provider block, copied into every blueprint_job so that the
	// runtime agent, which reads only the state, gets them. Null when unset.
	costThreshold      types.Float64
	latencyThresholdMS types.Int64
}

// manager builds a lifecycle manager whose progress lines go to tflog with this request's context.
func (d *providerData) manager(ctx context.Context) (*resources.Manager, error) {
	s := d.settings
	s.Logger = newTFLogger(ctx)
	return resources.NewManager(s)
}

func (p *blueprintProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "blueprint"
	resp.Version = p.version
}

func (p *blueprintProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	blocks := map[string]schema.Block{}
	for _, d := range p.registry.Descriptors() {
		blocks[d.Name] = platformBlock(d)
	}
	names := "`" + strings.Join(p.registry.Names(), "`, `") + "`"
	resp.Schema = schema.Schema{
		MarkdownDescription: "Blueprint deploys plain Go job functions to serverless platforms. Each `blueprint_job` is analyzed at plan time; eligible jobs are built once per platform and deployed to every configured region, and the runtime agent routes each execution from what is recorded in the state.",
		Attributes: map[string]schema.Attribute{
			"platforms": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Platforms a job is deployed to when it names none: any of " + names + ". Each needs its block below, and every block present must be listed. Defaults to the platforms whose blocks are present.",
			},
			"regions": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Regions a job is deployed to when it names none. Defaults to every region of the platform blocks. Each region must have a host (or endpoint) in every platform block used.",
			},
			"cost_threshold": schema.Float64Attribute{
				Optional:            true,
				MarkdownDescription: "Routing policy for the runtime agent: the cost ratio (serverless over VM, from 0 to 1) under which an execution is offloaded (unset: when serverless is cheaper at all). Copied into every `blueprint_job` so the agent reads it from the state; checked here so a typo fails at plan time.",
			},
			"latency_threshold_ms": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Routing policy for the runtime agent: the expected latency gain, in milliseconds, above which an execution is offloaded (unset or 0: latency alone never offloads). Copied into every `blueprint_job` so the agent reads it from the state; checked here so a typo fails at plan time.",
			},
			"artifact_store": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Where the native bootstrap of every job is kept for the runtime agent, which runs it on the VM: an absolute directory or `file:///dir` the agent can read. Defaults to `blueprint/artifact-store` in the user cache directory of the machine that applies (right when the agent runs there too). Recorded in each `blueprint_job`.",
			},
			"state_store": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Where stateful jobs (a `job.State` parameter) keep their state, the same store wherever they run: `sqlite:///path/state.db`, a file the agent and the `blueprint host`s of this machine share; `dynamodb://TABLE?region=REGION` (add `&endpoint=URL` for a stand-in), a table the agent, the hosts and the jobs' Lambda functions share, created on the first deploy of a stateful job to `aws_lambda`; or `firestore://PROJECT/COLLECTION`, a collection the agent, the hosts, the Cloud Functions and (with `aws_lambda`'s `gcp_credentials_config`) the Lambda functions share. Defaults to `blueprint/state.db` in the user data directory (`$XDG_DATA_HOME`, else `~/.local/share`). A stateful job is deployed only where its store can be reached. Recorded in each stateful `blueprint_job`.",
			},
			"agent_os_arch": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Operating system and architecture of the VMs the runtime agent runs on, as `GOOS/GOARCH` (e.g. `linux/arm64`): the native bootstrap is built for them. Defaults to the machine that applies.",
			},
		},
		Blocks: blocks,
	}
}

// platformConfig is the provider configuration as far as platforms go.
type platformConfig struct {
	listed       []string // the platforms attribute; nil when unset
	listedKnown  bool
	blocks       map[string]platformBlockValue // every registered platform whose block is present
	regions      []string
	regionsKnown bool
}

// used lists the platforms jobs deploy to by default: those listed, else those configured.
func (c platformConfig) used() []string {
	if c.listed != nil {
		return c.listed
	}
	return slices.Sorted(maps.Keys(c.blocks))
}

func (p *blueprintProvider) readPlatformConfig(ctx context.Context, cfg tfsdk.Config, s providerSettings, diags *diag.Diagnostics) platformConfig {
	c := platformConfig{blocks: map[string]platformBlockValue{}}
	c.listed, c.listedKnown = stringList(ctx, s.Platforms, diags)
	c.regions, c.regionsKnown = stringList(ctx, s.Regions, diags)
	for _, d := range p.registry.Descriptors() {
		if b := readPlatformBlock(ctx, cfg, d, diags); b.present {
			c.blocks[d.Name] = b
		}
	}
	return c
}

// checkPlatforms reports, against the attribute to fix: platforms this build lacks, platforms
// listed without a block, blocks whose platform is not listed, settings a platform refuses,
// and regions a used platform has no host or endpoint for.
func (p *blueprintProvider) checkPlatforms(c platformConfig, diags *diag.Diagnostics) {
	if c.listedKnown {
		for i, name := range c.listed {
			if _, ok := p.registry.Lookup(name); !ok {
				diags.AddAttributeError(path.Root("platforms").AtListIndex(i), "Unknown platform",
					fmt.Sprintf("Platform %q is not supported by this provider. Use one of: %s.", name, strings.Join(p.registry.Names(), ", ")))
			} else if _, ok := c.blocks[name]; !ok {
				diags.AddAttributeError(path.Root("platforms").AtListIndex(i), "Platform listed but not configured",
					fmt.Sprintf("Platform %q is listed in platforms but the provider has no %s block. Add a %s { ... } block with its settings, or remove %q from platforms.", name, name, name, name))
			}
		}
		if c.listed != nil {
			for _, name := range slices.Sorted(maps.Keys(c.blocks)) {
				if !slices.Contains(c.listed, name) {
					diags.AddAttributeError(path.Root(name), "Platform configured but not listed",
						fmt.Sprintf("The provider has a %s block but platforms does not list %q. Add %q to platforms, or remove the %s block.", name, name, name, name))
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.blocks)) {
		d, _ := p.registry.Lookup(name)
		if d.Validate != nil {
			addSettingErrors(diags, name, d.Validate(c.blocks[name].settings))
		}
	}
	if !c.regionsKnown || !c.listedKnown {
		return
	}
	for _, name := range c.used() {
		d, ok := p.registry.Lookup(name)
		b := c.blocks[name]
		if !ok || !b.present || d.Regions == nil || len(b.unknown) > 0 {
			continue
		}
		have := d.Regions(b.settings)
		for i, r := range c.regions {
			if !slices.Contains(have, r) {
				diags.AddAttributeError(path.Root("regions").AtListIndex(i), "Region has no host",
					fmt.Sprintf("Region %q is listed in regions but the %s block has no host or endpoint for it. Add it to the %s block, or remove the region. Configured: %s.",
						r, name, name, strings.Join(have, ", ")))
			}
		}
	}
}

func (p *blueprintProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var s providerSettings
	resp.Diagnostics.Append(getProviderSettings(ctx, req.Config, &s)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := p.readPlatformConfig(ctx, req.Config, s, &resp.Diagnostics)
	p.checkPlatforms(c, &resp.Diagnostics)
	checkRouting(s, &resp.Diagnostics)
	if !s.ArtifactStore.IsUnknown() && !s.AgentOSArch.IsUnknown() {
		localArtifact(s, &resp.Diagnostics)
	}
	if !s.StateStore.IsUnknown() {
		stateStoreURL(s, &resp.Diagnostics)
	}
}

// stateStoreURL is the provider's state store, checked: state_store, else the default.
func stateStoreURL(s providerSettings, diags *diag.Diagnostics) string {
	url, err := resources.StateStoreURL(s.StateStore.ValueString())
	if err != nil {
		summary := "Invalid state store"
		if s.StateStore.ValueString() == "" {
			summary = "No state store"
		}
		diags.AddAttributeError(path.Root("state_store"), summary, err.Error())
		return ""
	}
	return url
}

// getProviderSettings reads the provider's own attributes (not the platform blocks).
func getProviderSettings(ctx context.Context, cfg tfsdk.Config, s *providerSettings) diag.Diagnostics {
	var diags diag.Diagnostics
	diags.Append(cfg.GetAttribute(ctx, path.Root("platforms"), &s.Platforms)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("regions"), &s.Regions)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("cost_threshold"), &s.CostThreshold)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("latency_threshold_ms"), &s.LatencyThresholdMS)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("artifact_store"), &s.ArtifactStore)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("agent_os_arch"), &s.AgentOSArch)...)
	diags.Append(cfg.GetAttribute(ctx, path.Root("state_store"), &s.StateStore)...)
	return diags
}

// localArtifact is the native bootstrap every job gets for the agent, from artifact_store and
// agent_os_arch (resources.LocalArtifactAt, shared with the Pulumi provider).
func localArtifact(s providerSettings, diags *diag.Diagnostics) *resources.LocalArtifact {
	local, err := resources.LocalArtifactAt(s.ArtifactStore.ValueString(), s.AgentOSArch.ValueString())
	switch {
	case err == nil:
	case strings.HasPrefix(err.Error(), "agent_os_arch"):
		diags.AddAttributeError(path.Root("agent_os_arch"), "Invalid agent_os_arch", err.Error()+".")
	default:
		diags.AddAttributeError(path.Root("artifact_store"), "Invalid artifact store", err.Error())
	}
	return local
}

func checkRouting(s providerSettings, diags *diag.Diagnostics) {
	if !s.CostThreshold.IsNull() && !s.CostThreshold.IsUnknown() {
		if v := s.CostThreshold.ValueFloat64(); v < 0 || v > 1 {
			diags.AddAttributeError(path.Root("cost_threshold"), "Cost threshold out of range",
				fmt.Sprintf("cost_threshold is %g; set a ratio between 0 and 1.", v))
		}
	}
	if !s.LatencyThresholdMS.IsNull() && !s.LatencyThresholdMS.IsUnknown() && s.LatencyThresholdMS.ValueInt64() < 0 {
		diags.AddAttributeError(path.Root("latency_threshold_ms"), "Negative latency threshold",
			fmt.Sprintf("latency_threshold_ms is %d; set zero or a positive number of milliseconds.", s.LatencyThresholdMS.ValueInt64()))
	}
}

func (p *blueprintProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var s providerSettings
	resp.Diagnostics.Append(getProviderSettings(ctx, req.Config, &s)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := p.readPlatformConfig(ctx, req.Config, s, &resp.Diagnostics)
	if !c.listedKnown || !c.regionsKnown {
		resp.Diagnostics.AddError("Provider configuration not known yet",
			"platforms and regions depend on values known only after apply; set them to constants so jobs can be planned.")
		return
	}
	p.checkPlatforms(c, &resp.Diagnostics)
	if s.ArtifactStore.IsUnknown() || s.AgentOSArch.IsUnknown() || s.StateStore.IsUnknown() {
		resp.Diagnostics.AddError("Provider configuration not known yet",
			"artifact_store, agent_os_arch and state_store depend on values known only after apply; set them to constants or variables.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	local := localArtifact(s, &resp.Diagnostics)
	stateStore := stateStoreURL(s, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	used := c.used()
	if len(used) == 0 {
		resp.Diagnostics.AddError("No platform configured",
			fmt.Sprintf("The provider has no platform block. Add one of: %s (for example wasm { hosts = { \"local-a\" = \"http://127.0.0.1:8701\" } }).", strings.Join(p.registry.Names(), ", ")))
		return
	}
	deployers := map[string]platform.Deployer{}
	for _, name := range used {
		d, _ := p.registry.Lookup(name)
		dep, ok := configurePlatform(d, c.blocks[name], &resp.Diagnostics)
		if !ok {
			return
		}
		deployers[name] = dep
	}
	tflog.Debug(ctx, "configured blueprint provider", map[string]interface{}{
		"platforms": used, "regions": c.regions, "cost_threshold": s.CostThreshold.ValueFloat64(),
		"latency_threshold_ms": s.LatencyThresholdMS.ValueInt64(),
	})
	// Terraform configures the provider once per plan or apply walk: what the run cache
	// remembers lives exactly as long as one walk, shared by every resource and data source.
	run := resources.NewRunCache(analyzer.New(), nil)
	data := &providerData{settings: resources.Settings{
		Platforms:  c.listed,
		Regions:    c.regions,
		Registry:   p.registry,
		Deployers:  deployers,
		Analyzer:   run,
		SourceHash: run.SourceHash,
		Local:      local,
		StateStore: stateStore,
		// Next to the artifacts: one place per configuration that outlives the process.
		CreateJournalDir: resources.CreateJournalDir(local),
	}, costThreshold: types.Float64Null(), latencyThresholdMS: types.Int64Null()}
	if !s.CostThreshold.IsNull() && !s.CostThreshold.IsUnknown() {
		data.costThreshold = s.CostThreshold
	}
	if !s.LatencyThresholdMS.IsNull() && !s.LatencyThresholdMS.IsUnknown() {
		data.latencyThresholdMS = s.LatencyThresholdMS
	}
	if _, err := data.manager(ctx); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("regions"), "Invalid provider configuration", err.Error())
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// configurePlatform builds a platform's deployer from its block, once every setting is known,
// required ones are set (from the environment if need be) and the platform accepts them.
func configurePlatform(d platform.Descriptor, b platformBlockValue, diags *diag.Diagnostics) (platform.Deployer, bool) {
	if len(b.unknown) > 0 {
		diags.AddAttributeError(path.Root(d.Name), d.Name+" block not known yet",
			fmt.Sprintf("%s must be known at plan time; set them to constants or variables.", d.Name+"."+strings.Join(b.unknown, ", "+d.Name+".")))
		return nil, false
	}
	settings, missing := platform.Resolve(d.Settings, b.settings, nil)
	for _, e := range missing {
		s, _ := platform.FindSetting(d.Settings, e.Setting)
		detail := fmt.Sprintf("The %s platform needs %s.%s: set it in the %s block", d.Name, d.Name, s.Name, d.Name)
		if s.EnvDefault != "" {
			detail += " or in the environment variable " + s.EnvDefault
		}
		diags.AddAttributeError(path.Root(d.Name).AtName(s.Name), fmt.Sprintf("Missing %s.%s", d.Name, s.Name), detail+".")
	}
	if len(missing) > 0 {
		return nil, false
	}
	if d.Validate != nil {
		if errs := d.Validate(settings); len(errs) > 0 {
			addSettingErrors(diags, d.Name, errs)
			return nil, false
		}
	}
	dep, err := d.NewDeployer(settings)
	if err != nil {
		diags.AddAttributeError(path.Root(d.Name), fmt.Sprintf("Invalid %s platform configuration", d.Name), err.Error())
		return nil, false
	}
	return dep, true
}

func (p *blueprintProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{newJobResource}
}

func (p *blueprintProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newJobsDataSource}
}

// stringList reads a list of strings; known is false when the list itself or an element is unknown.
func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) ([]string, bool) {
	if l.IsUnknown() {
		return nil, false
	}
	if l.IsNull() {
		return nil, true
	}
	var out []types.String
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	strs := make([]string, 0, len(out))
	for _, s := range out {
		if s.IsUnknown() {
			return nil, false
		}
		strs = append(strs, s.ValueString())
	}
	return strs, true
}
