package runtimeagent

import (
	"context"

	"github.com/serverless-blueprint/blueprint/manifest"
	"github.com/serverless-blueprint/blueprint/platform"
)

// LocalExecutors runs a job with its native bootstrap when the state records one (any job,
// at native speed, with the VM's files and processes), else in wasm (states applied before
// native artifacts existed). Either may be nil.
type LocalExecutors struct {
	Native LocalExecutor
	WASM   LocalExecutor
}

var (
	_ LocalExecutor = LocalExecutors{}
	_ Warmer        = LocalExecutors{}
)

func (l LocalExecutors) pick(j *manifest.Job) LocalExecutor {
	if l.Native != nil && (j.Artifact(platform.ArtifactNative) != "" || l.WASM == nil) {
		return l.Native
	}
	return l.WASM
}

// Execute runs j with the executor of its artifact.
func (l LocalExecutors) Execute(ctx context.Context, m *manifest.Manifest, j *manifest.Job, input []byte) ([]byte, error) {
	x := l.pick(j)
	if x == nil {
		return nil, ErrLocalUnavailable
	}
	return x.Execute(ctx, m, j, input)
}

// ArtifactKind is the kind j runs as here.
func (l LocalExecutors) ArtifactKind(j *manifest.Job) platform.ArtifactKind {
	if x := l.pick(j); x != nil {
		return x.ArtifactKind(j)
	}
	return ""
}

// Warm prepares j with the executor of its artifact.
func (l LocalExecutors) Warm(ctx context.Context, m *manifest.Manifest, j *manifest.Job) error {
	if w, ok := l.pick(j).(Warmer); ok {
		return w.Warm(ctx, m, j)
	}
	return nil
}
