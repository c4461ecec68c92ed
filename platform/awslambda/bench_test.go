package awslambda_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
)

// BenchmarkDeploy100Jobs2RegionsThrottled deploys 100 functions to each of two regions, ten
// jobs at a time (terraform's default parallelism) and both regions of a job at once, as an
// apply does, against a control plane that takes 15 requests a second. The lower bound is the
// requests that reached the control plane divided by 15 per second; the goal is within 1.2×.
// Run once: go test -run '^$' -bench Deploy100 -benchtime 1x ./platform/awslambda/
func BenchmarkDeploy100Jobs2RegionsThrottled(b *testing.B) {
	const jobs, parallel, rate = 100, 10, 15
	regions := []string{"us-east-1", "eu-west-1"}
	for b.Loop() {
		b.StopTimer()
		stand := lambdatest.Start(b)
		ctx := context.Background()
		dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: regions, Endpoint: stand.URL,
			Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 10 * time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		art := conformanceJobs(b, "v1")
		stand.SetFaults(lambdatest.Faults{RatePerSecond: rate})
		b.StartTimer()
		start := time.Now()
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		errs := make(chan error, jobs*len(regions))
		for i := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				var inner sync.WaitGroup
				for _, r := range regions {
					inner.Go(func() {
						fn := platform.Function{Name: fmt.Sprintf("job-%03d", i), Entry: "greet", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}
						if _, err := dep.Deploy(ctx, platform.DeployRequest{Region: r, Function: fn, ArtifactPath: art.Path, ArtifactSHA256: art.SHA256}); err != nil {
							errs <- err
						}
					})
				}
				inner.Wait()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		injected, requests := stand.Injected()
		lower := time.Duration(float64(requests-rate) / rate * float64(time.Second)) // the first second's burst is free
		b.ReportMetric(elapsed.Seconds(), "s/apply")
		b.ReportMetric(lower.Seconds(), "s-lower-bound")
		b.ReportMetric(elapsed.Seconds()/lower.Seconds(), "x-lower-bound")
		b.ReportMetric(float64(requests), "requests")
		b.ReportMetric(float64(injected["throttled"]), "throttled")
	}
}
