package resources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/artifactstore"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// kindBuilder builds a distinct artifact per kind and counts builds by kind.
type kindBuilder struct {
	src    *fakeSource
	kind   platform.ArtifactKind
	builds *map[platform.ArtifactKind]int
}

func (b kindBuilder) build(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	h, err := b.src.hash(ctx, req.Dir)
	if err != nil {
		return platform.Artifact{}, err
	}
	(*b.builds)[b.kind]++
	return platform.Artifact{Kind: b.kind, Path: "/artifacts/" + string(b.kind) + h, SHA256: string(b.kind) + "-" + h, Size: 1}, nil
}

// multiPlatformFixture has three platforms: "alpha" and "wasm" run wasm modules, "zeta" runs
// zips and gives a function at most 512 MB in 128 MB steps and a minute.
func multiPlatformFixture(t *testing.T) (*Manager, map[string]*fakeDeployer, map[platform.ArtifactKind]int, *fakeAnalyzer) {
	t.Helper()
	src := &fakeSource{hashes: map[string]string{"./jobs": "sha256:one"}}
	builds := map[platform.ArtifactKind]int{}
	an := &fakeAnalyzer{pkgs: map[string][]job.Analysis{"./jobs": {
		{Name: "resize_image", Function: "ResizeImage", Pure: true, Eligible: true, MemoryMB: 200, TimeoutMS: 3000, Mode: job.ModeAuto},
		{Name: "render", Function: "Render", Pure: true, Eligible: true, MemoryMB: 2048, TimeoutMS: 3000, Mode: job.ModeAuto},
	}}}
	desc := func(name string, kind platform.ArtifactKind, limits platform.Limits) platform.Descriptor {
		return platform.Descriptor{Name: name, Artifact: kind, Limits: limits,
			Build:       kindBuilder{src: src, kind: kind, builds: &builds}.build,
			NewDeployer: func(platform.Settings) (platform.Deployer, error) { return nil, errors.New("unused") },
			NewInvoker:  func(platform.Settings) (platform.Invoker, error) { return nil, errors.New("unused") },
		}
	}
	zipLimits := platform.Limits{MaxPayloadBytes: 1 << 20, MinMemoryMB: 128, MaxMemoryMB: 512, MemoryStepMB: 128, MaxTimeout: time.Minute}
	reg, err := platform.NewRegistry(
		desc("alpha", platform.ArtifactWASM, wideLimits),
		desc("wasm", platform.ArtifactWASM, wideLimits),
		desc("zeta", platform.ArtifactLambdaZip, zipLimits),
	)
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]*fakeDeployer{"alpha": newFakeDeployer("alpha", "r1"), "wasm": newFakeDeployer("wasm", "r1"), "zeta": newFakeDeployer("zeta", "r1")}
	m, err := NewManager(Settings{Registry: reg, Analyzer: an, SourceHash: src.hash,
		Deployers: map[string]platform.Deployer{"alpha": deps["alpha"], "wasm": deps["wasm"], "zeta": deps["zeta"]}})
	if err != nil {
		t.Fatal(err)
	}
	return m, deps, builds, an
}

