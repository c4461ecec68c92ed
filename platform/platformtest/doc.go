// Package platformtest is the conformance suite every platform passes against its local
// stand-in: deploy, read, redeploy, invoke, job errors, throttling, limits and deletion.
package platformtest
