package holdout3

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

type serviceConfig struct {
	Region   string
	Workers  int
	Timeout  time.Duration
	Features []string
}

func envOr(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

func loadConfig() (serviceConfig, error) {
	workers, err := strconv.Atoi(envOr("APP_WORKERS", "4"))
	if err != nil {
		return serviceConfig{}, fmt.Errorf("APP_WORKERS: %w", err)
	}
	timeout, err := time.ParseDuration(envOr("APP_TIMEOUT", "30s"))
	if err != nil {
		return serviceConfig{}, fmt.Errorf("APP_TIMEOUT: %w", err)
	}
	return serviceConfig{
		Region:   envOr("APP_REGION", "eu-west-1"),
		Workers:  workers,
		Timeout:  timeout,
		Features: strings.FieldsFunc(envOr("APP_FEATURES", ""), func(r rune) bool { return r == ',' }),
	}, nil
}

// EffectiveConfig exercises reading the configuration from os.LookupEnv with defaults on
// every call (environment reads reach the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func EffectiveConfig(ctx context.Context, in In) (Out, error) {
	cfg, err := loadConfig()
	if err != nil {
		return Out{}, err
	}
	return Out{Text: cfg.Region + " " + cfg.Timeout.String(), Count: cfg.Workers, Lines: cfg.Features}, nil
}

var (
	cfgOnce   sync.Once
	cfgCached serviceConfig
	cfgErr    error
)

// BatchSize exercises a configuration loaded from the environment once, into package-level
// variables written by sync.Once on the first call, then read back into the output.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func BatchSize(ctx context.Context, in In) (Out, error) {
	cfgOnce.Do(func() { cfgCached, cfgErr = loadConfig() })
	if cfgErr != nil {
		return Out{}, cfgErr
	}
	per := (len(in.Items) + cfgCached.Workers - 1) / max(cfgCached.Workers, 1)
	return Out{Count: per}, nil
}

// slugPattern compiles its regexp on first use (sync.OnceValue).
var slugPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`[^a-z0-9]+`)
})

// Slug exercises a lazily compiled regexp behind sync.OnceValue in a package-level variable
// (reading, as holdout LazyUnits: the first call writes memory reachable from a package-level
// variable, later calls read it back, so impure, stateful and not deterministic).
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func Slug(ctx context.Context, in In) (Out, error) {
	s := slugPattern().ReplaceAllString(strings.ToLower(in.Text), "-")
	return Out{Text: strings.Trim(s, "-")}, nil
}

// SpoolRoundTrip exercises writing the input to a temporary file, reading it back and
// removing it (file write and read).
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func SpoolRoundTrip(ctx context.Context, in In) (Out, error) {
	dir, err := os.MkdirTemp("", "spool-")
	if err != nil {
		return Out{}, err
	}
	defer os.RemoveAll(dir)
	name := dir + "/payload.txt"
	if err := os.WriteFile(name, []byte(in.Text), 0o600); err != nil {
		return Out{}, err
	}
	back, err := os.ReadFile(name)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: strings.ToUpper(string(back)), Count: len(back)}, nil
}
