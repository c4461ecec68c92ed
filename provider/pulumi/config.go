package pulumi

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/resources"
)

// Config is the provider's configuration: the same settings as the Terraform provider block,
// in Pulumi's camelCase (blueprint:platforms, blueprint:awsLambda, …). Each platform's
// settings are a typed object whose fields mirror the platform's descriptor; a test checks
// that they stay in step.
type Config struct {
	Platforms          []string              `pulumi:"platforms,optional"`
	Regions            []string              `pulumi:"regions,optional"`
	CostThreshold      *float64              `pulumi:"costThreshold,optional"`
	LatencyThresholdMs *int                  `pulumi:"latencyThresholdMs,optional"`
	ArtifactStore      *string               `pulumi:"artifactStore,optional"`
	AgentOsArch        *string               `pulumi:"agentOsArch,optional"`
	StateStore         *string               `pulumi:"stateStore,optional"`
	Wasm               *WasmSettings         `pulumi:"wasm,optional"`
	AwsLambda          *AwsLambdaSettings    `pulumi:"awsLambda,optional"`
	GcpFunctions       *GcpFunctionsSettings `pulumi:"gcpFunctions,optional"`

	// prov is the provider instance this configuration belongs to (set at construction).
	prov *providerState
}

// WasmSettings are the wasm platform's settings (platform/wasm).
type WasmSettings struct {
	Hosts map[string]string `pulumi:"hosts,optional"`
	Token *string           `pulumi:"token,optional" provider:"secret"`
}

// AwsLambdaSettings are the aws_lambda platform's settings (platform/awslambda).
type AwsLambdaSettings struct {
	Regions              []string `pulumi:"regions,optional"`
	Profile              *string  `pulumi:"profile,optional"`
	Endpoint             *string  `pulumi:"endpoint,optional"`
	Role                 *string  `pulumi:"role,optional"`
	Architecture         *string  `pulumi:"architecture,optional"`
	AssumeRole           *string  `pulumi:"assumeRole,optional"`
	DeployTimeoutMinutes *int     `pulumi:"deployTimeoutMinutes,optional"`
	ArtifactBucket       *string  `pulumi:"artifactBucket,optional"`
	GcpCredentialsConfig *string  `pulumi:"gcpCredentialsConfig,optional"`
}

// GcpFunctionsSettings are the gcp_functions platform's settings (platform/gcpfunctions).
type GcpFunctionsSettings struct {
	Project         *string  `pulumi:"project,optional"`
	Regions         []string `pulumi:"regions,optional"`
	ServiceAccount  *string  `pulumi:"serviceAccount,optional"`
	CredentialsFile *string  `pulumi:"credentialsFile,optional"`
	Endpoint        *string  `pulumi:"endpoint,optional"`
	Runtime         *string  `pulumi:"runtime,optional"`
	Invokers        []string `pulumi:"invokers,optional"`
}

// Annotate describes the configuration in the schema.
func (c *Config) Annotate(a infer.Annotator) {
	a.Describe(&c.Platforms, "Platforms a job is deployed to when it names none (wasm, aws_lambda). Defaults to the platforms whose settings are present.")
	a.Describe(&c.Regions, "Regions a job is deployed to when it names none. Defaults to every region of the configured platforms.")
	a.Describe(&c.CostThreshold, "Routing policy for the runtime agent: the cost ratio (serverless over VM, 0 to 1) under which an execution is offloaded. Copied into every Job for the agent.")
	a.Describe(&c.LatencyThresholdMs, "Routing policy for the runtime agent: offload when the local run would wait longer than this many milliseconds. Copied into every Job for the agent.")
	a.Describe(&c.ArtifactStore, "Directory (file:///path) where the native artifact every job gets for the runtime agent is kept; defaults to the user cache.")
	a.Describe(&c.AgentOsArch, "GOOS/GOARCH of the machines the runtime agent runs on, e.g. linux/amd64; defaults to this machine's.")
	a.Describe(&c.StateStore, "Where stateful jobs keep their state: sqlite:///path (the default, in the user cache) or dynamodb://TABLE?region=REGION.")
	a.Describe(&c.Wasm, "The wasm platform: hosts running `blueprint host`, by region.")
	a.Describe(&c.AwsLambda, "The aws_lambda platform: one provided.al2023 function per job and region.")
	a.Describe(&c.GcpFunctions, "The gcp_functions platform: one Cloud Function (2nd gen) per job and region.")
}

// providerState is what one provider process shares between its configuration and its
// resources: the platforms it knows and, once configured, the lifecycle settings.
type providerState struct {
	registry *platform.Registry

	mu       sync.Mutex
	settings *resources.Settings
	config   *Config
}

