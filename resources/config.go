package resources

import (
	"fmt"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/dynamodbstore"
	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
)

// ProviderConfig is the provider configuration every engine exposes (Terraform's provider
// block, Pulumi's provider resource), decoded and fully known. Configure checks it the same
// way for both, so the two providers accept and refuse the same things.
type ProviderConfig struct {
	// Platforms a job goes to when it names none; nil = every platform with a block.
	Platforms []string
	// Regions a job goes to when it names none; nil = every region of each platform.
	Regions []string
	// ArtifactStore keeps the native artifacts the agent runs locally; "" = the default.
	ArtifactStore string
	// AgentOSArch is GOOS/GOARCH of the VMs the agent runs on; "" = this machine's.
	AgentOSArch string
	// StateStore is where stateful jobs keep state; "" = the default SQLite file.
	StateStore string
	// Blocks holds each present platform block's settings, by platform name.
	Blocks map[string]platform.Settings
}

// ConfigError is one problem with a provider configuration, at a path of setting names as the
// Terraform schema spells them ("platforms", "aws_lambda", "regions"); engines render the
// path in their own naming.
type ConfigError struct {
	Path    []string
	Summary string
	Detail  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %s", strings.Join(e.Path, "."), e.Summary, e.Detail)
}

// Configure checks cfg against the registry and returns the lifecycle settings: a deployer
// per platform used, the local artifact, the state store and the create journal. Analyzer,
// SourceHash and Logger are left for the engine to set.
func Configure(reg *platform.Registry, cfg ProviderConfig) (Settings, []*ConfigError) {
	var errs []*ConfigError
	add := func(summary, detail string, path ...string) {
		errs = append(errs, &ConfigError{Path: path, Summary: summary, Detail: detail})
	}
	for i, name := range cfg.Platforms {
		if _, ok := reg.Lookup(name); !ok {
			add("Unknown platform", fmt.Sprintf("Platform %q is not supported by this provider. Use one of: %s.", name, strings.Join(reg.Names(), ", ")), "platforms", fmt.Sprint(i))
		} else if _, ok := cfg.Blocks[name]; !ok {
			add("Platform listed but not configured", fmt.Sprintf("Platform %q is listed in platforms but the provider has no %s settings. Add them, or remove %q from platforms.", name, name, name), "platforms", fmt.Sprint(i))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Blocks)) {
		if _, ok := reg.Lookup(name); !ok {
			add("Unknown platform", fmt.Sprintf("The provider has settings for %q, which this provider does not support. Use one of: %s.", name, strings.Join(reg.Names(), ", ")), name)
			continue
		}
		if cfg.Platforms != nil && !slices.Contains(cfg.Platforms, name) {
			add("Platform configured but not listed", fmt.Sprintf("The provider has %s settings but platforms does not list %q. Add %q to platforms, or remove the %s settings.", name, name, name, name), name)
		}
	}
	used := cfg.Platforms
	if used == nil {
		used = slices.Sorted(maps.Keys(cfg.Blocks))
	}
	if len(used) == 0 && len(errs) == 0 {
		add("No platform configured", fmt.Sprintf("The provider has no platform settings. Add one of: %s.", strings.Join(reg.Names(), ", ")))
	}
	deployers := map[string]platform.Deployer{}
	for _, name := range used {
		d, ok := reg.Lookup(name)
		block, present := cfg.Blocks[name]
		if !ok || !present {
			continue
		}
		settings, missing := platform.Resolve(d.Settings, block, nil)
		for _, e := range missing {
			s, _ := platform.FindSetting(d.Settings, e.Setting)
			detail := fmt.Sprintf("The %s platform needs %s.%s: set it", d.Name, d.Name, s.Name)
			if s.EnvDefault != "" {
				detail += " or the environment variable " + s.EnvDefault
			}
			add(fmt.Sprintf("Missing %s.%s", d.Name, s.Name), detail+".", d.Name, s.Name)
		}
		if len(missing) > 0 {
			continue
		}
		if d.Validate != nil {
			if found := d.Validate(settings); len(found) > 0 {
				for _, e := range found {
					path := []string{d.Name, e.Setting}
					if e.MapKey != "" {
						path = append(path, e.MapKey)
					}
					add(fmt.Sprintf("Invalid %s setting", d.Name), d.Name+"."+e.Error(), path...)
				}
				continue
			}
		}
		if d.Regions != nil {
			have := d.Regions(settings)
			for i, r := range cfg.Regions {
				if !slices.Contains(have, r) {
					add("Region has no host", fmt.Sprintf("Region %q is listed in regions but the %s settings have no host or endpoint for it. Add it there, or remove the region. Configured: %s.", r, d.Name, strings.Join(have, ", ")), "regions", fmt.Sprint(i))
				}
			}
		}
		dep, err := d.NewDeployer(settings)
		if err != nil {
			add(fmt.Sprintf("Invalid %s platform configuration", d.Name), err.Error(), d.Name)
			continue
		}
		deployers[name] = dep
	}
	local, err := LocalArtifactAt(cfg.ArtifactStore, cfg.AgentOSArch)
	if err != nil {
		add("Invalid artifact store", err.Error(), "artifact_store")
	}
	stateStore, err := StateStoreURL(cfg.StateStore)
	if err != nil {
		add("Invalid state store", err.Error(), "state_store")
	}
	if len(errs) > 0 {
		return Settings{}, errs
	}
	s := Settings{
		Platforms:        cfg.Platforms,
		Regions:          cfg.Regions,
		Registry:         reg,
		Deployers:        deployers,
		Local:            local,
		StateStore:       stateStore,
		CreateJournalDir: CreateJournalDir(local),
	}
	return s, nil
}

