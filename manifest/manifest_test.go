package manifest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

func readFixture(t *testing.T, name string) (*Manifest, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadTerraformState(f)
}

func TestReadTerraformState_basic(t *testing.T) {
	m, err := readFixture(t, "basic.tfstate")
	if err != nil {
		t.Fatalf("ReadTerraformState: %v", err)
	}
	if m.Version != Version || m.Serial != 7 {
		t.Errorf("version/serial = %d/%d, want %d/7", m.Version, m.Serial, Version)
	}
	var names []string
	for _, j := range m.Jobs {
		names = append(names, j.Name)
	}
	// The data source and the terraform_data resource are not jobs.
	if want := []string{"resize", "tally", "audit"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("jobs = %v, want %v", names, want)
	}

	resize, ok := m.Job("resize")
	if !ok {
		t.Fatal("Job(resize) not found")
	}
	wantDeployments := []platform.Deployment{
		{Platform: "wasm", Region: "local-a", FunctionID: "resize", Version: "1", Endpoint: "http://127.0.0.1:8701", CodeSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		{Platform: "wasm", Region: "local-b", FunctionID: "resize", Version: "3", Endpoint: "http://127.0.0.1:8702", CodeSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	}
	if !reflect.DeepEqual(resize.Deployments, wantDeployments) {
		t.Errorf("deployments = %+v\nwant %+v", resize.Deployments, wantDeployments)
	}
	if !resize.Eligible || !resize.Analysis.Pure || resize.Analysis.TimeoutMS != 3000 || resize.Package != "./jobs" || resize.Function != "Resize" {
		t.Errorf("resize parsed wrong: %+v", resize)
	}
	if resize.SourceHash != "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" || resize.Artifact(platform.ArtifactWASM) == "" {
		t.Errorf("hashes parsed wrong: %q %q", resize.SourceHash, resize.Artifacts)
	}
	if len(resize.Analysis.Findings) != 1 || resize.Analysis.Findings[0].Kind != "default_profile" {
		t.Errorf("findings = %+v", resize.Analysis.Findings)
	}
	// Nulls for optional attributes mean "not set": the analysis decides.
	if resize.Mode() != job.ModeAuto || resize.EffectiveMemoryMB() != 128 || resize.EffectiveTimeout() != 3*time.Second {
		t.Errorf("effective settings: mode %q memory %d timeout %v", resize.Mode(), resize.EffectiveMemoryMB(), resize.EffectiveTimeout())
	}

	tally, _ := m.Job("tally")
	if tally.EffectiveMemoryMB() != 512 || tally.EffectiveTimeout() != 10*time.Second {
		t.Errorf("overrides not applied: memory %d timeout %v", tally.EffectiveMemoryMB(), tally.EffectiveTimeout())
	}
	if tally.Environment["API_KEY"] != "s3cr3t" || !tally.Analysis.RequiresState || tally.Analysis.NetworkCalls[0] != "api.example.com" {
		t.Errorf("tally parsed wrong: %+v", tally)
	}

	audit, _ := m.Job("audit")
	if audit.Eligible || audit.Mode() != job.ModeLocal || len(audit.Deployments) != 0 || audit.Deployments == nil {
		t.Errorf("audit: eligible %v mode %q deployments %#v", audit.Eligible, audit.Mode(), audit.Deployments)
	}
	if _, ok := m.Job("nope"); ok {
		t.Error("Job(nope) found")
	}
}

func TestReadTerraformState_errors(t *testing.T) {
	tests := []struct {
		fixture string
		want    []string // substrings the error must contain, so the user knows what to fix
	}{
		{"version3.tfstate", []string{"format version 3", "version 4"}},
		{"duplicate.tfstate", []string{`"resize"`, "blueprint_job.first", "blueprint_job.second"}},
		{"not-json.tfstate", []string{"not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			_, err := readFixture(t, tt.fixture)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadTerraformState_badAttributes(t *testing.T) {
	tests := map[string]struct {
		attrs string
		want  string
	}{
		"no name":            {`{"package":"./x"}`, "has no name or id"},
		"fractional memory":  {`{"name":"a","memory_mb":1.5}`, "memory_mb"},
		"deployment lacking": {`{"name":"a","deployments":[{"platform":"wasm"}]}`, "lacks a platform or region"},
		"wrong type":         {`{"name":"a","eligible":"yes"}`, "attributes of blueprint_job.x[0]"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			state := `{"version":4,"serial":1,"resources":[{"mode":"managed","type":"blueprint_job","name":"x","instances":[{"index_key":0,"attributes":` + tt.attrs + `}]}]}`
			_, err := ReadTerraformState(strings.NewReader(state))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestReadTerraformState_idFallbackAndWholeFloat(t *testing.T) {
	state := `{"version":4,"serial":1,"resources":[{"mode":"managed","type":"blueprint_job","name":"x","instances":[{"attributes":{"id":"legacy","memory_mb":256.0}}]}]}`
	m, err := ReadTerraformState(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	if m.Jobs[0].Name != "legacy" || m.Jobs[0].MemoryMB != 256 {
		t.Fatalf("got %+v", m.Jobs[0])
	}
}

// TestReadTerraformState_routingSettings: the provider's routing settings copied into a job
// reach the manifest; absent ones stay unset.
func TestReadTerraformState_routingSettings(t *testing.T) {
	state := `{"version":4,"serial":1,"resources":[{"mode":"managed","type":"blueprint_job","name":"x","instances":[
	  {"attributes":{"id":"tuned","cost_threshold":0.5,"latency_threshold_ms":40}},
	  {"attributes":{"id":"plain","cost_threshold":null,"latency_threshold_ms":null}}]}]}`
	m, err := ReadTerraformState(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	tuned, plain := m.Jobs[0], m.Jobs[1]
	if tuned.CostThreshold == nil || *tuned.CostThreshold != 0.5 || tuned.LatencyThresholdMS != 40 {
		t.Fatalf("tuned: %+v", tuned)
	}
	if plain.CostThreshold != nil || plain.LatencyThresholdMS != 0 {
		t.Fatalf("plain: %+v", plain)
	}
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	m, err := Load(ctx, filepath.Join("testdata", "basic.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(m.Source) || !strings.HasSuffix(m.Source, "basic.tfstate") || len(m.Jobs) != 3 {
		t.Errorf("source %q jobs %d", m.Source, len(m.Jobs))
	}

	abs, _ := filepath.Abs(filepath.Join("testdata", "empty.tfstate"))
	m, err = Load(ctx, "file://"+abs)
	if err != nil || len(m.Jobs) != 0 || m.Jobs == nil || m.Serial != 1 {
		t.Errorf("file URL: %+v, %v", m, err)
	}

	for source, want := range map[string]string{
		"s3://bucket/terraform.tfstate": "s3:// sources are read through manifest/remote",
		"gs://bucket/terraform.tfstate": "gs:// sources are read through manifest/remote",
		"ftp://host/x":                  "unknown source scheme",
		"":                              "no source given",
		"testdata/missing.tfstate":      "does not exist",
		"testdata/not-json.tfstate":     "not valid JSON",
	} {
		if _, err := Load(ctx, source); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load(%q) error = %v, want %q", source, err, want)
		}
	}
}

func TestDecode_terraformShow(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "show.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Jobs) != 2 || m.Jobs[0].Name != "resize" || m.Jobs[1].Name != "tally" {
		t.Fatalf("jobs = %+v", m.Jobs)
	}
	if len(m.Jobs[0].Deployments) != 1 || m.Jobs[0].Deployments[0].Endpoint != "http://127.0.0.1:8701" || m.Jobs[1].Mode() != job.ModeLocal {
		t.Errorf("parsed wrong: %+v", m.Jobs)
	}
}

func TestDecode_manifestRoundTrip(t *testing.T) {
	orig, err := readFixture(t, "basic.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, orig) {
		t.Errorf("round trip changed the manifest:\n got %+v\nwant %+v", got, orig)
	}

	for doc, want := range map[string]string{
		`{"manifest_version":2,"jobs":[]}`:                          "manifest_version 2 is not supported",
		`{"manifest_version":1,"jobs":[{"name":"a"},{"name":"a"}]}`: `"a" appears twice`,
		`{"manifest_version":1,"jobs":[{}]}`:                        "job 0 has no name",
		`{"hello":"world"}`:                                         "none of manifest_version",
	} {
		if _, err := Decode(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%s) error = %v, want %q", doc, err, want)
		}
	}
}

// release-dc74a02.tfstate was written by `terraform apply` of examples/terraform/quickstart
// with the provider of commit dc74a02, the last release that recorded one artifact_sha256 per
// job. The agent of this release must route from it without a new apply: the hash becomes the
// job's wasm artifact (the only kind that release built), and nothing else is lost.
func TestReadTerraformState_releaseWithOneArtifactHash(t *testing.T) {
	m, err := readFixture(t, "release-dc74a02.tfstate")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Jobs) != 2 {
		t.Fatalf("jobs = %d, want 2", len(m.Jobs))
	}
	want := map[string]string{
		"resize_image": "8ef24f0ad074e6d6808f40c6af13fafddc2294743bd91109c87221ae94e30cfe",
		"top_words":    "00943adce2728e7ae1bdf601f9c74d5cba6e3a6e5270e5d579620fcc0994d20f",
	}
	for _, j := range m.Jobs {
		if len(j.Artifacts) != 1 || j.Artifact(platform.ArtifactWASM) != want[j.Name] {
			t.Errorf("%s: artifacts = %v, want wasm %s", j.Name, j.Artifacts, want[j.Name])
		}
		if len(j.Deployments) != 2 || !j.Eligible || j.Analysis.Name != j.Name || j.SourceHash == "" {
			t.Errorf("%s: lost part of the state: %+v", j.Name, j)
		}
		for _, d := range j.Deployments {
			if d.Platform != "wasm" || d.CodeSHA256 != want[j.Name] || d.Endpoint == "" || d.Version == "" {
				t.Errorf("%s: deployment %+v", j.Name, d)
			}
		}
	}
}

// A state of this release records artifacts by kind; artifact_sha256, null when there are
// several kinds, is not read as a wasm hash then.
func TestReadTerraformState_artifactsByKind(t *testing.T) {
	state := `{"version": 4, "serial": 7, "resources": [{"mode": "managed", "type": "blueprint_job", "name": "r", "instances": [{"attributes": {
		"id": "resize", "name": "resize", "artifact_sha256": null,
		"artifacts": {"wasm": "aa", "lambda_zip": "bb"},
		"deployments": [{"platform": "wasm", "region": "a", "function_id": "resize", "version": "1", "endpoint": "http://x", "code_sha256": "aa"}]}}]}]}`
	m, err := ReadTerraformState(strings.NewReader(state))
	if err != nil {
		t.Fatal(err)
	}
	want := map[platform.ArtifactKind]string{platform.ArtifactWASM: "aa", platform.ArtifactLambdaZip: "bb"}
	if got := m.Jobs[0].Artifacts; !reflect.DeepEqual(got, want) {
		t.Fatalf("artifacts = %v, want %v", got, want)
	}
}
