package holdout4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout4/svc"
)

// StockLevels exercises a fan-out with sync.WaitGroup.Go through a helper client whose host is
// a constant of the helper package; each goroutine writes its own slot.
// expect: pure=false deterministic=false state=false eligible=true hosts=inventory.example.com
//
//blueprint:job
func StockLevels(ctx context.Context, in In) (Out, error) {
	inv := svc.NewInventory()
	levels := make([]int, len(in.Items))
	errs := make([]error, len(in.Items))
	var wg sync.WaitGroup
	for i, sku := range in.Items {
		wg.Go(func() {
			var r struct {
				Level int `json:"level"`
			}
			errs[i] = inv.GetJSON(ctx, "/v1/stock/"+url.PathEscape(sku), &r)
			levels[i] = r.Level
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Out{}, err
	}
	total := 0
	for _, l := range levels {
		total += l
	}
	return Out{Count: total}, nil
}

// QuoteWithTax exercises two helper clients with constant hosts called in parallel.
// expect: pure=false deterministic=false state=false eligible=true hosts=rates.example.com,tax.example.com
//
//blueprint:job
func QuoteWithTax(ctx context.Context, in In) (Out, error) {
	var rate, tax struct {
		Value float64 `json:"value"`
	}
	var rateErr, taxErr error
	var wg sync.WaitGroup
	wg.Go(func() { rateErr = svc.NewRates().GetJSON(ctx, "/v1/eur/"+url.PathEscape(in.Key), &rate) })
	wg.Go(func() { taxErr = svc.NewTax().GetJSON(ctx, "/v1/rate/"+url.PathEscape(in.To), &tax) })
	wg.Wait()
	if err := errors.Join(rateErr, taxErr); err != nil {
		return Out{}, err
	}
	sub, _, err := invoiceCents(in.Amounts, 0)
	if err != nil {
		return Out{}, err
	}
	return Out{Value: float64(sub) / 100 * rate.Value * (1 + tax.Value)}, nil
}

// TenantHealth exercises the same helper with a base URL computed from the input.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func TenantHealth(ctx context.Context, in In) (Out, error) {
	c := svc.New("https://" + in.Host + ".tenants.example.com")
	var h struct {
		Status string `json:"status"`
	}
	if err := c.GetJSON(ctx, "/healthz", &h); err != nil {
		return Out{}, err
	}
	return Out{Text: h.Status, OK: h.Status == "ok"}, nil
}

// GeocodeWithBackoff exercises a retry loop with time.Sleep backoff around http.Get of a
// constant host with an escaped query.
// expect: pure=false deterministic=false state=false eligible=true hosts=geo.example.com
//
//blueprint:job
func GeocodeWithBackoff(ctx context.Context, in In) (Out, error) {
	u := "https://geo.example.com/v1/lookup?q=" + url.QueryEscape(in.Text)
	pause := 50 * time.Millisecond
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return Out{Count: resp.StatusCode, OK: resp.StatusCode == http.StatusOK}, nil
			}
			err = fmt.Errorf("geocode: %s", resp.Status)
		}
		lastErr = err
		time.Sleep(pause)
		pause *= 2
	}
	return Out{}, lastErr
}
