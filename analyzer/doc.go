// Package analyzer finds //blueprint:job functions in a Go package and labels each one (pure,
// deterministic, requires_state, network calls, eligible) with the reasons behind every label.
//
// What this first version checks, and what it does not. It loads the package with go/packages
// (syntax and types for the package itself, export data for its imports) and walks each job's
// body and, transitively, every function, method and closure of the same package that the job
// calls statically or takes as a value. In that code it records: calls to a table of
// standard-library effects (file reads and writes, os/exec, network with the host when the URL
// or address is constant, environment, clock, global and crypto randomness, unix sockets,
// syscall, unsafe); writes to package-level variables (also through fields, elements, pointers,
// &g and pointer-method calls such as mu.Lock) and reads of package-level variables that some
// code other than init writes; select statements; and ranges over maps not followed by a sort
// in the same function unless the loop body only counts or writes each key's own slot. What
// runs when the package loads (init functions and variable initializers, but not the literals
// and handlers they only store) is scanned too: its VM-only effects are "init_effect" findings
// that make every job of the package ineligible, without touching pure or deterministic.
// Standard-library functions outside the table are taken as effect-free. Calls into other
// packages, through interfaces (except standard value interfaces such as error, context.Context,
// hash.Hash, image.Image and sort.Interface, and Close) and through
// function values it cannot resolve become "unknown" findings: unknown is never pure nor
// deterministic, but it does not by itself make a job ineligible. Not covered yet: the bodies
// of other packages, which concrete type an interface holds, effects of goroutine scheduling
// other than select, and state reached through pointers passed in from a global.
// Profiling: a job with a Benchmark<Function> in the package's tests gets max_duration_ms and
// memory_mb from running it (profile.go; a "profile" finding says how), others keep documented
// defaults (a "default_profile" finding says so); WithProfiling(false) or BLUEPRINT_NO_PROFILE=1
// turn it off. Results are cached on disk by the content hash of the package and its
// dependencies (cache.go). Problem positions use absolute file paths, as the go command
// reports them.
package analyzer
