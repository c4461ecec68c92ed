package engine

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/serverless-blueprint/blueprint/platform/wasm"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/serverless-blueprint/blueprint/job"
)

// stateKey carries the call's job.State to the host functions through the call context.
type stateKey struct{}

// instantiateHostModule defines the "blueprint" imports that stateful jobs call (see abi.go).
func instantiateHostModule(ctx context.Context, wz wazero.Runtime) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	_, err := wz.NewHostModuleBuilder(wasm.HostModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(stateGet), []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}).
		Export(wasm.ImportStateGet).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(statePut), []api.ValueType{i32, i32, i32, i32, i64, i32, i32, i32}, []api.ValueType{i32}).
		Export(wasm.ImportStatePut).
		Instantiate(ctx)
	if err != nil {
		return errors.New("instantiating the blueprint host module: " + err.Error())
	}
	return nil
}

func callState(ctx context.Context) (job.State, bool) {
	st, ok := ctx.Value(stateKey{}).(job.State)
	return st, ok && st != nil
}

const noStateMessage = "this runtime has no state store for stateful jobs: configure one where the job runs"

// stateGet: (key_ptr, key_len, buf_ptr, buf_cap, out_ptr) -> status.
func stateGet(ctx context.Context, mod api.Module, stack []uint64) {
	keyPtr, keyLen, bufPtr, bufCap, outPtr := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3]), uint32(stack[4])
	mem := mod.Memory()
	fail := func(msg string) {
		n := min(uint32(len(msg)), bufCap)
		mem.Write(bufPtr, []byte(msg[:n]))
		mem.WriteUint64Le(outPtr, 0)
		mem.WriteUint64Le(outPtr+8, uint64(n))
		stack[0] = uint64(wasm.StateError)
	}
	st, ok := callState(ctx)
	if !ok {
		fail(noStateMessage)
		return
	}
	key, ok := mem.Read(keyPtr, keyLen)
	if !ok {
		fail("state key outside module memory")
		return
	}
	val, version, err := st.Get(ctx, string(key))
	if err != nil {
		fail(err.Error())
		return
	}
	if val == nil && version == 0 {
		mem.WriteUint64Le(outPtr, 0)
		mem.WriteUint64Le(outPtr+8, 0)
		stack[0] = uint64(wasm.StateMissing)
		return
	}
	var out [16]byte
	binary.LittleEndian.PutUint64(out[:8], uint64(version))
	binary.LittleEndian.PutUint64(out[8:], uint64(len(val)))
	mem.Write(outPtr, out[:])
	if uint32(len(val)) > bufCap {
		stack[0] = uint64(wasm.StateBufferTooSmall)
		return
	}
	mem.Write(bufPtr, val)
	stack[0] = uint64(wasm.StateOK)
}

// statePut: (key_ptr, key_len, val_ptr, val_len, expected_version i64, out_ptr, err_ptr, err_cap) -> status.
func statePut(ctx context.Context, mod api.Module, stack []uint64) {
	keyPtr, keyLen, valPtr, valLen := uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3])
	expected := int64(stack[4])
	outPtr, errPtr, errCap := uint32(stack[5]), uint32(stack[6]), uint32(stack[7])
	mem := mod.Memory()
	fail := func(msg string) {
		n := min(uint32(len(msg)), errCap)
		mem.Write(errPtr, []byte(msg[:n]))
		mem.WriteUint64Le(outPtr, uint64(n))
		stack[0] = uint64(wasm.StateError)
	}
	st, ok := callState(ctx)
	if !ok {
		fail(noStateMessage)
		return
	}
	key, ok1 := mem.Read(keyPtr, keyLen)
	val, ok2 := mem.Read(valPtr, valLen)
	if !ok1 || !ok2 {
		fail("state key or value outside module memory")
		return
	}
	// Copy the value: the store may keep it, and guest memory changes under it.
	newVersion, err := st.Put(ctx, string(key), append([]byte{}, val...), expected)
	if errors.Is(err, job.ErrVersionConflict) {
		stack[0] = uint64(wasm.StateConflict)
		return
	}
	if err != nil {
		fail(err.Error())
		return
	}
	mem.WriteUint64Le(outPtr, uint64(newVersion))
	stack[0] = uint64(wasm.StateOK)
}
