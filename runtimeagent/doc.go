// Package runtimeagent is the runtime agent: it serves an HTTP API to run jobs by name, reads
// the deployment manifest, and runs each execution locally or offloaded as the router decides.
package runtimeagent
