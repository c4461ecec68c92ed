package manifest

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// PulumiResourceType is the Pulumi type token of a job.
const PulumiResourceType = "blueprint:index:Job"

// pulumiSecretSig marks a secret value in a stack export (Pulumi's resource.SecretSig).
const pulumiSecretSig = "1b47061264138c4ac30d75fd1eb44270"

// pulumiExport is the part of `pulumi stack export` (checkpoint version 3) Blueprint reads.
type pulumiExport struct {
	Version    int `json:"version"`
	Deployment *struct {
		Resources []pulumiResource `json:"resources"`
	} `json:"deployment"`
}

type pulumiResource struct {
	URN     string          `json:"urn"`
	Custom  bool            `json:"custom"`
	Delete  bool            `json:"delete"` // pending deletion after a replace
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Outputs json.RawMessage `json:"outputs"`
}

// pulumiJob mirrors blueprint:index:Job's outputs (provider/pulumi): the Terraform attribute
// names in camelCase.
type pulumiJob struct {
	Name               string             `json:"name"`
	Package            string             `json:"package"`
	Function           string             `json:"function"`
	ForceServerless    bool               `json:"forceServerless"`
	ForceLocal         bool               `json:"forceLocal"`
	MemoryMb           int64              `json:"memoryMb"`
	TimeoutS           int64              `json:"timeoutS"`
	Environment        map[string]string  `json:"environment"`
	Analysis           pulumiAnalysis     `json:"analysis"`
	Eligible           bool               `json:"eligible"`
	SourceHash         string             `json:"sourceHash"`
	Artifacts          map[string]string  `json:"artifacts"`
	ArtifactStore      string             `json:"artifactStore"`
	StateStore         string             `json:"stateStore"`
	Deployments        []pulumiDeployment `json:"deployments"`
	CostThreshold      *float64           `json:"costThreshold"`
	LatencyThresholdMs int64              `json:"latencyThresholdMs"`
}

type pulumiAnalysis struct {
	Name          string   `json:"name"`
	Function      string   `json:"function"`
	Pure          bool     `json:"pure"`
	Deterministic bool     `json:"deterministic"`
	RequiresState bool     `json:"requiresState"`
	NetworkCalls  []string `json:"networkCalls"`
	MaxDurationMs int64    `json:"maxDurationMs"`
	MemoryMb      int64    `json:"memoryMb"`
	TimeoutMs     int64    `json:"timeoutMs"`
	Mode          string   `json:"mode"`
	Eligible      bool     `json:"eligible"`
	InputType     string   `json:"inputType"`
	OutputType    string   `json:"outputType"`
	Findings      []struct {
		Kind     string   `json:"kind"`
		Message  string   `json:"message"`
		Position string   `json:"position"`
		Chain    []string `json:"chain"`
	} `json:"findings"`
}

type pulumiDeployment struct {
	Platform   string `json:"platform"`
	Region     string `json:"region"`
	FunctionID string `json:"functionId"`
	Version    string `json:"version"`
	Endpoint   string `json:"endpoint"`
	CodeSha256 string `json:"codeSha256"`
}

