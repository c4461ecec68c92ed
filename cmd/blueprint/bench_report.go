package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/serverless-blueprint/blueprint/internal/chart"
)

// benchRegions lists every offload target seen in any step, sorted, so columns and colours are
// stable across steps.
func benchRegions(res *benchResults) []string {
	set := map[string]bool{}
	for _, st := range res.Steps {
		for r := range st.ShareRegions {
			set[r] = true
		}
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func printBenchTable(w io.Writer, res *benchResults) {
	regions := benchRegions(res)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"rate/s", "achieved/s", "sent", "ok", "errors", "dropped", "p50 ms", "p99 ms", "local"}
	head = append(head, regions...)
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, st := range res.Steps {
		row := []string{
			fmt.Sprintf("%g", st.TargetRate), fmt.Sprintf("%.1f", st.AchievedRate),
			fmt.Sprint(st.Sent), fmt.Sprint(st.OK), fmt.Sprint(st.Errors), fmt.Sprint(st.Dropped),
			fmt.Sprintf("%.2f", st.P50MS), fmt.Sprintf("%.2f", st.P99MS), pct(st.ShareLocal),
		}
		for _, r := range regions {
			row = append(row, pct(st.ShareRegions[r]))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	for _, st := range res.Steps {
		for _, e := range st.ErrorSamples {
			if len(e) > 240 {
				e = e[:240] + "…" // the JSON results keep the whole message
			}
			fmt.Fprintf(w, "error at %g/s: %s\n", st.TargetRate, e)
		}
	}
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }

// Chart colours: local first, then one per region (Tableau 10, readable in print).
var (
	localColour   = "#4e79a7"
	regionColours = []string{"#59a14f", "#edc948", "#b07aa1", "#76b7b2", "#ff9da7", "#9c755f", "#bab0ac"}
	p50Colour     = "#e15759"
	p99Colour     = "#f28e2b"
)

// writeBenchSVG draws one band per step: a stacked bar of where runs went (left axis, share)
// and the p50/p99 latency lines (right axis, ms).
func writeBenchSVG(w io.Writer, res *benchResults) error {
	const (
		width, height           = 900, 520
		left, right, top, below = 70, 100, 60, 110
		plotW, plotH            = width - left - right, height - top - below
	)
	regions := benchRegions(res)
	n := len(res.Steps)
	if n == 0 {
		return fmt.Errorf("no steps to chart")
	}
	maxLatency := 0.0
	for _, st := range res.Steps {
		maxLatency = math.Max(maxLatency, st.P99MS)
	}
	latTop := chart.NiceCeil(maxLatency)
	band := float64(plotW) / float64(n)
	barW := band * 0.55
	yShare := func(f float64) float64 { return top + float64(plotH)*(1-f) }
	yLat := func(v float64) float64 { return top + float64(plotH)*(1-v/latTop) }
	xMid := func(i int) float64 { return left + band*(float64(i)+0.5) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="28" font-size="16" font-weight="bold">%s</text>`+"\n", left, esc("blueprint bench: job "+res.Job))
	fmt.Fprintf(&b, `<text x="%d" y="46" fill="#555">%s</text>`+"\n", left, esc(fmt.Sprintf("%s, %gs per step; bars: where runs went; lines: latency", res.Agent, res.StepSeconds)))

	// Grid and axes.
	for k := 0; k <= 4; k++ {
		f := float64(k) / 4
		y := yShare(f)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e0e0e0"/>`+"\n", left, y, left+plotW, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#333">%.0f%%</text>`+"\n", left-8, y+4, f*100)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#333">%s</text>`+"\n", left+plotW+8, y+4, esc(trimFloat(latTop*f)+" ms"))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", left, top+plotH, left+plotW, top+plotH)
	fmt.Fprintf(&b, `<text transform="translate(18,%d) rotate(-90)" text-anchor="middle" fill="#333">share of runs</text>`+"\n", top+plotH/2)
	fmt.Fprintf(&b, `<text transform="translate(%d,%d) rotate(90)" text-anchor="middle" fill="#333">latency (ms)</text>`+"\n", width-14, top+plotH/2)

	// Stacked share bars.
	for i, st := range res.Steps {
		x := xMid(i) - barW/2
		base := 0.0
		stack := func(share float64, colour, label string) {
			if share <= 0 {
				return
			}
			y0, y1 := yShare(base), yShare(base+share)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n",
				x, y1, barW, y0-y1, colour, esc(fmt.Sprintf("%g/s: %s %s", st.TargetRate, label, pct(share))))
			base += share
		}
		stack(st.ShareLocal, localColour, "local")
		for k, r := range regions {
			stack(st.ShareRegions[r], regionColours[k%len(regionColours)], r)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#333">%s</text>`+"\n", xMid(i), top+plotH+18, esc(fmt.Sprintf("%g/s", st.TargetRate)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#777" font-size="10">%s</text>`+"\n", xMid(i), top+plotH+32, esc(fmt.Sprintf("got %.0f/s", st.AchievedRate)))
		if st.Errors > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#c00" font-size="10">%s</text>`+"\n", xMid(i), top+plotH+45, esc(fmt.Sprintf("%d errors", st.Errors)))
		}
	}

	// Latency lines with points.
	line := func(value func(benchStep) float64, colour, dash, label string) {
		var pts []string
		for i, st := range res.Steps {
			if st.OK == 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xMid(i), yLat(value(st))))
		}
		if len(pts) == 0 {
			return
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"%s/>`+"\n", strings.Join(pts, " "), colour, dash)
		for i, st := range res.Steps {
			if st.OK == 0 {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"><title>%s</title></circle>`+"\n", xMid(i), yLat(value(st)), colour,
				esc(fmt.Sprintf("%g/s: %s %.2f ms", st.TargetRate, label, value(st))))
		}
	}
	line(func(s benchStep) float64 { return s.P50MS }, p50Colour, "", "p50")
	line(func(s benchStep) float64 { return s.P99MS }, p99Colour, ` stroke-dasharray="6,4"`, "p99")

	// Legend.
	lx, ly := float64(left), float64(height-40)
	item := func(colour, label string, isLine bool) {
		if isLine {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"/>`+"\n", lx, ly-4, lx+18, ly-4, colour)
		} else {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="14" height="10" fill="%s"/>`+"\n", lx, ly-9, colour)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#333">%s</text>`+"\n", lx+22, ly, esc(label))
		lx += 30 + float64(7*len(label))
	}
	item(localColour, "local", false)
	for k, r := range regions {
		item(regionColours[k%len(regionColours)], r, false)
	}
	item(p50Colour, "p50", true)
	item(p99Colour, "p99", true)
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// trimFloat prints axis values without exponents or trailing zeros: 2000, 250, 1.5, 0.25.
func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func esc(s string) string { return html.EscapeString(s) }
