package terraform

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/serverless-blueprint/blueprint/analyzer"
)

var (
	_ datasource.DataSource              = (*jobsDataSource)(nil)
	_ datasource.DataSourceWithConfigure = (*jobsDataSource)(nil)
)

func newJobsDataSource() datasource.DataSource { return &jobsDataSource{} }

type jobsDataSource struct {
	analyzer analyzer.Analyzer
}

type jobsDataSourceModel struct {
	Package     types.String `tfsdk:"package"`
	PackageName types.String `tfsdk:"package_name"`
	Jobs        types.List   `tfsdk:"jobs"`
}

func (d *jobsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_jobs"
}

func (d *jobsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Every `//blueprint:job` function of a Go package with its analysis, e.g. to create one `blueprint_job` per job with `for_each`.",
		Attributes: map[string]schema.Attribute{
			"package": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Directory of the Go package to analyze.",
			},
			"package_name": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "Import path of the package.",
			},
			"jobs": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "One analysis per job, in source order.",
				NestedObject:        schema.NestedAttributeObject{Attributes: analysisDataSourceAttributes()},
			},
		},
	}
}

func (d *jobsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("The blueprint provider handed over %T; this is a bug in the provider, please report it.", req.ProviderData))
		return
	}
	d.analyzer = data.settings.Analyzer
}

func (d *jobsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m jobsDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	an := d.analyzer
	if an == nil {
		// Analysis needs no platform, so the data source works even before the provider
		// has a platform block.
		an = analyzer.New()
	}
	dir := m.Package.ValueString()
	tflog.Debug(ctx, "analyzing package", map[string]interface{}{"package": dir})
	pkg, err := an.Analyze(ctx, dir)
	if err != nil {
		addErrorDiagnostics(&resp.Diagnostics, "Cannot analyze package", fmt.Errorf("analyzing package %s: %w", dir, err))
		return
	}
	jobs := make([]attr.Value, 0, len(pkg.Jobs))
	for _, a := range pkg.Jobs {
		v, diags := analysisValue(ctx, a)
		resp.Diagnostics.Append(diags...)
		jobs = append(jobs, v)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: analysisAttrTypes}, jobs)
	resp.Diagnostics.Append(diags...)
	m.PackageName = types.StringValue(pkg.Package)
	m.Jobs = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
