package analyzer

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

// analyzeTestdata analyzes testdata/src/<name> with a bounded context.
func analyzeTestdata(t testing.TB, dir string) (*job.PackageAnalysis, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return New().Analyze(ctx, filepath.Join("testdata", dir))
}

var (
	jobsOnce     sync.Once
	jobsAnalysis *job.PackageAnalysis
	jobsErr      error
)

// jobsPackage analyzes testdata/src/jobs once for all the label tests.
func jobsPackage(t *testing.T) *job.PackageAnalysis {
	t.Helper()
	jobsOnce.Do(func() { jobsAnalysis, jobsErr = analyzeTestdata(t, "src/jobs") })
	if jobsErr != nil {
		t.Fatalf("analyzing testdata/src/jobs: %v", jobsErr)
	}
	return jobsAnalysis
}

func TestAnalyzeLabels(t *testing.T) {
	type labels struct{ pure, deterministic, requiresState, eligible bool }
	tests := []struct {
		job    string
		want   labels
		kinds  []string // every finding kind except default_profile, sorted
		hosts  []string
		chain  []string // chain of the first finding of kinds[0], when given
		memory int64
		maxMS  int64
	}{
		{job: "word_count", want: labels{true, true, false, true}},
		{job: "stamp", want: labels{true, false, false, true}, kinds: []string{KindClock}, chain: []string{"StampTime", "time.Now"}, memory: 256, maxMS: 120000},
		{job: "rand_global", want: labels{true, false, false, true}, kinds: []string{KindRandom}},
		{job: "rand_seeded", want: labels{true, true, false, true}},
		{job: "crypto_rand", want: labels{true, false, false, true}, kinds: []string{KindRandom}},
		{job: "write_report", want: labels{false, true, false, false}, kinds: []string{KindFileWrite}},
		{job: "read_config", want: labels{true, false, false, false}, kinds: []string{KindFileRead}},
		{job: "read_only_open", want: labels{true, false, false, false}, kinds: []string{KindFileRead}},
		{job: "from_env", want: labels{true, false, false, true}, kinds: []string{KindEnvRead}},
		{job: "run_tool", want: labels{false, false, false, false}, kinds: []string{KindExec}},
		{job: "fetch_const", want: labels{false, false, false, true}, kinds: []string{KindNetwork}, hosts: []string{"api.example.com"}},
		{job: "fetch_computed", want: labels{false, false, false, true}, kinds: []string{KindNetwork}, hosts: []string{"*"}},
		{job: "fetch_prefixed", want: labels{false, false, false, true}, kinds: []string{KindNetwork}, hosts: []string{"words.example.org"}},
		{job: "dial_unix", want: labels{false, false, false, false}, kinds: []string{KindUnixSocket}},
		{job: "dial_tcp", want: labels{false, false, false, true}, kinds: []string{KindNetwork}, hosts: []string{"db.internal"}},
		// seen[k]++ only writes the entry back: nothing read reaches the result.
		{job: "remember", want: labels{false, true, true, false}, kinds: []string{KindGlobalWrite}, chain: []string{"Remember"}},
		{job: "read_seen", want: labels{true, false, true, false}, kinds: []string{KindGlobalRead}},
		{job: "read_limit", want: labels{true, true, false, true}},
		{job: "sorted_tags", want: labels{true, true, false, true}},
		{job: "unsorted_tags", want: labels{true, false, false, true}, kinds: []string{KindMapOrder}},
		{job: "count_tags", want: labels{true, true, false, true}},
		{job: "first_done", want: labels{true, false, false, true}, kinds: []string{KindSelect}},
		{job: "transitive", want: labels{true, false, false, false}, kinds: []string{KindFileRead}, chain: []string{"Transitive", "outer", "inner", "os.ReadFile"}},
		{job: "in_closure", want: labels{true, false, false, true}, kinds: []string{KindClock}, chain: []string{"InClosure", "InClosure.func1", "time.Now"}},
		{job: "local_method", want: labels{true, true, false, true}},
		{job: "local_method_effect", want: labels{false, true, false, false}, kinds: []string{KindFileWrite}, chain: []string{"LocalMethodEffect", "(*tally).save", "os.WriteFile"}},
		{job: "tally", want: labels{false, false, true, true}, kinds: []string{KindStateParam, KindStateRead, KindStateWrite}, memory: 512, maxMS: 30000},
		{job: "calls_other", want: labels{true, true, false, true}},
		{job: "calls_other_effect", want: labels{false, true, false, false}, kinds: []string{KindFileWrite}, chain: []string{"CallsOtherEffect", "other.Save", "other.persist", "os.WriteFile"}},
		{job: "through_interface", want: labels{true, true, false, true}},
		{job: "through_interface_effect", want: labels{false, true, false, false}, kinds: []string{KindFileWrite}, chain: []string{"ThroughInterfaceEffect", "(fileSink).Put", "os.WriteFile"}},
		{job: "through_std_interface", want: labels{false, false, false, true}, kinds: []string{KindUnknown}, chain: []string{"ThroughStdInterface", "(io.Reader).Read"}},
		{job: "reflect_call", want: labels{false, false, false, true}, kinds: []string{KindUnknown}, chain: []string{"ReflectCall", "(reflect.Value).Call"}},
		{job: "through_func_value", want: labels{true, true, false, true}},
		{job: "stays_local", want: labels{true, true, false, false}, kinds: []string{KindModeLocal}},
		{job: "http_get", want: labels{true, true, false, true}},
		{job: "brightness", want: labels{true, true, false, true}},
		{job: "raw_pid", want: labels{false, false, false, false}, kinds: []string{KindSyscall}, chain: []string{"RawPid", "syscall.Getpid"}},
		{job: "peek_bytes", want: labels{false, false, false, true}, kinds: []string{KindUnsafe}},
		{job: "count_nodes", want: labels{true, true, false, true}},
		{job: "fetch_user", want: labels{false, false, false, true}, kinds: []string{KindNetwork}, hosts: []string{"users.example.com"}},
	}
	pa := jobsPackage(t)
	if got, want := len(pa.Jobs), len(tests); got != want {
		t.Errorf("found %d jobs, want %d (a testdata job without a test case, or the reverse)", got, want)
	}
	for _, tc := range tests {
		t.Run(tc.job, func(t *testing.T) {
			a, ok := pa.Find(tc.job)
			if !ok {
				t.Fatalf("job %q not found", tc.job)
			}
			got := labels{a.Pure, a.Deterministic, a.RequiresState, a.Eligible}
			if got != tc.want {
				t.Errorf("labels (pure, deterministic, requires_state, eligible) = %+v, want %+v\nfindings: %+v", got, tc.want, a.Findings)
			}
			var kinds []string
			for _, f := range a.Findings {
				if f.Kind != KindDefaultProfile && !slices.Contains(kinds, f.Kind) {
					kinds = append(kinds, f.Kind)
				}
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, tc.kinds) {
				t.Errorf("finding kinds = %v, want %v\nfindings: %+v", kinds, tc.kinds, a.Findings)
			}
			hosts := tc.hosts
			if hosts == nil {
				hosts = []string{}
			}
			if !slices.Equal(a.NetworkCalls, hosts) {
				t.Errorf("network_calls = %v, want %v", a.NetworkCalls, hosts)
			}
			if tc.chain != nil {
				i := slices.IndexFunc(a.Findings, func(f job.Finding) bool { return f.Kind == tc.kinds[0] })
				if got := a.Findings[i].Chain; !slices.Equal(got, tc.chain) {
					t.Errorf("chain of %s finding = %v, want %v", tc.kinds[0], got, tc.chain)
				}
			}
			memory, maxMS := tc.memory, tc.maxMS
			if memory == 0 {
				memory = DefaultMemoryMB
			}
			if maxMS == 0 {
				maxMS = DefaultMaxDurationMS
			}
			if a.MemoryMB != memory || a.MaxDurationMS != maxMS {
				t.Errorf("memory_mb, max_duration_ms = %d, %d; want %d, %d", a.MemoryMB, a.MaxDurationMS, memory, maxMS)
			}
		})
	}
}

