// Package notify defines the Notifier interface the holdout4 jobs call; its implementations
// live in the packages mailer (network), memo (caller's memory) and audit (a package global).
package notify
