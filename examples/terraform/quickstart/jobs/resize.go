package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// ResizeRequest carries a PNG image and the size to scale it to.
type ResizeRequest struct {
	PNG    []byte `json:"png"` // base64 in JSON
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// ResizeResult is the scaled PNG.
type ResizeResult struct {
	PNG    []byte `json:"png"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

const maxSide = 4096

// ResizeImage scales a PNG with bilinear interpolation. It is pure and deterministic, so the
// analysis lets the agent offload, hedge and retry it freely.
//
//blueprint:job memory=256 timeout=10s
func ResizeImage(ctx context.Context, in ResizeRequest) (ResizeResult, error) {
	if in.Width <= 0 || in.Height <= 0 || in.Width > maxSide || in.Height > maxSide {
		return ResizeResult{}, fmt.Errorf("width and height must be between 1 and %d, got %dx%d", maxSide, in.Width, in.Height)
	}
	src, err := png.Decode(bytes.NewReader(in.PNG))
	if err != nil {
		return ResizeResult{}, fmt.Errorf("decoding png: %w", err)
	}
	if src.Bounds().Empty() {
		return ResizeResult{}, errors.New("the image is empty")
	}
	dst := scaleBilinear(src, in.Width, in.Height)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return ResizeResult{}, fmt.Errorf("encoding png: %w", err)
	}
	return ResizeResult{PNG: out.Bytes(), Width: in.Width, Height: in.Height}, nil
}

// scaleBilinear samples src at the centre of every destination pixel and blends the four
// nearest source pixels.
func scaleBilinear(src image.Image, width, height int) *image.NRGBA {
	b := src.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, width, height))
	sx := float64(b.Dx()) / float64(width)
	sy := float64(b.Dy()) / float64(height)
	for y := 0; y < height; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0, wy := split(fy, b.Dy())
		for x := 0; x < width; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0, wx := split(fx, b.Dx())
			x1, y1 := min(x0+1, b.Dx()-1), min(y0+1, b.Dy()-1)
			c00 := color.NRGBAModel.Convert(src.At(b.Min.X+x0, b.Min.Y+y0)).(color.NRGBA)
			c10 := color.NRGBAModel.Convert(src.At(b.Min.X+x1, b.Min.Y+y0)).(color.NRGBA)
			c01 := color.NRGBAModel.Convert(src.At(b.Min.X+x0, b.Min.Y+y1)).(color.NRGBA)
			c11 := color.NRGBAModel.Convert(src.At(b.Min.X+x1, b.Min.Y+y1)).(color.NRGBA)
			dst.SetNRGBA(x, y, color.NRGBA{
				R: blend(c00.R, c10.R, c01.R, c11.R, wx, wy),
				G: blend(c00.G, c10.G, c01.G, c11.G, wx, wy),
				B: blend(c00.B, c10.B, c01.B, c11.B, wx, wy),
				A: blend(c00.A, c10.A, c01.A, c11.A, wx, wy),
			})
		}
	}
	return dst
}

// split turns a fractional source coordinate into a clamped index and the weight of the next one.
func split(f float64, size int) (int, float64) {
	if f < 0 {
		return 0, 0
	}
	i := int(f)
	if i >= size-1 {
		return size - 1, 0
	}
	return i, f - float64(i)
}

func blend(c00, c10, c01, c11 uint8, wx, wy float64) uint8 {
	top := float64(c00)*(1-wx) + float64(c10)*wx
	bottom := float64(c01)*(1-wx) + float64(c11)*wx
	return uint8(top*(1-wy) + bottom*wy + 0.5)
}
