// Package jobs holds the quickstart's job functions: plain Go that Blueprint analyzes, builds
// and routes. Nothing here knows about serverless platforms.
package jobs
