package pulumi

import (
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/serverless-blueprint/blueprint/platform"
)

// Name is the Pulumi package name (resources are blueprint:index:*).
const Name = "blueprint"

// New returns the provider for the given platforms (platform/builtin.Registry() in the
// binary; tests may plug in their own).
func New(registry *platform.Registry) (p.Provider, error) {
	st := &providerState{registry: registry}
	return infer.NewProviderBuilder().
		WithDisplayName("Blueprint").
		WithDescription("Deploys plain Go job functions to serverless platforms (AWS Lambda, a WASM runtime) when their analysis says they are fit for it; the runtime agent routes each execution from the stack.").
		WithNamespace("serverless-blueprint").
		WithHomepage("https://github.com/serverless-blueprint/blueprint").
		WithRepository("https://github.com/serverless-blueprint/blueprint").
		WithLicense("Apache-2.0").
		WithGoImportPath("github.com/serverless-blueprint/blueprint/sdk/go/blueprint").
		// infer names tokens after the Go package (pulumi); the contract is blueprint:index:*.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"pulumi": "index"}).
		WithConfig(infer.Config(&Config{prov: st})).
		WithResources(infer.Resource(&Job{prov: st})).
		WithFunctions(infer.Function(&GetJobs{prov: st})).
		Build()
}
