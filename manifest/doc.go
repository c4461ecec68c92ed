// Package manifest defines the versioned deployment manifest (which jobs exist, what the analysis
// proved about them, where they are deployed) and reads it from a Terraform state.
package manifest
