// Package effects holds corpus jobs that touch the clock, randomness, the environment, files,
// processes and unix sockets, directly and through helpers two to four calls away.
package effects

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/lib"
)

// In is the input of every job in this package.
type In struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Data string `json:"data"`
}

// Out is the output of every job in this package.
type Out struct {
	Text   string `json:"text"`
	Number int    `json:"number"`
}

// Clock exercises reading the wall clock directly.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func Clock(ctx context.Context, in In) (Out, error) {
	return Out{Text: time.Now().Format(time.RFC3339)}, nil
}

// ClockDeep exercises the clock two calls away in other packages: lib.Stamp -> deep.Clock.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ClockDeep(ctx context.Context, in In) (Out, error) {
	return Out{Text: in.Name + "@" + lib.Stamp()}, nil
}

// GlobalRand exercises math/rand's global (unseeded) generator.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func GlobalRand(ctx context.Context, in In) (Out, error) {
	return Out{Number: rand.Intn(1000)}, nil
}

// CryptoRand exercises crypto/rand.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func CryptoRand(ctx context.Context, in In) (Out, error) {
	b := make([]byte, 8)
	if _, err := crand.Read(b); err != nil {
		return Out{}, err
	}
	return Out{Text: hex.EncodeToString(b)}, nil
}

// EnvRead exercises reading an environment variable (allowed on serverless).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EnvRead(ctx context.Context, in In) (Out, error) {
	return Out{Text: os.Getenv("GREETING") + in.Name}, nil
}

// EnvReadDeep exercises an environment read through lib.Setting -> deep.Getenv.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EnvReadDeep(ctx context.Context, in In) (Out, error) {
	return Out{Text: lib.Setting("REGION")}, nil
}

// EnvWrite exercises writing the environment: an effect on process-wide state that outlives
// the call and is not seen on other machines (implicit global state); the output does not depend on it.
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func EnvWrite(ctx context.Context, in In) (Out, error) {
	_ = os.Setenv("LAST_NAME_SEEN", in.Name) // error dropped: only the write is exercised
	return Out{Text: in.Name}, nil
}

// FileRead exercises reading a local file.
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func FileRead(ctx context.Context, in In) (Out, error) {
	b, err := os.ReadFile(in.Path)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: string(b)}, nil
}

// FileReadDeep exercises a file read through lib.Load -> deep.ReadFile.
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func FileReadDeep(ctx context.Context, in In) (Out, error) {
	text, err := lib.Load("/etc/hostname")
	return Out{Text: text}, err
}

// FileWrite exercises writing a local file (the output does not depend on it).
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func FileWrite(ctx context.Context, in In) (Out, error) {
	_ = os.WriteFile(in.Path, []byte(in.Data), 0o600) // error dropped: only the write is exercised
	return Out{Number: len(in.Data)}, nil
}

// FileWriteDeep exercises a file write four calls away: lib.Save -> saveVia -> deep.WriteFile -> os.WriteFile.
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func FileWriteDeep(ctx context.Context, in In) (Out, error) {
	_ = lib.Save("/tmp/corpus-"+in.Name, in.Data) // error dropped: only the write is exercised
	return Out{Number: len(in.Data)}, nil
}

// Exec exercises os/exec directly, returning what the program printed.
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func Exec(ctx context.Context, in In) (Out, error) {
	out, err := exec.CommandContext(ctx, "hostname").Output()
	return Out{Text: string(out)}, err
}

// ExecDeep exercises os/exec through lib.Uname -> deep.Output.
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func ExecDeep(ctx context.Context, in In) (Out, error) {
	text, err := lib.Uname()
	return Out{Text: text}, err
}

// UnixSocket exercises dialing a unix socket (exists only on the VM; it has no host name).
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func UnixSocket(ctx context.Context, in In) (Out, error) {
	conn, err := net.Dial("unix", "/run/agent.sock")
	if err != nil {
		return Out{}, err
	}
	defer conn.Close()
	n, err := conn.Write([]byte(in.Data))
	return Out{Number: n}, err
}

// Stat exercises reading file metadata (a local file read).
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func Stat(ctx context.Context, in In) (Out, error) {
	fi, err := os.Stat(in.Path)
	if err != nil {
		return Out{}, err
	}
	return Out{Number: int(fi.Size())}, nil
}
