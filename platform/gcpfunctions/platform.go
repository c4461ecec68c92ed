// Package gcpfunctions is the Google Cloud Functions (2nd gen) platform: each job's function
// is built by Cloud Functions' Go runtime from a source zip the packager makes (a generated
// entry point on functions-framework-go dispatching the package's jobs), deployed with
// cloud.google.com/go/functions/apiv2 and invoked over HTTPS with an ID token for its URI.
package gcpfunctions

import (
	"context"
	"fmt"
	"time"

	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
)

// PlatformName is the platform's name in configuration and state.
const PlatformName = "gcp_functions"

// Limits are Cloud Functions' (2nd gen, HTTP functions) for one function.
var Limits = platform.Limits{
	MaxPayloadBytes: 32 << 20, // an HTTP request
	MinMemoryMB:     128,
	MaxMemoryMB:     32768,
	MemoryStepMB:    1,
	MaxTimeout:      60 * time.Minute,
	ReusesInstances: true,
	MaxBatchItems:   64,
}

// Settings of the provider's gcp_functions block and of the agent.
const (
	settingProject        = "project"
	settingRegions        = "regions"
	settingEndpoint       = "endpoint"
	settingServiceAccount = "service_account"
	settingCredentials    = "credentials_file"
	settingRuntime        = "runtime"
	settingInvokers       = "invokers"
)

var credentialsSetting = platform.Setting{
	Name: settingCredentials, Type: platform.String, EnvDefault: "GOOGLE_APPLICATION_CREDENTIALS",
	Description: "Service account key file to act as; unset = Application Default Credentials (gcloud auth application-default login, or the VM's service account).",
}

// Platform describes Cloud Functions for the registry.
func Platform() platform.Descriptor {
	return platform.Descriptor{
		Name: PlatformName,
		Description: "Google Cloud Functions (2nd gen): one HTTP function per job and region, built by the Go runtime from a source zip with a generated functions-framework-go entry point, invoked with an ID token for its URI. " +
			"Stateful jobs need a `firestore://PROJECT/COLLECTION` `state_store`.",
		Artifact: platform.ArtifactGCFSource,
		Build:    Build,
		Limits:   Limits,
		Settings: []platform.Setting{
			{Name: settingProject, Type: platform.String, Required: true,
				Description: "Google Cloud project ID the functions live in."},
			{Name: settingRegions, Type: platform.StringList, Required: true,
				Description: "Regions to deploy every job to, e.g. `[\"us-central1\", \"europe-west1\"]`."},
			{Name: settingServiceAccount, Type: platform.String,
				Description: "Email of an existing service account the functions run as (never the project's default compute account; grant it roles/datastore.user for stateful jobs yourself). " +
					"Unset: Blueprint creates `" + DefaultServiceAccountID + "@PROJECT.iam.gserviceaccount.com` on the first deploy, grants it roles/datastore.user on the state store's project only when a stateful job is deployed, and deletes it, grants first, with the last function that runs as it."},
			credentialsSetting,
			{Name: settingEndpoint, Type: platform.String,
				Description: "host:port of a stand-in for Google's APIs (Cloud Functions, Cloud Run, IAM, Resource Manager; plain gRPC, with the credentials of `credentials_file` when set); unset for Google."},
			{Name: settingRuntime, Type: platform.String,
				Description: "Go runtime of the functions; default `" + DefaultRuntime + "`."},
			{Name: settingInvokers, Type: platform.StringList,
				Description: "IAM members granted `roles/run.invoker` on every function's Cloud Run service: the runtime agent's identity, e.g. `[\"serviceAccount:agent@PROJECT.iam.gserviceaccount.com\"]`. Unset: nothing is granted, and the agent needs run.invoker some other way."},
		},
		Validate: validateSettings,
		NewDeployer: func(s platform.Settings) (platform.Deployer, error) {
			return NewDeployer(context.Background(), Config{Project: s.String(settingProject), Regions: s.StringList(settingRegions),
				ServiceAccount: s.String(settingServiceAccount), CredentialsFile: s.String(settingCredentials),
				Endpoint: s.String(settingEndpoint), Runtime: s.String(settingRuntime), Invokers: s.StringList(settingInvokers)})
		},
		Regions:         func(s platform.Settings) []string { return s.StringList(settingRegions) },
		InvokerSettings: []platform.Setting{credentialsSetting},
		NewInvoker: func(s platform.Settings) (platform.Invoker, error) {
			return NewInvoker(IDTokens(s.String(settingCredentials))), nil
		},
	}
}

// DefaultRuntime is the Go runtime functions are built with.
const DefaultRuntime = "go125"

// Build makes the function's source zip.
func Build(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	a, err := packager.BuildGCFSource(ctx, packager.GCFBuild{Dir: req.Dir, Jobs: req.Jobs, CacheDir: req.CacheDir, Logger: req.Logger})
	if err != nil {
		return platform.Artifact{}, err
	}
	return platform.Artifact{Kind: platform.ArtifactGCFSource, Path: a.Path, SHA256: a.SHA256, Size: a.Size}, nil
}

func validateSettings(s platform.Settings) []*platform.SettingError {
	var errs []*platform.SettingError
	if p := s.String(settingProject); p != "" && !projectID.MatchString(p) {
		errs = append(errs, &platform.SettingError{Setting: settingProject, Message: fmt.Sprintf("is %q, not a project ID: 6 to 30 lowercase letters, digits and hyphens, starting with a letter", p)})
	}
	for _, r := range s.StringList(settingRegions) {
		if !regionName.MatchString(r) {
			errs = append(errs, &platform.SettingError{Setting: settingRegions, Message: fmt.Sprintf("has %q, which is not a Google Cloud region name: write it like us-central1 or europe-west1", r)})
		}
	}
	if sa := s.String(settingServiceAccount); sa != "" {
		if err := checkServiceAccount(sa); err != nil {
			errs = append(errs, &platform.SettingError{Setting: settingServiceAccount, Message: err.Error()})
		}
	}
	return errs
}
