package terraform

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestProviderSchema checks the schemas the framework validates when terraform starts the
// provider (attribute names, nesting), without needing terraform.
func TestProviderSchema(t *testing.T) {
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("schema diagnostic: %s: %s", d.Summary, d.Detail)
	}
	job, ok := resp.ResourceSchemas["blueprint_job"]
	if !ok {
		t.Fatal("no blueprint_job resource")
	}
	// The runtime agent reads these from terraform.tfstate: renaming one breaks it.
	want := []string{"id", "package", "function", "force_serverless", "force_local", "memory_mb", "timeout_s",
		"platforms", "regions", "environment", "name", "analysis", "eligible", "source_hash", "artifact_sha256", "deployments"}
	have := map[string]bool{}
	for _, a := range job.Block.Attributes {
		have[a.Name] = true
		if a.Description == "" {
			t.Errorf("attribute %s has no description", a.Name)
		}
	}
	for _, name := range want {
		if !have[name] {
			t.Errorf("blueprint_job lacks attribute %s", name)
		}
	}
	if _, ok := resp.DataSourceSchemas["blueprint_jobs"]; !ok {
		t.Error("no blueprint_jobs data source")
	}
}
