// Package jobs is a fixture of callgen's tests: jobs with every shape of signature.
package jobs

import (
	"context"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

type Request struct{ Name string }

type Reply struct{ Text string }

//blueprint:job
func Plain(ctx context.Context, in Request) (Reply, error) { return Reply{Text: in.Name}, nil }

// Renamed has a name of its own and takes types from other packages.
//
//blueprint:job name=wait-for memory=256
func Renamed(ctx context.Context, in time.Duration) ([]map[string]Reply, error) { return nil, nil }

//blueprint:job
func Counter(ctx context.Context, st job.State, in Request) (*Reply, error) { return nil, nil }

// notAJob has no directive.
func NotAJob(ctx context.Context, in Request) (Reply, error) { return Reply{}, nil }
