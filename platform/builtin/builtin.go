// Package builtin lists the platforms this release of Blueprint is built with. Adding a
// platform means adding its descriptor here; nothing else names it.
package builtin

import (
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
	"github.com/serverless-blueprint/blueprint/platform/gcpfunctions"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
)

// Registry returns the built-in platforms.
func Registry() *platform.Registry {
	r, err := platform.NewRegistry(
		wasm.Platform(),
		awslambda.Platform(),
		gcpfunctions.Platform(),
	)
	if err != nil {
		panic("builtin platforms: " + err.Error()) // a programming error, caught by its test
	}
	return r
}
