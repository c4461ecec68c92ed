// Package job is the only package job authors import: the State contract for stateful jobs,
// and the analysis result types (a job's metadata) that the provider, manifest and agent share.
package job
