// Package wasm is the embedded default platform: it deploys Blueprint job modules (GOOS=wasip1
// reactors) to `blueprint host` endpoints and invokes them there, and defines the module ABI.
// The engine that runs modules in-process (wazero) is platform/wasm/engine, apart so that
// programs calling the platform do not link it.
package wasm
