package holdout4

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"sort"
)

// pixelsImage lays the packed 0xRRGGBB pixels out as a square-ish NRGBA image.
func pixelsImage(px []uint32) *image.NRGBA {
	w := 1
	for w*w < len(px) {
		w++
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, w))
	for i, p := range px {
		img.Set(i%w, i/w, color.NRGBA{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p), A: 255})
	}
	return img
}

// DominantPaletteColour exercises a dominant-colour extractor: pixels snapped to the Plan 9
// palette (color.Palette.Index), counted in a map, the largest count with ties to the lower index.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func DominantPaletteColour(ctx context.Context, in In) (Out, error) {
	if len(in.Pixels) == 0 {
		return Out{}, fmt.Errorf("pixels: empty")
	}
	img := pixelsImage(in.Pixels)
	pal := color.Palette(palette.Plan9)
	counts := map[int]int{}
	b := img.Bounds()
	for i := range in.Pixels {
		counts[pal.Index(img.At(b.Min.X+i%b.Dx(), b.Min.Y+i/b.Dx()))]++
	}
	best, bestN := -1, 0
	for idx, n := range counts {
		if n > bestN || (n == bestN && idx < best) {
			best, bestN = idx, n
		}
	}
	r, g, bl, _ := pal[best].RGBA()
	return Out{Text: fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, bl>>8), Count: bestN}, nil
}

// ColourShares exercises per-colour shares of the image emitted in map order (unsorted).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ColourShares(ctx context.Context, in In) (Out, error) {
	counts := map[uint32]int{}
	for _, p := range in.Pixels {
		counts[p&0xF0F0F0]++
	}
	var out []string
	for c, n := range counts {
		out = append(out, fmt.Sprintf("#%06x %.1f%%", c, 100*float64(n)/float64(len(in.Pixels))))
	}
	return Out{Lines: out}, nil
}

// ColourSharesSorted exercises the same shares sorted by count then colour.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ColourSharesSorted(ctx context.Context, in In) (Out, error) {
	counts := map[uint32]int{}
	for _, p := range in.Pixels {
		counts[p&0xF0F0F0]++
	}
	keys := make([]uint32, 0, len(counts))
	for c := range counts {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := make([]string, len(keys))
	for i, c := range keys {
		out[i] = fmt.Sprintf("#%06x %d", c, counts[c])
	}
	return Out{Lines: out}, nil
}
