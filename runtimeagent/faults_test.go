package runtimeagent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/router"
)

// Faults against the real parts: two in-process hosts running the fixture module, an agent that
// offloads everything, open-loop load (requests start on a clock, not when the last answered),
// and faults injected in front of one host. Bounded: a few hundred requests over seconds.

// loadResult is one request of a load run.
type loadResult struct {
	phase   string
	job     string
	input   string
	status  int
	latency time.Duration
	done    time.Time // when the answer arrived
	local   bool      // ran on this machine
}

// openLoop sends job requests at rate per second until stop is closed or count requests are
// sent (0: no limit), each in its own goroutine, labelled with the phase current when it
// started. It keeps to a schedule (request n is due at start + n/rate) and catches up when it
// falls behind, so a busy machine delays requests instead of silently offering a lower rate.
func openLoop(t *testing.T, url, job string, rate, count int, phase func() string, stop <-chan struct{}, out chan<- loadResult, wg *sync.WaitGroup) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for n := 0; count == 0 || n < count; n++ {
		if wait := time.Until(start.Add(time.Duration(n) * interval)); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-stop:
				timer.Stop()
				return
			case <-timer.C:
			}
		} else {
			select {
			case <-stop:
				return
			default:
			}
		}
		input := fmt.Sprintf(`{"name":"%s-%d"}`, job, n)
		p := phase()
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent := time.Now()
			resp, err := client.Post(url+"/v1/jobs/"+job+":run", "application/json", strings.NewReader(input))
			r := loadResult{phase: p, job: job, input: input, latency: time.Since(sent), done: time.Now()}
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.status = resp.StatusCode
				r.local = strings.Contains(string(body), `"target":"local"`)
			}
			out <- r
		}()
	}
}

