package analyzer

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// memReading is what watching a profiled process showed.
type memReading struct {
	peakMB  float64 // highest VmHWM seen; 0 when the process ended before the first look
	overCap bool    // killed for passing the cap
}

// watchMemory polls a process's peak resident memory (VmHWM) and kills it once it passes
// capMB. It sends its reading on result when done is closed or after the kill.
//
// The peak comes from /proc rather than from wait4's rusage: Go starts children with
// vfork-style clone, so the kernel charges the parent's memory before exec to the child's
// ru_maxrss, and a 200 MB analyzer would report every job as needing 200 MB.
func watchMemory(p *os.Process, capMB int, every time.Duration, done <-chan struct{}, result chan<- memReading) {
	status := fmt.Sprintf("/proc/%d/status", p.Pid)
	var r memReading
	look := func() bool {
		raw, err := os.ReadFile(status)
		if err != nil {
			return true // exiting
		}
		if mb := statusMB(raw, "VmHWM:"); mb > r.peakMB {
			r.peakMB = mb
		}
		if r.peakMB > float64(capMB) {
			r.overCap = true
			_ = p.Kill()
			return false
		}
		return true
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for look() {
		select {
		case <-done:
			result <- r
			return
		case <-tick.C:
		}
	}
	<-done
	result <- r
}

// statusMB reads a "Key:   1234 kB" line of /proc/<pid>/status in MB.
func statusMB(status []byte, key string) float64 {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			fields := bytes.Fields(rest)
			if len(fields) > 0 {
				kb, err := strconv.ParseFloat(string(fields[0]), 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}