// One build per artifact kind, whatever the number of platforms running it; every deployment
// records the hash of its own kind, and the job both hashes.
func TestCreate_artifactsByKind(t *testing.T) {
	m, deps, builds, _ := multiPlatformFixture(t)
	st, err := m.Create(context.Background(), JobSpec{Package: "./jobs", Function: "ResizeImage"})
	if err != nil {
		t.Fatal(err)
	}
	if builds[platform.ArtifactWASM] != 1 || builds[platform.ArtifactLambdaZip] != 1 {
		t.Fatalf("builds = %v, want one per kind", builds)
	}
	want := map[platform.ArtifactKind]string{platform.ArtifactWASM: "wasm-sha256:one", platform.ArtifactLambdaZip: "lambda_zip-sha256:one"}
	if len(st.Artifacts) != 2 || st.Artifacts[platform.ArtifactWASM] != want[platform.ArtifactWASM] || st.Artifacts[platform.ArtifactLambdaZip] != want[platform.ArtifactLambdaZip] {
		t.Fatalf("artifacts = %v", st.Artifacts)
	}
	for _, d := range st.Deployments {
		kind := platform.ArtifactWASM
		if d.Platform == "zeta" {
			kind = platform.ArtifactLambdaZip
		}
		if d.CodeSHA256 != want[kind] {
			t.Errorf("%s runs %s, want %s", d.Platform, d.CodeSHA256, want[kind])
		}
	}
	// Memory is rounded to each platform's steps: 200 MB is 256 on zeta, 200 elsewhere.
	if got := deps["zeta"].functions["r1/resize_image"].fn.MemoryMB; got != 256 {
		t.Errorf("zeta memory = %d, want 256", got)
	}
	if got := deps["wasm"].functions["r1/resize_image"].fn.MemoryMB; got != 200 {
		t.Errorf("wasm memory = %d, want 200", got)
	}

	// Nothing changed: the plan sees no reason to redeploy on any platform, including the
	// one whose artifact does not sort first.
	p, err := m.Plan(context.Background(), JobSpec{Package: "./jobs", Function: "ResizeImage"})
	if err != nil {
		t.Fatal(err)
	}
	read, err := m.Read(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if why := m.Changes(read, p); len(why) != 0 {
		t.Fatalf("changes after create: %v", why)
	}
	// Dropping the only zip platform drops the zip artifact from the job.
	st2, err := m.Update(context.Background(), JobSpec{Package: "./jobs", Function: "ResizeImage", Platforms: []string{"alpha", "wasm"}}, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(st2.Artifacts) != 1 || st2.Artifacts[platform.ArtifactWASM] == "" || len(deps["zeta"].keys()) != 0 {
		t.Fatalf("after dropping zeta: artifacts %v, zeta functions %v", st2.Artifacts, deps["zeta"].keys())
	}
}

// A job that needs more than a platform gives is not deployed there, and the plan says why; a
// user who asked for that memory explicitly gets an error that says what to change.
func TestPlan_platformLimits(t *testing.T) {
	m, _, _, _ := multiPlatformFixture(t)
	ctx := context.Background()
	p, err := m.Plan(ctx, JobSpec{Package: "./jobs", Function: "Render"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range p.Targets {
		if tg.Platform == "zeta" {
			t.Fatalf("render (2048 MB) planned on zeta (512 MB at most): %v", p.Targets)
		}
	}
	if len(p.Targets) != 2 || !p.Eligible {
		t.Fatalf("targets %v eligible %v", p.Targets, p.Eligible)
	}
	found := false
	for _, f := range p.Analysis.Findings {
		found = found || (f.Kind == FindingBeyondPlatformLimits && strings.Contains(f.Message, "zeta gives a function at most 512 MB"))
	}
	if !found {
		t.Fatalf("no beyond_platform_limits finding: %+v", p.Analysis.Findings)
	}

	onlyZeta, err := m.Plan(ctx, JobSpec{Package: "./jobs", Function: "Render", Platforms: []string{"zeta"}})
	if err != nil || onlyZeta.Eligible || len(onlyZeta.Targets) != 0 {
		t.Fatalf("render on zeta only: %+v, %v", onlyZeta, err)
	}

	_, err = m.Plan(ctx, JobSpec{Package: "./jobs", Function: "ResizeImage", MemoryMB: 1024})
	se, ok := IsSpecError(err)
	if !ok || se.Field != "memory_mb" || !strings.Contains(err.Error(), "platform's maximum of 512 MB") {
		t.Fatalf("memory_mb over zeta's limit: %v", err)
	}
	_, err = m.Plan(ctx, JobSpec{Package: "./jobs", Function: "ResizeImage", TimeoutS: 120})
	if se, ok := IsSpecError(err); !ok || se.Field != "timeout_s" {
		t.Fatalf("timeout_s over zeta's limit: %v", err)
	}
}

// realFileBuilder writes an artifact file whose bytes are the source hash, so a store can
// verify it, and counts builds.
func realFileBuilder(t *testing.T, src *fakeSource, builds *int) platform.BuildFunc {
	dir := t.TempDir()
	return func(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
		h, err := src.hash(ctx, req.Dir)
		if err != nil {
			return platform.Artifact{}, err
		}
		src.mu.Lock()
		buildErr := src.buildErr
		src.mu.Unlock()
		if buildErr != nil {
			return platform.Artifact{}, buildErr
		}
		*builds++
		path := filepath.Join(dir, "bin-"+h[len(h)-3:])
		os.WriteFile(path, []byte(h), 0o644)
		sum := sha256.Sum256([]byte(h))
		return platform.Artifact{Kind: platform.ArtifactNative, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(h))}, nil
	}
}

// Every job gets the artifact the agent runs locally, deployed anywhere or not; it is rebuilt
// only when the source or the store changes.
func TestLocalArtifact(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	builds := 0
	store, err := artifactstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.m.settings.Local = &LocalArtifact{Kind: platform.ArtifactNative, Build: realFileBuilder(t, f.src, &builds), Store: store}

	// An ineligible job is deployed nowhere but still gets its local artifact.
	local, err := f.m.Create(ctx, JobSpec{Package: "./jobs", Function: "WriteFile"})
	if err != nil || len(local.Deployments) != 0 || local.Artifacts[platform.ArtifactNative] == "" || local.ArtifactStore != store.URL() || builds != 1 {
		t.Fatalf("ineligible job: %+v, %v (builds %d)", local, err, builds)
	}
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil || len(st.Artifacts) != 2 || builds != 2 {
		t.Fatalf("eligible job: %+v, %v", st.Artifacts, err)
	}
	if err := store.Fetch(ctx, st.Artifacts[platform.ArtifactNative], filepath.Join(t.TempDir(), "x")); err != nil {
		t.Fatalf("not in the store: %v", err)
	}
	p, _ := f.m.Plan(ctx, resizeSpec)
	if why := f.m.Changes(st, p); len(why) != 0 {
		t.Fatalf("changes with nothing changed: %v", why)
	}
	if st2, err := f.m.Update(ctx, resizeSpec, st); err != nil || builds != 2 || st2.Artifacts[platform.ArtifactNative] != st.Artifacts[platform.ArtifactNative] {
		t.Fatalf("an update with nothing changed rebuilt (%d builds): %v", builds, err)
	}

	// A source change rebuilds it; a build failure changes nothing.
	f.src.set("./jobs", "sha256:two")
	p, _ = f.m.Plan(ctx, resizeSpec)
	if why := f.m.Changes(st, p); len(why) == 0 {
		t.Fatal("no change planned after a source change")
	}
	f.src.buildErr = errors.New("syntax error")
	if got, err := f.m.Update(ctx, resizeSpec, st); err == nil || got.Artifacts[platform.ArtifactNative] != st.Artifacts[platform.ArtifactNative] {
		t.Fatalf("failed build: %v %+v", err, got.Artifacts)
	}
	f.src.buildErr = nil
	st3, err := f.m.Update(ctx, resizeSpec, st)
	if err != nil || st3.Artifacts[platform.ArtifactNative] == st.Artifacts[platform.ArtifactNative] || builds != 3 {
		t.Fatalf("after a source change: %v, %+v", err, st3.Artifacts)
	}
}

// The resources of one package's jobs, applied at once as terraform does, share one build per
// kind: the artifact holds every job of the package.
func TestCreate_oneBuildPerPackage(t *testing.T) {
	f := newFixture(t)
	var jobs []job.Analysis
	for i := range 6 {
		jobs = append(jobs, job.Analysis{Name: fmt.Sprintf("job_%d", i), Function: fmt.Sprintf("Job%d", i), Pure: true, Eligible: true, MemoryMB: 128, TimeoutMS: 1000, Mode: job.ModeAuto})
	}
	f.an.pkgs["./many"] = jobs
	f.src.set("./many", "sha256:many")
	slow := f.src.build
	var seen [][]job.Analysis
	var mu sync.Mutex
	f.m.settings.Registry = fakeRegistry(t, func(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
		time.Sleep(50 * time.Millisecond) // long enough for the others to ask meanwhile
		mu.Lock()
		seen = append(seen, req.Jobs)
		mu.Unlock()
		return slow(ctx, req)
	}, wideLimits, "wasm")
	var wg sync.WaitGroup
	states := make([]JobState, len(jobs))
	for i := range jobs {
		wg.Go(func() {
			st, err := f.m.Create(context.Background(), JobSpec{Package: "./many", Function: jobs[i].Function})
			if err != nil {
				t.Error(err)
			}
			states[i] = st
		})
	}
	wg.Wait()
	if f.src.builds != 1 || len(seen) != 1 || len(seen[0]) != len(jobs) {
		t.Fatalf("%d builds (jobs per build %v), want one holding all %d jobs", f.src.builds, len(seen), len(jobs))
	}
	for _, st := range states {
		if st.Artifacts[platform.ArtifactWASM] != states[0].Artifacts[platform.ArtifactWASM] || len(st.Deployments) != 2 {
			t.Fatalf("job %s: %+v", st.Name, st)
		}
	}
}
