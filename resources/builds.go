package resources

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// build makes the artifact of kind for the job's package: one artifact holds every job of the
// package (each function runs its own by name), so the resources of one package, planned and
// applied in parallel, share one build. The packager's content-addressed cache makes later
// runs, and other processes, reuse it too.
func (m *Manager) build(ctx context.Context, kind platform.ArtifactKind, fn platform.BuildFunc, spec JobSpec, p Planned) (platform.Artifact, error) {
	jobs := p.PackageJobs
	if len(jobs) == 0 {
		jobs = []job.Analysis{p.Analysis}
	}
	dir, err := filepath.Abs(spec.Package)
	if err != nil {
		dir = spec.Package
	}
	// The jobs of a package have code hashes of their own; the build is keyed by the whole
	// package's (remembered for the run, so the hundred jobs of a package hash it once).
	source, err := m.settings.SourceHash(ctx, spec.Package)
	if err != nil {
		return platform.Artifact{}, &SpecError{Field: "package", Message: fmt.Sprintf("hashing the source of package %s", spec.Package), Err: err}
	}
	key := flightKey{kind: kind, dir: dir, source: source}
	v, err, shared := packageBuilds.Do(key.String(), func() (any, error) {
		m.logger.Info("building package", "package", spec.Package, "artifact", kind, "jobs", len(jobs))
		start := time.Now()
		a, err := fn(ctx, platform.BuildRequest{Dir: spec.Package, Jobs: jobs, CacheDir: m.settings.ArtifactCacheDir, Logger: m.logger})
		if err == nil {
			m.logger.Info("built package", "package", spec.Package, "artifact", kind, "sha256", a.SHA256, "bytes", a.Size, "duration", time.Since(start).Round(time.Millisecond))
		}
		return a, err
	})
	a, _ := v.(platform.Artifact)
	if err != nil {
		return platform.Artifact{}, &SpecError{Field: "package", Message: fmt.Sprintf("building job %q as %s", p.Name, kind), Err: err}
	}
	if shared {
		m.logger.Debug("shared the package build of another job", "job", p.Name, "artifact", kind)
	}
	return a, nil
}

// packageBuilds runs one build per package, kind and source at a time in this process.
// Nothing is remembered after: a failure is retried by the next caller, a success is served
// by the packager's cache.
var packageBuilds singleflight.Group

type flightKey struct {
	kind   platform.ArtifactKind
	dir    string
	source string
}

func (k flightKey) String() string { return string(k.kind) + "\x00" + k.dir + "\x00" + k.source }
