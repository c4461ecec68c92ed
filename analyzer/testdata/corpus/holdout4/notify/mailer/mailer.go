package mailer

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

const sendURL = "https://mail.example.com/v1/send"

// Mailer posts each message to the mail service.
type Mailer struct {
	hc *http.Client
}

// New returns a Mailer using the default HTTP client.
func New() *Mailer { return &Mailer{hc: http.DefaultClient} }

// Name implements notify.Named.
func (m *Mailer) Name() string { return "mailer" }

// Notify implements notify.Notifier.
func (m *Mailer) Notify(ctx context.Context, msg string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sendURL, strings.NewReader(msg))
	if err != nil {
		return err
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("mailer: %s", resp.Status)
	}
	return nil
}
