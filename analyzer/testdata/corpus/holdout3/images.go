package holdout3

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
)

func decodePNG(b64 string) (image.Image, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("image is not base64: %w", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("image is not a PNG: %w", err)
	}
	return img, nil
}

// shrink scales img to fit a side of at most side pixels (nearest neighbour).
func shrink(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	scale := max(b.Dx(), b.Dy())/max(side, 1) + 1
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()/scale, b.Dy()/scale))
	for y := 0; y < dst.Bounds().Dy(); y++ {
		for x := 0; x < dst.Bounds().Dx(); x++ {
			dst.Set(x, y, img.At(b.Min.X+x*scale, b.Min.Y+y*scale))
		}
	}
	return dst
}

// Thumbnail exercises png.Decode, a nearest-neighbour shrink and png.Encode into a local
// bytes.Buffer, returned as base64.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func Thumbnail(ctx context.Context, in In) (Out, error) {
	img, err := decodePNG(in.Text)
	if err != nil {
		return Out{}, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, shrink(img, in.N)); err != nil {
		return Out{}, err
	}
	return Out{Text: base64.StdEncoding.EncodeToString(buf.Bytes()), Count: buf.Len()}, nil
}

// LumaHistogram exercises a 16-bucket histogram in a fixed array over color.GrayModel.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func LumaHistogram(ctx context.Context, in In) (Out, error) {
	img, err := decodePNG(in.Text)
	if err != nil {
		return Out{}, err
	}
	var hist [16]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			hist[g.Y/16]++
		}
	}
	lines := make([]string, len(hist))
	for i, n := range hist {
		lines[i] = fmt.Sprintf("%3d-%3d %d", i*16, i*16+15, n)
	}
	return Out{Lines: lines}, nil
}

// DominantColour exercises picking the most frequent colour from a map with a strict ">"
// comparison: between colours with the same count, iteration order decides which reaches the
// output.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func DominantColour(ctx context.Context, in In) (Out, error) {
	img, err := decodePNG(in.Text)
	if err != nil {
		return Out{}, err
	}
	counts := map[color.RGBA]int{}
	small := shrink(img, 64)
	for i := 0; i+3 < len(small.Pix); i += 4 {
		c := color.RGBA{small.Pix[i] &^ 15, small.Pix[i+1] &^ 15, small.Pix[i+2] &^ 15, 255}
		counts[c]++
	}
	var best color.RGBA
	bestN := -1
	for c, n := range counts {
		if n > bestN {
			best, bestN = c, n
		}
	}
	return Out{Text: fmt.Sprintf("#%02x%02x%02x", best.R, best.G, best.B), Count: bestN}, nil
}

// ThumbnailScratch exercises writing the encoded thumbnail to a temporary file, reading it
// back and removing it (file write and read: impure, not deterministic, VM only).
// expect: pure=false deterministic=false state=false eligible=false hosts=
//
//blueprint:job
func ThumbnailScratch(ctx context.Context, in In) (Out, error) {
	img, err := decodePNG(in.Text)
	if err != nil {
		return Out{}, err
	}
	f, err := os.CreateTemp("", "thumb-*.png")
	if err != nil {
		return Out{}, err
	}
	defer os.Remove(f.Name())
	if err := png.Encode(f, shrink(img, in.N)); err != nil {
		f.Close()
		return Out{}, err
	}
	if err := f.Close(); err != nil {
		return Out{}, err
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return Out{}, err
	}
	return Out{Text: base64.StdEncoding.EncodeToString(data), OK: strings.HasSuffix(f.Name(), ".png")}, nil
}
