package terraform

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/serverless-blueprint/blueprint/platform"
)

// The provider has one block per registered platform, made from the platform's settings, so a
// new platform gets its block without a change here.

// platformBlock is the schema of a platform's block.
func platformBlock(d platform.Descriptor) schema.Block {
	attrs := map[string]schema.Attribute{}
	for _, s := range d.Settings {
		desc := s.Description
		if s.EnvDefault != "" {
			desc += fmt.Sprintf(" When unset, the environment variable `%s` is read.", s.EnvDefault)
		}
		if s.Required {
			desc += " Required when the platform is used."
		}
		switch s.Type {
		case platform.String:
			attrs[s.Name] = schema.StringAttribute{Optional: true, Sensitive: s.Sensitive, MarkdownDescription: desc}
		case platform.StringMap:
			attrs[s.Name] = schema.MapAttribute{ElementType: types.StringType, Optional: true, Sensitive: s.Sensitive, MarkdownDescription: desc}
		case platform.StringList:
			attrs[s.Name] = schema.ListAttribute{ElementType: types.StringType, Optional: true, Sensitive: s.Sensitive, MarkdownDescription: desc}
		case platform.Bool:
			attrs[s.Name] = schema.BoolAttribute{Optional: true, Sensitive: s.Sensitive, MarkdownDescription: desc}
		case platform.Int:
			attrs[s.Name] = schema.Int64Attribute{Optional: true, Sensitive: s.Sensitive, MarkdownDescription: desc}
		}
	}
	return schema.SingleNestedBlock{MarkdownDescription: d.Description, Attributes: attrs}
}

// platformBlockValue is what the configuration holds for one platform's block.
type platformBlockValue struct {
	present  bool              // the block is in the configuration
	settings platform.Settings // the settings whose values are known
	unknown  []string          // settings whose values are known only after apply
}

// readPlatformBlock reads a platform's block from the provider configuration.
func readPlatformBlock(ctx context.Context, cfg tfsdk.Config, d platform.Descriptor, diags *diag.Diagnostics) platformBlockValue {
	var obj types.Object
	diags.Append(cfg.GetAttribute(ctx, path.Root(d.Name), &obj)...)
	if obj.IsNull() {
		return platformBlockValue{}
	}
	out := platformBlockValue{present: true, settings: platform.Settings{}}
	if obj.IsUnknown() {
		out.unknown = platform.SettingNames(d.Settings)
		return out
	}
	attrs := obj.Attributes()
	for _, s := range d.Settings {
		v, ok := attrs[s.Name]
		if !ok || v.IsNull() {
			continue
		}
		if v.IsUnknown() || hasUnknownElement(v) {
			out.unknown = append(out.unknown, s.Name)
			continue
		}
		switch s.Type {
		case platform.String:
			out.settings[s.Name] = v.(types.String).ValueString()
		case platform.Bool:
			out.settings[s.Name] = v.(types.Bool).ValueBool()
		case platform.Int:
			out.settings[s.Name] = v.(types.Int64).ValueInt64()
		case platform.StringMap:
			m := map[string]string{}
			diags.Append(v.(types.Map).ElementsAs(ctx, &m, false)...)
			out.settings[s.Name] = m
		case platform.StringList:
			var l []string
			diags.Append(v.(types.List).ElementsAs(ctx, &l, false)...)
			out.settings[s.Name] = l
		}
	}
	return out
}

func hasUnknownElement(v attr.Value) bool {
	var elems []attr.Value
	switch c := v.(type) {
	case types.Map:
		for _, e := range c.Elements() {
			elems = append(elems, e)
		}
	case types.List:
		elems = c.Elements()
	}
	for _, e := range elems {
		if e.IsUnknown() {
			return true
		}
	}
	return false
}

// addSettingErrors turns a platform's own findings into diagnostics on its block's attributes.
func addSettingErrors(diags *diag.Diagnostics, platformName string, errs []*platform.SettingError) {
	for _, e := range errs {
		p := path.Root(platformName).AtName(e.Setting)
		if e.MapKey != "" {
			p = p.AtMapKey(e.MapKey)
		}
		diags.AddAttributeError(p, fmt.Sprintf("Invalid %s setting", platformName), platformName+"."+e.Error())
	}
}
