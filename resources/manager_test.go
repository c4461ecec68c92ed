package resources

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

type fixture struct {
	m   *Manager
	dep *fakeDeployer
	src *fakeSource
	an  *fakeAnalyzer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dep := newFakeDeployer("wasm", "local-a", "local-b")
	src := &fakeSource{hashes: map[string]string{"./jobs": "sha256:one", "./other": "sha256:other"}}
	an := &fakeAnalyzer{pkgs: map[string][]job.Analysis{
		"./jobs": {
			{Name: "resize_image", Function: "ResizeImage", Pure: true, Deterministic: true, Eligible: true, MemoryMB: 128, TimeoutMS: 3000, Mode: job.ModeAuto},
			{Name: "write_file", Function: "WriteFile", Eligible: false, MemoryMB: 128, TimeoutMS: 3000, Mode: job.ModeAuto,
				Findings: []job.Finding{{Kind: "file_write", Message: "writes a local file", Position: "jobs.go:10:2"}}},
		},
		"./other": {},
	}}
	m, err := NewManager(Settings{
		Deployers:  map[string]platform.Deployer{"wasm": dep},
		Analyzer:   an,
		SourceHash: src.hash,
		Registry:   fakeRegistry(t, src.build, wideLimits, "wasm"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{m: m, dep: dep, src: src, an: an}
}

var resizeSpec = JobSpec{Package: "./jobs", Function: "ResizeImage"}

func TestPlan(t *testing.T) {
	f := newFixture(t)
	p, err := f.m.Plan(context.Background(), resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	want := []Target{{"wasm", "local-a"}, {"wasm", "local-b"}}
	if p.Name != "resize_image" || !p.Eligible || p.SourceHash != "sha256:one" || !reflect.DeepEqual(p.Targets, want) {
		t.Fatalf("plan = %+v", p)
	}
	if f.dep.deploys != 0 || f.src.builds != 0 {
		t.Fatal("plan must not build or deploy")
	}
}

func TestPlanOverrides(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name        string
		spec        JobSpec
		eligible    bool
		targets     int
		findingKind string
		memory      int64
		timeoutMS   int64
	}{
		{"ineligible stays home", JobSpec{Package: "./jobs", Function: "WriteFile"}, false, 0, "", 128, 3000},
		{"force_serverless deploys and warns", JobSpec{Package: "./jobs", Function: "WriteFile", ForceServerless: true}, true, 2, FindingForcedServerless, 128, 3000},
		{"force_local deploys nowhere", JobSpec{Package: "./jobs", Function: "ResizeImage", ForceLocal: true}, false, 0, FindingForcedLocal, 128, 3000},
		{"memory and timeout", JobSpec{Package: "./jobs", Function: "ResizeImage", MemoryMB: 512, TimeoutS: 9}, true, 2, "", 512, 9000},
		{"one region", JobSpec{Package: "./jobs", Function: "ResizeImage", Regions: []string{"local-b"}}, true, 1, "", 128, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := f.m.Plan(ctx, tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if p.Eligible != tt.eligible || len(p.Targets) != tt.targets || p.Analysis.MemoryMB != tt.memory || p.Analysis.TimeoutMS != tt.timeoutMS {
				t.Fatalf("plan = %+v", p)
			}
			if tt.findingKind != "" && !hasFinding(p.Analysis, tt.findingKind) {
				t.Fatalf("findings %+v lack %s", p.Analysis.Findings, tt.findingKind)
			}
		})
	}
}

func hasFinding(a job.Analysis, kind string) bool {
	for _, f := range a.Findings {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

func TestPlanBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		spec  JobSpec
		field string
		text  string
	}{
		{"no package", JobSpec{Function: "X"}, "package", "package is empty"},
		{"missing dir", JobSpec{Package: "./nope", Function: "X"}, "package", "analyzing package ./nope"},
		{"no such function", JobSpec{Package: "./jobs", Function: "Nope"}, "function", "its job functions are ResizeImage, WriteFile"},
		{"no jobs at all", JobSpec{Package: "./other", Function: "Nope"}, "function", "has no //blueprint:job functions"},
		{"unknown region", JobSpec{Package: "./jobs", Function: "ResizeImage", Regions: []string{"mars"}}, "regions", `region "mars" is not configured`},
		{"unknown platform", JobSpec{Package: "./jobs", Function: "ResizeImage", Platforms: []string{"aws_lambda"}}, "platforms", `platform "aws_lambda" is not configured`},
		{"both forces", JobSpec{Package: "./jobs", Function: "ResizeImage", ForceLocal: true, ForceServerless: true}, "force_local", "at most one"},
		{"negative memory", JobSpec{Package: "./jobs", Function: "ResizeImage", MemoryMB: -1}, "memory_mb", "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.Plan(ctx, tt.spec)
			se, ok := IsSpecError(err)
			if !ok {
				t.Fatalf("error %v is not a spec error", err)
			}
			if se.Field != tt.field || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("error = %q on %q, want %q on %q", err, se.Field, tt.text, tt.field)
			}
		})
	}
}

func TestCreateReadDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, JobSpec{Package: "./jobs", Function: "ResizeImage", Environment: map[string]string{"K": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Deployments) != 2 || st.Artifacts[platform.ArtifactWASM] != "art-sha256:one" || f.src.builds != 1 {
		t.Fatalf("state = %+v, builds = %d", st, f.src.builds)
	}
	got, _ := f.dep.Get(ctx, "local-a", "resize_image")
	for k, v := range map[string]string{platform.TagJob: "resize_image", platform.TagPackage: "./jobs", platform.TagFunction: "ResizeImage", platform.TagSourceHash: "sha256:one"} {
		if got.Tags[k] != v {
			t.Fatalf("tag %s = %q, want %q", k, got.Tags[k], v)
		}
	}
	read, err := f.m.Read(ctx, st)
	if err != nil || !reflect.DeepEqual(read.Targets(), st.Targets()) {
		t.Fatalf("read = %+v, %v", read, err)
	}

	// Drift: one function vanished out of band.
	_ = f.dep.Delete(ctx, "local-b", "resize_image")
	read, err = f.m.Read(ctx, st)
	if err != nil || len(read.Deployments) != 1 || read.Deployments[0].Region != "local-a" {
		t.Fatalf("read after drift = %+v, %v", read, err)
	}
	p, _ := f.m.Plan(ctx, resizeSpec)
	if why := f.m.Changes(read, p); len(why) != 1 || !strings.Contains(why[0], "missing deployment: wasm/local-b") {
		t.Fatalf("changes = %v", why)
	}

	// Drift: the other function's settings were changed out of band (a new version on the
	// platform): it is planned again too, and an update puts the recorded settings back.
	changed := f.dep.functions["local-a/resize_image"]
	changed.fn.MemoryMB, changed.version = 4096, changed.version+1
	f.dep.functions["local-a/resize_image"] = changed
	read, err = f.m.Read(ctx, st)
	if err != nil || len(read.Deployments) != 0 {
		t.Fatalf("read after an out-of-band change = %+v, %v", read, err)
	}
	updated, err := f.m.Update(ctx, JobSpec{Package: "./jobs", Function: "ResizeImage", Environment: map[string]string{"K": "v"}}, read)
	if err != nil || len(updated.Deployments) != 2 {
		t.Fatalf("update after drift = %+v, %v", updated, err)
	}
	if got := f.dep.functions["local-a/resize_image"].fn.MemoryMB; got == 4096 {
		t.Fatalf("memory_mb still %d after the update: the recorded settings were not put back", got)
	}
	if again, err := f.m.Read(ctx, updated); err != nil || len(again.Deployments) != 2 {
		t.Fatalf("read after the update = %+v, %v", again, err)
	}

	if err := f.m.Delete(ctx, st); err != nil {
		t.Fatal(err)
	}
	if k := f.dep.keys(); len(k) != 0 {
		t.Fatalf("left behind: %v", k)
	}
}

func TestCreatePartialFailure(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.dep.failRegions["local-b"] = errors.New("host unreachable")
	st, err := f.m.Create(ctx, resizeSpec)
	var pe *PartialError
	if !errors.As(err, &pe) || !reflect.DeepEqual(pe.FailedRegions(), []string{"local-b"}) || !strings.Contains(err.Error(), "local-b") {
		t.Fatalf("error = %v", err)
	}
	// The state holds exactly what exists: nothing is orphaned.
	if len(st.Deployments) != 1 || st.Deployments[0].Region != "local-a" || !reflect.DeepEqual(f.dep.keys(), []string{"local-a/resize_image"}) {
		t.Fatalf("state = %+v, platform = %v", st.Deployments, f.dep.keys())
	}
	// Next apply converges.
	delete(f.dep.failRegions, "local-b")
	st, err = f.m.Update(ctx, resizeSpec, st)
	if err != nil || len(st.Deployments) != 2 {
		t.Fatalf("update = %+v, %v", st, err)
	}
}

func TestUpdate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	deploys := f.dep.deploys

	// Nothing changed: nothing is rebuilt or redeployed.
	st, err = f.m.Update(ctx, resizeSpec, st)
	if err != nil || f.dep.deploys != deploys || f.src.builds != 1 {
		t.Fatalf("no-op update deployed %d, built %d: %v", f.dep.deploys-deploys, f.src.builds, err)
	}

	// Code change: every target gets the new artifact.
	f.src.set("./jobs", "sha256:two")
	st, err = f.m.Update(ctx, resizeSpec, st)
	if err != nil || f.dep.deploys != deploys+2 || st.Artifacts[platform.ArtifactWASM] != "art-sha256:two" || st.SourceHash != "sha256:two" {
		t.Fatalf("code change: %+v, %v", st, err)
	}
	for _, d := range st.Deployments {
		if d.CodeSHA256 != "art-sha256:two" {
			t.Fatalf("deployment %+v not updated", d)
		}
	}

	// Environment change only: redeploy (config hash differs), same artifact.
	deploys = f.dep.deploys
	envSpec := resizeSpec
	envSpec.Environment = map[string]string{"MODE": "fast"}
	st, err = f.m.Update(ctx, envSpec, st)
	if err != nil || f.dep.deploys != deploys+2 {
		t.Fatalf("env change deployed %d: %v", f.dep.deploys-deploys, err)
	}

	// Fewer regions: the dropped one is deleted.
	oneRegion := envSpec
	oneRegion.Regions = []string{"local-a"}
	st, err = f.m.Update(ctx, oneRegion, st)
	if err != nil || len(st.Deployments) != 1 || !reflect.DeepEqual(f.dep.keys(), []string{"local-a/resize_image"}) {
		t.Fatalf("region removal: %+v, %v, %v", st.Deployments, f.dep.keys(), err)
	}

	// force_local: everything is removed.
	local := resizeSpec
	local.ForceLocal = true
	st, err = f.m.Update(ctx, local, st)
	if err != nil || len(st.Deployments) != 0 || len(f.dep.keys()) != 0 || st.Eligible {
		t.Fatalf("force_local: %+v, %v, %v", st, f.dep.keys(), err)
	}
}

