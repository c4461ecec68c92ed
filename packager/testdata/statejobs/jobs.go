// Package statejobs is a test fixture: a stateful job that reads and writes job.State.
package statejobs

import (
	"context"
	"errors"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

// Vote is the input of Tally.
type Vote struct {
	Option string `json:"option"`
}

// Tally counts votes per option in job.State, retrying on version conflicts.
//
//blueprint:job
func Tally(ctx context.Context, st job.State, in Vote) (int, error) {
	for attempt := 0; attempt < 10; attempt++ {
		raw, version, err := st.Get(ctx, in.Option)
		if err != nil {
			return 0, err
		}
		n := 0
		if raw != nil {
			if n, err = strconv.Atoi(string(raw)); err != nil {
				return 0, err
			}
		}
		n++
		if _, err := st.Put(ctx, in.Option, []byte(strconv.Itoa(n)), version); errors.Is(err, job.ErrVersionConflict) {
			continue
		} else if err != nil {
			return 0, err
		}
		return n, nil
	}
	return 0, errors.New("too many conflicts")
}