// LocalArtifactAt is the native bootstrap every job gets for the agent: built for osArch
// (GOOS/GOARCH; "" = this machine) and kept in the store at storeURL ("" = the default).
func LocalArtifactAt(storeURL, osArch string) (*LocalArtifact, error) {
	goos, goarch := defaultGOOS, defaultGOARCH
	if osArch != "" {
		osPart, arch, ok := strings.Cut(osArch, "/")
		if !ok || osPart == "" || arch == "" || strings.Contains(arch, "/") {
			return nil, fmt.Errorf("agent_os_arch is %q; write GOOS/GOARCH, e.g. linux/amd64 or linux/arm64", osArch)
		}
		goos, goarch = osPart, arch
	}
	var store artifactstore.Store
	var err error
	if storeURL != "" {
		store, err = artifactstore.Open(storeURL)
	} else {
		store, err = artifactstore.Default()
	}
	if err != nil {
		return nil, err
	}
	return NativeLocal(goos, goarch, store), nil
}

// StateStoreURL checks a state store URL, "" meaning the default.
func StateStoreURL(url string) (string, error) {
	if url == "" {
		return statestore.DefaultURL()
	}
	if dynamodbstore.IsURL(url) {
		if _, err := dynamodbstore.ParseURL(url); err != nil {
			return "", err
		}
		return url, nil
	}
	if firestorestore.IsURL(url) {
		if _, err := firestorestore.ParseURL(url); err != nil {
			return "", err
		}
		return url, nil
	}
	if _, err := statestore.SQLitePath(url); err != nil {
		return "", err
	}
	return url, nil
}

// CreateJournalDir keeps the creates that have not yet returned their state next to the
// artifacts (one place per configuration that outlives the process); "" when the store is
// not a local directory.
func CreateJournalDir(local *LocalArtifact) string {
	if local == nil {
		return ""
	}
	if dir, ok := artifactstore.LocalDir(local.Store); ok {
		return filepath.Join(dir, ".creating")
	}
	return ""
}

// The platform the provider runs on: the agent's default when agent_os_arch is unset.
var defaultGOOS, defaultGOARCH = runtime.GOOS, runtime.GOARCH
