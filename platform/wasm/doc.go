// Package wasm runs Blueprint job modules (GOOS=wasip1 reactors) in-process with wazero, and
// deploys and invokes them on `blueprint host` endpoints: the embedded default platform.
package wasm
