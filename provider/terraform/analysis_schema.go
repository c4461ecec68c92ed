package terraform

import (
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// analysisDocs describes each analysis field once, for the resource and the data source.
var analysisDocs = map[string]string{
	"name":            "Job name.",
	"function":        "Go function name.",
	"pure":            "No effect beyond the return value, over everything the job can reach. Only pure (or idempotent) jobs are retried, hedged, batched or memoized.",
	"deterministic":   "Same input, same output (no clock, randomness, environment, file or network reads, no unsorted map order in the output).",
	"requires_state":  "Reads or writes mutable package-level state, or takes `job.State`.",
	"network_calls":   "Hosts the job calls; `*` when a host is not a constant.",
	"max_duration_ms": "Profiled maximum duration in milliseconds, with a safety factor.",
	"memory_mb":       "Memory limit in MB (profiled, or `memory_mb` when set).",
	"timeout_ms":      "Time limit per execution in milliseconds (or `timeout_s` when set).",
	"mode":            "`auto`, `local` or `serverless`.",
	"eligible":        "Whether the job can run serverless (nothing that only exists on the VM).",
	"input_type":      "Go type of the job input.",
	"output_type":     "Go type of the job output.",
	"findings":        "Reasons behind the labels.",
	"kind":            "Kind of finding, e.g. `file_write`, `clock`, `global_write`, `default_profile`, `forced_serverless`.",
	"message":         "What was found and what to do about it.",
	"position":        "Where, as `file:line:col`.",
	"chain":           "Calls from the job to the effect, job first.",
}

func analysisResourceAttributes() map[string]rschema.Attribute {
	str := func(n string) rschema.Attribute {
		return rschema.StringAttribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	boolean := func(n string) rschema.Attribute {
		return rschema.BoolAttribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	num := func(n string) rschema.Attribute {
		return rschema.Int64Attribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	strs := func(n string) rschema.Attribute {
		return rschema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: analysisDocs[n]}
	}
	return map[string]rschema.Attribute{
		"name": str("name"), "function": str("function"), "pure": boolean("pure"),
		"deterministic": boolean("deterministic"), "requires_state": boolean("requires_state"),
		"network_calls": strs("network_calls"), "max_duration_ms": num("max_duration_ms"),
		"memory_mb": num("memory_mb"), "timeout_ms": num("timeout_ms"), "mode": str("mode"),
		"eligible": boolean("eligible"), "input_type": str("input_type"), "output_type": str("output_type"),
		"findings": rschema.ListNestedAttribute{
			Computed:            true,
			MarkdownDescription: analysisDocs["findings"],
			NestedObject: rschema.NestedAttributeObject{Attributes: map[string]rschema.Attribute{
				"kind": str("kind"), "message": str("message"), "position": str("position"), "chain": strs("chain"),
			}},
		},
	}
}

func analysisDataSourceAttributes() map[string]dschema.Attribute {
	str := func(n string) dschema.Attribute {
		return dschema.StringAttribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	boolean := func(n string) dschema.Attribute {
		return dschema.BoolAttribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	num := func(n string) dschema.Attribute {
		return dschema.Int64Attribute{Computed: true, MarkdownDescription: analysisDocs[n]}
	}
	strs := func(n string) dschema.Attribute {
		return dschema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: analysisDocs[n]}
	}
	return map[string]dschema.Attribute{
		"name": str("name"), "function": str("function"), "pure": boolean("pure"),
		"deterministic": boolean("deterministic"), "requires_state": boolean("requires_state"),
		"network_calls": strs("network_calls"), "max_duration_ms": num("max_duration_ms"),
		"memory_mb": num("memory_mb"), "timeout_ms": num("timeout_ms"), "mode": str("mode"),
		"eligible": boolean("eligible"), "input_type": str("input_type"), "output_type": str("output_type"),
		"findings": dschema.ListNestedAttribute{
			Computed:            true,
			MarkdownDescription: analysisDocs["findings"],
			NestedObject: dschema.NestedAttributeObject{Attributes: map[string]dschema.Attribute{
				"kind": str("kind"), "message": str("message"), "position": str("position"), "chain": strs("chain"),
			}},
		},
	}
}
