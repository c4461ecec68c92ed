package analyzer

// Finding kinds, and which label each one breaks. The table is the single place that links an
// effect to the labels, so a reviewer can check the rules against the design in one read.
const (
	KindFileWrite      = "file_write"      // creates, writes, renames or removes local files
	KindFileRead       = "file_read"       // reads local files or stdin
	KindExec           = "exec"            // starts a process (os/exec, os.StartProcess)
	KindNetwork        = "network"         // outbound network (HTTP, dial, DNS)
	KindNetworkListen  = "network_listen"  // accepts inbound connections
	KindUnixSocket     = "unix_socket"     // talks over a unix socket, which exists only on the VM
	KindEnvRead        = "env_read"        // environment variables, host name, working directory
	KindEnvWrite       = "env_write"       // changes the process environment
	KindProcess        = "process"         // exits, changes directory, signals
	KindClock          = "clock"           // reads the clock or waits on timers
	KindRandom         = "random"          // global or crypto randomness
	KindGlobalWrite    = "global_write"    // writes package-level variables or memory reachable from them
	KindGlobalRead     = "global_read"     // reads package-level variables written outside init
	KindStateRead      = "state_read"      // job.State Get
	KindStateWrite     = "state_write"     // job.State Put
	KindStateParam     = "state_param"     // the job takes job.State
	KindSelect         = "select"          // select statement: which case wins is a race
	KindMapOrder       = "map_order"       // map iteration order may reach the output
	KindRace           = "goroutine_race"  // goroutines write one variable or channel: completion order shows
	KindSyscall        = "syscall"         // raw system calls
	KindUnsafe         = "unsafe"          // unsafe pointer tricks the analyzer cannot follow
	KindUnknown        = "unknown"         // code the analyzer cannot see into; never pure
	KindInitEffect     = "init_effect"     // package initialization does something only the VM has
	KindModeLocal      = "mode_local"      // mode=local keeps the job on the VM
	KindLimits         = "limits"          // beyond the platforms' memory or time limits
	KindDefaultProfile = "default_profile" // duration and memory are defaults, not measurements
	KindProfile        = "profile"         // duration and memory measured by the package's benchmark
)

// kindEffect says which labels a finding kind breaks.
type kindEffect struct {
	impure           bool // breaks pure
	nondeterministic bool // breaks deterministic
	ineligible       bool // breaks eligible (only exists on the VM)
	state            bool // sets requires_state
}

var kindEffects = map[string]kindEffect{
	KindFileWrite:      {impure: true, ineligible: true},
	KindFileRead:       {nondeterministic: true, ineligible: true},
	KindExec:           {impure: true, nondeterministic: true, ineligible: true},
	KindNetwork:        {impure: true, nondeterministic: true},
	KindNetworkListen:  {impure: true, nondeterministic: true, ineligible: true},
	KindUnixSocket:     {impure: true, nondeterministic: true, ineligible: true},
	KindEnvRead:        {nondeterministic: true},
	KindEnvWrite:       {impure: true, ineligible: true}, // process-wide implicit state, like a global
	KindProcess:        {impure: true, ineligible: true},
	KindClock:          {nondeterministic: true},
	KindRandom:         {nondeterministic: true},
	KindGlobalWrite:    {impure: true, ineligible: true, state: true},
	KindGlobalRead:     {nondeterministic: true, ineligible: true, state: true},
	KindStateRead:      {nondeterministic: true, state: true},
	KindStateWrite:     {impure: true, nondeterministic: true, state: true}, // Put answers with a version or a conflict
	KindStateParam:     {state: true},
	KindSelect:         {nondeterministic: true},
	KindMapOrder:       {nondeterministic: true},
	KindRace:           {nondeterministic: true},
	KindSyscall:        {impure: true, nondeterministic: true, ineligible: true},
	KindUnsafe:         {impure: true, nondeterministic: true},
	KindUnknown:        {impure: true, nondeterministic: true},
	KindInitEffect:     {ineligible: true},
	KindModeLocal:      {ineligible: true},
	KindLimits:         {ineligible: true},
	KindDefaultProfile: {},
	KindProfile:        {},
}
