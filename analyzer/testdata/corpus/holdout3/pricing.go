package holdout3

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"sync"

	"github.com/serverless-blueprint/blueprint/analyzer/testdata/corpus/holdout3/money"
)

// cart is what the discount rules look at.
type cart struct {
	subtotal *big.Rat
	items    int
	tenant   string
}

// bulkDiscount takes pct percent off carts of at least minItems items.
type bulkDiscount struct {
	minItems int
	pct      int64
}

func (b bulkDiscount) applies(c cart) bool { return c.items >= b.minItems }

func (b bulkDiscount) apply(total *big.Rat) *big.Rat {
	off := new(big.Rat).Mul(total, big.NewRat(b.pct, 100))
	return new(big.Rat).Sub(total, off)
}

// flatOff takes a fixed amount off carts above a threshold.
type flatOff struct {
	threshold *big.Rat
	amount    *big.Rat
}

func (f flatOff) applies(c cart) bool { return c.subtotal.Cmp(f.threshold) >= 0 }

func (f flatOff) apply(total *big.Rat) *big.Rat {
	out := new(big.Rat).Sub(total, f.amount)
	if out.Sign() < 0 {
		return new(big.Rat)
	}
	return out
}

// discountRule pairs a rule's test and its effect, both method values.
type discountRule struct {
	name    string
	applies func(cart) bool
	apply   func(*big.Rat) *big.Rat
}

var (
	tenItems  = bulkDiscount{minItems: 10, pct: 5}
	fiftyOff5 = flatOff{threshold: big.NewRat(50, 1), amount: big.NewRat(5, 1)}
	// standardRules is built once in its initializer and only read afterwards.
	standardRules = []discountRule{
		{name: "bulk10", applies: tenItems.applies, apply: tenItems.apply},
		{name: "50off5", applies: fiftyOff5.applies, apply: fiftyOff5.apply},
	}
)

func subtotal(prices []string) (*big.Rat, error) {
	sum := new(big.Rat)
	for i, p := range prices {
		r, err := money.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("price %d: %w", i, err)
		}
		sum.Add(sum, r)
	}
	return sum, nil
}

// PriceCart exercises discount rules held as method values in a package-level slice that is
// only written by its initializer, with exact big.Rat arithmetic and banker's rounding.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PriceCart(ctx context.Context, in In) (Out, error) {
	sum, err := subtotal(in.Prices)
	if err != nil {
		return Out{}, err
	}
	c := cart{subtotal: sum, items: len(in.Prices), tenant: in.Tenant}
	total := sum
	var applied []string
	for _, r := range standardRules {
		if r.applies(c) {
			total = r.apply(total)
			applied = append(applied, r.name)
		}
	}
	return Out{Text: money.Format(money.RoundCents(total)), Lines: applied}, nil
}

// LineTotals exercises money.RoundCents per line and an exact sum (no globals, no effects).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func LineTotals(ctx context.Context, in In) (Out, error) {
	var lines []string
	var cents int64
	for i, p := range in.Prices {
		r, err := money.Parse(p)
		if err != nil {
			return Out{}, fmt.Errorf("line %d: %w", i, err)
		}
		qty := 1
		if i < len(in.Items) {
			qty = in.Qty[in.Items[i]]
		}
		c := money.RoundCents(new(big.Rat).Mul(r, big.NewRat(int64(qty), 1)))
		cents += c
		lines = append(lines, money.Format(c))
	}
	return Out{Lines: lines, Text: money.Format(cents)}, nil
}

var (
	promoMu sync.Mutex
	// promos is appended to by RegisterPromo at run time.
	promos []discountRule
)

// RegisterPromo exercises a job that appends a rule to a package-level slice and returns how
// many rules there are now (the count is read back from the global).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RegisterPromo(ctx context.Context, in In) (Out, error) {
	b := bulkDiscount{minItems: in.N, pct: 10}
	promoMu.Lock()
	defer promoMu.Unlock()
	promos = append(promos, discountRule{name: in.ID, applies: b.applies, apply: b.apply})
	return Out{Count: len(promos)}, nil
}

// PriceWithPromos exercises reading the rule slice that RegisterPromo writes (mutable
// package-level state only read here).
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PriceWithPromos(ctx context.Context, in In) (Out, error) {
	sum, err := subtotal(in.Prices)
	if err != nil {
		return Out{}, err
	}
	c := cart{subtotal: sum, items: len(in.Prices)}
	promoMu.Lock()
	rules := append([]discountRule(nil), promos...)
	promoMu.Unlock()
	total := sum
	for _, r := range rules {
		if r.applies(c) {
			total = r.apply(total)
		}
	}
	return Out{Text: money.Format(money.RoundCents(total))}, nil
}

// PriceInCurrency exercises a helper that calls the exchange-rate service with
// http.NewRequestWithContext on a constant URL of the helper package.
// expect: pure=false deterministic=false state=false eligible=true hosts=fx.example.com
//
//blueprint:job
func PriceInCurrency(ctx context.Context, in In) (Out, error) {
	sum, err := subtotal(in.Prices)
	if err != nil {
		return Out{}, err
	}
	rate, err := money.Rate(ctx, in.Key)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: money.Format(money.RoundCents(new(big.Rat).Mul(sum, rate)))}, nil
}

// RevenueTotal exercises a float sum over a map (reading as in holdout FloatTotal: float
// addition depends on the order, so map iteration order reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func RevenueTotal(ctx context.Context, in In) (Out, error) {
	var total float64
	for _, v := range in.Revenue {
		total += v
	}
	return Out{Value: total}, nil
}

// RevenueBySKU exercises a map of revenues rendered sorted by amount, ties by SKU, with a
// sort.Slice less function that is a method value.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RevenueBySKU(ctx context.Context, in In) (Out, error) {
	rows := make(revenueRows, 0, len(in.Revenue))
	for sku, v := range in.Revenue {
		rows = append(rows, revenueRow{sku: sku, amount: v})
	}
	sort.Slice(rows, rows.less)
	lines := make([]string, len(rows))
	for i, r := range rows {
		lines[i] = fmt.Sprintf("%s %.2f", r.sku, r.amount)
	}
	return Out{Lines: lines}, nil
}

type revenueRow struct {
	sku    string
	amount float64
}

type revenueRows []revenueRow

func (r revenueRows) less(i, j int) bool {
	if r[i].amount != r[j].amount {
		return r[i].amount > r[j].amount
	}
	return r[i].sku < r[j].sku
}
