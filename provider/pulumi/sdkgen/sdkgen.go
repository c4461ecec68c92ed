// Package sdkgen generates the Pulumi provider's schema and its Go SDK (sdk/go/blueprint)
// with Pulumi's own code generators: `make generate` writes them, a test fails when the
// checked-in copies are stale.
package sdkgen

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	pulumiprovider "github.com/serverless-blueprint/blueprint/provider/pulumi"
)

// Version is the version the schema and the SDK are generated for.
const Version = "0.1.0"

// SchemaFile is where the schema is checked in, relative to the module root.
const SchemaFile = "provider/pulumi/schema.json"

// SDKDir is where the Go SDK is checked in, relative to the module root.
const SDKDir = "sdk/go/blueprint"

// Schema is the provider's schema as `pulumi package get-schema` prints it: what the
// provider answers to GetSchema.
func Schema(ctx context.Context) ([]byte, error) {
	prov, err := pulumiprovider.New(builtin.Registry())
	if err != nil {
		return nil, err
	}
	spec, err := p.GetSchema(ctx, pulumiprovider.Name, Version, prov)
	if err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// GoSDK generates the Go SDK from a schema: file names relative to SDKDir, and contents.
// It is the code generator the Pulumi CLI's Go language plugin runs for `pulumi package
// gen-sdk --language go` (that plugin is not served by the Go module proxy here).
func GoSDK(schemaJSON []byte) (map[string][]byte, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal(schemaJSON, &spec); err != nil {
		return nil, fmt.Errorf("reading the schema: %w", err)
	}
	// The schema refers to no other package, so nothing needs loading.
	pkg, diags, err := schema.BindSpec(spec, schema.NewNullLoader(), schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema does not bind: %s", diags.Error())
	}
	files, err := gogen.GeneratePackage("blueprint-sdkgen", pkg, nil)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for name, content := range files {
		// The generator names files under the package's directory ("blueprint/job.go").
		rel := strings.TrimPrefix(path.Clean(name), path.Base(SDKDir)+"/")
		out[rel] = content
	}
	return out, nil
}
