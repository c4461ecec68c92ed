package awslambda

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Stateful jobs on Lambda may keep their state in Firestore, so that one job deployed to Lambda
// and to Cloud Functions (and the wasm hosts) shares one store. A function reaches Google
// without a key: a Workload Identity Federation configuration (an external_account file, which
// holds no secret) lets Google's client library trade the function's own AWS credentials, the
// execution role's that Lambda puts in its environment, for a Google token.

// envGCPCredentials carries the federation configuration to the bootstrap.
const envGCPCredentials = "BLUEPRINT_GCP_CREDENTIALS"

// readFederationConfig reads a Workload Identity Federation configuration with an AWS source
// and returns it compacted, or says what to create instead. A service account key is refused:
// it would sit in every function's environment.
func readFederationConfig(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("aws_lambda: gcp_credentials_config: %w", err)
	}
	var cfg struct {
		Type             string `json:"type"`
		Audience         string `json:"audience"`
		CredentialSource struct {
			EnvironmentID string `json:"environment_id"`
		} `json:"credential_source"`
	}
	howTo := "create one for an AWS workload with `gcloud iam workload-identity-pools create-cred-config PROVIDER --aws --output-file=FILE` and grant the pool's AWS role principal roles/datastore.user"
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fmt.Errorf("aws_lambda: gcp_credentials_config %s is not JSON (%v): %s", path, err, howTo)
	}
	switch {
	case cfg.Type == "service_account":
		return "", fmt.Errorf("aws_lambda: gcp_credentials_config %s is a service account key, which would sit in every function's environment: %s", path, howTo)
	case cfg.Type != "external_account" || !strings.HasPrefix(cfg.CredentialSource.EnvironmentID, "aws") || cfg.Audience == "":
		return "", fmt.Errorf("aws_lambda: gcp_credentials_config %s is not a Workload Identity Federation configuration for AWS (type external_account, credential_source.environment_id aws1, an audience): %s", path, howTo)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return "", err
	}
	// Lambda keeps at most 4 KB of environment per function; the job's own variables need room.
	if compact.Len() > 2048 {
		return "", fmt.Errorf("aws_lambda: gcp_credentials_config %s is %d bytes compacted; a function's environment holds 4 KB in all: remove what the federation does not need", path, compact.Len())
	}
	return compact.String(), nil
}
