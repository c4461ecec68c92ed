package badsig

import (
	"context"
	"unsafe"

	"github.com/serverless-blueprint/blueprint/job"
)

type Stream struct {
	Name  string
	Lines chan string
}

type Out struct {
	Callback func() error `json:"callback"`
	Skipped  func()       `json:"-"`
	hidden   chan int
	Z        complex128
}

//blueprint:job
func ChanInput(ctx context.Context, in Stream) (string, error) { return in.Name, nil }

//blueprint:job
func FuncOutput(ctx context.Context, in string) (Out, error) { return Out{}, nil }

//blueprint:job
func NoContext(in string, more string) (string, error) { return in, nil }

//blueprint:job
func NoError(ctx context.Context, in string) (string, string) { return in, "" }

//blueprint:job
func OneParam(ctx context.Context) (string, error) { return "", nil }

//blueprint:job
func StateOnly(ctx context.Context, st job.State) (string, error) { return "", nil }

//blueprint:job
func BadMapKey(ctx context.Context, in map[[2]int]string) (string, error) { return "", nil }

//blueprint:job
func unexportedJob(ctx context.Context, in string) (string, error) { return in, nil }

//blueprint:job
func Generic[T any](ctx context.Context, in T) (T, error) { return in, nil }

// Fine is a valid job: it must not hide the problems of the others.
//
//blueprint:job
func Fine(ctx context.Context, in string) (string, error) { return in, nil }

var _ = Out{}.hidden

// Node is recursive: the walk must end, and report Ptr once.
type Node struct {
	Next  *Node
	Ptr   unsafe.Pointer
	Child []Node
}

//blueprint:job
func Linked(ctx context.Context, in Node) (string, error) { return "", nil }
