package jobs

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
)

func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: uint8(x ^ y), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestResizeImage(t *testing.T) {
	out, err := ResizeImage(context.Background(), ResizeRequest{PNG: testPNG(t, 64, 32), Width: 16, Height: 8})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out.PNG))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != (image.Point{16, 8}) {
		t.Fatalf("size = %v, want 16x8", got)
	}
	// A horizontal gradient stays a gradient: red grows left to right.
	r0, _, _, _ := img.At(0, 0).RGBA()
	r1, _, _, _ := img.At(15, 0).RGBA()
	if r0 >= r1 {
		t.Fatalf("red at left %d >= red at right %d", r0, r1)
	}
}

func TestResizeImageBadInput(t *testing.T) {
	for _, in := range []ResizeRequest{
		{PNG: testPNG(t, 4, 4), Width: 0, Height: 4},
		{PNG: []byte("not a png"), Width: 4, Height: 4},
		{PNG: testPNG(t, 4, 4), Width: maxSide + 1, Height: 4},
	} {
		if _, err := ResizeImage(context.Background(), in); err == nil {
			t.Errorf("ResizeImage(%dx%d) succeeded, want an error", in.Width, in.Height)
		}
	}
}

func TestTopWords(t *testing.T) {
	got, err := TopWords(context.Background(), WordsRequest{Text: "the cat and the hat; The end", Top: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []WordCount{{"the", 3}, {"and", 1}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("TopWords = %v, want %v", got, want)
	}
}

func BenchmarkResizeImage(b *testing.B) {
	in := ResizeRequest{PNG: testPNG(b, 256, 256), Width: 64, Height: 64}
	for b.Loop() {
		if _, err := ResizeImage(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
