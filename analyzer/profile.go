package analyzer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

// NoProfileEnv, set to 1, turns profiling off (as WithProfiling(false) does).
const NoProfileEnv = "BLUEPRINT_NO_PROFILE"

// Profiling bounds and rules. The safety factor covers a slower platform CPU (Lambda arm64 at
// low memory gets a fraction of a core) and inputs larger than the benchmark's; memory rounds
// up to 64 MB steps (Lambda allows 1 MB steps; coarser steps keep plans from churning).
const (
	ProfileDurationFactor = 3
	ProfileMemoryFactor   = 1.5
	ProfileMemoryStepMB   = 64
	profileBuildTimeout   = 3 * time.Minute
	profileRunTimeout     = time.Minute
	profileIterations     = "5x"
	// profileMemoryLimit is the GOMEMLIMIT of a benchmark run: the garbage collector works
	// hard to stay under it, so a job that leaks cannot take the machine down with it.
	profileMemoryLimit = "2GiB"
)

// profileMemoryCapMB is the hard cap: a profiled process whose resident memory passes it is
// killed (Linux; elsewhere only GOMEMLIMIT and the timeout apply). A variable so that tests
// can lower it.
var profileMemoryCapMB = 3072

// WithProfiling turns the profiling step on or off. It is on by default unless
// BLUEPRINT_NO_PROFILE=1; it is the only step that runs user code.
func WithProfiling(enabled bool) Option {
	return func(c *config) { c.profile, c.profileSet = enabled, true }
}

// measurement is what one benchmark run showed.
type measurement struct {
	nsPerOp   float64
	maxRSSMB  float64
	benchmark string // name
	position  string // where the benchmark is declared
}

// profileJobs replaces the documented defaults with measurements for every job that has a
// Benchmark<Function> in the package's tests, or else sample inputs in testdata/<job name>/
// (profile_samples.go). It runs user code: each program is built once and runs a fixed number
// of iterations under a timeout, GOMEMLIMIT and a hard memory cap. memoryFromDirective names
// the jobs whose directive sets memory=, which a measurement keeps.
func (a *ssaAnalyzer) profileJobs(ctx context.Context, dir, importPath string, jobs []job.Analysis, memoryFromDirective map[string]bool) {
	benchmarks, err := findBenchmarks(dir)
	if err != nil {
		a.cfg.logger.Warn("profiling skipped: cannot read the tests", "dir", dir, "error", err)
		return
	}
	var wanted, withSamples []int
	for i, j := range jobs {
		switch {
		case benchmarks["Benchmark"+j.Function] != "":
			wanted = append(wanted, i)
		case len(sampleFiles(dir, j.Name)) > 0:
			if takesState(j) {
				addProfileNote(&jobs[i], "the samples in testdata/"+j.Name+" were not run: the job takes job.State, which the sample runner does not provide (add Benchmark"+j.Function+" with a State of your own)")
				continue
			}
			withSamples = append(withSamples, i)
		}
	}
	if len(wanted) == 0 && len(withSamples) == 0 {
		return
	}
	tmp, err := os.MkdirTemp("", "blueprint-profile-")
	if err != nil {
		a.cfg.logger.Warn("profiling skipped", "error", err)
		return
	}
	defer os.RemoveAll(tmp)
	a.profileSamples(ctx, dir, tmp, importPath, jobs, withSamples, memoryFromDirective)
	if len(wanted) == 0 {
		return
	}
	a.cfg.step("building the tests of %s to run %d benchmark(s)", importPath, len(wanted))
	bin := filepath.Join(tmp, "jobs.test")
	buildCtx, cancel := context.WithTimeout(ctx, profileBuildTimeout)
	defer cancel()
	args := append(append([]string{"test", "-c", "-o", bin}, a.cfg.buildFlags...), ".")
	build := exec.CommandContext(buildCtx, "go", args...)
	build.Dir = dir
	build.Env = a.cfg.env
	if out, err := build.CombinedOutput(); err != nil {
		for _, i := range wanted {
			addProfileNote(&jobs[i], fmt.Sprintf("the package's tests do not build, so %s was not run: %s",
				"Benchmark"+jobs[i].Function, firstLine(string(out), err)))
		}
		return
	}
	for _, i := range wanted {
		name := "Benchmark" + jobs[i].Function
		a.cfg.step("profiling %s with %s", jobs[i].Name, name)
		m, err := runBenchmark(ctx, dir, bin, name, a.cfg.env)
		if err != nil {
			addProfileNote(&jobs[i], fmt.Sprintf("%s did not give a measurement: %v", name, err))
			continue
		}
		m.position = benchmarks[name]
		applyMeasurement(&jobs[i], m, memoryFromDirective[jobs[i].Name])
	}
}

// profileSamples measures the jobs at indexes with their sample inputs.
func (a *ssaAnalyzer) profileSamples(ctx context.Context, dir, tmp, importPath string, jobs []job.Analysis, indexes []int, memoryFromDirective map[string]bool) {
	if len(indexes) == 0 {
		return
	}
	functions := make([]string, len(indexes))
	for k, i := range indexes {
		functions[k] = jobs[i].Function
	}
	a.cfg.step("building the sample runner for %d job(s)", len(indexes))
	bin, err := a.buildSampleRunner(ctx, dir, tmp, importPath, functions)
	if err != nil {
		for _, i := range indexes {
			addProfileNote(&jobs[i], fmt.Sprintf("the samples in testdata/%s were not run: %v", jobs[i].Name, err))
		}
		return
	}
	for _, i := range indexes {
		files := sampleFiles(dir, jobs[i].Name)
		a.cfg.step("profiling %s on %d sample input(s)", jobs[i].Name, len(files))
		m, err := runSamples(ctx, dir, bin, jobs[i].Function, files, a.cfg.env)
		if err != nil {
			addProfileNote(&jobs[i], fmt.Sprintf("the samples in testdata/%s did not give a measurement: %v", jobs[i].Name, err))
			continue
		}
		m.position = files[0]
		applyMeasurement(&jobs[i], m, memoryFromDirective[jobs[i].Name])
	}
}

