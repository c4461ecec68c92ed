// Package jobcall lets a Go program call Blueprint jobs as plain typed functions:
// jobcall.Call(ctx, jobs.ResizeImage, in) runs the job through the runtime agent on this
// machine, or through a router embedded in the program (Embed), and returns the job's own
// output type. It links neither the analyzer nor the wasm engine nor Terraform.
package jobcall
