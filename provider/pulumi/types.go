package pulumi

import (
	"maps"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// The property names below are the camelCase of the Terraform attribute names (and of the
// analysis JSON): the runtime agent reads them back from a stack export (manifest/pulumi.go).

// Analysis is what the analyzer found out about a job.
type Analysis struct {
	Name          string    `pulumi:"name"`
	Function      string    `pulumi:"function"`
	Pure          bool      `pulumi:"pure"`
	Deterministic bool      `pulumi:"deterministic"`
	RequiresState bool      `pulumi:"requiresState"`
	NetworkCalls  []string  `pulumi:"networkCalls"`
	MaxDurationMs int       `pulumi:"maxDurationMs"`
	MemoryMb      int       `pulumi:"memoryMb"`
	TimeoutMs     int       `pulumi:"timeoutMs"`
	Mode          string    `pulumi:"mode"`
	Eligible      bool      `pulumi:"eligible"`
	InputType     string    `pulumi:"inputType"`
	OutputType    string    `pulumi:"outputType"`
	Findings      []Finding `pulumi:"findings"`
}

// Annotate describes the analysis in the schema.
func (a *Analysis) Annotate(an infer.Annotator) {
	an.Describe(&a.Pure, "No side effects the analysis can see: no writes outside the job's own memory, no I/O but its input and output.")
	an.Describe(&a.Deterministic, "The same input gives the same output (no clock, randomness or map-order dependence reaching the output).")
	an.Describe(&a.RequiresState, "The job keeps state through job.State, kept in the provider's stateStore.")
	an.Describe(&a.NetworkCalls, "Hosts the job calls; \"*\" when a host is not a constant.")
	an.Describe(&a.Eligible, "Whether the analysis finds the job fit for serverless.")
	an.Describe(&a.Findings, "Why the job is or is not eligible, with the call chain to each effect.")
}

// Finding is one reason behind a job's analysis.
type Finding struct {
	Kind     string   `pulumi:"kind"`
	Message  string   `pulumi:"message"`
	Position string   `pulumi:"position"`
	Chain    []string `pulumi:"chain"`
}

// Deployment is one function of the job on one platform and region.
type Deployment struct {
	Platform   string `pulumi:"platform"`
	Region     string `pulumi:"region"`
	FunctionId string `pulumi:"functionId"` //nolint:revive // Pulumi's property name
	Version    string `pulumi:"version"`
	Endpoint   string `pulumi:"endpoint"`
	CodeSha256 string `pulumi:"codeSha256"`
}

func analysisOf(a job.Analysis) Analysis {
	out := Analysis{
		Name: a.Name, Function: a.Function, Pure: a.Pure, Deterministic: a.Deterministic,
		RequiresState: a.RequiresState, NetworkCalls: a.NetworkCalls,
		MaxDurationMs: int(a.MaxDurationMS), MemoryMb: int(a.MemoryMB), TimeoutMs: int(a.TimeoutMS),
		Mode: a.Mode, Eligible: a.Eligible, InputType: a.InputType, OutputType: a.OutputType,
		Findings: make([]Finding, len(a.Findings)),
	}
	if out.NetworkCalls == nil {
		out.NetworkCalls = []string{}
	}
	for i, f := range a.Findings {
		out.Findings[i] = Finding{Kind: f.Kind, Message: f.Message, Position: f.Position, Chain: f.Chain}
		if out.Findings[i].Chain == nil {
			out.Findings[i].Chain = []string{}
		}
	}
	return out
}

func (a Analysis) job() job.Analysis {
	out := job.Analysis{
		Name: a.Name, Function: a.Function, Pure: a.Pure, Deterministic: a.Deterministic,
		RequiresState: a.RequiresState, NetworkCalls: a.NetworkCalls,
		MaxDurationMS: int64(a.MaxDurationMs), MemoryMB: int64(a.MemoryMb), TimeoutMS: int64(a.TimeoutMs),
		Mode: a.Mode, Eligible: a.Eligible, InputType: a.InputType, OutputType: a.OutputType,
	}
	for _, f := range a.Findings {
		out.Findings = append(out.Findings, job.Finding{Kind: f.Kind, Message: f.Message, Position: f.Position, Chain: f.Chain})
	}
	return out
}

func deploymentsOf(deps []platform.Deployment) []Deployment {
	out := make([]Deployment, len(deps))
	for i, d := range deps {
		out[i] = Deployment{Platform: d.Platform, Region: d.Region, FunctionId: d.FunctionID, Version: d.Version, Endpoint: d.Endpoint, CodeSha256: d.CodeSHA256}
	}
	return out
}

func (d Deployment) platform() platform.Deployment {
	return platform.Deployment{Platform: d.Platform, Region: d.Region, FunctionID: d.FunctionId, Version: d.Version, Endpoint: d.Endpoint, CodeSHA256: d.CodeSha256}
}

func artifactsOf(byKind map[platform.ArtifactKind]string) map[string]string {
	out := make(map[string]string, len(byKind))
	for k, v := range byKind {
		out[string(k)] = v
	}
	return out
}

func artifactsByKind(m map[string]string) map[platform.ArtifactKind]string {
	out := make(map[platform.ArtifactKind]string, len(m))
	for k, v := range m {
		out[platform.ArtifactKind(k)] = v
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}
