package holdout4

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/url"
	"sync"
)

const base62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// shortLinks maps short codes to the long URLs ShortenAndStore was given.
var (
	linksMu    sync.Mutex
	shortLinks = map[string]string{}
)

// encode62 writes n in base 62 with exactly width digits.
func encode62(n uint64, width int) string {
	b := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b)
}

// shortCode is the first 7 base-62 digits of the SHA-256 of the normalised URL.
func shortCode(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("url %q: needs a scheme and a host", raw)
	}
	u.Fragment = ""
	sum := sha256.Sum256([]byte(u.String()))
	return encode62(binary.BigEndian.Uint64(sum[:8]), 7), nil
}

// ShortCode exercises a URL shortener's pure hashing (url.Parse of the input, sha256, base 62).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ShortCode(ctx context.Context, in In) (Out, error) {
	c, err := shortCode(in.Text)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: c}, nil
}

// ShortCodesCRC exercises crc32 codes for a batch with collisions resolved through a local map.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ShortCodesCRC(ctx context.Context, in In) (Out, error) {
	seen := map[string]string{}
	out := make([]string, len(in.Items))
	for i, raw := range in.Items {
		h := crc32.ChecksumIEEE([]byte(raw))
		code := encode62(uint64(h), 6)
		for salt := uint32(1); seen[code] != "" && seen[code] != raw; salt++ {
			code = encode62(uint64(crc32.Update(h, crc32.IEEETable, []byte{byte(salt)})), 6)
		}
		seen[code] = raw
		out[i] = code
	}
	return Out{Lines: out}, nil
}

// ShortenAndStore exercises a shortener storing in a package-level map and returning the code
// computed from the input only (write-only global: deterministic).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func ShortenAndStore(ctx context.Context, in In) (Out, error) {
	c, err := shortCode(in.Text)
	if err != nil {
		return Out{}, err
	}
	linksMu.Lock()
	shortLinks[c] = in.Text
	linksMu.Unlock()
	return Out{Text: c}, nil
}

// Expand exercises the lookup of a code in the package-level map ShortenAndStore writes
// (same reading as SearchLive: locking the global mutex is synchronisation, not an effect).
// expect: pure=true deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func Expand(ctx context.Context, in In) (Out, error) {
	linksMu.Lock()
	long, ok := shortLinks[in.Key]
	linksMu.Unlock()
	if !ok {
		return Out{}, fmt.Errorf("short code %q: unknown", in.Key)
	}
	return Out{Text: long, OK: true}, nil
}
