// Package packager builds a job package into a deployable artifact: a reproducible, content-
// addressed WASM reactor module whose generated main dispatches to the jobs by name.
package packager
