package holdout4

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// taxBasisPoints is the default sales tax, 8.25 %.
const taxBasisPoints = 825

// parseCents reads "12.34" as 1234 cents.
func parseCents(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	if len(frac) > 2 {
		return 0, fmt.Errorf("amount %q: more than two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	return w*100 + f, nil
}

// invoiceCents sums the amounts and adds tax at bp basis points, rounding half away from zero.
func invoiceCents(amounts []string, bp int64) (sub, tax int64, err error) {
	for _, a := range amounts {
		c, err := parseCents(a)
		if err != nil {
			return 0, 0, err
		}
		sub += c
	}
	tax = int64(math.Round(float64(sub*bp) / 10000))
	return sub, tax, nil
}

func formatCents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// InvoiceTotal exercises an invoice calculator: cents arithmetic and tax rounding.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func InvoiceTotal(ctx context.Context, in In) (Out, error) {
	sub, tax, err := invoiceCents(in.Amounts, taxBasisPoints)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: formatCents(sub + tax), Value: float64(sub+tax) / 100}, nil
}

// InvoiceEnvTax exercises a tax rate read from the environment (a read: not deterministic).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func InvoiceEnvTax(ctx context.Context, in In) (Out, error) {
	bp := int64(taxBasisPoints)
	if v, ok := os.LookupEnv("TAX_BASIS_POINTS"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Out{}, fmt.Errorf("TAX_BASIS_POINTS: %w", err)
		}
		bp = n
	}
	sub, tax, err := invoiceCents(in.Amounts, bp)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: formatCents(sub + tax)}, nil
}

// InvoiceTable exercises text/tabwriter writing the invoice lines into a local buffer.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func InvoiceTable(ctx context.Context, in In) (Out, error) {
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', tabwriter.AlignRight)
	var sub int64
	for i, a := range in.Amounts {
		c, err := parseCents(a)
		if err != nil {
			return Out{}, err
		}
		sub += c
		fmt.Fprintf(w, "%d\t%s\t\n", i+1, formatCents(c))
	}
	fmt.Fprintf(w, "total\t%s\t\n", formatCents(sub))
	if err := w.Flush(); err != nil {
		return Out{}, err
	}
	return Out{Text: buf.String()}, nil
}

// InvoiceDueDate exercises a due date 30 days after time.Now (the clock reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func InvoiceDueDate(ctx context.Context, in In) (Out, error) {
	sub, tax, err := invoiceCents(in.Amounts, taxBasisPoints)
	if err != nil {
		return Out{}, err
	}
	due := time.Now().UTC().AddDate(0, 0, 30)
	return Out{Text: formatCents(sub+tax) + " due " + due.Format(time.DateOnly)}, nil
}

// BusinessDays exercises time.Date arithmetic on dates from the input, skipping weekends.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func BusinessDays(ctx context.Context, in In) (Out, error) {
	from, err := time.Parse(time.DateOnly, in.From)
	if err != nil {
		return Out{}, fmt.Errorf("from: %w", err)
	}
	to, err := time.Parse(time.DateOnly, in.To)
	if err != nil {
		return Out{}, fmt.Errorf("to: %w", err)
	}
	n := 0
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return Out{Count: n}, nil
}
