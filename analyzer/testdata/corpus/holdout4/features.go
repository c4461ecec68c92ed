package holdout4

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"
)

// These patterns are compiled once in their initializers.
var (
	emailRe  = regexp.MustCompile(`[\w.+-]+@[\w-]+\.[\w.]+`)
	urlRe    = regexp.MustCompile(`https?://[^\s]+`)
	numberRe = regexp.MustCompile(`\b\d+(\.\d+)?\b`)
)

type features struct {
	lines, emails, urls, numbers, maxRunes int
}

func extract(text string) (features, error) {
	var f features
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f.lines++
		f.emails += len(emailRe.FindAllString(line, -1))
		f.urls += len(urlRe.FindAllString(line, -1))
		f.numbers += len(numberRe.FindAllString(line, -1))
		f.maxRunes = max(f.maxRunes, utf8.RuneCountInString(line))
	}
	return f, sc.Err()
}

// ExtractFeatures exercises bufio.Scanner over a string with package-level regexps.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ExtractFeatures(ctx context.Context, in In) (Out, error) {
	f, err := extract(in.Text)
	if err != nil {
		return Out{}, err
	}
	return Out{Lines: []string{
		fmt.Sprintf("lines=%d", f.lines),
		fmt.Sprintf("emails=%d", f.emails),
		fmt.Sprintf("urls=%d", f.urls),
		fmt.Sprintf("numbers=%d", f.numbers),
		fmt.Sprintf("max_runes=%d", f.maxRunes),
	}}, nil
}

// ExtractFeaturesLogged exercises the same extraction logged through log/slog's default logger.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ExtractFeaturesLogged(ctx context.Context, in In) (Out, error) {
	f, err := extract(in.Text)
	if err != nil {
		slog.Error("extract", "err", err)
		return Out{}, err
	}
	slog.Info("extracted", "lines", f.lines, "emails", f.emails)
	return Out{Count: f.emails + f.urls + f.numbers}, nil
}

// KeywordMatcher exercises a regexp built from the input's keywords, used through a closure.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func KeywordMatcher(ctx context.Context, in In) (Out, error) {
	quoted := make([]string, len(in.Items))
	for i, k := range in.Items {
		quoted[i] = regexp.QuoteMeta(k)
	}
	re, err := regexp.Compile(`(?i)\b(` + strings.Join(quoted, "|") + `)\b`)
	if err != nil {
		return Out{}, fmt.Errorf("keywords: %w", err)
	}
	matches := func(s string) bool { return re.MatchString(s) }
	var hits []string
	for _, l := range in.Lines {
		if matches(l) {
			hits = append(hits, l)
		}
	}
	return Out{Lines: hits, Count: len(hits)}, nil
}
