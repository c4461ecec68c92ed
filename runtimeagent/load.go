package runtimeagent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// LoadSampler samples the machine's CPU and memory use from /proc, so that the router sees
// load the agent did not cause (the application beside it) as well as its own executions.
// Construct with NewLoadSampler, then Run; CPU and Memory are safe to read at any time.
type LoadSampler struct {
	procDir  string
	interval time.Duration
	cpu      atomic.Uint64 // math.Float64bits of the busy share over the last interval
	memory   atomic.Uint64 // math.Float64bits of the used share of memory

	prevBusy, prevTotal uint64
	havePrev            bool
}

// NewLoadSampler reads procDir ("" = /proc) every interval (0 = 1 s). It fails at once when the
// files cannot be read, so that a machine without /proc is reported, not silently ignored.
func NewLoadSampler(procDir string, interval time.Duration) (*LoadSampler, error) {
	if procDir == "" {
		procDir = "/proc"
	}
	if interval <= 0 {
		interval = time.Second
	}
	s := &LoadSampler{procDir: procDir, interval: interval}
	if err := s.sample(); err != nil {
		return nil, err
	}
	return s, nil
}

// CPU is the share of CPU time (all cores) that was busy over the last interval, 0..1.
func (s *LoadSampler) CPU() float64 { return math.Float64frombits(s.cpu.Load()) }

// Memory is the share of memory in use (total minus available), 0..1.
func (s *LoadSampler) Memory() float64 { return math.Float64frombits(s.memory.Load()) }

// Run samples until ctx ends. A failed sample keeps the last values.
func (s *LoadSampler) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.sample() // the previous values stay; NewLoadSampler proved the files exist
		}
	}
}

func (s *LoadSampler) sample() error {
	busy, total, err := readCPU(filepath.Join(s.procDir, "stat"))
	if err != nil {
		return err
	}
	if s.havePrev && total > s.prevTotal {
		share := float64(busy-s.prevBusy) / float64(total-s.prevTotal)
		s.cpu.Store(math.Float64bits(min(max(share, 0), 1)))
	}
	s.prevBusy, s.prevTotal, s.havePrev = busy, total, true
	used, err := readMemory(filepath.Join(s.procDir, "meminfo"))
	if err != nil {
		return err
	}
	s.memory.Store(math.Float64bits(used))
	return nil
}

// readCPU returns busy and total jiffies from the aggregate "cpu" line of /proc/stat; idle and
// iowait count as not busy.
func readCPU(path string) (busy, total uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("sampling CPU load: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[0] != "cpu" {
			continue
		}
		for i, v := range fields[1:] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("sampling CPU load: %s: field %d of the cpu line is %q", path, i+1, v)
			}
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return busy, total, nil
	}
	return 0, 0, fmt.Errorf("sampling CPU load: %s has no aggregate cpu line", path)
}

// readMemory returns the used share of memory from /proc/meminfo (MemTotal − MemAvailable).
func readMemory(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("sampling memory: %w", err)
	}
	var total, available uint64
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "MemTotal:":
			total = n
		case "MemAvailable:":
			available = n
		}
	}
	if total == 0 {
		return 0, errors.New("sampling memory: " + path + " has no MemTotal")
	}
	return min(float64(total-min(available, total))/float64(total), 1), nil
}
