package resources

import (
	"context"

	"github.com/serverless-blueprint/blueprint/packager"
)

func defaultSourceHash(ctx context.Context, dir string) (string, error) {
	return packager.SourceHash(ctx, dir)
}
