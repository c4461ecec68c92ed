package manifest

import (
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform"
)

// A stack export as `pulumi stack export --show-secrets` writes it (checkpoint version 3):
// the stack and provider resources are skipped, the job's secret environment is revealed.
const pulumiExportJSON = `{
  "version": 3,
  "deployment": {
    "manifest": {"time": "2026-12-06T23:00:00Z", "magic": "x", "version": "v3.274.1"},
    "resources": [
      {"urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", "custom": false, "type": "pulumi:pulumi:Stack"},
      {"urn": "urn:pulumi:dev::p::pulumi:providers:blueprint::blueprint", "custom": true, "id": "1", "type": "pulumi:providers:blueprint"},
      {"urn": "urn:pulumi:dev::p::blueprint:index:Job::greet", "custom": true, "id": "greet", "type": "blueprint:index:Job",
       "outputs": {
         "name": "greet", "package": "/src/greet", "function": "Greet", "forceLocal": false, "memoryMb": 256,
         "environment": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "{\"STYLE\":\"warm\"}"},
         "analysis": {"name": "greet", "function": "Greet", "pure": true, "deterministic": true, "requiresState": false,
           "networkCalls": [], "maxDurationMs": 1000, "memoryMb": 128, "timeoutMs": 30000, "mode": "auto", "eligible": true,
           "inputType": "Request", "outputType": "Reply", "findings": [{"kind": "default_profile", "message": "m", "position": "p", "chain": ["Greet"]}]},
         "eligible": true, "sourceHash": "sha256:abc", "artifacts": {"wasm": "aa", "native": "bb"},
         "artifactStore": "file:///store", "costThreshold": 0.5, "latencyThresholdMs": 20,
         "deployments": [{"platform": "wasm", "region": "local-a", "functionId": "greet", "version": "1", "endpoint": "http://127.0.0.1:1", "codeSha256": "aa"}]
       }}
    ]
  }
}`

func TestPulumiExport(t *testing.T) {
	m, err := Decode(strings.NewReader(pulumiExportJSON))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Jobs) != 1 {
		t.Fatalf("jobs: %+v", m.Jobs)
	}
	j := m.Jobs[0]
	switch {
	case j.Name != "greet" || j.Package != "/src/greet" || j.MemoryMB != 256 || !j.Eligible:
		t.Errorf("job: %+v", j)
	case j.Environment["STYLE"] != "warm":
		t.Errorf("the secret environment was not revealed: %v", j.Environment)
	case !j.Analysis.Pure || j.Analysis.TimeoutMS != 30000 || len(j.Analysis.Findings) != 1 || j.Analysis.Findings[0].Chain[0] != "Greet":
		t.Errorf("analysis: %+v", j.Analysis)
	case j.Artifact(platform.ArtifactNative) != "bb" || len(j.Deployments) != 1 || j.Deployments[0].FunctionID != "greet":
		t.Errorf("artifacts %v, deployments %+v", j.Artifacts, j.Deployments)
	case j.CostThreshold == nil || *j.CostThreshold != 0.5 || j.LatencyThresholdMS != 20:
		t.Errorf("routing settings: %v %d", j.CostThreshold, j.LatencyThresholdMS)
	}
}

func TestPulumiExportEncryptedSecrets(t *testing.T) {
	encrypted := strings.Replace(pulumiExportJSON, `"plaintext": "{\"STYLE\":\"warm\"}"`, `"ciphertext": "v1:abc"`, 1)
	_, err := Decode(strings.NewReader(encrypted))
	if err == nil || !strings.Contains(err.Error(), "pulumi stack export --show-secrets") {
		t.Fatalf("error = %v", err)
	}
	if _, err := Decode(strings.NewReader(strings.Replace(pulumiExportJSON, `"version": 3`, `"version": 2`, 1))); err == nil || !strings.Contains(err.Error(), "checkpoint version 2") {
		t.Fatalf("old checkpoint: error = %v", err)
	}
}
