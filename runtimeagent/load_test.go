package runtimeagent

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

func writeProc(t *testing.T, dir, stat, meminfo string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte(meminfo), 0o644); err != nil {
		t.Fatal(err)
	}
}

const meminfo = "MemTotal:       1000000 kB\nMemFree:         100000 kB\nMemAvailable:    250000 kB\n"

func TestLoadSampler(t *testing.T) {
	dir := t.TempDir()
	// user nice system idle iowait irq softirq steal
	writeProc(t, dir, "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n", meminfo)
	s, err := NewLoadSampler(dir, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU() != 0 {
		t.Fatalf("CPU %v after one sample; want 0 until there is an interval to measure", s.CPU())
	}
	if math.Abs(s.Memory()-0.75) > 1e-9 {
		t.Fatalf("memory %v, want 0.75 (total 1000000, available 250000)", s.Memory())
	}
	// 300 more busy jiffies and 100 more idle ones: 75% busy over the interval.
	writeProc(t, dir, "cpu  250 0 250 800 100 0 0 0 0 0\n", meminfo)
	if err := s.sample(); err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.CPU()-0.75) > 1e-9 {
		t.Fatalf("CPU %v, want 0.75", s.CPU())
	}
}

func TestLoadSamplerErrors(t *testing.T) {
	if _, err := NewLoadSampler(filepath.Join(t.TempDir(), "missing"), 0); err == nil || !strings.Contains(err.Error(), "sampling CPU load") {
		t.Fatalf("missing /proc: %v", err)
	}
	dir := t.TempDir()
	writeProc(t, dir, "cpu  1 2 x 4 5\n", meminfo)
	if _, err := NewLoadSampler(dir, 0); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("bad stat: %v", err)
	}
	writeProc(t, dir, "cpu  1 2 3 4 5\n", "MemFree: 10 kB\n")
	if _, err := NewLoadSampler(dir, 0); err == nil || !strings.Contains(err.Error(), "MemTotal") {
		t.Fatalf("bad meminfo: %v", err)
	}
}

func TestLoadSamplerReadsThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc on this machine")
	}
	s, err := NewLoadSampler("", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Memory(); m <= 0 || m > 1 {
		t.Fatalf("memory share %v, want within (0, 1]", m)
	}
}

// A VM busy with other work sends jobs away even when the agent's own slots are free.
func TestRun_busyMachineOffloads(t *testing.T) {
	dir := t.TempDir()
	writeProc(t, dir, "cpu  0 0 0 0 0 0 0 0\n", meminfo)
	load, err := NewLoadSampler(dir, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	writeProc(t, dir, "cpu  950 0 0 50 0 0 0 0\n", meminfo) // 95% busy since the last sample
	if err := load.sample(); err != nil {
		t.Fatal(err)
	}
	prices := router.DefaultPrices()
	f := newFixtureConfig(t, Config{Policy: router.Policy{LocalCapacity: 4, Prices: &prices}, Load: load, MemoBytes: -1, HedgeRatio: -1},
		stateJob{name: "resize", pure: true, eligible: true, regions: []string{"a"}},
	)
	if r := f.run(t, "resize", `{}`); r.status != 200 || r.run.Ran.Target != "serverless" || r.run.Decision != "vm_busy" {
		t.Fatalf("run on a 95%% busy machine: %d %s; want offloaded with decision vm_busy", r.status, r.raw)
	}
	if m := get(t, f.srv.URL+"/metrics"); !strings.Contains(m, "blueprint_agent_cpu_utilization 0.95") {
		t.Errorf("/metrics does not show the CPU sample")
	}
}
