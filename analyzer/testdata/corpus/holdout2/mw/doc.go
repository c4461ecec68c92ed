// Package mw: middleware chains of closures and functional options, helpers for the
// holdout2 corpus jobs (some pure, one counting into a global, one calling the network).
package mw
