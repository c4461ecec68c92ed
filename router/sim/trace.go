package sim

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"
)

// Request is one execution in a workload.
type Request struct {
	Arrival  time.Duration // since the start of the trace
	Function int           // index into Trace.Functions
	Duration time.Duration // execution time on the VM (and, by assumption, on the platform)
}

// Function is one job of the workload.
type Function struct {
	Name     string
	MemoryMB int64
	Pure     bool // may be hedged and retried after it may have run
}

// Trace is a workload sorted by arrival.
type Trace struct {
	Name      string
	Seed      uint64 // 0 for recorded traces
	Functions []Function
	Requests  []Request
}

//go:embed data/azure2021/Azure2021_200.csv
var azure2021CSV []byte

// Azure2021 is the 199-invocation sample of the Azure Functions 2021 trace (CC-BY 4.0, Zhang
// et al., SOSP 2021, sampled by vHive): arrival = end − duration. Memory is not in the sample;
// every function gets 256 MB, and every function counts as pure.
func Azure2021() (*Trace, error) {
	return ReadAzureCSV(bytes.NewReader(azure2021CSV), "azure2021")
}

// ReadAzureCSV reads rows of app,func,end_timestamp,duration (seconds), with a header.
func ReadAzureCSV(r io.Reader, name string) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 4
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", name, err)
	}
	if header[2] != "end_timestamp" || header[3] != "duration" {
		return nil, fmt.Errorf("trace %s: header %v, want app,func,end_timestamp,duration", name, header)
	}
	t := &Trace{Name: name}
	index := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", name, err)
		}
		end, err1 := strconv.ParseFloat(rec[2], 64)
		dur, err2 := strconv.ParseFloat(rec[3], 64)
		if err1 != nil || err2 != nil || dur < 0 || end < dur || math.IsNaN(end) || math.IsNaN(dur) {
			return nil, fmt.Errorf("trace %s line %d: end_timestamp %q and duration %q must be seconds with end ≥ duration ≥ 0", name, line, rec[2], rec[3])
		}
		key := rec[0] + "/" + rec[1]
		fn, ok := index[key]
		if !ok {
			fn = len(t.Functions)
			index[key] = fn
			t.Functions = append(t.Functions, Function{Name: fmt.Sprintf("f%02d", fn), MemoryMB: 256, Pure: true})
		}
		t.Requests = append(t.Requests, Request{
			Arrival:  time.Duration((end - dur) * float64(time.Second)),
			Function: fn,
			Duration: max(time.Duration(dur*float64(time.Second)), time.Millisecond),
		})
	}
	if len(t.Requests) == 0 {
		return nil, fmt.Errorf("trace %s has no rows", name)
	}
	sort.SliceStable(t.Requests, func(i, j int) bool { return t.Requests[i].Arrival < t.Requests[j].Arrival })
	start := t.Requests[0].Arrival
	for i := range t.Requests {
		t.Requests[i].Arrival -= start
	}
	return t, nil
}

// SyntheticConfig shapes a synthetic trace.
type SyntheticConfig struct {
	Seed      uint64
	Functions int           // 0 = 50
	Duration  time.Duration // 0 = 10 minutes
	MeanRate  float64       // mean requests per second over all functions; 0 = 6
}

// Synthetic generates a trace fitted to "Serverless in the Wild" (Shahrad et al., ATC 2020):
// invocation rates across functions are heavy-tailed (log-normal, σ = 2: a few functions take
// most calls), arrivals are bursty (each function alternates between active and quiet periods,
// Poisson within), execution times are log-normal per function (median of function medians
// ≈ 400 ms, σ across functions 1.2, within a function 0.5), memory is 128–1024 MB, mostly ≤ 512.
// A quarter of the functions are not pure.
func Synthetic(c SyntheticConfig) *Trace {
	if c.Functions <= 0 {
		c.Functions = 50
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Minute
	}
	if c.MeanRate <= 0 {
		c.MeanRate = 6
	}
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x5851f42d4c957f2d))
	t := &Trace{Name: "synthetic", Seed: c.Seed}
	weights := make([]float64, c.Functions)
	var sum float64
	for i := range weights {
		weights[i] = math.Exp(2 * rng.NormFloat64())
		sum += weights[i]
	}
	memories := []int64{128, 128, 256, 256, 256, 512, 512, 1024}
	for f := range c.Functions {
		t.Functions = append(t.Functions, Function{
			Name:     fmt.Sprintf("f%02d", f),
			MemoryMB: memories[rng.IntN(len(memories))],
			Pure:     rng.Float64() >= 0.25,
		})
		rate := c.MeanRate * weights[f] / sum
		median := 400 * time.Millisecond * time.Duration(1000*math.Exp(1.2*rng.NormFloat64())) / 1000
		median = min(max(median, 5*time.Millisecond), 20*time.Second)
		// Bursty arrivals: active periods (mean 20 s) at 4× the rate, quiet periods (mean 60 s) at none.
		now, active := time.Duration(0), rng.Float64() < 0.25
		for now < c.Duration {
			period := time.Duration(rng.ExpFloat64() * float64(60*time.Second))
			if active {
				period = time.Duration(rng.ExpFloat64() * float64(20*time.Second))
				end := min(now+period, c.Duration)
				for at := now; ; {
					at += time.Duration(rng.ExpFloat64() / (4 * rate) * float64(time.Second))
					if at >= end {
						break
					}
					d := time.Duration(float64(median) * math.Exp(0.5*rng.NormFloat64()))
					t.Requests = append(t.Requests, Request{Arrival: at, Function: f, Duration: max(d, time.Millisecond)})
				}
			}
			now += period
			active = !active
		}
	}
	sort.SliceStable(t.Requests, func(i, j int) bool { return t.Requests[i].Arrival < t.Requests[j].Arrival })
	return t
}
