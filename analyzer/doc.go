// Package analyzer finds //blueprint:job functions in a Go package and labels each one (pure,
// deterministic, requires_state, network calls, eligible) with the reasons behind every label.
//
// It loads the job package and everything it imports from source with go/packages, builds the
// whole program in SSA form (golang.org/x/tools/go/ssa, generics instantiated) and a call
// graph (VTA refined from CHA), and walks, breadth first from each job, every function the job
// can reach: static calls, calls through interfaces and function values that the call graph
// resolves, closures, method values, generic instances, code in the user's other packages and
// in third-party modules, and callbacks handed to the standard library (sort.Slice's less, a
// user type given to fmt). The standard library and a few common libraries (gRPC, protobuf)
// are not walked: they are loaded without function bodies and described by effect tables
// (stdlib.go, libraries.go).
//
// Along the way it records: table effects (file reads and writes, os/exec, network with the
// host when the URL, address or gRPC target is constant, environment, clock, global and crypto
// randomness, unix sockets, syscall, reflection that calls code); writes to package-level
// variables and to memory reachable from them, followed through pointers passed down (each
// function is walked once per such context); reads of package-level variables that code
// reachable from a job writes (a variable written only during initialization is read-only);
// select races; goroutines that write one variable or send on one channel from several
// goroutines; map iteration order reaching a result, a channel or shared memory unsorted
// (order.go); unsafe.Pointer conversions; job.State reads and writes. Calls the call graph
// cannot resolve are "unknown" findings: unknown is never pure nor deterministic. What runs
// when the package loads is walked too: its VM-only effects are "init_effect" findings that
// make every job ineligible without touching pure or deterministic.
//
// Profiling (profile.go, profile_samples.go) measures max_duration_ms and memory_mb from a
// Benchmark<Function> in the package's tests, or from sample inputs in
// testdata/<job name>/*.json run through a generated program; it is bounded in time and memory
// and can be turned off. Results are cached on disk by the content hash of the package and its
// dependencies (cache.go). RATIONALE.md says why it works this way and where it can be wrong.
package analyzer
