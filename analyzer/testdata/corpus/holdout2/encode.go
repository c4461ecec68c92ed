package holdout2

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/gob"
	"fmt"
	htmltemplate "html/template"
	"os"
	"strconv"
	"strings"
	"text/template"
)

// CSVExport exercises a csv.Writer into a local bytes.Buffer.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CSVExport(ctx context.Context, in In) (Out, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	if err := w.Write([]string{"item", "length", "upper"}); err != nil {
		return Out{}, err
	}
	for _, it := range in.Items {
		if err := w.Write([]string{it, strconv.Itoa(len(it)), strings.ToUpper(it)}); err != nil {
			return Out{}, fmt.Errorf("row %q: %w", it, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return Out{}, err
	}
	return Out{Text: buf.String(), Count: len(in.Items)}, nil
}

// snapshot is what the gob jobs encode.
type snapshot struct {
	ID     string
	Values []float64
	Tags   map[string]string
}

// GobRoundTrip exercises encoding/gob into and out of a local buffer (gob's type cache is the
// standard library's own; the encoded size, which depends on its type ids, is not returned).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func GobRoundTrip(ctx context.Context, in In) (Out, error) {
	var buf bytes.Buffer
	src := snapshot{ID: in.ID, Values: in.Numbers, Tags: map[string]string{"region": in.Region}}
	if err := gob.NewEncoder(&buf).Encode(src); err != nil {
		return Out{}, fmt.Errorf("encode: %w", err)
	}
	var dst snapshot
	if err := gob.NewDecoder(&buf).Decode(&dst); err != nil {
		return Out{}, fmt.Errorf("decode: %w", err)
	}
	return Out{Text: dst.ID + "@" + dst.Tags["region"], Count: len(dst.Tags), Value: float64(len(dst.Values))}, nil
}

// GobToFile exercises encoding/gob into a local file (the write's errors are dropped; the output
// is only the item count).
// expect: pure=false deterministic=true state=false eligible=false hosts=
//
//blueprint:job
func GobToFile(ctx context.Context, in In) (Out, error) {
	if f, err := os.Create("snapshot-" + in.ID + ".gob"); err == nil {
		_ = gob.NewEncoder(f).Encode(snapshot{ID: in.ID, Values: in.Numbers})
		_ = f.Close()
	}
	return Out{Count: len(in.Numbers)}, nil
}

// summaryTmpl ranges over a map: text/template visits map keys in sorted order.
const summaryTmpl = `{{.ID}}:{{range $k, $v := .Counts}} {{$k}}={{$v}}{{end}}`

// CountsTemplate exercises text/template ranging over a map of the input (the template sorts
// the keys, so the order does not depend on map iteration).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CountsTemplate(ctx context.Context, in In) (Out, error) {
	t, err := template.New("summary").Parse(summaryTmpl)
	if err != nil {
		return Out{}, err
	}
	var b strings.Builder
	if err := t.Execute(&b, in); err != nil {
		return Out{}, fmt.Errorf("render summary: %w", err)
	}
	return Out{Text: b.String()}, nil
}

var page = htmltemplate.Must(htmltemplate.New("page").Parse(
	`<h1>{{.ID}}</h1><ul>{{range .Items}}<li><a href="/items?q={{.}}">{{.}}</a></li>{{end}}</ul>`))

// HTMLPage exercises html/template parsed once in a var initializer and executed per call into a
// local buffer (reading: html/template escapes the parsed tree lazily on the first Execute, a
// hidden cache of the standard library that cannot change the answer, like net/http's tables).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func HTMLPage(ctx context.Context, in In) (Out, error) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, in); err != nil {
		return Out{}, fmt.Errorf("render page: %w", err)
	}
	return Out{Text: buf.String()}, nil
}

// TemplateFromFile exercises text/template.ParseFiles of a local template file.
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func TemplateFromFile(ctx context.Context, in In) (Out, error) {
	t, err := template.ParseFiles("templates/report.tmpl")
	if err != nil {
		return Out{}, fmt.Errorf("load report template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, in); err != nil {
		return Out{}, err
	}
	return Out{Text: b.String()}, nil
}
