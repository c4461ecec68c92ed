// Package host is the function host behind `blueprint host`: an HTTP API that stores job modules
// and function configurations on disk and runs invocations in-process with the wasm runtime.
package host
