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
		"":                                 "--state is required",
		"--state s --listen 0.0.0.0:80":    "give --token",
		"--state s --listen :8080":         "give --token",
		"--state s --listen 10.0.0.1:8080": "give --token",
		"--state s --listen 10.0.0.1:8080 --token t": "serve HTTPS",
		"--state s --tls-cert c.pem":                 "go together",
		"--state s --client-ca ca.pem":               "needs --tls-cert",
		"--state s --body-timeout 0s":                "--body-timeout",
		"--state s --listen unix://agent.sock":       "absolute path",
		"--state s --listen nope":                    "use 127.0.0.1:PORT",
		"--state s --capacity -1":                    "--capacity",
		"--state s --max-local-input-bytes 0":        "--max-local-input-bytes",
		"--state s --log-level loud":                 "--log-level",
		"--state s extra":                            "unexpected argument",
		"--state s --batch-max-items 0":              "--batch-max-items",
		"--state s --batch-max-items 257":            "--batch-max-items",
		"--state s --batch-max-wait 0s":              "--batch-max-wait",
		"--state s --platform-setting token":         "NAME.KEY=VALUE",
		"--state s --platform-setting mars.token=x":  `platform "mars" is not built into this release`,
		"--state s --platform-setting wasm.hosts=x":  `platform wasm has no agent setting "hosts"; it has: token`,
	} {
		if _, err := parseOptions(strings.Fields(args), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want %q", args, err, want)
		}
	}
	for _, ok := range []options{{listen: "127.0.0.1:1"}, {listen: "[::1]:1"}, {listen: "localhost:1"}, {listen: "unix:///run/blueprint/agent.sock"},
		{listen: "0.0.0.0:8443", token: "t", tlsCert: "c", tlsKey: "k"}, {listen: "10.0.0.1:8443", clientCA: "ca", tlsCert: "c", tlsKey: "k"}} {
		if err := checkListen(ok); err != nil {
			t.Errorf("%+v refused: %v", ok, err)
		}
	}
}
