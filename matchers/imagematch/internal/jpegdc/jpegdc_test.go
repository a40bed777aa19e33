package jpegdc

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// blockMeans computes the 8×8 block means of the luma of a fully decoded
// JPEG, the reference the DC plane is checked against.
func blockMeans(t *testing.T, img image.Image) (w, h int, means []float64) {
	t.Helper()
	b := img.Bounds()
	w, h = (b.Dx()+7)/8, (b.Dy()+7)/8
	means = make([]float64, w*h)
	counts := make([]float64, w*h)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var l float64
			switch m := img.(type) {
			case *image.YCbCr:
				l = float64(m.Y[m.YOffset(x, y)])
			case *image.Gray:
				l = float64(m.GrayAt(x, y).Y)
			default:
				t.Fatalf("unexpected image type %T", img)
			}
			i := (y-b.Min.Y)/8*w + (x-b.Min.X)/8
			means[i] += l
			counts[i]++
		}
	}
	for i := range means {
		means[i] /= counts[i]
	}
	return w, h, means
}

// checkAgainstStdlib decodes data both ways and compares the DC plane with
// the block means of the full decode. Edge blocks are compared only when
// they are whole: a partial block's DC also averages the encoder's padding.
func checkAgainstStdlib(t *testing.T, data []byte) {
	t.Helper()
	full, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/jpeg: %v", err)
	}
	checkAgainst(t, data, full)
}

// checkAgainst compares the DC plane of data with the block means of
// full, a full decode of it.
func checkAgainst(t *testing.T, data []byte, full image.Image) {
	t.Helper()
	p, err := Decode(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	w, h, means := blockMeans(t, full)
	if p.W != w || p.H != h || p.Width != full.Bounds().Dx() || p.Height != full.Bounds().Dy() {
		t.Fatalf("plane %dx%d blocks (%dx%d px), want %dx%d blocks (%v)", p.W, p.H, p.Width, p.Height, w, h, full.Bounds())
	}
	var sum, worst float64
	n := 0
	for y := 0; y < h; y++ {
		if (y+1)*8 > p.Height {
			continue
		}
		for x := 0; x < w; x++ {
			if (x+1)*8 > p.Width {
				continue
			}
			d := math.Abs(float64(p.Pix[y*w+x]) - means[y*w+x])
			sum += d
			worst = max(worst, d)
			n++
		}
	}
	// The IDCT rounds and clips each pixel; the DC alone is exact up to
	// that, so the block means agree to within a level on average.
	if mean := sum / float64(n); mean > 0.75 || worst > 6 {
		t.Errorf("DC plane differs from block means: mean |Δ| %.2f, max |Δ| %.2f over %d blocks", mean, worst, n)
	}
}

func TestDecodeMatchesStdlibBlockMeans(t *testing.T) {
	eachTestFile(t, func(data []byte) error {
		_, err := Decode(bytes.NewReader(data), 0)
		return err
	}, func(t *testing.T, data []byte, golden *image.Gray) {
		if golden != nil {
			checkAgainst(t, data, golden)
			return
		}
		checkAgainstStdlib(t, data)
	})
}

// eachTestFile runs the checks both decoders share on every JPEG of
// testdata: what image/jpeg refuses, decode refuses too (unless a libjpeg
// golden says the file is valid); CMYK and RGB JPEGs, which have no luma
// plane, are refused with an UnsupportedError (callers fall back); every
// other file goes to compare, with its libjpeg golden if it has one.
func eachTestFile(t *testing.T, decode func(data []byte) error, compare func(t *testing.T, data []byte, golden *image.Gray)) {
	t.Helper()
	files, err := filepath.Glob("testdata/*.jpeg")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, stdErr := jpeg.Decode(bytes.NewReader(data))
			decErr := decode(data)
			var unsupported UnsupportedError
			switch golden := libjpegGolden(t, f); {
			case golden != nil:
				compare(t, data, golden)
			case stdErr != nil:
				if decErr == nil {
					t.Fatalf("image/jpeg fails (%v) but the decoder succeeds", stdErr)
				}
			case errors.As(decErr, &unsupported):
				cfg, _ := jpeg.DecodeConfig(bytes.NewReader(data))
				if cfg.ColorModel != color.CMYKModel && cfg.ColorModel != color.RGBAModel {
					t.Fatalf("the decoder refuses a %v JPEG: %v", cfg.ColorModel, decErr)
				}
			default:
				compare(t, data, nil)
			}
		})
	}
}

// TestDecodeGenerated covers sizes that are not multiples of the MCU, every
// quality the stdlib encoder offers a distinct table for, and grey images.
func TestDecodeGenerated(t *testing.T) {
	tests := []struct {
		name    string
		w, h    int
		quality int
		gray    bool
	}{
		{"800x800_q85", 800, 800, 85, false},
		{"odd_size_q30", 333, 127, 30, false},
		{"tiny", 7, 5, 90, false},
		{"wide_q100", 1200, 64, 100, false},
		{"gray_q75", 250, 190, 75, true},
		{"one_pixel", 1, 1, 50, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var img image.Image
			rng := rand.New(rand.NewPCG(uint64(tc.w), uint64(tc.h)))
			if tc.gray {
				g := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
				for i := range g.Pix {
					g.Pix[i] = uint8(i%tc.w + rng.IntN(40))
				}
				img = g
			} else {
				m := image.NewRGBA(image.Rect(0, 0, tc.w, tc.h))
				for y := 0; y < tc.h; y++ {
					for x := 0; x < tc.w; x++ {
						m.SetRGBA(x, y, color.RGBA{uint8(x + rng.IntN(30)), uint8(y * 3), uint8(x ^ y), 255})
					}
				}
				img = m
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: tc.quality}); err != nil {
				t.Fatal(err)
			}
			checkAgainstStdlib(t, buf.Bytes())
		})
	}
}

func TestDecodePixelCap(t *testing.T) {
	data, err := os.ReadFile("testdata/video-001.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	px := int64(cfg.Width * cfg.Height)
	if _, err := Decode(bytes.NewReader(data), px-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("cap %d below %d pixels: err = %v, want ErrTooLarge", px-1, px, err)
	}
	if _, err := Decode(bytes.NewReader(data), px); err != nil {
		t.Fatalf("cap equal to the pixel count: %v", err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not_jpeg", []byte("GIF89a....")},
		{"soi_only", []byte{0xff, 0xd8}},
		{"soi_eoi", []byte{0xff, 0xd8, 0xff, 0xd9}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(bytes.NewReader(tc.data), 0); err == nil {
				t.Fatal("Decode succeeded")
			}
		})
	}
}
