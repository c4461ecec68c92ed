package main

import (
	"os"
	"testing"
)

// TestQuietUnreadLogs: the SDK's loggers are turned off only when terraform would discard
// their lines, and a level the user chose stays.
func TestQuietUnreadLogs(t *testing.T) {
	names := []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO", "TF_LOG_PROVIDER_BLUEPRINT"}
	reset := func() {
		for _, n := range names {
			t.Setenv(n, "")
			os.Unsetenv(n)
		}
	}

	reset()
	t.Setenv("TF_LOG_SDK_PROTO", "debug")
	quietUnreadLogs()
	for n, want := range map[string]string{"TF_LOG_SDK": "off", "TF_LOG_SDK_FRAMEWORK": "off", "TF_LOG_PROVIDER_BLUEPRINT": "off", "TF_LOG_SDK_PROTO": "debug"} {
		if got := os.Getenv(n); got != want {
			t.Errorf("without TF_LOG: %s=%q, want %q", n, got, want)
		}
	}

	for _, wanted := range []string{"TF_LOG", "TF_LOG_PROVIDER"} {
		reset()
		t.Setenv(wanted, "info")
		quietUnreadLogs()
		for _, n := range names[2:] {
			if got := os.Getenv(n); got != "" {
				t.Errorf("with %s set: %s=%q, want it left unset", wanted, n, got)
			}
		}
	}
}
