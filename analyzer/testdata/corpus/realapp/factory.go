package realapp

import (
	"context"
	"math/rand"
	"os"
	"strings"
)

// shuffler reorders words; newShuffler picks an implementation by name.
type shuffler interface{ shuffle(words []string) []string }

type reverseShuffler struct{}

func (reverseShuffler) shuffle(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[len(words)-1-i] = w
	}
	return out
}

type randomShuffler struct{}

func (randomShuffler) shuffle(words []string) []string {
	out := append([]string(nil), words...)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func newShuffler(kind string) shuffler {
	switch kind {
	case "random":
		return randomShuffler{}
	case "reverse":
		return reverseShuffler{}
	}
	return nil
}

// ReverseWords asks the factory for the reversing implementation by a constant name: the
// random one is never made.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ReverseWords(ctx context.Context, in In) (Out, error) {
	return Out{Text: strings.Join(newShuffler("reverse").shuffle(strings.Fields(in.Name)), " ")}, nil
}

// ShuffleWords asks for the random implementation.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ShuffleWords(ctx context.Context, in In) (Out, error) {
	return Out{Text: strings.Join(newShuffler("random").shuffle(strings.Fields(in.Name)), " ")}, nil
}

// ShuffleByInput lets the input choose.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ShuffleByInput(ctx context.Context, in In) (Out, error) {
	s := newShuffler(in.ID)
	if s == nil {
		return Out{Text: in.Name}, nil
	}
	return Out{Text: strings.Join(s.shuffle(strings.Fields(in.Name)), " ")}, nil
}

// ModeJob takes a plain string as its input; another job calls it with a constant, but the
// platform calls it with whatever it is given.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ModeJob(ctx context.Context, mode string) (Out, error) {
	if mode == "env" {
		return Out{Text: os.Getenv("APP_MODE")}, nil
	}
	return Out{Text: mode}, nil
}

// PlainMode calls ModeJob with the constant "plain": the branch reading the environment
// cannot run here.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PlainMode(ctx context.Context, in In) (Out, error) {
	return ModeJob(ctx, "plain")
}
