package router

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
)

// stats builds region stats with the given latency EWMAs in ms (0 = never measured).
func stats(latenciesMS ...int64) []*RegionStats {
	out := make([]*RegionStats, len(latenciesMS))
	for i, ms := range latenciesMS {
		out[i] = &RegionStats{}
		if ms > 0 {
			out[i].ObserveSuccess(time.Duration(ms) * time.Millisecond)
		}
	}
	return out
}

func failing(s *RegionStats, times int, at time.Time) *RegionStats {
	for i := 0; i < times; i++ {
		s.ObserveFailure(at)
	}
	return s
}

func order(d Decision) []uint8 { return append([]uint8{}, d.Regions[:d.NumRegions]...) }

// A region out of rotation is probed by one call of a pure job after its cooldown (first, so
// that the call finds out), kept away from the others meanwhile, and restored with fresh
// statistics when the probe succeeds.
func TestDecide_halfOpenProbe(t *testing.T) {
	now := time.Now()
	down := failing(stats(1)[0], 5, now.Add(-time.Minute))
	down.errorRateMilli.Store(800)
	healthy := stats(5)[0]
	in := Input{Eligible: true, Pure: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{healthy, down}}
	p := Policy{LocalCapacity: -1}
	if d := Decide(&p, &in); fmt.Sprint(order(d)) != "[1 0]" {
		t.Fatalf("the probe: regions %v, want the half-open one first", order(d))
	}
	if d := Decide(&p, &in); fmt.Sprint(order(d)) != "[0]" {
		t.Fatalf("while the probe is out: regions %v, want only the healthy one", order(d))
	}
	if down.Healthy(0) {
		t.Fatal("healthy before the probe answered")
	}
	down.ObserveSuccessAt(now, 2*time.Millisecond)
	if !down.Healthy(0) || down.ErrorRate() != 0 || down.Latency() != 2*time.Millisecond {
		t.Fatalf("after a successful probe: healthy %v, error rate %v, latency %v", down.Healthy(0), down.ErrorRate(), down.Latency())
	}
	if d := Decide(&p, &in); fmt.Sprint(order(d)) != "[1 0]" {
		t.Fatalf("after the probe: regions %v, want the restored (faster) region first", order(d))
	}

	// A failed probe closes it again for a cooldown.
	gone := failing(stats(1)[0], 3, now.Add(-time.Minute))
	in.Regions = []*RegionStats{healthy, gone}
	if d := Decide(&p, &in); fmt.Sprint(order(d)) != "[1 0]" {
		t.Fatalf("probe: %v", order(d))
	}
	gone.ObserveFailure(now)
	if d := Decide(&p, &in); fmt.Sprint(order(d)) != "[0]" {
		t.Fatalf("after a failed probe: %v", order(d))
	}

	// A job that is not pure is never the probe: it sees the region ranked as it was.
	np := Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{healthy, failing(stats(1)[0], 5, now.Add(-time.Minute))}}
	if d := Decide(&p, &np); d.NumRegions != 2 || order(d)[0] == 1 && np.Regions[1].probeNanos.Load() != 0 {
		t.Fatalf("a job that is not pure: %v", order(d))
	}
	if np.Regions[1].probeNanos.Load() != 0 {
		t.Fatal("a job that is not pure took the probe")
	}
}

