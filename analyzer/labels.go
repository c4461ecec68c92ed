package analyzer

import (
	"fmt"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

// Documented defaults for jobs without a benchmark to measure them (see profile.go).
const (
	DefaultMemoryMB      = 128
	DefaultMaxDurationMS = 1000
	DefaultTimeoutMS     = 30000
)

// analyzeJob turns the walk of one job into its labels. Every label that comes out false has
// at least one finding that says why, with a position and a call chain.
func (ix *packageIndex) analyzeJob(j *jobDecl, scan walkResult, initFindings []job.Finding) job.Analysis {
	findings := scan.findings
	for _, f := range initFindings {
		f.Chain = append([]string{j.decl.Name.Name}, f.Chain...)
		findings = append(findings, f)
	}
	fnPos := ix.position(j.decl.Name.Pos())
	chain := []string{j.decl.Name.Name}

	if j.stateful {
		findings = append(findings, job.Finding{Kind: KindStateParam, Message: "takes job.State: reads and writes go to the external state store",
			Position: ix.position(paramExpr(j.decl.Type.Params, 1).Pos()), Chain: chain})
	}

	mode := j.directive.Mode
	if mode == "" {
		mode = job.ModeAuto
	}
	if mode == job.ModeLocal {
		findings = append(findings, job.Finding{Kind: KindModeLocal, Message: "the directive says mode=local, so the job never leaves this machine",
			Position: fnPos, Chain: chain})
	}

	timeoutMS := int64(DefaultTimeoutMS)
	if j.directive.Timeout > 0 {
		timeoutMS = j.directive.Timeout.Milliseconds()
	}
	memoryMB := int64(DefaultMemoryMB)
	memoryNote := fmt.Sprintf("memory_mb=%d is the default", DefaultMemoryMB)
	if j.directive.MemoryMB > 0 {
		memoryMB = j.directive.MemoryMB
		memoryNote = fmt.Sprintf("memory_mb=%d comes from the directive", memoryMB)
	}
	maxDurationMS := int64(DefaultMaxDurationMS)
	durationNote := fmt.Sprintf("max_duration_ms=%d is the default", DefaultMaxDurationMS)
	if j.directive.Timeout > 0 {
		maxDurationMS = timeoutMS
		durationNote = fmt.Sprintf("max_duration_ms=%d is the directive's timeout", maxDurationMS)
	}
	findings = append(findings, job.Finding{Kind: KindDefaultProfile,
		Message: fmt.Sprintf("not measured (add Benchmark%s to the package's tests, or profiling is off): %s and %s; they are not measurements",
			j.decl.Name.Name, memoryNote, durationNote),
		Position: fnPos, Chain: chain})
	if memoryMB > MaxMemoryMB || time.Duration(maxDurationMS)*time.Millisecond > MaxTimeout {
		findings = append(findings, job.Finding{Kind: KindLimits,
			Message:  fmt.Sprintf("needs %d MB and %d ms, beyond the serverless limits of %d MB and %s", memoryMB, maxDurationMS, MaxMemoryMB, MaxTimeout),
			Position: fnPos, Chain: chain})
	}

	a := job.Analysis{
		Name:          j.name,
		Function:      j.decl.Name.Name,
		Pure:          true,
		Deterministic: true,
		RequiresState: false,
		NetworkCalls:  scan.hosts,
		MaxDurationMS: maxDurationMS,
		MemoryMB:      memoryMB,
		TimeoutMS:     timeoutMS,
		Mode:          mode,
		Eligible:      true,
		InputType:     ix.typeString(j.input),
		OutputType:    ix.typeString(j.output),
		Findings:      findings,
	}
	if a.NetworkCalls == nil {
		a.NetworkCalls = []string{}
	}
	for _, f := range findings {
		eff := kindEffects[f.Kind]
		a.Pure = a.Pure && !eff.impure
		a.Deterministic = a.Deterministic && !eff.nondeterministic
		a.Eligible = a.Eligible && !eff.ineligible
		a.RequiresState = a.RequiresState || eff.state
	}
	return a
}
