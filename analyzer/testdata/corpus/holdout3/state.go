package holdout3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/serverless-blueprint/blueprint/job"
)

type couponUsage struct {
	Used  int `json:"used"`
	Limit int `json:"limit"`
}

// RedeemCoupon exercises job.State read-modify-write with retries on ErrVersionConflict.
// expect: pure=false deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func RedeemCoupon(ctx context.Context, st job.State, in In) (Out, error) {
	key := "coupon/" + in.Key
	for attempt := 0; attempt < 5; attempt++ {
		raw, ver, err := st.Get(ctx, key)
		if err != nil {
			return Out{}, err
		}
		u := couponUsage{Limit: max(in.N, 1)}
		if raw != nil {
			if err := json.Unmarshal(raw, &u); err != nil {
				return Out{}, fmt.Errorf("coupon %s: %w", in.Key, err)
			}
		}
		if u.Used >= u.Limit {
			return Out{OK: false, Count: u.Used}, nil
		}
		u.Used++
		next, _ := json.Marshal(u)
		if _, err := st.Put(ctx, key, next, ver); err != nil {
			if errors.Is(err, job.ErrVersionConflict) {
				continue
			}
			return Out{}, err
		}
		return Out{OK: true, Count: u.Used}, nil
	}
	return Out{}, fmt.Errorf("coupon %s: too many concurrent redemptions", in.Key)
}

// CouponRemaining exercises a job.State read only (what is stored reaches the output).
// expect: pure=true deterministic=false state=true eligible=true hosts=
//
//blueprint:job
func CouponRemaining(ctx context.Context, st job.State, in In) (Out, error) {
	raw, _, err := st.Get(ctx, "coupon/"+in.Key)
	if err != nil {
		return Out{}, err
	}
	if raw == nil {
		return Out{Count: in.N}, nil
	}
	var u couponUsage
	if err := json.Unmarshal(raw, &u); err != nil {
		return Out{}, err
	}
	return Out{Count: u.Limit - u.Used}, nil
}