// TestEveryFalseLabelIsExplained checks the contract the provider shows users: each label that
// comes out false has a finding with a position and a chain that starts at the job.
func TestEveryFalseLabelIsExplained(t *testing.T) {
	pa := jobsPackage(t)
	for _, a := range pa.Jobs {
		explained := map[string]bool{}
		for _, f := range a.Findings {
			if f.Position == "" || !strings.Contains(f.Position, ".go:") {
				t.Errorf("%s: finding %s has position %q, want file:line:col", a.Name, f.Kind, f.Position)
			}
			if len(f.Chain) == 0 || f.Chain[0] != a.Function {
				t.Errorf("%s: finding %s has chain %v, want it to start with %s", a.Name, f.Kind, f.Chain, a.Function)
			}
			if f.Message == "" {
				t.Errorf("%s: finding %s has no message", a.Name, f.Kind)
			}
			eff, known := kindEffects[f.Kind]
			if !known {
				t.Errorf("%s: finding kind %q is not in kindEffects", a.Name, f.Kind)
			}
			explained["pure"] = explained["pure"] || eff.impure
			explained["deterministic"] = explained["deterministic"] || eff.nondeterministic
			explained["eligible"] = explained["eligible"] || eff.ineligible
		}
		for label, value := range map[string]bool{"pure": a.Pure, "deterministic": a.Deterministic, "eligible": a.Eligible} {
			if !value && !explained[label] {
				t.Errorf("%s: %s is false with no finding that explains it", a.Name, label)
			}
		}
		if !slices.ContainsFunc(a.Findings, func(f job.Finding) bool { return f.Kind == KindDefaultProfile }) {
			t.Errorf("%s: no default_profile finding although nothing was profiled", a.Name)
		}
	}
}

