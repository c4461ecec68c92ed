package holdout4

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"
)

// logger writes to stderr; it is built in its initializer and never replaced.
var logger = log.New(os.Stderr, "holdout4: ", log.LstdFlags)

// OpeningHoursParis exercises time.LoadLocation of a constant zone with a date from the input
// (reading: LoadLocation reads the system's zoneinfo files, and ZONEINFO from the environment,
// when the binary does not embed time/tzdata, so it is a local file read: not deterministic and
// not eligible, though pure).
// expect: pure=true deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func OpeningHoursParis(ctx context.Context, in In) (Out, error) {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return Out{}, fmt.Errorf("zone: %w", err)
	}
	day, err := time.ParseInLocation(time.DateOnly, in.From, loc)
	if err != nil {
		return Out{}, fmt.Errorf("from: %w", err)
	}
	open := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, loc)
	return Out{Text: open.UTC().Format(time.RFC3339)}, nil
}

// OpeningHoursFixedZone exercises time.FixedZone and time.Date with a fixed offset.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func OpeningHoursFixedZone(ctx context.Context, in In) (Out, error) {
	cet := time.FixedZone("CET", 3600)
	day, err := time.ParseInLocation(time.DateOnly, in.From, cet)
	if err != nil {
		return Out{}, fmt.Errorf("from: %w", err)
	}
	open := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, cet)
	closeAt := open.Add(8*time.Hour + 30*time.Minute)
	return Out{Text: open.UTC().Format(time.Kitchen) + "-" + closeAt.UTC().Format(time.Kitchen)}, nil
}

// TimedParse exercises time.Since measured around the work and only logged (never returned).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TimedParse(ctx context.Context, in In) (Out, error) {
	start := time.Now()
	m, err := parseKV(in.Text)
	if err != nil {
		return Out{}, err
	}
	logger.Printf("parsed %d fields in %s", len(m), time.Since(start))
	return Out{Count: len(m)}, nil
}
