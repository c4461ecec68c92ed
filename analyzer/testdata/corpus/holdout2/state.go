package holdout2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

// ReserveSeats exercises job.State read-modify-write retried on job.ErrVersionConflict.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func ReserveSeats(ctx context.Context, st job.State, in In) (Out, error) {
	key := "seats:" + in.ID
	for attempt := 0; attempt < 5; attempt++ {
		raw, ver, err := st.Get(ctx, key)
		if err != nil {
			return Out{}, fmt.Errorf("read %s: %w", key, err)
		}
		left := 100
		if raw != nil {
			if left, err = strconv.Atoi(string(raw)); err != nil {
				return Out{}, fmt.Errorf("%s holds %q: %w", key, raw, err)
			}
		}
		if left < in.N {
			return Out{}, fmt.Errorf("only %d seats left", left)
		}
		_, err = st.Put(ctx, key, []byte(strconv.Itoa(left-in.N)), ver)
		if errors.Is(err, job.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return Out{}, err
		}
		return Out{Count: left - in.N}, nil
	}
	return Out{}, errors.New("too many concurrent reservations, try again")
}

// Repo stores JSON values of type T in job.State under a key prefix (methods on a generic type).
type Repo[T any] struct {
	st     job.State
	prefix string
}

// Load returns the value under id and its version (the zero T when absent).
func (r Repo[T]) Load(ctx context.Context, id string) (T, int64, error) {
	var v T
	raw, ver, err := r.st.Get(ctx, r.prefix+id)
	if err != nil || raw == nil {
		return v, ver, err
	}
	err = json.Unmarshal(raw, &v)
	return v, ver, err
}

// Save writes v under id if the stored version is still ver.
func (r Repo[T]) Save(ctx context.Context, id string, v T, ver int64) (int64, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	return r.st.Put(ctx, r.prefix+id, raw, ver)
}

type cart struct {
	Items []string `json:"items"`
}

// AddToCart exercises a generic repository over job.State: load, append, save.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func AddToCart(ctx context.Context, st job.State, in In) (Out, error) {
	repo := Repo[cart]{st: st, prefix: "cart:"}
	c, ver, err := repo.Load(ctx, in.ID)
	if err != nil {
		return Out{}, err
	}
	c.Items = append(c.Items, in.Items...)
	if _, err := repo.Save(ctx, in.ID, c, ver); err != nil {
		return Out{}, err
	}
	return Out{Lines: c.Items, Count: len(c.Items)}, nil
}

// CartSize exercises only a Load through the generic repository (a job.State read).
// expect: pure=true deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func CartSize(ctx context.Context, st job.State, in In) (Out, error) {
	c, _, err := Repo[cart]{st: st, prefix: "cart:"}.Load(ctx, in.ID)
	return Out{Count: len(c.Items)}, err
}