func TestAnalyzeTypesAndDefaults(t *testing.T) {
	pa := jobsPackage(t)
	if want := "github.com/serverless-blueprint/blueprint/analyzer/testdata/src/jobs"; pa.Package != want {
		t.Errorf("package = %q, want %q", pa.Package, want)
	}
	a, _ := pa.Find("http_get")
	if a.Function != "HTTPGet" || a.InputType != "*Text" || a.OutputType != "*Count" {
		t.Errorf("http_get: function %q input %q output %q", a.Function, a.InputType, a.OutputType)
	}
	if a.TimeoutMS != DefaultTimeoutMS || a.Mode != job.ModeAuto {
		t.Errorf("http_get: timeout_ms %d mode %q, want defaults", a.TimeoutMS, a.Mode)
	}
	s, _ := pa.Find("stamp")
	if s.TimeoutMS != 120000 {
		t.Errorf("stamp: timeout_ms = %d, want 120000 from timeout=2m", s.TimeoutMS)
	}
}

// TestUserModule analyzes a package in its own Go module (with a replace of blueprint).
func TestUserModule(t *testing.T) {
	pa, err := analyzeTestdata(t, "extmod/images")
	if err != nil {
		t.Fatal(err)
	}
	if pa.Package != "example.com/userjobs/images" {
		t.Errorf("package = %q", pa.Package)
	}
	resize, ok := pa.Find("resize_image")
	if !ok || !resize.Pure || !resize.Deterministic || !resize.Eligible || resize.MemoryMB != 1024 {
		t.Errorf("resize_image = %+v", resize)
	}
	fetch, ok := pa.Find("fetch")
	if !ok || fetch.Pure || !fetch.RequiresState || !fetch.Eligible || !slices.Equal(fetch.NetworkCalls, []string{"images.example.net"}) {
		t.Errorf("fetch = %+v", fetch)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		dir  string
		want []string // one substring per problem, in position order
	}{
		{dir: "src/badsig", want: []string{
			"badsig.go:12:2: input Stream at Lines: chan string is a channel",
			"badsig.go:16:2: output Out at Callback: func() error is a function",
			"badsig.go:19:2: output Out at Z: complex128 is a complex number",
			"badsig.go:29:19: the first parameter of job NoContext must be context.Context",
			"badsig.go:32:55: the last result of job NoError must be error",
			"badsig.go:35:14: job OneParam takes 1 parameter(s)",
			"badsig.go:38:40: job StateOnly takes job.State but no input",
			"badsig.go:41:40: input map[[2]int]string: map key type [2]int",
			"badsig.go:44:6: job function unexportedJob must be exported",
			"badsig.go:47:6: job Generic is generic",
			"badsig.go:59:2: input Node at Ptr: it is an unsafe.Pointer",
		}},
		{dir: "src/methoddirective", want: []string{
			"methoddirective.go:7:1: //blueprint:job is on method (*Service).Resize",
			"methoddirective.go:10:1: //blueprint:job must be in the doc comment of a top-level function",
			"methoddirective.go:13:1: //blueprint:job must be in the doc comment",
			"methoddirective.go:17:2: //blueprint:job must be in the doc comment",
		}},
		{dir: "src/dupnames", want: []string{
			`dupnames.go:9:6: job name "resize_image" is used twice: by ResizeImage`,
			"dupnames.go:12:1: Twice has more than one //blueprint:job line",
		}},
		{dir: "src/badoptions", want: []string{
			"badoptions.go:5:1: //blueprint:job on TooSmall: memory=64: must be between 128 and 10240 MB",
			"badoptions.go:8:1: //blueprint:job on TooBig: memory=20000",
			"badoptions.go:11:1: //blueprint:job on TooLong: timeout=20m: must be more than 0 and at most 15m0s",
			"badoptions.go:14:1: //blueprint:job on ZeroTimeout: timeout=0s",
			`badoptions.go:17:1: //blueprint:job on BadMode: mode="fast": use auto, local or serverless`,
			`badoptions.go:20:1: //blueprint:job on UnknownOption: unknown option "color"`,
			`badoptions.go:23:1: //blueprint:job on BadName: name="Bad_Name"`,
			`badoptions.go:26:1: //blueprint:job on NoValue: option "memory" must look like key=value`,
		}},
		{dir: "src/broken", want: []string{
			"broken.go:7:9: does not compile: undefined: undefinedHelper",
			"broken.go:10:30: does not compile: cannot use",
		}},
		{dir: "src/cgojob", want: []string{`cgojob.go:7:8: package github.com/serverless-blueprint/blueprint/analyzer/testdata/src/cgojob uses cgo (import "C")`}},
		{dir: "src/empty", want: []string{"no Go files in"}},
		{dir: "src/mainpkg", want: []string{"package main cannot hold jobs"}},
		{dir: "src/does-not-exist", want: []string{"does-not-exist: directory does not exist"}},
		{dir: "src/jobs/jobs.go", want: []string{"not a directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			pa, err := analyzeTestdata(t, tc.dir)
			if err == nil {
				t.Fatalf("no error; got %d jobs", len(pa.Jobs))
			}
			var aerr *Error
			if !errors.As(err, &aerr) {
				t.Fatalf("error %T %v is not an *analyzer.Error", err, err)
			}
			if len(aerr.Problems) != len(tc.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(aerr.Problems), len(tc.want), err)
			}
			for i, p := range aerr.Problems {
				if !strings.Contains(p.String(), tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.String(), tc.want[i])
				}
				if !filepath.IsAbs(strings.SplitN(p.Position, ":", 2)[0]) {
					t.Errorf("problem %d position %q is not absolute", i, p.Position)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tc.want) {
				t.Errorf("Error() has %d lines, want one per problem:\n%s", got, err)
			}
		})
	}
}

