// Package engine runs Blueprint job modules in-process with wazero: compiled once (with an
// on-disk cache), resident instances for pure jobs, fresh ones for the others, under limits.
package engine
