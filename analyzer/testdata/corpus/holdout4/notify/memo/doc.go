// Package memo is the Notifier that keeps messages in its own slice (the caller's memory),
// used to collect notifications within one call.
package memo