func quantile(l []time.Duration, q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// TestFaults_underLoad runs open-loop load (a pure job at 60/s, one that is not pure at 15/s,
// all offloaded to two real hosts) through four faults in turn, each followed by a calm spell:
// the region the router prefers stalls for 5 s (its invocations hang, as a host under SIGSTOP);
// it answers every call 429 for 2 s; the state file is overwritten with garbage for 2 s. It
// reports what each fault cost and requires: a pure job's p99 under 10× its p99 before, no call
// of the pure job failing, the stalled region out of rotation within about a second, and no
// call of the job that is not pure running twice. Hostile requests are
// cmd/blueprint-agent's TestRun_hostileRequests; a worker killed mid-job is
// TestNativeExecutor's (a crash mid-job is reported, not run again, and the next call gets a new worker); a killed and restarted region is below.
func TestFaults_underLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: real hosts under load")
	}
	env := newE2EWith(t, e2eOptions{agent: func(c *Config) {
		c.HedgeRatio = 0 // the default budget: hedging is part of what keeps the tail short
	}}, router.Policy{LocalCapacity: -1}, func(env *e2eEnv) {
		env.writeFaultState(t, 1)
	})
	var mu sync.Mutex
	phase := "warm"
	current := func() string { mu.Lock(); defer mu.Unlock(); return phase }
	setPhase := func(p string) { mu.Lock(); phase = p; mu.Unlock() }

	results := make(chan loadResult, 8192)
	stop := make(chan struct{})
	var senders, requests sync.WaitGroup
	for _, l := range []struct {
		job  string
		rate int
	}{{"greet", 60}, {"charge", 15}} {
		senders.Add(1)
		go func() {
			defer senders.Done()
			openLoop(t, env.srv.URL, l.job, l.rate, 0, current, stop, results, &requests)
		}()
	}
	time.Sleep(2 * time.Second) // regions measured (p99 needs 20 calls each)
	setPhase("before")
	a, b := env.hosts[0].invokes.Load(), env.hosts[1].invokes.Load()
	time.Sleep(2 * time.Second)
	// Fault the region the router prefers now: the other gets little traffic to lose.
	faulty, index := env.hosts[0], 0
	if env.hosts[1].invokes.Load()-b > env.hosts[0].invokes.Load()-a {
		faulty, index = env.hosts[1], 1
	}

	setPhase("stall")
	faulty.stall()
	stallStart := time.Now()
	var leftRotation time.Duration
	for time.Since(stallStart) < 5*time.Second {
		if leftRotation == 0 && !env.agent.current.Load().jobs["greet"].stats[index].Healthy(0) {
			leftRotation = time.Since(stallStart)
		}
		time.Sleep(10 * time.Millisecond)
	}
	faulty.unstall()
	setPhase("calm 1")
	time.Sleep(time.Second)

	setPhase("throttled")
	faulty.throttle.Store(true)
	time.Sleep(2 * time.Second)
	faulty.throttle.Store(false)
	setPhase("calm 2")
	time.Sleep(time.Second)

	setPhase("garbage state")
	garbage := strings.Repeat("\x00not a state", 100)
	if err := os.WriteFile(env.state, []byte(garbage), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	env.writeFaultState(t, 2)
	setPhase("after")
	time.Sleep(time.Second)
	close(stop)
	senders.Wait()
	requests.Wait()
	close(results)

	lat := map[string][]time.Duration{}
	failed := map[string]int{}
	count := map[string]int{}
	var charges []string
	for r := range results {
		key := r.job + "/" + r.phase
		count[key]++
		if r.status != 200 {
			failed[key]++
			continue
		}
		lat[key] = append(lat[key], r.latency)
		if r.job == "charge" {
			charges = append(charges, r.input)
		}
	}
	phases := []string{"before", "stall", "calm 1", "throttled", "calm 2", "garbage state", "after"}
	var report strings.Builder
	fmt.Fprintf(&report, "| job | phase | sent | failed | p50 | p99 | p99.9 |\n|---|---|---|---|---|---|---|\n")
	for _, job := range []string{"greet", "charge"} {
		for _, p := range phases {
			k := job + "/" + p
			fmt.Fprintf(&report, "| %s | %s | %d | %d | %v | %v | %v |\n", job, p, count[k], failed[k], quantile(lat[k], 0.5).Round(time.Microsecond),
				quantile(lat[k], 0.99).Round(time.Microsecond), quantile(lat[k], 0.999).Round(time.Microsecond))
		}
	}
	fmt.Fprintf(&report, "\nthe stalled region (%s) left rotation after %v\n", faulty.region, leftRotation.Round(time.Millisecond))
	t.Logf("faults under load (greet pure 60/s, charge not pure 15/s, all offloaded to two hosts):\n%s", report.String())

	// The bound is 10× the p99 before the faults, but never under 100 ms: with 60 calls in a
	// phase the p99 is its slowest call, and on a busy 2-core CI machine one scheduler or GC
	// pause of a few tens of milliseconds is not what a fault costs (a caller held by the
	// stalled region waits seconds).
	before := quantile(lat["greet/before"], 0.99)
	bound := max(10*before, 100*time.Millisecond)
	for _, p := range phases {
		if got := quantile(lat["greet/"+p], 0.99); got > bound {
			t.Errorf("pure job p99 %v during %q, over %v (10× its p99 before, %v, and at least 100 ms)", got, p, bound, before)
		}
		if failed["greet/"+p] > 0 {
			t.Errorf("%d calls of the pure job failed during %q", failed["greet/"+p], p)
		}
	}
	if leftRotation == 0 || leftRotation > 1500*time.Millisecond {
		t.Errorf("the stalled region left rotation after %v, want within about a second", leftRotation)
	}
	for _, in := range charges {
		if n := env.hosts[0].runs(in) + env.hosts[1].runs(in); n > 1 {
			t.Errorf("the job that is not pure ran %d times for %s", n, in)
		}
	}
}

// writeFaultState lists greet (pure) and charge (greet's deployments under an analysis that
// is not pure).
func (env *e2eEnv) writeFaultState(t *testing.T, serial int) {
	writeState(t, env.state, serial,
		stateJob{name: "greet", pure: true, eligible: true, deployments: env.deployed["greet"], artifact: env.art.SHA256},
		stateJob{name: "charge", pure: false, eligible: true, deployments: env.deployed["greet"], artifact: env.art.SHA256})
}

