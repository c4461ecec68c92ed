package resources

import (
	"context"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/packager"
)

// BuildRequest asks for one platform's artifact holding the given jobs of a package.
type BuildRequest struct {
	Dir      string
	Jobs     []job.Analysis
	CacheDir string
	Logger   hclog.Logger
}

// Artifact is a built, content-addressed deployable.
type Artifact struct {
	Path   string
	SHA256 string // hex
	Size   int64
}

// Builder turns a package into a platform's artifact. Each platform has one because the
// artifacts differ (a wasip1 module, a Lambda zip, a GCF source zip).
type Builder interface {
	Build(ctx context.Context, req BuildRequest) (Artifact, error)
}

// BuilderFunc adapts a function to Builder.
type BuilderFunc func(ctx context.Context, req BuildRequest) (Artifact, error)

// Build calls f.
func (f BuilderFunc) Build(ctx context.Context, req BuildRequest) (Artifact, error) {
	return f(ctx, req)
}

// wasmPlatform is the embedded platform's name (platform/wasm.PlatformName); spelled out
// here so this package does not depend on one platform's client.
const wasmPlatform = "wasm"

// defaultBuilder returns the packager's builder for a platform, or nil when the packager
// does not know it (NewManager then reports the platform as unbuildable at deploy time).
func defaultBuilder(platformName string) Builder {
	switch platformName {
	case wasmPlatform:
		return BuilderFunc(func(ctx context.Context, req BuildRequest) (Artifact, error) {
			a, err := packager.BuildWASM(ctx, packager.WASMBuild{
				Dir: req.Dir, Jobs: req.Jobs, CacheDir: req.CacheDir, Logger: req.Logger,
			})
			if err != nil {
				return Artifact{}, err
			}
			return Artifact{Path: a.Path, SHA256: a.SHA256, Size: a.Size}, nil
		})
	}
	return nil
}

func defaultSourceHash(ctx context.Context, dir string) (string, error) {
	return packager.SourceHash(ctx, dir)
}
