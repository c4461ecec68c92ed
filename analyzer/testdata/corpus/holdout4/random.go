package holdout4

import (
	"context"
	"math/rand/v2"
)

// ShuffleSeeded exercises math/rand/v2 with a local PCG source seeded by constants.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ShuffleSeeded(ctx context.Context, in In) (Out, error) {
	r := rand.New(rand.NewPCG(42, 1024))
	out := append([]string(nil), in.Items...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return Out{Lines: out}, nil
}

// SampleFromInputSeed exercises a local ChaCha8 source seeded from the input.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func SampleFromInputSeed(ctx context.Context, in In) (Out, error) {
	var seed [32]byte
	copy(seed[:], in.Key)
	r := rand.New(rand.NewChaCha8(seed))
	if len(in.Items) == 0 {
		return Out{}, nil
	}
	return Out{Text: in.Items[r.IntN(len(in.Items))]}, nil
}

// PickWinnerGlobal exercises math/rand/v2's global generator (randomly seeded, a read).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func PickWinnerGlobal(ctx context.Context, in In) (Out, error) {
	if len(in.Items) == 0 {
		return Out{}, nil
	}
	return Out{Text: in.Items[rand.IntN(len(in.Items))]}, nil
}