// TestFaults_regionRestarted kills a region (its connections drop) until it leaves rotation,
// brings it back, and expects traffic to reach it again within two cooldowns and the agent to
// report it healthy.
func TestFaults_regionRestarted(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: real hosts under load")
	}
	const cooldown = 500 * time.Millisecond
	env := newE2E(t, router.Policy{LocalCapacity: -1, FailureCooldown: cooldown})
	run := func() {
		t.Helper()
		if r := env.fixture.run(t, "greet", `{"name":"x"}`); r.status != 200 {
			t.Fatalf("greet: %d %s", r.status, r.raw)
		}
	}
	for i := 0; i < 30; i++ { // both regions measured
		run()
	}
	// Kill the region the router prefers now (the other one gets no traffic to fail).
	a, b := env.hosts[0].invokes.Load(), env.hosts[1].invokes.Load()
	for i := 0; i < 10; i++ {
		run()
	}
	killed, index := env.hosts[0], 0
	if env.hosts[1].invokes.Load()-b > env.hosts[0].invokes.Load()-a {
		killed, index = env.hosts[1], 1
	}
	killed.down.Store(true)
	waitFor(t, "the killed region out of rotation", func() bool {
		run() // pure: fails over to the other region
		return !env.agent.current.Load().jobs["greet"].stats[index].Healthy(0)
	})
	if !strings.Contains(listJobs(t, env), `"healthy":false`) {
		t.Fatal("/v1/jobs does not report the killed region unhealthy")
	}
	killed.down.Store(false)
	back := time.Now()
	before := killed.invokes.Load()
	for killed.invokes.Load() == before {
		if time.Since(back) > 2*cooldown+time.Second {
			t.Fatalf("no call reached the restarted region within two cooldowns (%v)", 2*cooldown)
		}
		run()
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the restarted region served again %v after it came back", time.Since(back).Round(time.Millisecond))
	if body := listJobs(t, env); strings.Contains(body, `"healthy":false`) {
		t.Fatalf("/v1/jobs after the probe: %s", body)
	}
	resp, err := http.Get(env.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `blueprint_agent_region_healthy{job="greet",platform="wasm",region="`+killed.region+`"} 1`) {
		t.Fatalf("metrics do not show the region healthy:\n%s", metrics)
	}
}

func listJobs(t *testing.T, env *e2eEnv) string {
	t.Helper()
	resp, err := http.Get(env.srv.URL + "/v1/jobs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list JobList
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	for _, j := range list.Jobs {
		if j.Name == "greet" {
			b, _ := json.Marshal(j.Regions)
			return string(b)
		}
	}
	t.Fatalf("no greet in %s", body)
	return ""
}

// TestFaults_risingLoad steps open-loop load of the pure job up (local slots and two hosts, the
// agent placing each call) and reports, per step, what was achieved and the highest rate held:
// every call answered, achieved within 5% of the rate, p99 under 250 ms.
func TestFaults_risingLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite: real hosts under load")
	}
	env := newE2E(t, router.Policy{LocalCapacity: 2})
	var report strings.Builder
	fmt.Fprintf(&report, "| rate/s | sent | failed | achieved/s | p50 | p99 | p99.9 | local |\n|---|---|---|---|---|---|---|---|\n")
	// Warm up first (not counted): the first offloads compile the module on each host.
	var warm sync.WaitGroup
	openLoop(t, env.srv.URL, "greet", 25, 25, func() string { return "" }, nil, make(chan loadResult, 25), &warm)
	warm.Wait()
	held := 0
	for _, rate := range []int{25, 50, 100, 200, 400} {
		// Each step sends exactly rate×window requests on schedule; achieved is what was
		// answered over the time from the first send to the last answer.
		const window = 2 * time.Second
		count := rate * int(window/time.Second)
		results := make(chan loadResult, count)
		var requests sync.WaitGroup
		start := time.Now()
		openLoop(t, env.srv.URL, "greet", rate, count, func() string { return "" }, nil, results, &requests)
		requests.Wait()
		close(results)
		var lat []time.Duration
		sent, failed, locally := 0, 0, 0
		last := start.Add(window)
		for r := range results {
			sent++
			if r.done.After(last) {
				last = r.done
			}
			if r.status != 200 {
				failed++
				continue
			}
			lat = append(lat, r.latency)
			if r.local {
				locally++
			}
		}
		achieved := float64(sent-failed) / last.Sub(start).Seconds()
		local := float64(locally) / float64(max(sent, 1))
		p99 := quantile(lat, 0.99)
		fmt.Fprintf(&report, "| %d | %d | %d | %.0f | %v | %v | %v | %.0f%% |\n", rate, sent, failed, achieved,
			quantile(lat, 0.5).Round(time.Microsecond), p99.Round(time.Microsecond), quantile(lat, 0.999).Round(time.Microsecond), 100*local)
		if failed > 0 || achieved < 0.95*float64(rate) || p99 > 250*time.Millisecond {
			break
		}
		held = rate
	}
	fmt.Fprintf(&report, "\nhighest rate held: %d/s\n", held)
	t.Logf("rising load of a pure job (2 local slots, two hosts):\n%s", report.String())
	if held < 25 {
		t.Fatalf("not even 25 calls a second held")
	}
}
