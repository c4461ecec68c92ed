package money

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
)

// ratesURL is the exchange-rate service's endpoint.
const ratesURL = "https://fx.example.com/v2/latest"

// Parse reads a decimal amount such as "12.345" exactly.
func Parse(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return nil, fmt.Errorf("amount %q is not a decimal number", s)
	}
	return r, nil
}

// RoundCents rounds r to whole cents, halves to even (banker's rounding).
func RoundCents(r *big.Rat) int64 {
	scaled := new(big.Rat).Mul(r, big.NewRat(100, 1))
	q, m := new(big.Int).QuoRem(scaled.Num(), scaled.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m.Abs(m), big.NewInt(2))
	switch twice.Cmp(scaled.Denom()) {
	case 1:
		q.Add(q, big.NewInt(int64(scaled.Sign())))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(scaled.Sign())))
		}
	}
	return q.Int64()
}

// Format renders cents as "123.45".
func Format(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// Rate asks the exchange-rate service for the rate from EUR to currency.
func Rate(ctx context.Context, currency string) (*big.Rat, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ratesURL+"?base=EUR&symbols="+currency, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("exchange rate: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64))
	if err != nil {
		return nil, err
	}
	return Parse(string(body))
}
