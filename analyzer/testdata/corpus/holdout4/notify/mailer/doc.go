// Package mailer is the Notifier that posts messages to the constant mail service
// mail.example.com.
package mailer
