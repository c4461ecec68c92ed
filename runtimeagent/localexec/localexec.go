// Package localexec is the contract between the runtime agent and what runs jobs on its
// machine (native workers, in-process wasm, an embedding application's own functions).
package localexec

import (
	"context"
	"errors"
	"regexp"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
)

// ErrUnavailable marks local failures that happened before the job started: the agent may
// offload instead, since the job has not run.
var ErrUnavailable = errors.New("local execution unavailable")

// Executor runs a job on this machine.
type Executor interface {
	// Execute runs j with the JSON input. A job error is a *platform.FunctionError. When the
	// executor could not even start the job (no artifact, module fetch failed) the error wraps
	// ErrUnavailable, so the agent may offload instead: the job has not run.
	Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error)
	// ArtifactKind is the kind of artifact it runs j with (manifest.Job.Artifacts): what it
	// ran is part of a memoized result's key.
	ArtifactKind(j *manifest.Job) platform.ArtifactKind
}

// Warmer is implemented by local executors that can prepare a job ahead of its first run
// (fetch and compile its module), so the first request does not pay for it.
type Warmer interface {
	Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error
}

// Ready is implemented by executors that can tell whether a job would start at once (its
// module compiled), so a readiness probe never makes a caller wait for a compile.
type Ready interface {
	Ready(j *manifest.Job) bool
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// IsSHA256 reports whether s is a lower-case hex SHA-256, the only form an artifact name takes
// before it becomes part of a path or URL.
func IsSHA256(s string) bool { return sha256Hex.MatchString(s) }
