// Package firestoretest starts Google's Firestore emulator on 127.0.0.1 for tests, so the
// Firestore state store is tested against Google's own implementation of the API rather than
// a fake written here.
package firestoretest

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/mototest"
)

// Env names the emulator's launcher; `make test` sets it from tools/firestore-emulator.sh.
const Env = "BLUEPRINT_FIRESTORE_EMULATOR"

// DefaultPath is where the Google Cloud SDK's Debian package installs the emulator.
const DefaultPath = "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud_firestore_emulator"

// Emulator is a running Firestore emulator.
type Emulator struct {
	Host string // 127.0.0.1:<port>, what FIRESTORE_EMULATOR_HOST would hold
}

// Start runs a fresh emulator for the test and stops it when the test ends. A machine without
// it fails the test with what to install: the Firestore paths are never skipped silently.
func Start(t testing.TB) *Emulator {
	t.Helper()
	bin := os.Getenv(Env)
	if bin == "" {
		bin = DefaultPath
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Firestore emulator not found at %s: install the Google Cloud SDK component (apt-get install google-cloud-cli-firestore-emulator, or gcloud components install cloud-firestore-emulator) and set %s to its cloud_firestore_emulator, or run tools/firestore-emulator.sh", bin, Env)
	}
	port, err := mototest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "start", "--host=127.0.0.1", fmt.Sprintf("--port=%d", port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the launcher starts java: stop both
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	e := &Emulator{Host: fmt.Sprintf("127.0.0.1:%d", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("the Firestore emulator exited before serving: %v\n%s", err, out.String())
		default:
		}
		if resp, err := http.Get("http://" + e.Host + "/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Firestore emulator did not answer on %s within 60 s\n%s", e.Host, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Reset deletes every document of a project in the emulator.
func (e *Emulator) Reset(project string) error {
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("http://%s/emulator/v1/projects/%s/databases/(default)/documents", e.Host, project), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("firestore emulator reset: HTTP %d", resp.StatusCode)
	}
	return nil
}
