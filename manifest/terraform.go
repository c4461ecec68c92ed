package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// ResourceType is the Terraform resource type whose instances are jobs.
const ResourceType = "blueprint_job"

// MaxStateBytes bounds how much of a state file is read: real states with hundreds of jobs
// stay far below it, and it keeps a wrong path (a disk image, a log) from eating memory.
const MaxStateBytes = 256 << 20

// tfState is the part of a terraform.tfstate (format version 4) that Blueprint reads.
type tfState struct {
	Version   *int         `json:"version"`
	Serial    int64        `json:"serial"`
	Resources []tfResource `json:"resources"`
}

type tfResource struct {
	Module    string       `json:"module"` // "module.a.module.b" for resources inside modules
	Mode      string       `json:"mode"`   // "managed" or "data"
	Type      string       `json:"type"`
	Name      string       `json:"name"`
	Instances []tfInstance `json:"instances"`
}

type tfInstance struct {
	IndexKey   json.RawMessage `json:"index_key"` // string (for_each) or number (count); absent otherwise
	Attributes json.RawMessage `json:"attributes"`
}

// jobAttributes mirrors the blueprint_job schema. Pointers and json.Number because optional
// attributes are null in state when unset.
type jobAttributes struct {
	ID              *string               `json:"id"`
	Name            *string               `json:"name"`
	Package         *string               `json:"package"`
	Function        *string               `json:"function"`
	ForceServerless *bool                 `json:"force_serverless"`
	ForceLocal      *bool                 `json:"force_local"`
	MemoryMB        *json.Number          `json:"memory_mb"`
	TimeoutS        *json.Number          `json:"timeout_s"`
	Environment     map[string]string     `json:"environment"`
	Analysis        *job.Analysis         `json:"analysis"`
	Eligible        *bool                 `json:"eligible"`
	SourceHash      *string               `json:"source_hash"`
	ArtifactSHA256  *string               `json:"artifact_sha256"` // the only hash states before artifacts had
	Artifacts       map[string]string     `json:"artifacts"`
	ArtifactStore   *string               `json:"artifact_store"`
	StateStore      *string               `json:"state_store"`
	Deployments     []platform.Deployment `json:"deployments"`
	// The provider's routing settings, copied into each job for the agent.
	CostThreshold      *float64     `json:"cost_threshold"`
	LatencyThresholdMS *json.Number `json:"latency_threshold_ms"`
}

// ReadTerraformState reads a terraform.tfstate (format version 4) and returns the manifest of its
// blueprint_job resources. Other resource types and data sources are ignored.
func ReadTerraformState(r io.Reader) (*Manifest, error) {
	data, err := readAllBounded(r)
	if err != nil {
		return nil, err
	}
	return parseTerraformState(data)
}

func parseTerraformState(data []byte) (*Manifest, error) {
	var st tfState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("reading Terraform state: not valid JSON (%v); give the path of a terraform.tfstate file", err)
	}
	if st.Version == nil {
		return nil, errors.New(`reading Terraform state: no "version" field; this does not look like a terraform.tfstate file`)
	}
	if *st.Version != 4 {
		return nil, fmt.Errorf("reading Terraform state: format version %d is not supported; Blueprint reads version 4 (written by Terraform 0.12 and later): run `terraform apply` with a current Terraform to upgrade it", *st.Version)
	}
	m := &Manifest{Version: Version, Serial: st.Serial, Jobs: []Job{}}
	seen := map[string]string{} // job name -> resource address, to name both sides of a duplicate
	for _, res := range st.Resources {
		if res.Mode != "managed" || res.Type != ResourceType {
			continue
		}
		for _, inst := range res.Instances {
			addr := instanceAddress(res, inst.IndexKey)
			j, err := jobFromAttributes(addr, inst.Attributes)
			if err != nil {
				return nil, err
			}
			if prev, dup := seen[j.Name]; dup {
				return nil, fmt.Errorf("reading Terraform state: job name %q is used by both %s and %s; give one of them another name", j.Name, prev, addr)
			}
			seen[j.Name] = addr
			m.Jobs = append(m.Jobs, j)
		}
	}
	return m, nil
}

