package sdkgen_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/serverless-blueprint/blueprint/provider/pulumi/sdkgen"
)

// TestGeneratedFilesUpToDate: the checked-in schema and Go SDK are what the provider and
// Pulumi's generators produce now; run `make generate` when this fails.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	schemaJSON, err := sdkgen.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if have, err := os.ReadFile(filepath.Join(root, sdkgen.SchemaFile)); err != nil || !bytes.Equal(have, schemaJSON) {
		t.Fatalf("%s is stale (%v): run `make generate`", sdkgen.SchemaFile, err)
	}
	files, err := sdkgen.GoSDK(schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, sdkgen.SDKDir)
	var have []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		have = append(have, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for name, content := range files {
		want = append(want, name)
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s/%s is stale (%v): run `make generate`", sdkgen.SDKDir, name, err)
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("%s holds %v, the generator writes %v: run `make generate`", sdkgen.SDKDir, have, want)
	}
}
