package manifest_test

import (
	"fmt"
	"strings"

	"github.com/serverless-blueprint/blueprint/manifest"
)

func ExampleReadTerraformState() {
	state := `{
  "version": 4, "terraform_version": "1.5.7", "serial": 3, "lineage": "example",
  "resources": [{
    "mode": "managed", "type": "blueprint_job", "name": "greet",
    "provider": "provider[\"registry.terraform.io/serverless-blueprint/blueprint\"]",
    "instances": [{"schema_version": 0, "sensitive_attributes": [], "attributes": {
      "id": "greet", "name": "greet", "package": "./jobs", "function": "Greet",
      "eligible": true, "force_local": null, "timeout_s": null, "memory_mb": null,
      "analysis": {"name": "greet", "function": "Greet", "pure": true, "mode": "auto", "timeout_ms": 2000},
      "deployments": [{"platform": "wasm", "region": "local-a", "function_id": "greet", "version": "1",
                       "endpoint": "http://127.0.0.1:8701", "code_sha256": "9f86d0"}]
    }}]
  }]
}`
	m, err := manifest.ReadTerraformState(strings.NewReader(state))
	if err != nil {
		fmt.Println(err)
		return
	}
	j, _ := m.Job("greet")
	fmt.Println(m.Serial, j.Name, j.Mode(), j.Analysis.Pure, j.EffectiveTimeout(), j.Deployments[0].Region)
	// Output: 3 greet auto true 2s local-a
}
