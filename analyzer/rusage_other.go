//go:build !linux && !darwin

package analyzer

import "os"

// maxRSSMB is not measured on this system; memory_mb stays the default.
func maxRSSMB(*os.ProcessState) float64 { return 0 }