func jobFromAttributes(addr string, raw json.RawMessage) (Job, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Job{}, fmt.Errorf("reading Terraform state: %s has no attributes; run `terraform apply` again", addr)
	}
	var a jobAttributes
	if err := json.Unmarshal(raw, &a); err != nil {
		return Job{}, fmt.Errorf("reading Terraform state: attributes of %s: %v", addr, err)
	}
	j := Job{
		Name:            str(a.Name),
		Package:         str(a.Package),
		Function:        str(a.Function),
		SourceHash:      str(a.SourceHash),
		Artifacts:       artifactsByKind(a.Artifacts, str(a.ArtifactSHA256)),
		ArtifactStore:   str(a.ArtifactStore),
		StateStore:      str(a.StateStore),
		Eligible:        a.Eligible != nil && *a.Eligible,
		ForceServerless: a.ForceServerless != nil && *a.ForceServerless,
		ForceLocal:      a.ForceLocal != nil && *a.ForceLocal,
		Environment:     a.Environment,
		Deployments:     a.Deployments,
	}
	if j.Name == "" {
		j.Name = str(a.ID) // id is the job name; older states may lack the computed name
	}
	if j.Name == "" {
		return Job{}, fmt.Errorf("reading Terraform state: %s has no name or id; run `terraform apply` again", addr)
	}
	if a.Analysis != nil {
		j.Analysis = *a.Analysis
	}
	var err error
	if j.MemoryMB, err = wholeNumber(a.MemoryMB); err != nil {
		return Job{}, fmt.Errorf("reading Terraform state: memory_mb of %s: %v", addr, err)
	}
	if j.TimeoutS, err = wholeNumber(a.TimeoutS); err != nil {
		return Job{}, fmt.Errorf("reading Terraform state: timeout_s of %s: %v", addr, err)
	}
	j.CostThreshold = a.CostThreshold
	if j.LatencyThresholdMS, err = wholeNumber(a.LatencyThresholdMS); err != nil {
		return Job{}, fmt.Errorf("reading Terraform state: latency_threshold_ms of %s: %v", addr, err)
	}
	if j.Deployments == nil {
		j.Deployments = []platform.Deployment{}
	}
	for i, d := range j.Deployments {
		if d.Platform == "" || d.Region == "" {
			return Job{}, fmt.Errorf("reading Terraform state: deployment %d of %s lacks a platform or region; run `terraform apply` again", i, addr)
		}
	}
	return j, nil
}

// instanceAddress renders the resource instance address the way Terraform prints it, so errors
// point at something a user can grep for in `terraform state list`.
func instanceAddress(res tfResource, key json.RawMessage) string {
	addr := res.Type + "." + res.Name
	if res.Module != "" {
		addr = res.Module + "." + addr
	}
	if len(key) > 0 && string(key) != "null" {
		addr += "[" + string(bytes.TrimSpace(key)) + "]"
	}
	return addr
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func wholeNumber(n *json.Number) (int64, error) {
	if n == nil {
		return 0, nil
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(*n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%s is not a whole number", *n)
	}
	return int64(f), nil
}

func readAllBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxStateBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest source: %w", err)
	}
	if len(data) > MaxStateBytes {
		return nil, fmt.Errorf("reading manifest source: larger than %d MiB; is this really a state file?", MaxStateBytes>>20)
	}
	return data, nil
}

// artifactsByKind reads the artifacts attribute; a state written before it existed has only
// artifact_sha256, which was then always the legacy kind's (the only kind those releases built).
func artifactsByKind(byKind map[string]string, legacy string) map[platform.ArtifactKind]string {
	out := map[platform.ArtifactKind]string{}
	for k, v := range byKind {
		if v != "" {
			out[platform.ArtifactKind(k)] = v
		}
	}
	if byKind == nil && legacy != "" {
		out[platform.LegacyArtifactKind] = legacy
	}
	return out
}
