// Package quickstart is generated from the quickstart's jobs (examples/terraform/quickstart/jobs)
// by `blueprint wrap`: the same functions, run through Blueprint.
package quickstart

//go:generate go run ../../../cmd/blueprint wrap -o . ../../terraform/quickstart/jobs
