package holdout4

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/serverless-blueprint/blueprint/job"
)

// CountVisit exercises a job.State counter incremented with retries on version conflicts.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func CountVisit(ctx context.Context, st job.State, in In) (Out, error) {
	key := "visits/" + in.Key
	for attempt := 0; attempt < 5; attempt++ {
		raw, ver, err := st.Get(ctx, key)
		if err != nil {
			return Out{}, err
		}
		n := 0
		if raw != nil {
			if n, err = strconv.Atoi(string(raw)); err != nil {
				return Out{}, fmt.Errorf("%s: %w", key, err)
			}
		}
		_, err = st.Put(ctx, key, []byte(strconv.Itoa(n+1)), ver)
		if errors.Is(err, job.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return Out{}, err
		}
		return Out{Count: n + 1}, nil
	}
	return Out{}, fmt.Errorf("%s: too many concurrent updates", key)
}

// SaveInvoiceOnce exercises a create-only job.State Put (version 0) of a computed invoice;
// whether it conflicts depends on what is stored.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func SaveInvoiceOnce(ctx context.Context, st job.State, in In) (Out, error) {
	sub, tax, err := invoiceCents(in.Amounts, taxBasisPoints)
	if err != nil {
		return Out{}, err
	}
	_, err = st.Put(ctx, "invoices/"+in.Key, []byte(formatCents(sub+tax)), 0)
	if errors.Is(err, job.ErrVersionConflict) {
		return Out{Text: "exists"}, nil
	}
	if err != nil {
		return Out{}, err
	}
	return Out{Text: "saved", OK: true}, nil
}
