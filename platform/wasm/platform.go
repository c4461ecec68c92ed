package wasm

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
)

// TokenEnv is read when no token is configured; `blueprint host` reads the same variable.
const TokenEnv = "BLUEPRINT_HOST_TOKEN"

// Limits are what a `blueprint host` allows one function; the host enforces the same numbers.
var Limits = platform.Limits{
	MaxPayloadBytes: 6 << 20, // the host's default body limit, Lambda's synchronous limit
	MinMemoryMB:     1,
	MaxMemoryMB:     4096, // wasm32 linear memory ends at 4 GiB
	MemoryStepMB:    1,
	MaxTimeout:      15 * time.Minute,
	MaxBatchItems:   256,
	ReusesInstances: true, // resident reactor instances, for pure jobs only
}

// Settings of the provider's wasm block and of the agent.
const (
	settingHosts = "hosts"
	settingToken = "token"
)

var tokenSetting = platform.Setting{
	Name: settingToken, Type: platform.String, Required: true, Sensitive: true, EnvDefault: TokenEnv,
	Description: "Token the hosts require for their admin and invoke APIs (`blueprint host` prints the one it generated at start).",
}

// Platform describes the embedded WebAssembly platform for the registry.
func Platform() platform.Descriptor {
	return platform.Descriptor{
		Name:        PlatformName,
		Description: "The embedded WebAssembly platform: one `blueprint host` endpoint per region (no cloud account needed).",
		Artifact:    platform.ArtifactWASM,
		Build:       buildModule,
		Limits:      Limits,
		Settings: []platform.Setting{
			{
				Name: settingHosts, Type: platform.StringMap, Required: true,
				Description: "Base URL of the `blueprint host` serving each region, keyed by region name, e.g. `{ \"local-a\" = \"http://127.0.0.1:8701\" }`.",
			},
			tokenSetting,
		},
		Validate:    validateSettings,
		NewDeployer: newDeployer,
		Regions: func(s platform.Settings) []string {
			return slices.Sorted(maps.Keys(s.StringMap(settingHosts)))
		},
		InvokerSettings: []platform.Setting{tokenSetting},
		NewInvoker: func(s platform.Settings) (platform.Invoker, error) {
			return NewRemote(s.String(settingToken)), nil
		},
	}
}

func buildModule(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	a, err := packager.BuildWASM(ctx, packager.WASMBuild{Dir: req.Dir, Jobs: req.Jobs, CacheDir: req.CacheDir, Logger: req.Logger})
	if err != nil {
		return platform.Artifact{}, err
	}
	return platform.Artifact{Kind: platform.ArtifactWASM, Path: a.Path, SHA256: a.SHA256, Size: a.Size}, nil
}

func validateSettings(s platform.Settings) []*platform.SettingError {
	var errs []*platform.SettingError
	hosts := s.StringMap(settingHosts)
	if _, set := s[settingHosts]; set && len(hosts) == 0 {
		errs = append(errs, &platform.SettingError{Setting: settingHosts, Message: "is empty; add one host URL per region, e.g. \"local-a\" = \"http://127.0.0.1:8701\""})
	}
	for _, region := range slices.Sorted(maps.Keys(hosts)) {
		url := hosts[region]
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			errs = append(errs, &platform.SettingError{Setting: settingHosts, MapKey: region,
				Message: fmt.Sprintf("the host of region %q is %q; set a URL starting with http:// or https://, e.g. http://127.0.0.1:8701", region, url)})
		}
	}
	return errs
}

func newDeployer(s platform.Settings) (platform.Deployer, error) {
	return NewClient(Config{
		Hosts: s.StringMap(settingHosts), Token: s.String(settingToken),
		// Uploads of a few MB and waits for compilation fit well within this.
		HTTPClient: &http.Client{Timeout: 5 * time.Minute},
	})
}
