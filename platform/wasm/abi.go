package wasm

// This file is the one definition of the ABI between a Blueprint job module and whoever runs it
// (this package's Runtime). The packager generates the guest side from packager/wrapper.go.tmpl;
// the two must change together, and ABIVersion must be bumped when they do.
//
// A job module is a Go program built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared (a WASI
// "reactor"): its runtime starts once in the exported _initialize function, stays resident, and
// then serves any number of calls through these exports:
//
//	blueprint_alloc(size u32) -> ptr u32
//	    Returns the address of a guest-owned buffer of at least size bytes. The buffer stays
//	    valid, and is reused by blueprint_invoke, until the next blueprint_alloc call, so a
//	    caller may cache it and call blueprint_alloc again only when it needs a larger one.
//
//	blueprint_invoke(name_ptr u32, name_len u32, in_ptr u32, in_len u32) -> u64
//	    Runs the job named by the bytes at name_ptr with the JSON input at in_ptr (both usually
//	    inside the alloc buffer). The result is packed as (ptr << 32 | len); the bytes at ptr stay
//	    valid until the next blueprint_invoke. The first result byte is a status (below), the
//	    rest the payload.
//
//	blueprint_abi_version() -> u32
//	    The ABIVersion the guest was generated for; a runtime refuses a module it does not speak.
//
//	blueprint_jobs() -> u64
//	    The job names the module dispatches, as a JSON array of strings, packed like the result
//	    of blueprint_invoke (no status byte). A host checks a function's entry against it.
//
// Stateful jobs (a job.State parameter) call back into the host through imports from the module
// named "blueprint":
//
//	state_get(key_ptr, key_len, buf_ptr, buf_cap, out_ptr u32) -> status u32
//	    out_ptr points at 16 bytes: the value's version (i64 LE) then its length (i64 LE).
//	    StateOK: the value is at buf_ptr. StateMissing: the key does not exist (version 0).
//	    StateBufferTooSmall: nothing copied; retry with a buffer of the reported length.
//	    StateError: buf holds an error message (truncated to buf_cap), length says how long.
//
//	state_put(key_ptr, key_len, val_ptr, val_len u32, expected_version i64, out_ptr, err_ptr, err_cap u32) -> status u32
//	    StateOK: out_ptr receives the new version (i64 LE). StateConflict: the expected version
//	    did not match (the guest wraps job.ErrVersionConflict). StateError: err_ptr receives a
//	    message, and out_ptr its length (i64 LE).
const (
	ABIVersion = 2

	ExportAlloc      = "blueprint_alloc"
	ExportInvoke     = "blueprint_invoke"
	ExportABIVersion = "blueprint_abi_version"
	ExportJobs       = "blueprint_jobs"

	HostModule     = "blueprint"
	ImportStateGet = "state_get"
	ImportStatePut = "state_put"
	StartFunction  = "_initialize"
)

// Result status bytes, the first byte of every blueprint_invoke result.
const (
	// StatusOK: the payload is the job's JSON output.
	StatusOK byte = 0
	// StatusJobError: the payload is {"errorType","errorMessage"}: the job returned an error,
	// panicked (errorType "Panic"), or could not decode its input (errorType "InvalidInput").
	StatusJobError byte = 1
	// StatusUnknownEntry: the module has no job by that name; the payload is a message.
	StatusUnknownEntry byte = 2
)

// Status codes of the state_get and state_put host functions.
const (
	StateOK             uint32 = 0
	StateMissing        uint32 = 1
	StateBufferTooSmall uint32 = 2
	StateConflict       uint32 = 3
	StateError          uint32 = 4
)

// Error types the guest wrapper reports besides the job's own error type names.
const (
	ErrorTypePanic        = "Panic"
	ErrorTypeInvalidInput = "InvalidInput"
	ErrorTypeOutput       = "InvalidOutput"
)
