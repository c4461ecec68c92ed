package analyzer

import (
	"context"

	"github.com/serverless-blueprint/blueprint/job"
)

// Analyzer labels the jobs of one Go package. The provider, the packager and the CLI call it
// through this interface, so the implementation can deepen (SSA, profiling, caching) without
// touching them.
type Analyzer interface {
	// Analyze loads the package in dir (a directory inside a Go module) and returns one
	// Analysis per //blueprint:job function. Errors name the file and line to fix.
	Analyze(ctx context.Context, dir string) (*job.PackageAnalysis, error)
}
