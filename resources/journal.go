package resources

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// TagCreateToken is set on every function a create deploys: the token of that create, which
// the create journal remembers until the create has handed its state to the engine.
const TagCreateToken = "blueprint:create_token"

// createJournal remembers the creates that have started deploying and not yet returned a
// state. A create that dies in between (a killed provider, a lost plugin connection) leaves
// functions that no state records; the next create of the same job finds its own token in
// the journal and on those functions, and takes them over instead of refusing them as
// someone else's. A function whose token is not pending was either created by a create that
// returned its state (so an engine owns it) or by someone else: that stays an import.
//
// The journal is a directory of one small file per job; an empty dir disables it, and then
// every existing function is refused as before.
type createJournal struct{ dir string }

type createIntent struct {
	Job     string    `json:"job"`
	Token   string    `json:"token"`
	Started time.Time `json:"started"`
}

func (j createJournal) path(job string) string { return filepath.Join(j.dir, job+".json") }

// pending returns the token of a create of job that started and never finished, "" if none.
func (j createJournal) pending(job string) string {
	if j.dir == "" {
		return ""
	}
	raw, err := os.ReadFile(j.path(job))
	if err != nil {
		return ""
	}
	var in createIntent
	if json.Unmarshal(raw, &in) != nil || in.Job != job {
		return ""
	}
	return in.Token
}

// begin records that a create of job is about to deploy and returns the token to tag its
// functions with. A pending create's token is reused, so functions from every interrupted
// attempt stay recognisable until one attempt finishes.
func (j createJournal) begin(job string) (string, error) {
	if j.dir == "" {
		return "", nil
	}
	token := j.pending(job)
	if token == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		token = hex.EncodeToString(b)
	}
	raw, err := json.Marshal(createIntent{Job: job, Token: token, Started: time.Now().UTC()})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return "", fmt.Errorf("recording the create of job %q in %s: %w", job, j.dir, err)
	}
	// Write then rename: a crash mid-write must not leave a torn file that hides the token.
	tmp := j.path(job) + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return "", fmt.Errorf("recording the create of job %q in %s: %w", job, j.dir, err)
	}
	if err := os.Rename(tmp, j.path(job)); err != nil {
		return "", fmt.Errorf("recording the create of job %q in %s: %w", job, j.dir, err)
	}
	return token, nil
}

// finish forgets job's pending create: its state is on its way to the engine.
func (j createJournal) finish(job string) error {
	if j.dir == "" {
		return nil
	}
	if err := os.Remove(j.path(job)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clearing the create of job %q in %s: %w", job, j.dir, err)
	}
	return nil
}