func TestUpdateFailedRedeployKeepsOldFunction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	f.src.set("./jobs", "sha256:two")
	f.dep.failRegions["local-a"] = errors.New("disk full")
	st, err = f.m.Update(ctx, resizeSpec, st)
	if err == nil || !strings.Contains(err.Error(), "local-a") {
		t.Fatalf("error = %v", err)
	}
	if len(st.Deployments) != 2 {
		t.Fatalf("the old function in local-a must stay in state: %+v", st.Deployments)
	}
	p, _ := f.m.Plan(ctx, resizeSpec)
	if why := f.m.Changes(st, p); len(why) == 0 {
		t.Fatal("a stale deployment must show up as a change so the next apply retries it")
	}
}

func TestReadUnreachable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	f.dep.getErr["local-b"] = errors.New("connection refused")
	read, err := f.m.Read(ctx, st)
	if err == nil || !strings.Contains(err.Error(), "local-b") {
		t.Fatalf("error = %v", err)
	}
	if len(read.Deployments) != 2 {
		t.Fatal("an unreachable region is not drift: keep its deployment")
	}
}

func TestImport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	st, spec, err := f.m.Import(ctx, "resize_image")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Package != "./jobs" || spec.Function != "ResizeImage" {
		t.Fatalf("spec = %+v", spec)
	}
	// Tags are not part of what engines store, so compare without them.
	strip := func(s JobState) JobState {
		for i := range s.Deployments {
			s.Deployments[i].Tags = nil
		}
		return s
	}
	if !reflect.DeepEqual(strip(st), strip(created)) {
		t.Fatalf("imported\n%+v\ncreated\n%+v", st, created)
	}
	if _, _, err := f.m.Import(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("import of unknown job: %v", err)
	}
}

