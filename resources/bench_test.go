package resources

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/serverless-blueprint/blueprint/analyzer"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// BenchmarkPlanReal measures what `terraform plan` pays for a package without a RunCache: the
// real analyzer (answered from its result cache) on a small package (testdata/greet), nothing
// deployed; and the package source hash, which only a build pays.
func BenchmarkPlanReal(b *testing.B) {
	m, err := NewManager(Settings{
		Deployers: map[string]platform.Deployer{"wasm": newFakeDeployer("wasm", "local-a", "local-b")},
		Analyzer:  analyzer.New(),
		Registry:  fakeRegistry(b, (&fakeSource{}).build, wideLimits, "wasm"),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	spec := JobSpec{Package: "testdata/greet", Function: "Greet"}
	if _, err := m.Plan(ctx, spec); err != nil {
		b.Fatal(err)
	}
	b.Run("plan", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.Plan(ctx, spec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("analyze", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.settings.Analyzer.Analyze(ctx, spec.Package); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("source_hash", func(b *testing.B) {
		for b.Loop() {
			if _, err := m.settings.SourceHash(ctx, spec.Package); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestConcurrentLifecycles runs many jobs' lifecycles at once on one Manager, as terraform
// does with its default parallelism; run with -race.
func TestConcurrentLifecycles(t *testing.T) {
	f := newFixture(t)
	const jobs = 8
	for i := range jobs {
		a := f.an.pkgs["./jobs"][0]
		a.Name = fmt.Sprintf("job_%d", i)
		f.an.pkgs[fmt.Sprintf("./job%d", i)] = []job.Analysis{a}
		f.src.set(fmt.Sprintf("./job%d", i), fmt.Sprintf("sha256:%d", i))
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, jobs)
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			region := []string{"local-a", "local-b"}[i%2]
			spec := JobSpec{Package: fmt.Sprintf("./job%d", i), Function: "ResizeImage", Regions: []string{region}}
			st, err := f.m.Create(ctx, spec)
			if err == nil {
				st, err = f.m.Read(ctx, st)
			}
			if err == nil {
				_, err = f.m.Update(ctx, spec, st)
			}
			if err != nil {
				errs <- fmt.Errorf("job %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.dep.keys(); len(got) != jobs {
		t.Fatalf("platform holds %v, want one function per job", got)
	}
}
