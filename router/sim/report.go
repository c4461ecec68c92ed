package sim

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/chart"
)

// Summary is one result as printed and written to JSON.
type Summary struct {
	Policy          string  `json:"policy"`
	Requests        int     `json:"requests"`
	TotalUSD        float64 `json:"total_usd"`
	ServerlessUSD   float64 `json:"serverless_usd"`
	VMUSD           float64 `json:"vm_usd"`
	AddedP50MS      float64 `json:"added_p50_ms"`
	AddedP99MS      float64 `json:"added_p99_ms"`
	AddedP999MS     float64 `json:"added_p999_ms"`
	LatencyP99MS    float64 `json:"latency_p99_ms"`
	SLOViolationPct float64 `json:"slo_violation_pct"`
	OffloadedPct    float64 `json:"offloaded_pct"`
	ServerlessCalls int     `json:"serverless_calls"`
	Hedges          int     `json:"hedges"`
	Failovers       int     `json:"failovers"`
	ColdStarts      int     `json:"cold_starts"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarize turns a result into its printed figures.
func Summarize(r Result) Summary {
	n := float64(max(r.Requests, 1))
	return Summary{
		Policy: r.Policy, Requests: r.Requests,
		TotalUSD: r.TotalUSD(), ServerlessUSD: r.ServerlessUSD, VMUSD: r.VMUSD,
		AddedP50MS: ms(r.AddedQuantile(0.5)), AddedP99MS: ms(r.AddedQuantile(0.99)), AddedP999MS: ms(r.AddedQuantile(0.999)),
		LatencyP99MS:    ms(r.Quantile(0.99)),
		SLOViolationPct: 100 * float64(r.SLOViolations) / n, OffloadedPct: 100 * float64(r.Offloaded) / n,
		ServerlessCalls: r.ServerlessCalls, Hedges: r.Hedges, Failovers: r.Failovers, ColdStarts: r.ColdStarts,
	}
}

// PrintTable writes the comparison as an aligned table.
func PrintTable(w io.Writer, s []Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\ttotal $\tserverless $\tadded p50 ms\tadded p99 ms\tadded p99.9 ms\tSLO missed\toffloaded\tcalls\thedges\tfailovers\tcold starts\t")
	for _, r := range s {
		fmt.Fprintf(tw, "%s\t%.5f\t%.5f\t%.1f\t%.1f\t%.1f\t%.2f%%\t%.1f%%\t%d\t%d\t%d\t%d\t\n",
			r.Policy, r.TotalUSD, r.ServerlessUSD, r.AddedP50MS, r.AddedP99MS, r.AddedP999MS,
			r.SLOViolationPct, r.OffloadedPct, r.ServerlessCalls, r.Hedges, r.Failovers, r.ColdStarts)
	}
	tw.Flush()
}

// Verdict checks the goals the router is held to and says plainly whether each is met:
// its cost is at most that of every static policy whose added p99 is as good or better, and
// within 15% of the oracle's.
func Verdict(s []Summary) []string {
	var ours, oracle *Summary
	for i := range s {
		switch s[i].Policy {
		case "blueprint-router":
			ours = &s[i]
		case "oracle":
			oracle = &s[i]
		}
	}
	if ours == nil || oracle == nil {
		return []string{"the router or the oracle is missing from the results"}
	}
	var out []string
	cheaperThanPeers := true
	var peers []string
	for _, r := range s {
		if r.Policy == ours.Policy || r.Policy == oracle.Policy || r.AddedP99MS > ours.AddedP99MS {
			continue
		}
		peers = append(peers, r.Policy)
		if r.TotalUSD < ours.TotalUSD {
			cheaperThanPeers = false
			out = append(out, fmt.Sprintf("NOT MET: %s has an added p99 as good (%.1f ms ≤ %.1f ms) and costs less ($%.5f < $%.5f)", r.Policy, r.AddedP99MS, ours.AddedP99MS, r.TotalUSD, ours.TotalUSD))
		}
	}
	if cheaperThanPeers {
		if len(peers) == 0 {
			out = append(out, fmt.Sprintf("met: no static policy reaches the router's added p99 of %.1f ms, whatever it costs", ours.AddedP99MS))
		} else {
			out = append(out, fmt.Sprintf("met: the router costs no more than %s, which match its added p99", strings.Join(peers, ", ")))
		}
	}
	gap := 100 * (ours.TotalUSD/oracle.TotalUSD - 1)
	if gap <= 15 {
		out = append(out, fmt.Sprintf("met: the router's cost is %.1f%% above the oracle's (goal ≤ 15%%)", gap))
	} else {
		out = append(out, fmt.Sprintf("NOT MET: the router's cost is %.1f%% above the oracle's (goal ≤ 15%%)", gap))
	}
	return out
}

// WriteSVG draws two panels: the cost of each policy (the VM and what went to the platform)
// and the latency each added (p50, p99, p99.9, on a log scale), with SLO misses noted.
func WriteSVG(w io.Writer, title string, s []Summary) error {
	const (
		width, height = 980, 440
		top, bottom   = 70, 90
		panelW        = 400
		leftA, leftB  = 80, 560
	)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="20" y="28" font-size="16" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	plotH := float64(height - top - bottom)
	slot := float64(panelW) / float64(max(len(s), 1))

	// Panel A: cost.
	maxCost := 0.0
	for _, r := range s {
		maxCost = math.Max(maxCost, r.TotalUSD)
	}
	maxCost = chart.NiceCeil(maxCost)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">cost ($): VM and serverless</text>`+"\n", leftA, top-14)
	for k := 0; k <= 4; k++ {
		v := maxCost * float64(k) / 4
		y := float64(top) + plotH*(1-float64(k)/4)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.4f</text>`+"\n", leftA, leftA+panelW, y, y, leftA-6, y+4, v)
	}
	for i, r := range s {
		x := float64(leftA) + slot*float64(i) + slot*0.2
		bw := slot * 0.6
		vmH := plotH * r.VMUSD / maxCost
		slsH := plotH * r.ServerlessUSD / maxCost
		base := float64(top) + plotH
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#9aa9b8"/>`+"\n", x, base-vmH, bw, vmH)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#e8a33d"/>`+"\n", x, base-vmH-slsH, bw, slsH)
		label(&b, x+bw/2, base+16, r.Policy)
	}

	// Panel B: added latency, log scale.
	lo, hi := 1.0, 1.0
	for _, r := range s {
		hi = math.Max(hi, r.AddedP999MS)
	}
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	ly := func(v float64) float64 {
		v = math.Max(v, lo)
		return float64(top) + plotH*(1-math.Log10(v/lo)/math.Log10(hi/lo))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">added latency (ms, log): p50, p99, p99.9</text>`+"\n", leftB, top-14)
	for v := lo; v <= hi; v *= 10 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n", leftB, leftB+panelW, ly(v), ly(v), leftB-6, ly(v)+4, v)
	}
	colors := []string{"#7fb3d5", "#2e86c1", "#1b4f72"}
	for i, r := range s {
		x := float64(leftB) + slot*float64(i) + slot*0.15
		bw := slot * 0.7 / 3
		for k, v := range []float64{r.AddedP50MS, r.AddedP99MS, r.AddedP999MS} {
			y := ly(v)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x+bw*float64(k), y, bw-1, float64(top)+plotH-y, colors[k])
		}
		label(&b, x+bw*1.5, float64(top)+plotH+16, r.Policy)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#a93226">%.2f%%</text>`+"\n", x+bw*1.5, float64(top)+plotH+50, r.SLOViolationPct)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#a93226">SLO missed</text>`+"\n", leftB-6, float64(top)+plotH+50)
	// Legend.
	lx := float64(leftA)
	for _, l := range []struct{ color, name string }{{"#9aa9b8", "VM"}, {"#e8a33d", "serverless"}, {colors[0], "p50"}, {colors[1], "p99"}, {colors[2], "p99.9"}} {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="12" height="12" fill="%s"/><text x="%.1f" y="%d">%s</text>`+"\n", lx, height-22, l.color, lx+16, height-12, l.name)
		lx += 110
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// label writes a policy name under a bar, split at its dash to fit.
func label(b *strings.Builder, x, y float64, name string) {
	first, rest, _ := strings.Cut(name, "-")
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, y, html.EscapeString(first))
	if rest != "" {
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, y+14, html.EscapeString(rest))
	}
	b.WriteString("\n")
}
