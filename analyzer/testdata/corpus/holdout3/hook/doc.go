// Package hook builds and sends the signed webhook requests of the holdout3 corpus jobs; the
// endpoint is a constant of this package.
package hook
