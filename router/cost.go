package router

import (
	"math"
	"time"
)

// Prices are list prices in US dollars that the cost model weighs. DefaultPrices documents
// where each comes from.
type Prices struct {
	// VMHourly is what the VM the agent runs on costs per hour, and VMCores how many
	// executions' worth of cores that buys.
	VMHourly float64
	VMCores  int
	// ServerlessGBSecond and ServerlessPerRequest are the platform's compute and request
	// prices (AWS Lambda bills memory × duration in 1 ms steps, plus a price per request).
	ServerlessGBSecond   float64
	ServerlessPerRequest float64
	// TargetUtilization is the VM utilization at which its capacity counts as fully used:
	// beyond it, more local work means buying more VM. 0 = 0.7.
	TargetUtilization float64
	// BusyUtilization: above it, offload whatever may be offloaded (the seed's rule). 0 = 0.9.
	BusyUtilization float64
}

// DefaultPrices are public list prices (us-east-1, 2026): AWS Lambda on arm64 at
// $0.0000133334 per GB-second and $0.20 per million requests, and a 2-vCPU arm64 VM
// (c7g.large) at $0.0725 per hour.
func DefaultPrices() Prices {
	return Prices{VMHourly: 0.0725, VMCores: 2, ServerlessGBSecond: 0.0000133334, ServerlessPerRequest: 0.0000002}
}

func (p *Prices) targetUtilization() float64 {
	if p.TargetUtilization > 0 {
		return p.TargetUtilization
	}
	return 0.7
}

func (p *Prices) busyUtilization() float64 {
	if p.BusyUtilization > 0 {
		return p.BusyUtilization
	}
	return 0.9
}

// ServerlessCost is what one invocation of d with memoryMB costs on the platform.
func (p *Prices) ServerlessCost(memoryMB int64, d time.Duration) float64 {
	billedMS := math.Ceil(float64(d) / float64(time.Millisecond))
	return float64(memoryMB)/1024*billedMS/1000*p.ServerlessGBSecond + p.ServerlessPerRequest
}

// LocalCost is the marginal cost of running for d on the VM at the given utilization (0..1).
// The VM is paid for whether it works or not, so an idle VM runs work for nothing; as it fills
// up, local work increasingly takes capacity that would have to be bought, and at the target
// utilization a core-second costs what the VM charges for it.
func (p *Prices) LocalCost(d time.Duration, utilization float64) float64 {
	cores := p.VMCores
	if cores <= 0 {
		cores = 1
	}
	coreSecond := p.VMHourly / 3600 / float64(cores)
	share := min(max(utilization, 0)/p.targetUtilization(), 1)
	return coreSecond * d.Seconds() * share
}
