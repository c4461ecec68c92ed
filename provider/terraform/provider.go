package terraform

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
	"github.com/serverless-blueprint/blueprint/resources"
)

// TokenEnv is read when the wasm block sets no token; `blueprint host` reads the same variable.
const TokenEnv = "BLUEPRINT_HOST_TOKEN"

var (
	_ provider.Provider                   = (*blueprintProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*blueprintProvider)(nil)
)

// supportedPlatforms are the platform blocks this provider build understands.
var supportedPlatforms = []string{wasm.PlatformName}

// New returns a constructor for the provider, as providerserver and tests want it.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &blueprintProvider{version: version} }
}

type blueprintProvider struct {
	version string
}

type providerModel struct {
	Platforms          types.List    `tfsdk:"platforms"`
	Regions            types.List    `tfsdk:"regions"`
	CostThreshold      types.Float64 `tfsdk:"cost_threshold"`
	LatencyThresholdMS types.Int64   `tfsdk:"latency_threshold_ms"`
	WASM               *wasmModel    `tfsdk:"wasm"`
}

type wasmModel struct {
	Hosts types.Map    `tfsdk:"hosts"`
	Token types.String `tfsdk:"token"`
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
	resp.Schema = schema.Schema{
		MarkdownDescription: "Blueprint deploys plain Go job functions to serverless platforms. Each `blueprint_job` is analyzed at plan time; eligible jobs are built once per platform and deployed to every configured region, and the runtime agent routes each execution from what is recorded in the state.",
		Attributes: map[string]schema.Attribute{
			"platforms": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "Platforms a job is deployed to when it names none. Defaults to `[\"wasm\"]`. Each needs its block below.",
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
		},
		Blocks: map[string]schema.Block{
			"wasm": schema.SingleNestedBlock{
				MarkdownDescription: "The embedded WebAssembly platform: one `blueprint host` endpoint per region (no cloud account needed).",
				Attributes: map[string]schema.Attribute{
					"hosts": schema.MapAttribute{
						ElementType:         types.StringType,
						Optional:            true,
						MarkdownDescription: "Base URL of the `blueprint host` serving each region, keyed by region name, e.g. `{ \"local-a\" = \"http://127.0.0.1:8701\" }`.",
					},
					"token": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "Token the hosts require for their admin API. Defaults to the environment variable `" + TokenEnv + "`.",
					},
				},
			},
		},
	}
}

func (p *blueprintProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	platforms, known := stringList(ctx, cfg.Platforms, &resp.Diagnostics)
	if known {
		for i, name := range platforms {
			if !contains(supportedPlatforms, name) {
				resp.Diagnostics.AddAttributeError(path.Root("platforms").AtListIndex(i), "Unknown platform",
					fmt.Sprintf("Platform %q is not supported by this provider. Use one of: %s.", name, strings.Join(supportedPlatforms, ", ")))
			}
		}
	}
	if !cfg.CostThreshold.IsNull() && !cfg.CostThreshold.IsUnknown() {
		if v := cfg.CostThreshold.ValueFloat64(); v < 0 || v > 1 {
			resp.Diagnostics.AddAttributeError(path.Root("cost_threshold"), "Cost threshold out of range",
				fmt.Sprintf("cost_threshold is %g; set a ratio between 0 and 1.", v))
		}
	}
	if !cfg.LatencyThresholdMS.IsNull() && !cfg.LatencyThresholdMS.IsUnknown() && cfg.LatencyThresholdMS.ValueInt64() < 0 {
		resp.Diagnostics.AddAttributeError(path.Root("latency_threshold_ms"), "Negative latency threshold",
			fmt.Sprintf("latency_threshold_ms is %d; set zero or a positive number of milliseconds.", cfg.LatencyThresholdMS.ValueInt64()))
	}
	if cfg.WASM == nil || cfg.WASM.Hosts.IsUnknown() {
		return
	}
	hosts := map[string]string{}
	if !cfg.WASM.Hosts.IsNull() {
		resp.Diagnostics.Append(cfg.WASM.Hosts.ElementsAs(ctx, &hosts, false)...)
	}
	for region, url := range hosts {
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			resp.Diagnostics.AddAttributeError(path.Root("wasm").AtName("hosts").AtMapKey(region), "Invalid host URL",
				fmt.Sprintf("The host of region %q is %q; set a URL starting with http:// or https://, e.g. http://127.0.0.1:8701.", region, url))
		}
	}
	regions, known := stringList(ctx, cfg.Regions, &resp.Diagnostics)
	if known && (len(platforms) == 0 || contains(platforms, wasm.PlatformName)) {
		for i, r := range regions {
			if _, ok := hosts[r]; !ok {
				resp.Diagnostics.AddAttributeError(path.Root("regions").AtListIndex(i), "Region has no host",
					fmt.Sprintf("Region %q is listed in regions but the wasm block has no host for it. Add %q = \"http://...\" to wasm.hosts, or remove the region. Configured: %s.",
						r, r, strings.Join(sortedKeys(hosts), ", ")))
			}
		}
	}
}

