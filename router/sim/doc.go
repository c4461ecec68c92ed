// Package sim replays workloads through routing policies (the real router among them) against
// modelled VM capacity, serverless regions with cold starts and faults, and list prices.
package sim