// parsePulumiExport reads the output of `pulumi stack export` and returns the manifest of its
// blueprint:index:Job resources. Secrets must be in plain text (`--show-secrets`): a job's
// environment is secret, and the agent needs it for local runs.
func parsePulumiExport(data []byte) (*Manifest, error) {
	var ex pulumiExport
	if err := json.Unmarshal(data, &ex); err != nil {
		return nil, fmt.Errorf("reading Pulumi stack export: not valid JSON (%v)", err)
	}
	if ex.Version != 3 {
		return nil, fmt.Errorf("reading Pulumi stack export: checkpoint version %d is not supported; Blueprint reads version 3 (`pulumi stack export` of Pulumi 3)", ex.Version)
	}
	m := &Manifest{Version: Version, Jobs: []Job{}}
	if ex.Deployment == nil {
		return m, nil // a stack never deployed
	}
	seen := map[string]string{}
	for _, r := range ex.Deployment.Resources {
		if r.Type != PulumiResourceType || !r.Custom || r.Delete {
			continue
		}
		outputs, err := revealSecrets(r.Outputs)
		if err != nil {
			return nil, fmt.Errorf("reading Pulumi stack export: %s: %w", r.URN, err)
		}
		var pj pulumiJob
		if err := json.Unmarshal(outputs, &pj); err != nil {
			return nil, fmt.Errorf("reading Pulumi stack export: outputs of %s: %v", r.URN, err)
		}
		j := pj.job()
		if j.Name == "" {
			j.Name = r.ID
		}
		if j.Name == "" {
			return nil, fmt.Errorf("reading Pulumi stack export: %s has no name or id; run `pulumi up` again", r.URN)
		}
		if prev, dup := seen[j.Name]; dup {
			return nil, fmt.Errorf("reading Pulumi stack export: job name %q is used by both %s and %s; give one of them another name", j.Name, prev, r.URN)
		}
		seen[j.Name] = r.URN
		for i, d := range j.Deployments {
			if d.Platform == "" || d.Region == "" {
				return nil, fmt.Errorf("reading Pulumi stack export: deployment %d of %s lacks a platform or region; run `pulumi up` again", i, r.URN)
			}
		}
		m.Jobs = append(m.Jobs, j)
	}
	return m, nil
}

func (pj pulumiJob) job() Job {
	a := pj.Analysis
	j := Job{
		Name: pj.Name, Package: pj.Package, Function: pj.Function, SourceHash: pj.SourceHash,
		Artifacts: map[platform.ArtifactKind]string{}, ArtifactStore: pj.ArtifactStore, StateStore: pj.StateStore,
		Eligible: pj.Eligible, ForceServerless: pj.ForceServerless, ForceLocal: pj.ForceLocal,
		MemoryMB: pj.MemoryMb, TimeoutS: pj.TimeoutS, Environment: pj.Environment,
		CostThreshold: pj.CostThreshold, LatencyThresholdMS: pj.LatencyThresholdMs,
		Deployments: []platform.Deployment{},
		Analysis: job.Analysis{
			Name: a.Name, Function: a.Function, Pure: a.Pure, Deterministic: a.Deterministic,
			RequiresState: a.RequiresState, NetworkCalls: a.NetworkCalls, MaxDurationMS: a.MaxDurationMs,
			MemoryMB: a.MemoryMb, TimeoutMS: a.TimeoutMs, Mode: a.Mode, Eligible: a.Eligible,
			InputType: a.InputType, OutputType: a.OutputType,
		},
	}
	for k, v := range pj.Artifacts {
		j.Artifacts[platform.ArtifactKind(k)] = v
	}
	for _, f := range a.Findings {
		j.Analysis.Findings = append(j.Analysis.Findings, job.Finding{Kind: f.Kind, Message: f.Message, Position: f.Position, Chain: f.Chain})
	}
	for _, d := range pj.Deployments {
		j.Deployments = append(j.Deployments, platform.Deployment{Platform: d.Platform, Region: d.Region,
			FunctionID: d.FunctionID, Version: d.Version, Endpoint: d.Endpoint, CodeSHA256: d.CodeSha256})
	}
	return j
}

// errEncryptedSecret is a secret the export holds encrypted.
var errEncryptedSecret = errors.New("its outputs hold encrypted secrets (the job's environment): export the stack with `pulumi stack export --show-secrets` so the agent can run the job with its environment")

// revealSecrets replaces every secret envelope ({"<sig>": "<secret sig>", "plaintext": "<JSON>"})
// with the value it holds; an encrypted one ("ciphertext") is an error saying how to export.
func revealSecrets(raw json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	v, err := reveal(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func reveal(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if t["4dabf18193072939515e22adb298388d"] == pulumiSecretSig {
			plain, ok := t["plaintext"].(string)
			if !ok {
				return nil, errEncryptedSecret
			}
			var inner any
			if err := json.Unmarshal([]byte(plain), &inner); err != nil {
				return nil, fmt.Errorf("a secret's plaintext is not JSON: %v", err)
			}
			return reveal(inner)
		}
		for k, e := range t {
			r, err := reveal(e)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
		return t, nil
	case []any:
		for i, e := range t {
			r, err := reveal(e)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
		return t, nil
	}
	return v, nil
}
