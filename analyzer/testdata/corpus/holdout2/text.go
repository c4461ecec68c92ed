package holdout2

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// setting is one typed key=value pair of a settings line.
type setting struct {
	key  string
	kind string
	text string
}

// ParseKV exercises strconv-heavy parsing of "key=value;..." into typed values, re-quoted.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ParseKV(ctx context.Context, in In) (Out, error) {
	var out Out
	var settings []setting
	for i, part := range strings.Split(in.Text, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Out{}, fmt.Errorf("pair %d %q: want key=value", i+1, part)
		}
		s := setting{key: k}
		if n, err := strconv.ParseInt(v, 0, 64); err == nil {
			s.kind, s.text = "int", strconv.FormatInt(n, 10)
			out.Value += float64(n)
		} else if b, err := strconv.ParseBool(v); err == nil {
			s.kind, s.text = "bool", strconv.FormatBool(b)
		} else if f, err := strconv.ParseFloat(v, 64); err == nil {
			s.kind, s.text = "float", strconv.FormatFloat(f, 'e', 3, 64)
			out.Value += f
		} else if u, err := strconv.Unquote(v); err == nil {
			s.kind, s.text = "string", u
		} else {
			s.kind, s.text = "raw", v
		}
		settings = append(settings, s)
	}
	for _, s := range settings {
		b := strconv.AppendQuote([]byte(s.key+":"+s.kind+"="), s.text)
		out.Lines = append(out.Lines, string(b))
	}
	out.Count = len(settings)
	return out, nil
}

// RuneStats exercises a unicode/utf8 decoding loop over the input, counting by category.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RuneStats(ctx context.Context, in In) (Out, error) {
	letters, digits, wide, bad := 0, 0, 0, 0
	for s := in.Text; len(s) > 0; {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			bad++
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
		if size > 1 {
			wide++
		}
		s = s[size:]
	}
	if bad > 0 {
		return Out{}, fmt.Errorf("text: %d bytes are not valid UTF-8", bad)
	}
	return Out{
		Count: utf8.RuneCountInString(in.Text),
		Lines: []string{strconv.Itoa(letters), strconv.Itoa(digits), strconv.Itoa(wide)},
	}, nil
}

// RedactEmails exercises a regexp compiled in the job and used from a replacement closure.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RedactEmails(ctx context.Context, in In) (Out, error) {
	re := regexp.MustCompile(`([A-Za-z0-9._%+-]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})`)
	found := 0
	redact := func(m string) string {
		found++
		parts := re.FindStringSubmatch(m)
		return parts[1][:1] + "***@" + parts[2]
	}
	return Out{Text: re.ReplaceAllStringFunc(in.Text, redact), Count: found}, nil
}

// Factorial exercises math/big: n! and its digit sum.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Factorial(ctx context.Context, in In) (Out, error) {
	if in.N < 0 || in.N > 2000 {
		return Out{}, fmt.Errorf("n: want 0..2000, got %d", in.N)
	}
	f := big.NewInt(1)
	for i := 2; i <= in.N; i++ {
		f.Mul(f, big.NewInt(int64(i)))
	}
	digits := f.String()
	sum := 0
	for _, d := range digits {
		sum += int(d - '0')
	}
	return Out{Text: digits, Count: sum}, nil
}

// castagnoli is a CRC table built once in its var initializer and only read afterwards.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksums exercises hash/crc32 (IEEE and a read-only package-level Castagnoli table) and hash/fnv.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Checksums(ctx context.Context, in In) (Out, error) {
	data := []byte(in.Text)
	h := fnv.New64a()
	_, _ = h.Write(data)
	return Out{Lines: []string{
		strconv.FormatUint(uint64(crc32.ChecksumIEEE(data)), 16),
		strconv.FormatUint(uint64(crc32.Checksum(data, castagnoli)), 16),
		strconv.FormatUint(h.Sum64(), 16),
	}}, nil
}

// DueDate exercises time.Date arithmetic from a fixed date: n business days after 2026-01-05 (UTC).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DueDate(ctx context.Context, in In) (Out, error) {
	if in.N < 0 {
		return Out{}, errors.New("n: business days must be >= 0")
	}
	d := time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)
	for left := in.N; left > 0; {
		d = d.AddDate(0, 0, 1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			left--
		}
	}
	return Out{Text: d.Format(time.RFC1123), Count: d.YearDay()}, nil
}

// AgeInYears exercises age from a birth timestamp against time.Now (the clock reaches the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func AgeInYears(ctx context.Context, in In) (Out, error) {
	born := time.Unix(in.Epoch, 0).UTC()
	now := time.Now().UTC()
	age := now.Year() - born.Year()
	if now.YearDay() < born.YearDay() {
		age--
	}
	return Out{Count: age}, nil
}