func TestAnalyzeOutsideModule(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := New(WithEnv(append(environWithout("GOFLAGS"), "GOWORK=off"))).Analyze(ctx, dir)
	var aerr *Error
	if !errors.As(err, &aerr) || !strings.Contains(err.Error(), "go.mod file not found") {
		t.Fatalf("err = %v, want the go command's go.mod complaint", err)
	}
}

func TestAnalyzeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, filepath.Join("testdata", "src", "jobs")); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}

// BenchmarkAnalyzeWarm measures a full analysis with a warm build cache and no result cache
// (what a changed package costs).
func BenchmarkAnalyzeWarm(b *testing.B) {
	a := New(WithoutCache())
	dir := filepath.Join("testdata", "src", "jobs")
	ctx := context.Background()
	for b.Loop() {
		if _, err := a.Analyze(ctx, dir); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAnalyzeConcurrent runs analyses in parallel on one Analyzer, as terraform does when it
// plans several blueprint_job resources at once (run with -race).
func TestAnalyzeConcurrent(t *testing.T) {
	a := New()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dirs := []string{"src/jobs", "extmod/images", "src/jobs", "extmod/images"}
	errs := make(chan error, len(dirs))
	for _, d := range dirs {
		go func() {
			_, err := a.Analyze(ctx, filepath.Join("testdata", d))
			errs <- err
		}()
	}
	for range dirs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestInitEffects: what runs when the package loads goes wherever the job goes, so a file read
// in a variable initializer makes a pure job ineligible; stored callbacks do not count.
func TestInitEffects(t *testing.T) {
	pa, err := analyzeTestdata(t, "src/initeffects")
	if err != nil {
		t.Fatal(err)
	}
	a, ok := pa.Find("match")
	if !ok {
		t.Fatal("job match not found")
	}
	if !a.Pure || !a.Deterministic || a.Eligible {
		t.Errorf("pure, deterministic, eligible = %t, %t, %t; want true, true, false", a.Pure, a.Deterministic, a.Eligible)
	}
	var inits []job.Finding
	for _, f := range a.Findings {
		if f.Kind == KindInitEffect {
			inits = append(inits, f)
		}
	}
	if len(inits) != 1 {
		t.Fatalf("init findings = %+v, want exactly the os.ReadFile in a variable initializer", inits)
	}
	if want := []string{"Match", initChainName, "os.ReadFile"}; !slices.Equal(inits[0].Chain, want) {
		t.Errorf("chain = %v, want %v", inits[0].Chain, want)
	}
	if !strings.HasSuffix(inits[0].Position, "initeffects.go:14:14") {
		t.Errorf("position = %s", inits[0].Position)
	}
}

// TestMapOrderAndStreams covers the map-order heuristic case by case, standard streams, and
// WithBuildFlags (a job behind a build tag).
func TestMapOrderAndStreams(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pa, err := New(WithBuildFlags("-tags=blueprint_extra")).Analyze(ctx, filepath.Join("testdata", "src", "misc"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		job                 string
		pure, deterministic bool
		kind                string
	}{
		{job: "sum_ints", pure: true, deterministic: true},
		{job: "sum_floats", pure: true, kind: KindMapOrder},
		{job: "same_key", pure: true, deterministic: true},
		{job: "inverted", pure: true, kind: KindMapOrder},
		{job: "any_key", pure: true, kind: KindMapOrder},
		{job: "concat", pure: true, kind: KindMapOrder},
		{job: "keys_iterator", pure: true, kind: KindMapOrder},
		{job: "sorted_iterator", pure: true, deterministic: true},
		{job: "prune", pure: true, deterministic: true},
		{job: "streams", pure: true, deterministic: true},
		{job: "file_write_method", deterministic: true, kind: KindFileWrite},
		{job: "tagged", pure: true, deterministic: true},
	}
	if len(pa.Jobs) != len(tests) {
		t.Errorf("%d jobs, want %d", len(pa.Jobs), len(tests))
	}
	for _, tc := range tests {
		a, ok := pa.Find(tc.job)
		if !ok {
			t.Errorf("job %s not found", tc.job)
			continue
		}
		if a.Pure != tc.pure || a.Deterministic != tc.deterministic {
			t.Errorf("%s: pure, deterministic = %t, %t; want %t, %t\n%+v", tc.job, a.Pure, a.Deterministic, tc.pure, tc.deterministic, a.Findings)
		}
		hasKind := slices.ContainsFunc(a.Findings, func(f job.Finding) bool { return f.Kind == tc.kind })
		if tc.kind != "" && !hasKind {
			t.Errorf("%s: no %s finding: %+v", tc.job, tc.kind, a.Findings)
		}
	}
	untagged, err := New().Analyze(ctx, filepath.Join("testdata", "src", "misc"))
	if err != nil {
		t.Fatal(err)
	}
	if _, found := untagged.Find("tagged"); found {
		t.Error("job tagged found without -tags=blueprint_extra")
	}
}

// TestGRPCTargets: gRPC is summarized (its bodies are not loaded); a constant dial target
// names the host, a unix: target is a socket that only exists on the VM.
func TestGRPCTargets(t *testing.T) {
	pa, err := analyzeTestdata(t, "src/grpcjobs")
	if err != nil {
		t.Fatal(err)
	}
	orders, _ := pa.Find("orders")
	if orders.Pure || !orders.Eligible || !slices.Equal(orders.NetworkCalls, []string{"orders.internal"}) {
		t.Errorf("orders = pure %t eligible %t hosts %v; want impure, eligible, [orders.internal]", orders.Pure, orders.Eligible, orders.NetworkCalls)
	}
	local, _ := pa.Find("local")
	if local.Eligible || !slices.ContainsFunc(local.Findings, func(f job.Finding) bool { return f.Kind == KindUnixSocket }) {
		t.Errorf("local = %+v, want a unix_socket finding and not eligible", local)
	}
}
