package pulumi

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/serverless-blueprint/blueprint/analyzer"
)

// GetJobs is blueprint:index:getJobs, the Pulumi face of Terraform's blueprint_jobs data
// source: every job of a package with its analysis, to make one Job per job.
type GetJobs struct{ prov *providerState }

// GetJobsArgs names the package.
type GetJobsArgs struct {
	Package string `pulumi:"package"`
}

// GetJobsResult lists the package's jobs.
type GetJobsResult struct {
	Package     string     `pulumi:"package"`
	PackageName string     `pulumi:"packageName"`
	Jobs        []Analysis `pulumi:"jobs"`
}

// Annotate describes the function in the schema.
func (g *GetJobs) Annotate(an infer.Annotator) {
	an.Describe(g, "Every job of a Go package (functions marked //blueprint:job) with its analysis.")
}

// Annotate describes the arguments in the schema.
func (a *GetJobsArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Package, "Directory of the Go package, relative to the program's directory.")
}

// Invoke analyzes the package. It needs no platform, so it works before any is configured.
func (g *GetJobs) Invoke(ctx context.Context, req infer.FunctionRequest[GetJobsArgs]) (infer.FunctionResponse[GetJobsResult], error) {
	an := analyzer.Analyzer(analyzer.New())
	if settings, _, err := g.prov.configured(); err == nil && settings.Analyzer != nil {
		an = settings.Analyzer // the process's run cache: the jobs' plans reuse this analysis
	}
	pkg, err := an.Analyze(ctx, req.Input.Package)
	if err != nil {
		return infer.FunctionResponse[GetJobsResult]{}, fmt.Errorf("analyzing package %s: %w", req.Input.Package, err)
	}
	out := GetJobsResult{Package: req.Input.Package, PackageName: pkg.Package, Jobs: make([]Analysis, len(pkg.Jobs))}
	for i, a := range pkg.Jobs {
		out.Jobs[i] = analysisOf(a)
	}
	return infer.FunctionResponse[GetJobsResult]{Output: out}, nil
}
