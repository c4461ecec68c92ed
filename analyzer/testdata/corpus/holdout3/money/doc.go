// Package money holds currency helpers for the holdout3 pricing jobs: exact decimal parsing
// and rounding with math/big.Rat, and the exchange-rate client (a constant URL).
package money