func TestNewManagerValidates(t *testing.T) {
	dep := newFakeDeployer("wasm", "local-a")
	an := &fakeAnalyzer{}
	reg := fakeRegistry(t, (&fakeSource{}).build, wideLimits, "wasm")
	for name, s := range map[string]Settings{
		"no analyzer":           {Registry: reg, Deployers: map[string]platform.Deployer{"wasm": dep}},
		"no registry":           {Analyzer: an, Deployers: map[string]platform.Deployer{"wasm": dep}},
		"no deployers":          {Registry: reg, Analyzer: an},
		"unknown platform":      {Registry: reg, Analyzer: an, Deployers: map[string]platform.Deployer{"wasm": dep}, Platforms: []string{"gcp_functions"}},
		"unregistered deployer": {Registry: reg, Analyzer: an, Deployers: map[string]platform.Deployer{"wasm": dep, "other": dep}},
		"unknown region":        {Registry: reg, Analyzer: an, Deployers: map[string]platform.Deployer{"wasm": dep}, Regions: []string{"local-z"}},
	} {
		if _, err := NewManager(s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRegionDroppedFromProvider(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	// The provider is reconfigured without local-b's host.
	onlyA := newFakeDeployer("wasm", "local-a")
	onlyA.functions = f.dep.functions
	m, err := NewManager(Settings{Deployers: map[string]platform.Deployer{"wasm": onlyA}, Analyzer: f.an,
		SourceHash: f.src.hash, Registry: fakeRegistry(t, f.src.build, wideLimits, "wasm")})
	if err != nil {
		t.Fatal(err)
	}
	read, err := m.Read(ctx, st)
	if err != nil || len(read.Deployments) != 2 {
		t.Fatalf("read must keep what it cannot check: %+v, %v", read.Deployments, err)
	}
	st, err = m.Update(ctx, resizeSpec, read)
	if err == nil || !strings.Contains(err.Error(), "no wasm host or endpoint for region local-b") {
		t.Fatalf("error = %v", err)
	}
	if len(st.Deployments) != 2 {
		t.Fatalf("the function in local-b still exists and must stay in state: %+v", st.Deployments)
	}
}

func TestCreateRefusesExistingFunction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.m.Create(ctx, resizeSpec); err != nil {
		t.Fatal(err)
	}
	deploys := f.dep.deploys
	_, err := f.m.Create(ctx, resizeSpec)
	if err == nil || !strings.Contains(err.Error(), `job "resize_image" already exists in wasm region local-a (deployed from package ./jobs): import it`) {
		t.Fatalf("error = %v", err)
	}
	if f.dep.deploys != deploys || f.src.builds != 1 {
		t.Fatal("a refused create must not build or deploy")
	}
}

func TestConcurrentCreatesOfOneJob(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := f.m.Create(ctx, resizeSpec)
			errs <- err
		}()
	}
	ok := 0
	for range 4 {
		if err := <-errs; err == nil {
			ok++
		} else if !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates of one job succeeded, want exactly 1", ok)
	}
}

func TestUpdateBuildFailureChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	// The new code does not build, and the spec drops a region at the same time.
	f.src.set("./jobs", "sha256:two")
	f.src.buildErr = errors.New("syntax error")
	oneRegion := resizeSpec
	oneRegion.Regions = []string{"local-a"}
	got, err := f.m.Update(ctx, oneRegion, st)
	if _, ok := IsSpecError(err); !ok || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("error = %v", err)
	}
	if !reflect.DeepEqual(got, st) || len(f.dep.keys()) != 2 {
		t.Fatalf("a failed build must leave state and platform alone: %+v, %v", got, f.dep.keys())
	}
}

func TestUpdateRepairsCodeChangedOutOfBand(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	st, err := f.m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatal(err)
	}
	// Someone redeployed other code under the same tags in local-b.
	f.dep.mu.Lock()
	fn := f.dep.functions["local-b/resize_image"]
	fn.sha = "tampered"
	f.dep.functions["local-b/resize_image"] = fn
	f.dep.mu.Unlock()

	read, err := f.m.Read(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := f.m.Plan(ctx, resizeSpec)
	if why := f.m.Changes(read, p); len(why) != 1 || !strings.Contains(why[0], "wasm/local-b runs other code") {
		t.Fatalf("changes = %v", why)
	}
	deploys := f.dep.deploys
	st, err = f.m.Update(ctx, resizeSpec, read)
	if err != nil || f.dep.deploys != deploys+1 {
		t.Fatalf("update redeployed %d functions (want 1): %v", f.dep.deploys-deploys, err)
	}
	for _, d := range st.Deployments {
		if d.CodeSHA256 != st.Artifacts[platform.ArtifactWASM] {
			t.Fatalf("deployment %+v still runs other code", d)
		}
	}
}

