package imagematch

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"testing"

	"github.com/markwatch/markwatch/fixtures/benchstream"
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

// TestLumaAtLeast checks the scale LumaAtLeast picks, that a JPEG's
// luma-only decode agrees with the full decode (exactly at full scale,
// within a level of the box mean reduced), that other formats and JPEGs
// without luma take the full decode, and that the caps hold.
func TestLumaAtLeast(t *testing.T) {
	h := NewHasher(Limits{})
	photo := synthImage(kindPhoto, 3, 803, 601)
	inputs := map[string][]byte{
		"jpeg_q40": encodeJPEG(t, photo, 40),
		"jpeg_q85": encodeJPEG(t, photo, 85),
		"png":      encodePNG(t, photo),
	}
	cmyk, err := os.ReadFile("internal/jpegdc/testdata/video-001.cmyk.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	inputs["jpeg_cmyk"] = cmyk
	for name, data := range inputs {
		f, cfg, err := decodeConfig(data, h.lim)
		if err != nil {
			t.Fatal(err)
		}
		full, err := h.lumaFull(t.Context(), f, cfg, data)
		if err != nil {
			t.Fatal(err)
		}
		w, ht := cfg.Width, cfg.Height
		long := max(w, ht)
		tests := []struct {
			minSide int
			shift   uint
		}{
			{0, 0}, {-1, 0}, {long, 0}, {long/2 + 2, 0},
			{(long + 1) / 2, 1}, {(long+3)/4 + 1, 1}, {(long + 3) / 4, 2}, {1, 2},
		}
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/min%d", name, tc.minSide), func(t *testing.T) {
				g, err := h.LumaAtLeast(t.Context(), data, tc.minSide)
				if err != nil {
					t.Fatal(err)
				}
				s := 1 << tc.shift
				if want := image.Rect(0, 0, (w+s-1)/s, (ht+s-1)/s); g.Rect != want {
					t.Fatalf("size %v, want %v (1/%d)", g.Rect, want, s)
				}
				ref := reduceGray(full, tc.shift)
				var sum, worst int
				for i := range ref.Pix {
					d := int(g.Pix[i]) - int(ref.Pix[i])
					d = max(d, -d)
					sum += d
					worst = max(worst, d)
				}
				mean := float64(sum) / float64(len(ref.Pix))
				if tc.shift == 0 && worst != 0 || mean > 0.25 || worst > 1 {
					t.Errorf("differs from the full decode: mean |Δ| %.3f, max |Δ| %d", mean, worst)
				}
			})
		}
	}
	jpg := inputs["jpeg_q85"]
	if _, err := NewHasher(Limits{MaxPixels: 1000}).LumaAtLeast(t.Context(), jpg, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the pixel cap: %v, want ErrTooLarge", err)
	}
	if _, err := NewHasher(Limits{MaxDecodedBytes: 100 << 10}).LumaAtLeast(t.Context(), jpg, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the decoded-bytes cap: %v, want ErrTooLarge", err)
	}
	if _, err := h.LumaAtLeast(t.Context(), jpg[:len(jpg)/3], 0); !errors.Is(err, ErrFormat) {
		t.Errorf("truncated JPEG: %v, want ErrFormat", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.LumaAtLeast(ctx, jpg, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("ended context: %v, want ErrBusy", err)
	}
}

// FuzzLumaAtLeast is FuzzLuma at the reduced scales: never a panic, one
// of the sentinel errors or an image of the size the scale gives.
func FuzzLumaAtLeast(f *testing.F) {
	for _, name := range []string{
		"internal/jpegdc/testdata/video-001.q50.420.progressive.jpeg",
		"internal/jpegdc/testdata/gen-37x29.q75.411.restart2b.jpeg",
		"testdata/video-001.png",
	} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, 40)
		f.Add(data, 0)
	}
	h := NewHasher(Limits{MaxPixels: 1 << 20, MaxDecodedBytes: 16 << 20})
	f.Fuzz(func(t *testing.T, data []byte, minSide int) {
		g, err := h.LumaAtLeast(t.Context(), data, minSide)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		_, cfg, err := decodeConfig(data, h.lim)
		if err != nil {
			t.Fatalf("decoded what decodeConfig refuses: %v", err)
		}
		s := 1 << lumaShift(cfg.Width, cfg.Height, minSide)
		if want := image.Rect(0, 0, (cfg.Width+s-1)/s, (cfg.Height+s-1)/s); g.Rect != want {
			t.Fatalf("image %v, want %v", g.Rect, want)
		}
	})
}

// BenchmarkLumaDecode800 compares, on 800×800 photos (4:2:0, as phones
// and image/jpeg write them) at qualities 40 and 85, image/jpeg's full
// decode with the grey copy Luma used to make (stdlib), with the
// luma-only decode at full and half scale, and the luma with the colour
// planes (LumaColour).
func BenchmarkLumaDecode800(b *testing.B) {
	img := synthImage(kindPhoto, 7, 800, 800)
	h := NewHasher(Limits{})
	for _, q := range []int{40, 85} {
		data := encodeJPEG(b, img, q)
		f, cfg, err := decodeConfig(data, h.lim)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name   string
			decode func() (*image.Gray, error)
		}{
			{"stdlib", func() (*image.Gray, error) { return h.lumaFull(b.Context(), f, cfg, data) }},
			{"luma_1", func() (*image.Gray, error) { return h.LumaAtLeast(b.Context(), data, 0) }},
			{"luma_1/2", func() (*image.Gray, error) { return h.LumaAtLeast(b.Context(), data, 400) }},
			{"luma_and_colour", func() (*image.Gray, error) { c, err := h.LumaColour(b.Context(), data); return c.Y, err }},
		} {
			b.Run(fmt.Sprintf("q%d/%s", q, c.name), func(b *testing.B) {
				b.ReportAllocs()
				cpu0 := benchstream.ProcessCPU()
				for b.Loop() {
					if _, err := c.decode(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((benchstream.ProcessCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
