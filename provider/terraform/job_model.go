package terraform

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// The nested attribute names below are the JSON field names of job.Analysis and
// platform.Deployment: the runtime agent reads them back from terraform.tfstate.

var findingAttrTypes = map[string]attr.Type{
	"kind":     types.StringType,
	"message":  types.StringType,
	"position": types.StringType,
	"chain":    types.ListType{ElemType: types.StringType},
}

var analysisAttrTypes = map[string]attr.Type{
	"name":            types.StringType,
	"function":        types.StringType,
	"pure":            types.BoolType,
	"deterministic":   types.BoolType,
	"requires_state":  types.BoolType,
	"network_calls":   types.ListType{ElemType: types.StringType},
	"max_duration_ms": types.Int64Type,
	"memory_mb":       types.Int64Type,
	"timeout_ms":      types.Int64Type,
	"mode":            types.StringType,
	"eligible":        types.BoolType,
	"input_type":      types.StringType,
	"output_type":     types.StringType,
	"findings":        types.ListType{ElemType: types.ObjectType{AttrTypes: findingAttrTypes}},
}

var deploymentAttrTypes = map[string]attr.Type{
	"platform":    types.StringType,
	"region":      types.StringType,
	"function_id": types.StringType,
	"version":     types.StringType,
	"endpoint":    types.StringType,
	"code_sha256": types.StringType,
}

var deploymentObjectType = types.ObjectType{AttrTypes: deploymentAttrTypes}

type findingModel struct {
	Kind     string   `tfsdk:"kind"`
	Message  string   `tfsdk:"message"`
	Position string   `tfsdk:"position"`
	Chain    []string `tfsdk:"chain"`
}

type analysisModel struct {
	Name          string         `tfsdk:"name"`
	Function      string         `tfsdk:"function"`
	Pure          bool           `tfsdk:"pure"`
	Deterministic bool           `tfsdk:"deterministic"`
	RequiresState bool           `tfsdk:"requires_state"`
	NetworkCalls  []string       `tfsdk:"network_calls"`
	MaxDurationMS int64          `tfsdk:"max_duration_ms"`
	MemoryMB      int64          `tfsdk:"memory_mb"`
	TimeoutMS     int64          `tfsdk:"timeout_ms"`
	Mode          string         `tfsdk:"mode"`
	Eligible      bool           `tfsdk:"eligible"`
	InputType     string         `tfsdk:"input_type"`
	OutputType    string         `tfsdk:"output_type"`
	Findings      []findingModel `tfsdk:"findings"`
}

type deploymentModel struct {
	Platform   string `tfsdk:"platform"`
	Region     string `tfsdk:"region"`
	FunctionID string `tfsdk:"function_id"`
	Version    string `tfsdk:"version"`
	Endpoint   string `tfsdk:"endpoint"`
	CodeSHA256 string `tfsdk:"code_sha256"`
}

// analysisValue converts an analysis to its Terraform object. Lists are always empty rather
// than null, so state does not flip between the two and cause perpetual diffs.
func analysisValue(ctx context.Context, a job.Analysis) (types.Object, diag.Diagnostics) {
	m := analysisModel{
		Name: a.Name, Function: a.Function, Pure: a.Pure, Deterministic: a.Deterministic,
		RequiresState: a.RequiresState, NetworkCalls: nonNil(a.NetworkCalls),
		MaxDurationMS: a.MaxDurationMS, MemoryMB: a.MemoryMB, TimeoutMS: a.TimeoutMS,
		Mode: a.Mode, Eligible: a.Eligible, InputType: a.InputType, OutputType: a.OutputType,
		Findings: make([]findingModel, 0, len(a.Findings)),
	}
	for _, f := range a.Findings {
		m.Findings = append(m.Findings, findingModel{Kind: f.Kind, Message: f.Message, Position: f.Position, Chain: nonNil(f.Chain)})
	}
	return types.ObjectValueFrom(ctx, analysisAttrTypes, m)
}

func analysisFromValue(ctx context.Context, o types.Object) (job.Analysis, diag.Diagnostics) {
	if o.IsNull() || o.IsUnknown() {
		return job.Analysis{}, nil
	}
	var m analysisModel
	diags := o.As(ctx, &m, basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true})
	a := job.Analysis{
		Name: m.Name, Function: m.Function, Pure: m.Pure, Deterministic: m.Deterministic,
		RequiresState: m.RequiresState, NetworkCalls: m.NetworkCalls, MaxDurationMS: m.MaxDurationMS,
		MemoryMB: m.MemoryMB, TimeoutMS: m.TimeoutMS, Mode: m.Mode, Eligible: m.Eligible,
		InputType: m.InputType, OutputType: m.OutputType,
	}
	for _, f := range m.Findings {
		a.Findings = append(a.Findings, job.Finding{Kind: f.Kind, Message: f.Message, Position: f.Position, Chain: f.Chain})
	}
	return a, diags
}

func deploymentsValue(ctx context.Context, ds []platform.Deployment) (types.List, diag.Diagnostics) {
	ms := make([]deploymentModel, 0, len(ds))
	for _, d := range ds {
		ms = append(ms, deploymentModel{Platform: d.Platform, Region: d.Region, FunctionID: d.FunctionID,
			Version: d.Version, Endpoint: d.Endpoint, CodeSHA256: d.CodeSHA256})
	}
	return types.ListValueFrom(ctx, deploymentObjectType, ms)
}

func deploymentsFromValue(ctx context.Context, l types.List) ([]platform.Deployment, diag.Diagnostics) {
	if l.IsNull() || l.IsUnknown() {
		return nil, nil
	}
	var ms []deploymentModel
	diags := l.ElementsAs(ctx, &ms, false)
	out := make([]platform.Deployment, 0, len(ms))
	for _, m := range ms {
		out = append(out, platform.Deployment{Platform: m.Platform, Region: m.Region, FunctionID: m.FunctionID,
			Version: m.Version, Endpoint: m.Endpoint, CodeSHA256: m.CodeSHA256})
	}
	return out, diags
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
