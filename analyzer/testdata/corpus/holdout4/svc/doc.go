// Package svc holds the small HTTP clients the holdout4 jobs fan out through; the hosts of
// NewInventory, NewRates and NewTax are constants of this package, New takes any base URL.
package svc
