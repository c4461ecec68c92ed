package manifest

import (
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
)

// Version is the manifest format version this package writes and reads.
const Version = 1

// Manifest is what the runtime agent routes from: every job with its analysis and deployments.
type Manifest struct {
	Version int    `json:"manifest_version"`
	Source  string `json:"source"` // where it was read from (path or URL)
	Serial  int64  `json:"serial"` // the source's own serial (Terraform state serial); grows on every apply
	Jobs    []Job  `json:"jobs"`
}

// Job is one deployed (or deliberately local) job.
type Job struct {
	Name       string `json:"name"`
	Package    string `json:"package"`
	Function   string `json:"function"`
	SourceHash string `json:"source_hash"`
	// Artifacts holds the hex SHA-256 of each artifact built for the job, by kind; a
	// deployment runs the one of its platform's kind, a local run the one of its executor's.
	Artifacts map[platform.ArtifactKind]string `json:"artifacts"`
	// ArtifactStore is where artifacts the agent runs itself (the native bootstrap) are kept.
	ArtifactStore string `json:"artifact_store,omitempty"`
	// StateStore is where a stateful job's job.State lives (sqlite:///path, …).
	StateStore  string                `json:"state_store,omitempty"`
	Eligible    bool                  `json:"eligible"` // after force_serverless/force_local overrides
	Analysis    job.Analysis          `json:"analysis"`
	Deployments []platform.Deployment `json:"deployments"`

	// User overrides from the resource; zero means "not set, use the analysis".
	ForceServerless bool              `json:"force_serverless,omitempty"`
	ForceLocal      bool              `json:"force_local,omitempty"`
	MemoryMB        int64             `json:"memory_mb,omitempty"`
	TimeoutS        int64             `json:"timeout_s,omitempty"`
	Environment     map[string]string `json:"environment,omitempty"` // sensitive: never echo it to callers

	// Routing settings of the provider block, when set: offload when the platform's cost over
	// the VM's is below CostThreshold, or when it is expected to answer LatencyThresholdMS
	// sooner than this machine.
	CostThreshold      *float64 `json:"cost_threshold,omitempty"`
	LatencyThresholdMS int64    `json:"latency_threshold_ms,omitempty"`
}

// Artifact returns the hash of the job's artifact of the given kind, "" when it has none.
func (j *Job) Artifact(kind platform.ArtifactKind) string { return j.Artifacts[kind] }

// Job returns the job with the given name.
func (m *Manifest) Job(name string) (*Job, bool) {
	for i := range m.Jobs {
		if m.Jobs[i].Name == name {
			return &m.Jobs[i], true
		}
	}
	return nil, false
}

// Mode is the execution mode after the user's overrides: force_local wins, then
// force_serverless, then the job's own directive (auto when unset).
func (j *Job) Mode() string {
	switch {
	case j.ForceLocal:
		return job.ModeLocal
	case j.ForceServerless:
		return job.ModeServerless
	case j.Analysis.Mode == "":
		return job.ModeAuto
	default:
		return j.Analysis.Mode
	}
}

// Default limits when neither the user nor the analysis gives one; they match the platforms'
// usual defaults so that a job behaves the same locally and remotely.
const (
	DefaultMemoryMB = 128
	DefaultTimeout  = 30 * time.Second
)

// EffectiveMemoryMB is the memory limit a run gets: the override, else the profiled value.
func (j *Job) EffectiveMemoryMB() int64 {
	if j.MemoryMB > 0 {
		return j.MemoryMB
	}
	if j.Analysis.MemoryMB > 0 {
		return j.Analysis.MemoryMB
	}
	return DefaultMemoryMB
}

// EffectiveTimeout is the time limit a run gets: the override, else the analysis.
func (j *Job) EffectiveTimeout() time.Duration {
	if j.TimeoutS > 0 {
		return time.Duration(j.TimeoutS) * time.Second
	}
	if j.Analysis.TimeoutMS > 0 {
		return time.Duration(j.Analysis.TimeoutMS) * time.Millisecond
	}
	return DefaultTimeout
}

// Symbol is the job function's Go symbol, "import/path.Function" (what runtime.FuncForPC
// names it), read from the analysis's code digest; "" when the analysis has none (states
// applied before code digests) or cannot tell two candidates apart. Programs calling jobs as
// functions (sdk/go/jobcall) find the job of a function by it.
func (j *Job) Symbol() string {
	var found []string
	for part := range j.Analysis.Code {
		sym, ok := strings.CutPrefix(part, "func ")
		if ok && strings.HasSuffix(sym, "."+j.Function) && !strings.HasPrefix(sym, "(") { // not a method
			found = append(found, sym)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	// The job's own function is in the package the resource names (a directory): prefer the
	// candidate whose import path ends in that directory's name.
	dir := path.Base(filepath.ToSlash(filepath.Clean(j.Package)))
	var match string
	for _, sym := range found {
		pkg := strings.TrimSuffix(sym, "."+j.Function)
		if path.Base(pkg) == dir {
			if match != "" {
				return ""
			}
			match = sym
		}
	}
	return match
}