// Configure checks the configuration and builds the lifecycle settings, once per process.
func (c *Config) Configure(ctx context.Context) error {
	if c.prov == nil {
		return errors.New("blueprint provider: configuration without its provider (a bug)")
	}
	blocks, err := c.blocks(c.prov.registry)
	if err != nil {
		return err
	}
	cfg := resources.ProviderConfig{
		Platforms: c.Platforms, Regions: c.Regions, Blocks: blocks,
		ArtifactStore: deref(c.ArtifactStore), AgentOSArch: deref(c.AgentOsArch), StateStore: deref(c.StateStore),
	}
	if v := c.CostThreshold; v != nil && (*v < 0 || *v > 1) {
		return fmt.Errorf("costThreshold is %g; set a ratio between 0 and 1", *v)
	}
	if v := c.LatencyThresholdMs; v != nil && *v < 0 {
		return fmt.Errorf("latencyThresholdMs is %d; set zero or a positive number of milliseconds", *v)
	}
	settings, errs := resources.Configure(c.prov.registry, cfg)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = fmt.Sprintf("%s: %s: %s", pulumiPath(e.Path), e.Summary, e.Detail)
		}
		return fmt.Errorf("invalid blueprint provider configuration:\n  %s", strings.Join(msgs, "\n  "))
	}
	// One analysis and one source hash per package for the whole process, as Terraform's
	// provider keeps them for one walk.
	run := resources.NewRunCache(analyzer.New(), nil)
	settings.Analyzer, settings.SourceHash = run, run.SourceHash
	if _, err := resources.NewManager(settings); err != nil {
		return fmt.Errorf("invalid blueprint provider configuration: %w", err)
	}
	c.prov.mu.Lock()
	defer c.prov.mu.Unlock()
	c.prov.settings, c.prov.config = &settings, c
	return nil
}

// blocks turns the typed platform settings into each platform's settings, by the names its
// descriptor gives them (snake_case of the field's Pulumi name).
func (c *Config) blocks(reg *platform.Registry) (map[string]platform.Settings, error) {
	out := map[string]platform.Settings{}
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, isBlock := blockField(f)
		if !isBlock || v.Field(i).IsNil() {
			continue
		}
		d, ok := reg.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("%s: this provider was built without platform %s", pulumiName(f), name)
		}
		out[name] = settingsOf(v.Field(i).Elem(), d)
	}
	return out, nil
}

// blockField reports whether a Config field holds a platform's settings, and the platform.
func blockField(f reflect.StructField) (string, bool) {
	if f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct || pulumiName(f) == "" {
		return "", false
	}
	return snake(pulumiName(f)), true
}

// settingsOf reads a platform-settings struct into the platform's settings.
func settingsOf(v reflect.Value, d platform.Descriptor) platform.Settings {
	s := platform.Settings{}
	for i := range v.NumField() {
		name := snake(pulumiName(v.Type().Field(i)))
		field := v.Field(i)
		if field.Kind() == reflect.Pointer {
			if field.IsNil() {
				continue
			}
			field = field.Elem()
		}
		def, ok := platform.FindSetting(d.Settings, name)
		if !ok {
			continue // checked by the schema test
		}
		switch def.Type {
		case platform.String:
			s[name] = field.String()
		case platform.Bool:
			s[name] = field.Bool()
		case platform.Int:
			s[name] = field.Int()
		case platform.StringList:
			if !field.IsNil() {
				s[name] = field.Interface().([]string)
			}
		case platform.StringMap:
			if !field.IsNil() {
				s[name] = field.Interface().(map[string]string)
			}
		}
	}
	return s
}

func pulumiName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("pulumi"), ",")
	return name
}

// snake is the snake_case of a camelCase name: deployTimeoutMinutes → deploy_timeout_minutes.
func snake(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// camel is the camelCase of a snake_case name.
func camel(snakeName string) string {
	parts := strings.Split(snakeName, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// pulumiPath renders a configuration path as Pulumi spells it: blueprint:awsLambda.regions.
func pulumiPath(path []string) string {
	out := make([]string, len(path))
	for i, p := range path {
		out[i] = camel(p)
	}
	return "blueprint:" + strings.Join(out, ".")
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// configured returns the lifecycle settings and configuration, or an error when the provider
// has not been configured (Pulumi configures before any resource operation).
func (s *providerState) configured() (*resources.Settings, *Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settings == nil {
		return nil, nil, errors.New("the blueprint provider is not configured")
	}
	return s.settings, s.config, nil
}

// manager builds a lifecycle manager logging to Pulumi's log for this request.
func (s *providerState) manager(ctx context.Context) (*resources.Manager, *Config, error) {
	settings, cfg, err := s.configured()
	if err != nil {
		return nil, nil, err
	}
	copied := *settings
	copied.Logger = newLogger(ctx)
	m, err := resources.NewManager(copied)
	return m, cfg, err
}
