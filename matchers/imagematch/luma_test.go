package imagematch

import (
	"errors"
	"image"
	"image/color"
	"os"
	"testing"
)

// TestLuma checks the grey plane's size and brightness for each decoder,
// and that Luma keeps the hashes' caps.
func TestLuma(t *testing.T) {
	h := NewHasher(Limits{})
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.SetNRGBA(3, 4, color.NRGBA{0, 0, 0, 255})
	img.SetNRGBA(5, 6, color.NRGBA{0, 0, 0, 0}) // transparent: white
	for name, data := range map[string][]byte{"png": encodePNG(t, img), "jpeg": encodeJPEG(t, img, 95)} {
		g, err := h.Luma(t.Context(), data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.Bounds().Dx() != 40 || g.Bounds().Dy() != 30 {
			t.Fatalf("%s: size %v", name, g.Bounds())
		}
		if v := g.GrayAt(3, 4).Y; v > 60 {
			t.Errorf("%s: black pixel reads %d", name, v)
		}
		if v := g.GrayAt(5, 6).Y; name == "png" && v < 200 {
			t.Errorf("%s: transparent pixel reads %d, want white", name, v)
		}
	}
	small := NewHasher(Limits{MaxPixels: 100})
	if _, err := small.Luma(t.Context(), encodePNG(t, img)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the pixel cap: %v, want ErrTooLarge", err)
	}
	if _, err := h.Luma(t.Context(), []byte("BM not an image")); !errors.Is(err, ErrFormat) {
		t.Errorf("BMP: %v, want ErrFormat", err)
	}
}

// FuzzLuma feeds arbitrary bytes to the full decode logo detection uses:
// it must never panic and must fail with one of the sentinel errors or
// return a plane of the declared size.
func FuzzLuma(f *testing.F) {
	for _, name := range []string{
		"testdata/video-001.lossy.webp",
		"internal/jpegdc/testdata/video-005.gray.q50.jpeg",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(encodeJPEG(f, synthImage(kindLogo, 5, 64, 64), 20))
	h := NewHasher(Limits{MaxPixels: 1 << 20, MaxDecodedBytes: 16 << 20})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := h.Luma(t.Context(), data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if g.Bounds().Empty() || int64(g.Bounds().Dx())*int64(g.Bounds().Dy()) > 1<<20 {
			t.Fatalf("plane %v outside the caps", g.Bounds())
		}
	})
}

// BenchmarkLuma800 is the full decode logo detection needs, on the same
// 800×800 photo as BenchmarkHashJPEG800 (which decodes DC coefficients
// only).
func BenchmarkLuma800(b *testing.B) {
	data := photo800(b)
	h := NewHasher(Limits{})
	for b.Loop() {
		if _, err := h.Luma(b.Context(), data); err != nil {
			b.Fatal(err)
		}
	}
}
