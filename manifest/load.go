package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Load reads the manifest from source: a local path (or file:// URL) to a terraform.tfstate,
// the output of `terraform show -json` or of `pulumi stack export --show-secrets`, or a
// manifest JSON file. Object stores (s3://, gs://) are read with OpenRemote.
func Load(ctx context.Context, source string) (*Manifest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := localPath(source)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("loading manifest: %s does not exist; give the path of terraform.tfstate (run `terraform apply` first)", path)
		}
		return nil, fmt.Errorf("loading manifest: %w", err)
	}
	defer f.Close()
	m, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	m.Source = path
	return m, nil
}

func localPath(source string) (string, error) {
	if source == "" {
		return "", errors.New("loading manifest: no source given; pass the path of terraform.tfstate")
	}
	scheme, _, found := strings.Cut(source, "://")
	if !found {
		return source, nil
	}
	switch strings.ToLower(scheme) {
	case "file":
		u, err := url.Parse(source)
		if err != nil || u.Path == "" {
			return "", fmt.Errorf("loading manifest: %q is not a valid file URL; use file:///absolute/path", source)
		}
		return u.Path, nil
	case "s3", "gs":
		return "", fmt.Errorf("loading manifest: %s:// sources are read through manifest/remote (the runtime agent does), not Load", scheme)
	default:
		return "", fmt.Errorf("loading manifest: unknown source scheme %q; pass a local path", scheme)
	}
}

// Decode reads any of the formats Load accepts, telling them apart by their top-level keys:
// "manifest_version" (a manifest), "format_version" (`terraform show -json`), "deployment"
// (`pulumi stack export`) or "version" (terraform.tfstate).
func Decode(r io.Reader) (*Manifest, error) {
	data, err := readAllBounded(r)
	if err != nil {
		return nil, err
	}
	var probe struct {
		ManifestVersion *int            `json:"manifest_version"`
		FormatVersion   *string         `json:"format_version"`
		Version         json.RawMessage `json:"version"`
		Deployment      json.RawMessage `json:"deployment"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("reading manifest: not valid JSON (%v); expected a terraform.tfstate, `terraform show -json` output, `pulumi stack export --show-secrets` output or a Blueprint manifest", err)
	}
	switch {
	case probe.ManifestVersion != nil:
		return parseManifest(data, *probe.ManifestVersion)
	case probe.FormatVersion != nil:
		return parseTerraformShow(data)
	case probe.Deployment != nil:
		return parsePulumiExport(data)
	case probe.Version != nil:
		return parseTerraformState(data)
	default:
		return nil, errors.New("reading manifest: the JSON has none of manifest_version, format_version, deployment or version; expected a terraform.tfstate, `terraform show -json` output, `pulumi stack export --show-secrets` output or a Blueprint manifest")
	}
}

func parseManifest(data []byte, version int) (*Manifest, error) {
	if version != Version {
		return nil, fmt.Errorf("reading manifest: manifest_version %d is not supported; this agent reads version %d: upgrade the agent", version, Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("reading manifest: %v", err)
	}
	seen := map[string]bool{}
	for i, j := range m.Jobs {
		if j.Name == "" {
			return nil, fmt.Errorf("reading manifest: job %d has no name", i)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("reading manifest: job name %q appears twice; job names must be unique", j.Name)
		}
		seen[j.Name] = true
	}
	if m.Jobs == nil {
		m.Jobs = []Job{}
	}
	return &m, nil
}

// tfShow is the part of `terraform show -json` output that Blueprint reads.
type tfShow struct {
	Values *struct {
		RootModule tfShowModule `json:"root_module"`
	} `json:"values"`
}

type tfShowModule struct {
	Address   string `json:"address"`
	Resources []struct {
		Address string          `json:"address"`
		Mode    string          `json:"mode"`
		Type    string          `json:"type"`
		Values  json.RawMessage `json:"values"`
	} `json:"resources"`
	ChildModules []tfShowModule `json:"child_modules"`
}

func parseTerraformShow(data []byte) (*Manifest, error) {
	var s tfShow
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reading `terraform show -json` output: %v", err)
	}
	m := &Manifest{Version: Version, Jobs: []Job{}}
	if s.Values == nil {
		return m, nil // an empty state: nothing applied yet
	}
	seen := map[string]string{}
	var walk func(mod tfShowModule) error
	walk = func(mod tfShowModule) error {
		for _, res := range mod.Resources {
			if res.Mode != "managed" || res.Type != ResourceType {
				continue
			}
			j, err := jobFromAttributes(res.Address, res.Values)
			if err != nil {
				return err
			}
			if prev, dup := seen[j.Name]; dup {
				return fmt.Errorf("reading Terraform state: job name %q is used by both %s and %s; give one of them another name", j.Name, prev, res.Address)
			}
			seen[j.Name] = res.Address
			m.Jobs = append(m.Jobs, j)
		}
		for _, child := range mod.ChildModules {
			if err := walk(child); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(s.Values.RootModule); err != nil {
		return nil, err
	}
	return m, nil
}
