package holdout4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// demoKey is a constant signing key (a test fixture, not a secret).
var demoKey = []byte("holdout4-demo-key")

func sign(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.Join(parts, "\n")))
	return m.Sum(nil)
}

// SignRequest exercises crypto/hmac over a canonical request with a constant key.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SignRequest(ctx context.Context, in In) (Out, error) {
	mac := sign(demoKey, "POST", in.Key, in.Text)
	return Out{Text: base64.RawURLEncoding.EncodeToString(mac)}, nil
}

// VerifyRequest exercises hmac.Equal on a hex signature from the input.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func VerifyRequest(ctx context.Context, in In) (Out, error) {
	got, err := hex.DecodeString(in.To)
	if err != nil {
		return Out{}, fmt.Errorf("signature: %w", err)
	}
	return Out{OK: hmac.Equal(got, sign(demoKey, "POST", in.Key, in.Text))}, nil
}

// SignWithKeyFile exercises an HMAC key read from a local file (a read that only exists on
// the VM: not deterministic, not eligible, still pure).
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func SignWithKeyFile(ctx context.Context, in In) (Out, error) {
	key, err := os.ReadFile("/etc/holdout4/hmac.key")
	if err != nil {
		return Out{}, fmt.Errorf("key: %w", err)
	}
	return Out{Text: hex.EncodeToString(sign(key, in.Key, in.Text))}, nil
}