func TestDecide(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	recent := now.Add(-time.Second)
	long := now.Add(-time.Minute)
	tests := []struct {
		name       string
		policy     Policy
		in         Input
		wantTarget Target
		wantReason Reason
		wantOrder  []uint8
	}{
		{"local mode wins over everything", Policy{LocalCapacity: -1}, Input{Eligible: true, Mode: job.ModeLocal, Regions: stats(5)}, Local, ReasonModeLocal, []uint8{}},
		{"ineligible stays local even when full", Policy{LocalCapacity: 1}, Input{Eligible: false, LocalInFlight: 10, Regions: stats(5)}, Local, ReasonNotEligible, []uint8{}},
		{"serverless mode offloads with room locally", Policy{LocalCapacity: 4}, Input{Eligible: true, Mode: job.ModeServerless, Regions: stats(5)}, Serverless, ReasonModeServerless, []uint8{0}},
		{"auto with room runs locally", Policy{LocalCapacity: 4}, Input{Eligible: true, Mode: job.ModeAuto, LocalInFlight: 3, Regions: stats(5)}, Local, ReasonLocalHasCapacity, []uint8{}},
		{"empty mode means auto", Policy{LocalCapacity: 4}, Input{Eligible: true, LocalInFlight: 4, Regions: stats(5)}, Serverless, ReasonLocalCapacity, []uint8{0}},
		{"full offloads", Policy{LocalCapacity: 2}, Input{Eligible: true, LocalInFlight: 2, Regions: stats(30, 10, 20)}, Serverless, ReasonLocalCapacity, []uint8{1, 2, 0}},
		{"negative capacity always offloads", Policy{LocalCapacity: -1}, Input{Eligible: true, Regions: stats(10)}, Serverless, ReasonLocalCapacity, []uint8{0}},
		{"large input offloads", Policy{MaxLocalInputBytes: 100}, Input{Eligible: true, InputBytes: 101, Regions: stats(10)}, Serverless, ReasonLargeInput, []uint8{0}},
		{"input at threshold stays", Policy{MaxLocalInputBytes: 100}, Input{Eligible: true, InputBytes: 100, Regions: stats(10)}, Local, ReasonLocalHasCapacity, []uint8{}},
		{"default input threshold is 1 MiB", Policy{}, Input{Eligible: true, InputBytes: 1<<20 + 1, Regions: stats(10)}, Serverless, ReasonLargeInput, []uint8{0}},
		{"negative threshold never offloads for size", Policy{MaxLocalInputBytes: -1}, Input{Eligible: true, InputBytes: 1 << 40, Regions: stats(10)}, Local, ReasonLocalHasCapacity, []uint8{}},
		{"unknown regions first, in manifest order", Policy{LocalCapacity: -1}, Input{Eligible: true, Regions: stats(20, 0, 10, 0)}, Serverless, ReasonLocalCapacity, []uint8{1, 3, 2, 0}},
		{"no deployments runs locally", Policy{LocalCapacity: -1}, Input{Eligible: true}, Local, ReasonNoHealthyRegion, []uint8{}},
		{"recently failing region skipped", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(1)[0], 3, recent), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{1}},
		{"region inside its Retry-After skipped", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{throttled(stats(1)[0], now.Add(time.Second)), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{1}},
		{"region back after its Retry-After", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{throttled(stats(1)[0], now.Add(-time.Millisecond)), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{0, 1}},
		{"every region throttled runs locally", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{throttled(stats(1)[0], now.Add(time.Second))}}, Local, ReasonNoHealthyRegion, []uint8{}},
		{"below threshold still used", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(1)[0], 2, recent), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{0, 1}},
		{"after cooldown probed again", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(1)[0], 9, long), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{0, 1}},
		{"custom threshold and cooldown", Policy{LocalCapacity: -1, FailureThreshold: 1, FailureCooldown: 2 * time.Minute}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(1)[0], 1, long), stats(50)[0]}}, Serverless, ReasonLocalCapacity, []uint8{1}},
		{"all failing in auto falls back local", Policy{LocalCapacity: -1}, Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(1)[0], 3, recent)}}, Local, ReasonNoHealthyRegion, []uint8{}},
		{"all failing in serverless mode probes them", Policy{}, Input{Eligible: true, Mode: job.ModeServerless, NowNanos: now.UnixNano(), Regions: []*RegionStats{failing(stats(9)[0], 3, recent), failing(stats(2)[0], 5, recent)}}, Serverless, ReasonModeServerless, []uint8{1, 0}},
		{"more than MaxRegions are cut", Policy{LocalCapacity: -1}, Input{Eligible: true, Regions: stats(9, 8, 7, 6, 5, 4, 3, 2, 1, 1)}, Serverless, ReasonLocalCapacity, []uint8{7, 6, 5, 4, 3, 2, 1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(&tt.policy, &tt.in)
			if d.Target != tt.wantTarget || d.Reason != tt.wantReason {
				t.Errorf("got %v/%v, want %v/%v", d.Target, d.Reason, tt.wantTarget, tt.wantReason)
			}
			if got := order(d); fmt.Sprint(got) != fmt.Sprint(tt.wantOrder) {
				t.Errorf("region order %v, want %v", got, tt.wantOrder)
			}
		})
	}
}

func TestReasonAndTargetStrings(t *testing.T) {
	seen := map[string]bool{}
	for r := Reason(0); r < numReasons; r++ {
		s := r.String()
		if s == "" || s == "unknown" || seen[s] {
			t.Errorf("reason %d has name %q (missing or duplicate)", r, s)
		}
		seen[s] = true
	}
	if Reason(200).String() != "unknown" || Local.String() != "local" || Serverless.String() != "serverless" {
		t.Error("String() wrong")
	}
}

