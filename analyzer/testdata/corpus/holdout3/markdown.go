package holdout3

import (
	"bufio"
	"context"
	"html"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// inline renders **bold**, *em* and `code` spans of an already escaped line.
func inline(s string) string {
	var b strings.Builder
	for _, span := range []struct{ mark, open, close string }{
		{"**", "<strong>", "</strong>"}, {"*", "<em>", "</em>"}, {"`", "<code>", "</code>"},
	} {
		parts := strings.Split(s, span.mark)
		if len(parts)%2 == 0 {
			continue // unbalanced: leave the marks as text
		}
		b.Reset()
		for i, p := range parts {
			if i > 0 {
				if i%2 == 1 {
					b.WriteString(span.open)
				} else {
					b.WriteString(span.close)
				}
			}
			b.WriteString(p)
		}
		s = b.String()
	}
	return s
}

// renderBlocks renders headings, list items and paragraphs; heading calls back with each
// heading's level and text and returns the id to give it.
func renderBlocks(src string, heading func(level int, text string) string) string {
	var out strings.Builder
	sc := bufio.NewScanner(strings.NewReader(src))
	inList := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t")
		if inList && !strings.HasPrefix(line, "- ") {
			out.WriteString("</ul>\n")
			inList = false
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			text := strings.TrimSpace(line[level:])
			id := heading(level, text)
			out.WriteString("<h" + strconv.Itoa(level) + ` id="` + id + `">` + inline(html.EscapeString(text)) + "</h" + strconv.Itoa(level) + ">\n")
		case strings.HasPrefix(line, "- "):
			if !inList {
				out.WriteString("<ul>\n")
				inList = true
			}
			out.WriteString("<li>" + inline(html.EscapeString(line[2:])) + "</li>\n")
		default:
			out.WriteString("<p>" + inline(html.EscapeString(line)) + "</p>\n")
		}
	}
	if inList {
		out.WriteString("</ul>\n")
	}
	return out.String()
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// RenderMarkdown exercises a hand-written markdown renderer (bufio.Scanner over a string,
// strings.Builder, html.EscapeString) with a closure passed as the heading callback.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderMarkdown(ctx context.Context, in In) (Out, error) {
	return Out{Text: renderBlocks(in.Text, func(_ int, text string) string { return slugify(text) })}, nil
}

// RenderWithTOC exercises a closure that dedupes heading ids in a local map (lookups only)
// and collects a table of contents in document order.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RenderWithTOC(ctx context.Context, in In) (Out, error) {
	seen := map[string]int{}
	var toc []string
	body := renderBlocks(in.Text, func(level int, text string) string {
		id := slugify(text)
		if n := seen[id]; n > 0 {
			seen[id] = n + 1
			id += "-" + strconv.Itoa(n)
		} else {
			seen[id] = 1
		}
		toc = append(toc, strings.Repeat("  ", level-1)+"- "+id)
		return id
	})
	return Out{Text: body, Lines: toc}, nil
}

var (
	renderedMu sync.RWMutex
	rendered   = map[string]string{}
)

// RenderCached exercises a package-level cache of rendered pages: written on a miss, and the
// page returned is read back from it on a hit.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func RenderCached(ctx context.Context, in In) (Out, error) {
	renderedMu.RLock()
	page, ok := rendered[in.Text]
	renderedMu.RUnlock()
	if ok {
		return Out{Text: page, OK: true}, nil
	}
	page = renderBlocks(in.Text, func(_ int, text string) string { return slugify(text) })
	renderedMu.Lock()
	if len(rendered) > 1000 {
		clear(rendered)
	}
	rendered[in.Text] = page
	renderedMu.Unlock()
	return Out{Text: page}, nil
}
