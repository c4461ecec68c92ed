// Package audit is the Notifier that appends messages to a process-wide audit trail (a
// package-level slice), and Entries reads that trail back.
package audit
