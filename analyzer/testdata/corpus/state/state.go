// Package state holds corpus jobs that take job.State: requires_state always; a Put is an
// effect; state lives outside the process, so such jobs stay eligible.
package state

import (
	"context"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

// In is the input of every job in this package.
type In struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Out is the output of every job in this package.
type Out struct {
	Value   string `json:"value"`
	Version int64  `json:"version"`
}

// Unused exercises a stateful signature whose State is never touched.
// expect: pure=true deterministic=true state=true eligible=true hosts=
//
//blueprint:job
func Unused(ctx context.Context, st job.State, in In) (Out, error) {
	return Out{Value: in.Value}, nil
}

// Read exercises State.Get only (the answer depends on what is stored).
// expect: pure=true deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func Read(ctx context.Context, st job.State, in In) (Out, error) {
	v, ver, err := st.Get(ctx, in.Key)
	return Out{Value: string(v), Version: ver}, err
}

// Increment exercises a read-modify-write with State.Get then State.Put.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func Increment(ctx context.Context, st job.State, in In) (Out, error) {
	v, ver, err := st.Get(ctx, in.Key)
	if err != nil {
		return Out{}, err
	}
	n, _ := strconv.Atoi(string(v))
	next := strconv.Itoa(n + 1)
	newVer, err := st.Put(ctx, in.Key, []byte(next), ver)
	return Out{Value: next, Version: newVer}, err
}

// save writes through the State handed to it.
func save(ctx context.Context, st job.State, key, value string) (int64, error) {
	return st.Put(ctx, key, []byte(value), 0)
}

// PutViaHelper exercises State.Put reached through a helper function.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func PutViaHelper(ctx context.Context, st job.State, in In) (Out, error) {
	ver, err := save(ctx, st, in.Key, in.Value)
	return Out{Value: in.Value, Version: ver}, err
}

// PutInClosure exercises State.Put inside a closure that captures the State.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func PutInClosure(ctx context.Context, st job.State, in In) (Out, error) {
	put := func(v string) (int64, error) { return st.Put(ctx, in.Key, []byte(v), 0) }
	ver, err := put(in.Value)
	return Out{Value: in.Value, Version: ver}, err
}

// calls is package-level state that StateAndGlobal also writes.
var calls int

// StateAndGlobal exercises job.State together with a package-level counter (implicit state).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func StateAndGlobal(ctx context.Context, st job.State, in In) (Out, error) {
	calls++
	v, ver, err := st.Get(ctx, in.Key)
	return Out{Value: string(v) + strconv.Itoa(calls), Version: ver}, err
}