func (p *blueprintProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	platforms, known := stringList(ctx, cfg.Platforms, &resp.Diagnostics)
	regions, regionsKnown := stringList(ctx, cfg.Regions, &resp.Diagnostics)
	if !known || !regionsKnown {
		resp.Diagnostics.AddError("Provider configuration not known yet",
			"platforms and regions depend on values known only after apply; set them to constants so jobs can be planned.")
		return
	}
	if len(platforms) == 0 {
		platforms = []string{wasm.PlatformName}
	}
	deployers := map[string]platform.Deployer{}
	if contains(platforms, wasm.PlatformName) {
		d, ok := p.configureWASM(ctx, cfg.WASM, resp)
		if !ok {
			return
		}
		deployers[wasm.PlatformName] = d
	}
	tflog.Debug(ctx, "configured blueprint provider", map[string]interface{}{
		"platforms": platforms, "regions": regions, "cost_threshold": cfg.CostThreshold.ValueFloat64(),
		"latency_threshold_ms": cfg.LatencyThresholdMS.ValueInt64(),
	})
	data := &providerData{settings: resources.Settings{
		Platforms: platforms,
		Regions:   regions,
		Deployers: deployers,
		Analyzer:  analyzer.New(),
	}, costThreshold: types.Float64Null(), latencyThresholdMS: types.Int64Null()}
	if !cfg.CostThreshold.IsNull() && !cfg.CostThreshold.IsUnknown() {
		data.costThreshold = cfg.CostThreshold
	}
	if !cfg.LatencyThresholdMS.IsNull() && !cfg.LatencyThresholdMS.IsUnknown() {
		data.latencyThresholdMS = cfg.LatencyThresholdMS
	}
	if _, err := data.manager(ctx); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("regions"), "Invalid provider configuration", err.Error())
		return
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *blueprintProvider) configureWASM(ctx context.Context, m *wasmModel, resp *provider.ConfigureResponse) (platform.Deployer, bool) {
	if m == nil || m.Hosts.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("wasm"), "Missing wasm hosts",
			"The wasm platform is used but the provider has no wasm block with hosts. Add wasm { hosts = { \"local-a\" = \"http://127.0.0.1:8701\" } }.")
		return nil, false
	}
	if m.Hosts.IsUnknown() || m.Token.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("wasm"), "wasm block not known yet",
			"wasm.hosts and wasm.token must be known at plan time; set them to constants or variables.")
		return nil, false
	}
	hosts := map[string]string{}
	resp.Diagnostics.Append(m.Hosts.ElementsAs(ctx, &hosts, false)...)
	if len(hosts) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("wasm").AtName("hosts"), "No wasm hosts",
			"wasm.hosts is empty; add one host URL per region.")
		return nil, false
	}
	token := m.Token.ValueString()
	if token == "" {
		token = os.Getenv(TokenEnv)
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("wasm").AtName("token"), "Missing host token",
			"The hosts require a token. Set wasm.token or the environment variable "+TokenEnv+" (blueprint host prints the one it generated at start).")
		return nil, false
	}
	client, err := wasm.NewClient(wasm.Config{
		Hosts: hosts, Token: token,
		// Uploads of a few MB and waits for compilation fit well within this.
		HTTPClient: &http.Client{Timeout: 5 * time.Minute},
	})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("wasm").AtName("hosts"), "Invalid wasm platform configuration", err.Error())
		return nil, false
	}
	return client, true
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
