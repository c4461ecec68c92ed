//go:build linux || darwin

package analyzer

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSSMB is the peak resident memory of a finished process in MB (0 when unknown).
func maxRSSMB(ps *os.ProcessState) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes on macOS
	}
	return float64(ru.Maxrss) / 1024 // KB on Linux
}
