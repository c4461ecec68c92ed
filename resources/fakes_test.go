package resources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// fakeDeployer enforces the platform.Deployer contract in memory: Get of a missing function
// wraps ErrNotFound, Delete of a missing one is nil, the artifact must exist and match, and
// regions outside its list are refused. failRegions makes Deploy fail there.
type fakeDeployer struct {
	name        string
	regions     []string
	mu          sync.Mutex
	functions   map[string]fakeFunction // region/name
	deploys     int
	failRegions map[string]error
	getErr      map[string]error
}

type fakeFunction struct {
	fn      platform.Function
	sha     string
	version int
}

func newFakeDeployer(name string, regions ...string) *fakeDeployer {
	return &fakeDeployer{name: name, regions: regions, functions: map[string]fakeFunction{}, failRegions: map[string]error{}, getErr: map[string]error{}}
}

func (f *fakeDeployer) Name() string      { return f.name }
func (f *fakeDeployer) Regions() []string { return f.regions }

func (f *fakeDeployer) Deploy(ctx context.Context, req platform.DeployRequest) (platform.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.regions, req.Region) {
		return platform.Deployment{}, fmt.Errorf("unknown region %s", req.Region)
	}
	if err := f.failRegions[req.Region]; err != nil {
		return platform.Deployment{}, err
	}
	if req.ArtifactPath == "" || req.ArtifactSHA256 == "" || req.Function.Name == "" {
		return platform.Deployment{}, errors.New("incomplete deploy request")
	}
	f.deploys++
	key := req.Region + "/" + req.Function.Name
	prev := f.functions[key]
	f.functions[key] = fakeFunction{fn: req.Function, sha: req.ArtifactSHA256, version: prev.version + 1}
	return f.deployment(req.Region, key), nil
}

func (f *fakeDeployer) deployment(region, key string) platform.Deployment {
	ff := f.functions[key]
	tags := map[string]string{}
	for k, v := range ff.fn.Tags {
		tags[k] = v
	}
	return platform.Deployment{Platform: f.name, Region: region, FunctionID: ff.fn.Name,
		Version: fmt.Sprint(ff.version), Endpoint: "http://" + region, CodeSHA256: ff.sha, Tags: tags}
}

func (f *fakeDeployer) Get(ctx context.Context, region, id string) (platform.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.getErr[region]; err != nil {
		return platform.Deployment{}, err
	}
	key := region + "/" + id
	if _, ok := f.functions[key]; !ok {
		return platform.Deployment{}, fmt.Errorf("function %s in %s: %w", id, region, platform.ErrNotFound)
	}
	return f.deployment(region, key), nil
}

func (f *fakeDeployer) Delete(ctx context.Context, region, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.getErr[region]; err != nil {
		return err
	}
	delete(f.functions, region+"/"+id)
	return nil
}

func (f *fakeDeployer) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.functions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fakeAnalyzer returns a fixed analysis per directory.
type fakeAnalyzer struct {
	pkgs map[string][]job.Analysis
	err  error
}

func (a *fakeAnalyzer) Analyze(ctx context.Context, dir string) (*job.PackageAnalysis, error) {
	if a.err != nil {
		return nil, a.err
	}
	jobs, ok := a.pkgs[dir]
	if !ok {
		return nil, fmt.Errorf("directory %s does not exist", dir)
	}
	return &job.PackageAnalysis{Package: "example.com/" + dir, Dir: dir, Jobs: jobs}, nil
}

// fakeSource is the source hash per directory; tests change it to simulate an edit.
type fakeSource struct {
	mu     sync.Mutex
	hashes map[string]string
	builds int
	// buildErr, when set, fails every build (code that does not compile).
	buildErr error
}

func (s *fakeSource) hash(ctx context.Context, dir string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hashes[dir]
	if !ok {
		return "", fmt.Errorf("no source in %s", dir)
	}
	return h, nil
}

func (s *fakeSource) set(dir, h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes[dir] = h
}

func (s *fakeSource) build(ctx context.Context, req platform.BuildRequest) (platform.Artifact, error) {
	h, err := s.hash(ctx, req.Dir)
	if err != nil {
		return platform.Artifact{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buildErr != nil {
		return platform.Artifact{}, s.buildErr
	}
	s.builds++
	return platform.Artifact{Kind: platform.ArtifactWASM, Path: "/artifacts/" + h, SHA256: "art-" + h, Size: 1}, nil
}

// fakeRegistry describes the fake platforms: each builds with build and has the given limits.
func fakeRegistry(t testing.TB, build platform.BuildFunc, limits platform.Limits, names ...string) *platform.Registry {
	t.Helper()
	var ds []platform.Descriptor
	for _, name := range names {
		ds = append(ds, platform.Descriptor{
			Name: name, Artifact: platform.ArtifactWASM, Build: build, Limits: limits,
			NewDeployer: func(platform.Settings) (platform.Deployer, error) { return nil, errors.New("fake: built by the test") },
			NewInvoker:  func(platform.Settings) (platform.Invoker, error) { return nil, errors.New("fake: no invoker") },
		})
	}
	r, err := platform.NewRegistry(ds...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wideLimits let every test job through.
var wideLimits = platform.Limits{MaxPayloadBytes: 6 << 20, MinMemoryMB: 1, MaxMemoryMB: 10240, MemoryStepMB: 1, MaxTimeout: 15 * time.Minute}
