package resources

import (
	"context"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform"
)

func defaultSourceHash(ctx context.Context, dir string) (string, error) {
	return packager.SourceHash(ctx, dir)
}

// NativeLocal is the local artifact of this release: the job package's native bootstrap
// (packager.BuildNative) for the agent's OS and architecture, kept in store.
func NativeLocal(goos, goarch string, store artifactstore.Store) *LocalArtifact {
	return &LocalArtifact{
		Kind:  platform.ArtifactNative,
		Store: store,
		Build: func(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
			a, err := packager.BuildNative(ctx, packager.NativeBuild{Dir: req.Dir, Jobs: req.Jobs, GOOS: goos, GOARCH: goarch, CacheDir: req.CacheDir, Logger: req.Logger})
			if err != nil {
				return platform.Artifact{}, err
			}
			return platform.Artifact{Kind: platform.ArtifactNative, Path: a.Path, SHA256: a.SHA256, Size: a.Size}, nil
		},
	}
}