// takesState reports whether a job takes job.State.
func takesState(a job.Analysis) bool {
	for _, f := range a.Findings {
		if f.Kind == KindStateParam {
			return true
		}
	}
	return false
}

// findBenchmarks maps Benchmark<Name> functions in dir's test files to their positions.
func findBenchmarks(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	found := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Benchmark") && fn.Type.Params.NumFields() == 1 {
				found[fn.Name.Name] = fset.Position(fn.Name.Pos()).String()
			}
		}
	}
	return found, nil
}

// runBenchmark runs one benchmark of the compiled test binary and reads its time per
// operation and the process's peak resident memory.
func runBenchmark(ctx context.Context, dir, bin, name string, env []string) (measurement, error) {
	var out bytes.Buffer
	peakMB, err := runBounded(ctx, dir, []string{bin, "-test.run", "^$", "-test.bench", "^" + name + "$",
		"-test.benchtime", profileIterations, "-test.benchmem", "-test.count", "1"}, env, &out)
	if err != nil {
		return measurement{}, err
	}
	ns, err := parseNsPerOp(out.String(), name)
	if err != nil {
		return measurement{}, err
	}
	return measurement{nsPerOp: ns, maxRSSMB: peakMB, benchmark: name + " (" + profileIterations + " iterations)"}, nil
}

// parseNsPerOp reads "BenchmarkX-2   5   123456 ns/op ..." from go test's output.
func parseNsPerOp(output, name string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || (fields[0] != name && !strings.HasPrefix(fields[0], name+"-")) {
			continue
		}
		for k := 2; k+1 < len(fields); k++ {
			if fields[k+1] == "ns/op" {
				ns, err := strconv.ParseFloat(fields[k], 64)
				if err != nil {
					return 0, fmt.Errorf("reading %q: %w", sc.Text(), err)
				}
				return ns, nil
			}
		}
	}
	return 0, fmt.Errorf("no result line for %s in the benchmark output", name)
}

// applyMeasurement sets max_duration_ms and (unless the directive gave one) memory_mb from a
// measurement, with the safety factors, and says so in a finding.
func applyMeasurement(a *job.Analysis, m measurement, fromDirective bool) {
	durationMS := int64(math.Ceil(m.nsPerOp * ProfileDurationFactor / 1e6))
	if durationMS < 1 {
		durationMS = 1
	}
	note := fmt.Sprintf("max_duration_ms=%d is %d× the %.3f ms per call measured natively by %s (under wasm the quickstart's jobs run 20–40× slower; hosts enforce timeout_ms, not this)",
		durationMS, ProfileDurationFactor, m.nsPerOp/1e6, m.benchmark)
	a.MaxDurationMS = durationMS
	switch {
	case fromDirective:
		note += fmt.Sprintf("; memory_mb=%d comes from the directive", a.MemoryMB)
	case m.maxRSSMB > 0:
		a.MemoryMB = roundMemoryMB(m.maxRSSMB * ProfileMemoryFactor)
		note += fmt.Sprintf("; memory_mb=%d is %.1f× the %.0f MB peak resident memory of the profiled process, rounded up to %d MB steps",
			a.MemoryMB, ProfileMemoryFactor, m.maxRSSMB, ProfileMemoryStepMB)
	default:
		note += fmt.Sprintf("; memory_mb=%d is the default (peak memory is not measured on this system)", a.MemoryMB)
	}
	kept := a.Findings[:0]
	for _, f := range a.Findings {
		if f.Kind != KindDefaultProfile {
			kept = append(kept, f)
		}
	}
	a.Findings = append(kept, job.Finding{Kind: KindProfile, Message: note, Position: m.position, Chain: []string{a.Function}})
	if a.MemoryMB > MaxMemoryMB || time.Duration(a.MaxDurationMS)*time.Millisecond > MaxTimeout {
		a.Eligible = false
		a.Findings = append(a.Findings, job.Finding{Kind: KindLimits,
			Message:  fmt.Sprintf("measured to need %d MB and %d ms, beyond the serverless limits of %d MB and %s", a.MemoryMB, a.MaxDurationMS, MaxMemoryMB, MaxTimeout),
			Position: m.position, Chain: []string{a.Function}})
	}
}

// roundMemoryMB rounds up to the memory step within the platforms' range.
func roundMemoryMB(mb float64) int64 {
	steps := int64(math.Ceil(mb / ProfileMemoryStepMB))
	v := steps * ProfileMemoryStepMB
	if v < MinMemoryMB {
		v = MinMemoryMB
	}
	return v
}

// addProfileNote explains, in the default_profile finding, why the defaults stayed.
func addProfileNote(a *job.Analysis, note string) {
	for i := range a.Findings {
		if a.Findings[i].Kind == KindDefaultProfile {
			a.Findings[i].Message += "; " + note
		}
	}
}

func firstLine(out string, err error) string {
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return err.Error()
}
