// Command pulumigen writes the Pulumi provider's schema (provider/pulumi/schema.json) and its
// generated Go SDK (sdk/go/blueprint); `make generate` runs it from the module root.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/serverless-blueprint/blueprint/provider/pulumi/sdkgen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pulumigen:", err)
		os.Exit(1)
	}
}

func run() error {
	schemaJSON, err := sdkgen.Schema(context.Background())
	if err != nil {
		return err
	}
	if err := os.WriteFile(sdkgen.SchemaFile, schemaJSON, 0o644); err != nil {
		return err
	}
	files, err := sdkgen.GoSDK(schemaJSON)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(sdkgen.SDKDir); err != nil {
		return err
	}
	for name, content := range files {
		dst := filepath.Join(sdkgen.SDKDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s and %d files in %s\n", sdkgen.SchemaFile, len(files), sdkgen.SDKDir)
	return nil
}
