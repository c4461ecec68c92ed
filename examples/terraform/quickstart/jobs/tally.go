package jobs

import (
	"context"
	"errors"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

// Vote names the counter to add one to.
type Vote struct {
	Counter string `json:"counter"`
}

// Count is a counter after a vote.
type Count struct {
	Counter string `json:"counter"`
	Votes   int    `json:"votes"`
}

// Tally adds one vote. Its state lives in the job's state store, outside every process that
// runs it, so the count is exact whether a vote ran on the VM or on a host.
//
//blueprint:job
func Tally(ctx context.Context, st job.State, in Vote) (Count, error) {
	for {
		v, version, err := st.Get(ctx, in.Counter)
		if err != nil {
			return Count{}, err
		}
		n := 0
		if v != nil {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return Count{}, err
			}
		}
		_, err = st.Put(ctx, in.Counter, []byte(strconv.Itoa(n+1)), version)
		if err == nil {
			return Count{Counter: in.Counter, Votes: n + 1}, nil
		}
		if !errors.Is(err, job.ErrVersionConflict) {
			return Count{}, err
		}
	}
}
