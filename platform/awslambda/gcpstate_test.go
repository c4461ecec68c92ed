package awslambda

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFederationConfig(t *testing.T) {
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write(`{"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/aws",
  "credential_source": {"environment_id": "aws1"}}`)
	got, err := readFederationConfig(good)
	if err != nil || strings.ContainsAny(got, "\n ") {
		t.Fatalf("a federation configuration: %q, %v; want it accepted and compacted", got, err)
	}
	for body, want := range map[string]string{
		`{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}`:                      "is a service account key",
		`{"type": "external_account", "audience": "a", "credential_source": {"file": "/var/run/token"}}`: "not a Workload Identity Federation configuration for AWS",
		`not json`: "is not JSON",
	} {
		if _, err := readFederationConfig(write(body)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "create-cred-config") {
			t.Errorf("%s: %v, want %q and how to make one", body, err, want)
		}
	}
}