// TestPlanUpdateKeepsAnalysisOfUnchangedCode: with the same code hash, findings that moved and
// a re-measured profile keep the recorded analysis (no update planned); a changed label does
// not; changed code gets a finding naming the changed parts.
func TestPlanUpdateKeepsAnalysisOfUnchangedCode(t *testing.T) {
	f := newFixture(t)
	recorded := job.Analysis{Name: "resize_image", Function: "ResizeImage", Pure: true, Deterministic: true, Eligible: true,
		MemoryMB: 512, TimeoutMS: 30000, MaxDurationMS: 30, Mode: job.ModeAuto, CodeHash: "sha256:c1",
		Code:     map[string]string{"func jobs.ResizeImage": "aa", "func jobs.helper": "bb", "module golang.org/x/image": "v0.1.0"},
		Findings: []job.Finding{{Kind: "profile", Message: "measured 10.1 ms", Position: "jobs.go:10:1", Chain: []string{"ResizeImage"}}}}
	fresh := recorded
	fresh.MaxDurationMS = 33
	fresh.Findings = []job.Finding{{Kind: "profile", Message: "measured 11.0 ms", Position: "jobs.go:12:1", Chain: []string{"ResizeImage"}}}
	f.an.pkgs["./jobs"] = []job.Analysis{fresh}
	spec := JobSpec{Package: "./jobs", Function: "ResizeImage"}
	prior := JobState{Name: "resize_image", SourceHash: "sha256:c1", Code: recorded.Code, Analysis: recorded}

	p, err := f.m.PlanUpdate(context.Background(), spec, prior)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Analysis, recorded) {
		t.Errorf("unchanged code: planned analysis %+v, want the recorded %+v", p.Analysis, recorded)
	}

	relabeled := fresh
	relabeled.Pure = false
	f.an.pkgs["./jobs"] = []job.Analysis{relabeled}
	if p, _ := f.m.PlanUpdate(context.Background(), spec, prior); p.Analysis.Pure {
		t.Error("a new label with the same code hash kept the recorded analysis")
	}

	changed := fresh
	changed.CodeHash = "sha256:c2"
	changed.Code = map[string]string{"func jobs.ResizeImage": "aa", "func jobs.helper": "cc", "module golang.org/x/image": "v0.2.0", "func jobs.crop": "dd"}
	f.an.pkgs["./jobs"] = []job.Analysis{changed}
	p, err = f.m.PlanUpdate(context.Background(), spec, prior)
	if err != nil {
		t.Fatal(err)
	}
	last := p.Analysis.Findings[len(p.Analysis.Findings)-1]
	const want = "new func jobs.crop; func jobs.helper; module golang.org/x/image v0.1.0 → v0.2.0"
	if last.Kind != FindingCodeChanged || !strings.Contains(last.Message, want) {
		t.Errorf("last finding = %+v, want code_changed naming %q", last, want)
	}
	if why := f.m.Changes(prior, p); len(why) == 0 || !strings.Contains(why[0], "code changed: "+want) {
		t.Errorf("Changes = %v", why)
	}
}

