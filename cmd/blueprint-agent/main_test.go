package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"--state", "s.tfstate", "--listen", "127.0.0.1:0", "--capacity", "0", "--cache", "/tmp/c", "--host-token", "t"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.capacity != 0 || o.platformSettings["wasm"].String("token") != "t" || o.cache != "/tmp/c" || o.batchItems != 16 || o.batchWait != 2*time.Millisecond {
		t.Errorf("parsed %+v", o)
	}
	if o, err := parseOptions([]string{"--state", "s"}, io.Discard); err != nil || len(o.platformSettings) != 0 || o.listen != "127.0.0.1:8080" {
		t.Errorf("defaults: %+v %v", o, err)
	}
	if o, err := parseOptions([]string{"--state", "s", "--platform-setting", "wasm.token=x=y"}, io.Discard); err != nil || o.platformSettings["wasm"].String("token") != "x=y" {
		t.Errorf("--platform-setting: %+v %v", o, err)
	}
	for args, want := range map[string]string{
		"":                                          "--state is required",
		"--state s --listen 0.0.0.0:80":             "not a loopback address",
		"--state s --listen :8080":                  "not a loopback address",
		"--state s --listen 10.0.0.1:8080":          "not a loopback address",
		"--state s --listen nope":                   "use 127.0.0.1:PORT",
		"--state s --capacity -1":                   "--capacity",
		"--state s --max-local-input-bytes 0":       "--max-local-input-bytes",
		"--state s --log-level loud":                "--log-level",
		"--state s extra":                           "unexpected argument",
		"--state s --batch-max-items 0":             "--batch-max-items",
		"--state s --batch-max-items 257":           "--batch-max-items",
		"--state s --batch-max-wait 0s":             "--batch-max-wait",
		"--state s --platform-setting token":        "NAME.KEY=VALUE",
		"--state s --platform-setting mars.token=x": `platform "mars" is not built into this release`,
		"--state s --platform-setting wasm.hosts=x": `platform wasm has no agent setting "hosts"; it has: token`,
	} {
		if _, err := parseOptions(strings.Fields(args), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want %q", args, err, want)
		}
	}
	if err := checkLoopback("unix://agent.sock"); err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Errorf("a relative socket path: %v", err)
	}
	for _, ok := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1", "unix:///run/blueprint/agent.sock"} {
		if err := checkLoopback(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
}
