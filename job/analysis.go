package job

// Execution modes a job author (or the provider config) may ask for.
const (
	ModeAuto       = "auto"       // the router decides per execution
	ModeLocal      = "local"      // never offload
	ModeServerless = "serverless" // always offload when eligible
)

// PackageAnalysis is the output of `blueprint analyze -o json DIR`.
type PackageAnalysis struct {
	Package string     `json:"package"` // import path of the analyzed package
	Dir     string     `json:"dir,omitempty"`
	Jobs    []Analysis `json:"jobs"`
}

// Analysis is one job's metadata: what the analyzer proved about it and what follows for
// where it may run. The router and the agent read it from the deployment manifest; only
// pure (or idempotent) jobs may be retried, hedged, batched or memoized.
type Analysis struct {
	Name          string    `json:"name"`     // job name (directive name= or snake_case of Function)
	Function      string    `json:"function"` // Go function name
	Pure          bool      `json:"pure"`
	Deterministic bool      `json:"deterministic"`
	RequiresState bool      `json:"requires_state"`
	NetworkCalls  []string  `json:"network_calls"` // hosts; "*" when not a constant
	MaxDurationMS int64     `json:"max_duration_ms"`
	MemoryMB      int64     `json:"memory_mb"`
	TimeoutMS     int64     `json:"timeout_ms"`
	Mode          string    `json:"mode"` // ModeAuto, ModeLocal or ModeServerless
	Eligible      bool      `json:"eligible"`
	InputType     string    `json:"input_type,omitempty"`
	OutputType    string    `json:"output_type,omitempty"`
	Findings      []Finding `json:"findings"`
	// CodeHash digests everything that can change what the job does once built: the code it
	// can reach, the types it uses, the module versions and the Go version ("sha256:<hex>").
	// A change that does not reach the job leaves it as it was. Code lists the parts, by
	// name ("func example.com/jobs.Resize", "module golang.org/x/image", "go"), with a short
	// digest or version each, so a plan can say what changed.
	CodeHash string            `json:"code_hash,omitempty"`
	Code     map[string]string `json:"code,omitempty"`
}

// Finding is one reason behind a label, with where it comes from.
type Finding struct {
	Kind     string   `json:"kind"`     // e.g. "file_write", "clock", "global_write", "default_profile"
	Message  string   `json:"message"`  // a sentence a user can act on
	Position string   `json:"position"` // file:line:col
	Chain    []string `json:"chain"`    // calls from the job to the effect, job first
}

// Find returns the analysis of the job with the given name.
func (p *PackageAnalysis) Find(name string) (Analysis, bool) {
	for _, j := range p.Jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Analysis{}, false
}