func TestRegionStats(t *testing.T) {
	var s RegionStats
	if s.Latency() != 0 {
		t.Fatal("fresh stats have a latency")
	}
	s.ObserveSuccess(100 * time.Millisecond)
	if s.Latency() != 100*time.Millisecond {
		t.Fatalf("first sample sets the average: %v", s.Latency())
	}
	s.ObserveSuccess(200 * time.Millisecond)
	if s.Latency() != 120*time.Millisecond {
		t.Fatalf("EWMA after 200ms = %v, want 120ms", s.Latency())
	}
	s.ObserveFailure(time.Now())
	s.ObserveFailure(time.Now())
	if s.ConsecutiveFailures() != 2 {
		t.Fatal("failures not counted")
	}
	s.ObserveSuccess(0)
	if s.ConsecutiveFailures() != 0 {
		t.Fatal("success does not reset the failure streak")
	}
	if ok, bad := s.Counts(); ok != 3 || bad != 2 {
		t.Fatalf("counts %d/%d", ok, bad)
	}
}

// TestDecideHammer runs Decide from many goroutines while others update the shared stats; run
// with -race. Every decision must stay internally consistent.
func TestDecideHammer(t *testing.T) {
	regions := stats(0, 0, 0, 0, 0)
	policy := Policy{LocalCapacity: 4, FailureThreshold: 2, FailureCooldown: time.Millisecond}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := regions[rng.Intn(len(regions))]
				if rng.Intn(4) == 0 {
					s.ObserveFailure(time.Now())
				} else {
					s.ObserveSuccess(time.Duration(rng.Intn(1000)) * time.Microsecond)
				}
			}
		}(int64(w))
	}
	errs := make(chan error, 16)
	var deciders sync.WaitGroup
	for g := 0; g < 16; g++ {
		deciders.Add(1)
		go func(g int) {
			defer deciders.Done()
			for i := 0; i < 5000; i++ {
				in := Input{Eligible: true, Pure: true, LocalInFlight: (g + i) % 8, Regions: regions}
				d := Decide(&policy, &in)
				if d.NumRegions < 0 || d.NumRegions > len(regions) {
					errs <- fmt.Errorf("NumRegions %d", d.NumRegions)
					return
				}
				if d.Target == Serverless && d.NumRegions == 0 {
					errs <- fmt.Errorf("serverless with no regions")
					return
				}
				if in.LocalInFlight < 4 && d.Target != Local {
					errs <- fmt.Errorf("offloaded with room locally: %+v", d)
					return
				}
				seen := 0
				for _, r := range d.Regions[:d.NumRegions] {
					if int(r) >= len(regions) || seen&(1<<r) != 0 {
						errs <- fmt.Errorf("bad region order %v", d.Regions[:d.NumRegions])
						return
					}
					seen |= 1 << r
				}
			}
		}(g)
	}
	deciders.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkDecide(b *testing.B) {
	policy := Policy{LocalCapacity: 8}
	in := Input{Eligible: true, Pure: true, Mode: job.ModeAuto, InputBytes: 512, LocalInFlight: 8, Regions: stats(12, 0, 8, 30)}
	b.ReportAllocs()
	var d Decision
	for b.Loop() {
		d = Decide(&policy, &in)
	}
	if d.Target != Serverless {
		b.Fatal("benchmark input no longer offloads")
	}
}

func ExampleDecide() {
	regions := stats(40, 15) // two deployments, the second faster so far
	d := Decide(&Policy{LocalCapacity: 2}, &Input{Eligible: true, Mode: job.ModeAuto, LocalInFlight: 2, Regions: regions})
	fmt.Println(d.Target, d.Reason, d.Regions[:d.NumRegions])
	// Output: serverless local_capacity [1 0]
}

func throttled(s *RegionStats, until time.Time) *RegionStats {
	s.ObserveThrottle(until)
	return s
}

func TestDecideRanksLikelyColdRegionsLater(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	idleNear, busyFar := &RegionStats{}, &RegionStats{}
	idleNear.ObserveSuccessAt(now.Add(-20*time.Minute), 30*time.Millisecond) // fast, but unused for 20 min
	busyFar.ObserveSuccessAt(now.Add(-time.Minute), 100*time.Millisecond)
	in := Input{Eligible: true, NowNanos: now.UnixNano(), Regions: []*RegionStats{idleNear, busyFar}}

	d := Decide(&Policy{LocalCapacity: -1}, &in)
	if got := d.Regions[:d.NumRegions]; len(got) != 2 || got[0] != 1 {
		t.Fatalf("order %v: the region whose instances are likely cold (30 ms + 250 ms cold start) should come after the warm 100 ms one", got)
	}
	d = Decide(&Policy{LocalCapacity: -1, ColdAfter: -1}, &in)
	if got := d.Regions[:d.NumRegions]; got[0] != 0 {
		t.Fatalf("order %v with cold-start ranking off: want latency order", got)
	}
}