// A create that dies after deploying and before its state is recorded leaves its token in
// the journal and on the functions: the next create takes exactly those over.
func TestCreateTakesOverWhatAnInterruptedCreateLeft(t *testing.T) {
	f := newFixture(t)
	journal := t.TempDir()
	m, err := NewManager(Settings{Deployers: map[string]platform.Deployer{"wasm": f.dep}, Analyzer: f.an,
		SourceHash: f.src.hash, Registry: fakeRegistry(t, f.src.build, wideLimits, "wasm"), CreateJournalDir: journal})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.Create(ctx, resizeSpec); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(journal); len(left) != 0 {
		t.Fatalf("a create that returned its state must clear its journal entry: %v", left)
	}
	d, err := f.dep.Get(ctx, "local-a", "resize_image")
	if err != nil {
		t.Fatal(err)
	}
	token := d.Tags[TagCreateToken]
	if token == "" {
		t.Fatalf("the function carries no create token: %v", d.Tags)
	}

	// The engine never saw that state, and the journal still holds the create: as after a kill.
	crashed := func(token string) {
		t.Helper()
		raw, _ := json.Marshal(createIntent{Job: "resize_image", Token: token})
		if err := os.WriteFile(filepath.Join(journal, "resize_image.json"), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	crashed(token)
	keys := f.dep.keys()
	st, err := m.Create(ctx, resizeSpec)
	if err != nil {
		t.Fatalf("the create after an interrupted one must converge: %v", err)
	}
	if len(st.Deployments) != 2 || !slices.Equal(f.dep.keys(), keys) {
		t.Fatalf("expected the same two functions, taken over: state %+v, functions %v (before %v)", st.Deployments, f.dep.keys(), keys)
	}
	if d, _ := f.dep.Get(ctx, "local-b", "resize_image"); d.Tags[TagCreateToken] != token {
		t.Fatalf("the retried create must keep the interrupted one's token, got %q", d.Tags[TagCreateToken])
	}

	// Once that create returned, the functions are owned: a second resource is refused.
	if _, err := m.Create(ctx, resizeSpec); err == nil || !strings.Contains(err.Error(), "import it") {
		t.Fatalf("error = %v", err)
	}
	// A pending create never takes over functions carrying another create's token.
	crashed("someone-else")
	if _, err := m.Create(ctx, resizeSpec); err == nil || !strings.Contains(err.Error(), "import it") {
		t.Fatalf("error = %v", err)
	}
}