// TestDecideRanksByTailAndErrorRate: a region with a fast mean but slow stragglers ranks
// behind a steady one, and a region that fails often ranks behind an equally fast healthy one.
func TestDecideRanksByTailAndErrorRate(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	spiky, steady := &RegionStats{}, &RegionStats{}
	for i := range 100 {
		lat := 10 * time.Millisecond
		if i%5 == 0 {
			lat = 400 * time.Millisecond // one call in five is a straggler
		}
		spiky.ObserveSuccessAt(now, lat)
		steady.ObserveSuccessAt(now, 60*time.Millisecond)
	}
	if spiky.Tail() < 100*time.Millisecond || steady.Tail() > 80*time.Millisecond {
		t.Fatalf("tails: spiky %v, steady %v", spiky.Tail(), steady.Tail())
	}
	in := Input{Eligible: true, Mode: job.ModeServerless, NowNanos: now.UnixNano(), Regions: []*RegionStats{spiky, steady}}
	if d := Decide(&Policy{}, &in); d.Regions[0] != 1 {
		t.Errorf("order = %v, want the steady region first (p90 %v vs %v)", d.Regions[:d.NumRegions], steady.Tail(), spiky.Tail())
	}

	flaky, healthy := &RegionStats{}, &RegionStats{}
	for i := range 60 {
		flaky.ObserveSuccessAt(now, 50*time.Millisecond)
		healthy.ObserveSuccessAt(now, 55*time.Millisecond)
		if i%2 == 0 {
			flaky.ObserveFailure(now.Add(-time.Hour)) // half its calls fail, never three in a row
		}
	}
	if flaky.ErrorRate() < 0.2 || healthy.ErrorRate() != 0 {
		t.Fatalf("error rates: flaky %.2f, healthy %.2f", flaky.ErrorRate(), healthy.ErrorRate())
	}
	in.Regions = []*RegionStats{flaky, healthy}
	if d := Decide(&Policy{}, &in); d.Regions[0] != 1 {
		t.Errorf("order = %v, want the healthy region before the one failing %.0f%% of calls", d.Regions[:d.NumRegions], 100*flaky.ErrorRate())
	}
}

func TestDecideSpeculative(t *testing.T) {
	base := Input{Eligible: true, Pure: true, Mode: job.ModeAuto, Regions: stats(30, 20), LocalP95: 40 * time.Millisecond, LatencyBudget: 25 * time.Millisecond}
	p := Policy{LocalCapacity: 4}
	tests := []struct {
		name   string
		change func(*Input)
		want   Target
		reason Reason
	}{
		{"budget below the local p95", func(*Input) {}, Speculative, ReasonLatencyBudget},
		{"budget above the local p95", func(in *Input) { in.LatencyBudget = time.Second }, Local, ReasonLocalHasCapacity},
		{"no budget", func(in *Input) { in.LatencyBudget = 0 }, Local, ReasonLocalHasCapacity},
		{"not pure", func(in *Input) { in.Pure = false }, Local, ReasonLocalHasCapacity},
		{"no region", func(in *Input) { in.Regions = nil }, Local, ReasonLocalHasCapacity},
		{"local full: plain offload", func(in *Input) { in.LocalInFlight = 4 }, Serverless, ReasonLocalCapacity},
	}
	for _, tc := range tests {
		in := base
		tc.change(&in)
		d := Decide(&p, &in)
		if d.Target != tc.want || d.Reason != tc.reason {
			t.Errorf("%s: %v/%v, want %v/%v", tc.name, d.Target, d.Reason, tc.want, tc.reason)
		}
		if d.Target == Speculative && d.Regions[0] != 1 {
			t.Errorf("%s: regions %v, want the faster region first", tc.name, d.Regions[:d.NumRegions])
		}
	}
}

func TestDecideBatched(t *testing.T) {
	p := Policy{LocalCapacity: 1}
	base := Input{Eligible: true, Pure: true, Mode: job.ModeAuto, LocalInFlight: 1, InputBytes: 200, CanBatch: true, Regions: stats(30)}
	tests := []struct {
		name   string
		change func(*Input)
		policy Policy
		want   Target
	}{
		{"small input, pure, can batch", func(*Input) {}, p, Batched},
		{"cannot batch", func(in *Input) { in.CanBatch = false }, p, Serverless},
		{"not pure", func(in *Input) { in.Pure = false }, p, Serverless},
		{"input above the batch limit", func(in *Input) { in.InputBytes = DefaultMaxBatchInputBytes + 1 }, p, Serverless},
		{"batching off", func(*Input) {}, Policy{LocalCapacity: 1, MaxBatchInputBytes: -1}, Serverless},
		{"room locally", func(in *Input) { in.LocalInFlight = 0 }, p, Local},
	}
	for _, tc := range tests {
		in := base
		tc.change(&in)
		if d := Decide(&tc.policy, &in); d.Target != tc.want {
			t.Errorf("%s: target %v (%v), want %v", tc.name, d.Target, d.Reason, tc.want)
		}
	}
}
