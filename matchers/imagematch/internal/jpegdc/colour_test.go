package jpegdc

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkColour checks DecodeColour on data: its luma and DC plane are
// DecodeGrayDC's byte for byte, and its chroma planes image/jpeg's Cb and
// Cr exactly, of the component's own size; a grey JPEG has none.
func checkColour(t *testing.T, data []byte) {
	t.Helper()
	y, cb, cr, dc, err := DecodeColour(bytes.NewReader(data), 0, true)
	if err != nil {
		t.Fatalf("DecodeColour: %v", err)
	}
	wantY, wantDC, err := DecodeGrayDC(bytes.NewReader(data), 0, 0)
	if err != nil {
		t.Fatalf("DecodeGrayDC: %v", err)
	}
	if y.Rect != wantY.Rect || !bytes.Equal(y.Pix, wantY.Pix) {
		t.Fatal("luma differs from DecodeGray's")
	}
	if dc.W != wantDC.W || dc.H != wantDC.H || !equalFloats(dc.Pix, wantDC.Pix) {
		t.Fatal("DC plane differs from DecodeGrayDC's")
	}
	if y2, _, _, dc2, err := DecodeColour(bytes.NewReader(data), 0, false); err != nil || dc2 != nil || !bytes.Equal(y2.Pix, y.Pix) {
		t.Fatalf("without the DC plane: %v, plane %v", err, dc2)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		// image/jpeg refuses a few files this decoder reads (restart
		// intervals in non-interleaved scans of a subsampled
		// component): the luma is checked against libjpeg elsewhere.
		return
	}
	yc, ok := img.(*image.YCbCr)
	if !ok {
		if cb != nil || cr != nil {
			t.Fatalf("image/jpeg decodes a %T, the decoder returns chroma", img)
		}
		return
	}
	if cb == nil || cr == nil {
		t.Fatal("no chroma planes for a colour JPEG")
	}
	w, h := yc.Rect.Dx(), yc.Rect.Dy()
	var cw, ch int
	switch yc.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		cw, ch = w, h
	case image.YCbCrSubsampleRatio422:
		cw, ch = (w+1)/2, h
	case image.YCbCrSubsampleRatio420:
		cw, ch = (w+1)/2, (h+1)/2
	case image.YCbCrSubsampleRatio440:
		cw, ch = w, (h+1)/2
	case image.YCbCrSubsampleRatio411:
		cw, ch = (w+3)/4, h
	case image.YCbCrSubsampleRatio410:
		cw, ch = (w+3)/4, (h+1)/2
	default:
		t.Fatalf("ratio %v", yc.SubsampleRatio)
	}
	for i, p := range []*image.Gray{cb, cr} {
		if p.Rect != image.Rect(0, 0, cw, ch) {
			t.Fatalf("plane %d is %v, want %dx%d (%v)", i, p.Rect, cw, ch, yc.SubsampleRatio)
		}
		want := yc.Cb
		if i == 1 {
			want = yc.Cr
		}
		for cy := range ch {
			for cx := range cw {
				if g, e := p.Pix[cy*p.Stride+cx], want[cy*yc.CStride+cx]; g != e {
					t.Fatalf("plane %d (%v) at %d,%d: %d, image/jpeg's %d", i, yc.SubsampleRatio, cx, cy, g, e)
				}
			}
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDecodeColourMatchesStdlib runs checkColour over every test file with
// a luma plane (baseline and progressive, every sampling image/jpeg reads,
// restart intervals, grey) and over what image/jpeg's encoder writes at
// sizes that are not multiples of the MCU.
func TestDecodeColourMatchesStdlib(t *testing.T) {
	eachTestFile(t, func(data []byte) error {
		_, _, _, _, err := DecodeColour(bytes.NewReader(data), 0, true)
		return err
	}, func(t *testing.T, data []byte, _ *image.Gray) {
		checkColour(t, data)
	})
	for i, sz := range [][2]int{{1, 1}, {7, 5}, {17, 9}, {33, 31}, {250, 190}, {801, 603}} {
		for _, q := range []int{20, 75, 100} {
			for _, grey := range []bool{false, true} {
				t.Run(fmt.Sprintf("generated_%dx%d_q%d_grey_%v", sz[0], sz[1], q, grey), func(t *testing.T) {
					var buf bytes.Buffer
					if err := jpeg.Encode(&buf, scene(uint64(i*10+q), sz[0], sz[1], grey), &jpeg.Options{Quality: q}); err != nil {
						t.Fatal(err)
					}
					checkColour(t, buf.Bytes())
				})
			}
		}
	}
}

// TestDecodeColourCapsAndGarbage: the pixel cap holds before anything is
// allocated, and truncated or mutated files fail or decode to planes of
// their declared sizes, never panic.
func TestDecodeColourCapsAndGarbage(t *testing.T) {
	data, err := os.ReadFile("testdata/video-001.q50.420.progressive.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, err := DecodeColour(bytes.NewReader(data), 100, false); err != ErrTooLarge {
		t.Fatalf("over the cap: %v, want ErrTooLarge", err)
	}
	for n := 0; n < len(data); n += 97 {
		_, _, _, _, _ = DecodeColour(bytes.NewReader(data[:n]), 1<<20, true)
	}
	files, _ := filepath.Glob("testdata/*.jpeg")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		data, err := os.ReadFile(files[rng.IntN(len(files))])
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + rng.IntN(4) {
			data[rng.IntN(len(data))] = byte(rng.IntN(256))
		}
		y, cb, cr, _, err := DecodeColour(bytes.NewReader(data), 1<<20, rng.IntN(2) == 0)
		if err != nil {
			continue
		}
		checkSizes(t, y, cb, cr)
	}
}

// checkSizes: the luma is not empty and its buffer its size; the chroma
// planes come in pairs, of one size, no larger than the luma.
func checkSizes(t *testing.T, y, cb, cr *image.Gray) {
	t.Helper()
	if y.Rect.Empty() || len(y.Pix) != y.Rect.Dx()*y.Rect.Dy() {
		t.Fatalf("luma %v with %d bytes", y.Rect, len(y.Pix))
	}
	if (cb == nil) != (cr == nil) {
		t.Fatal("one chroma plane without the other")
	}
	if cb == nil {
		return
	}
	if cb.Rect != cr.Rect || cb.Rect.Empty() || cb.Rect.Dx() > y.Rect.Dx() || cb.Rect.Dy() > y.Rect.Dy() ||
		len(cb.Pix) != cb.Rect.Dx()*cb.Rect.Dy() || len(cr.Pix) != len(cb.Pix) {
		t.Fatalf("chroma %v and %v for luma %v", cb.Rect, cr.Rect, y.Rect)
	}
}

// FuzzDecodeColour checks that the colour decode never panics, respects
// its pixel cap, returns planes of consistent sizes, and whenever it
// succeeds returns DecodeGray's luma and, when image/jpeg decodes the file
// too, image/jpeg's chroma.
func FuzzDecodeColour(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jpeg")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 8000 && !strings.Contains(name, "cmyk") {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxPixels = 1 << 20
		y, cb, cr, _, err := DecodeColour(bytes.NewReader(data), maxPixels, false)
		if err != nil {
			return
		}
		if int64(y.Rect.Dx())*int64(y.Rect.Dy()) > maxPixels {
			t.Fatalf("%v decoded over the cap", y.Rect)
		}
		checkSizes(t, y, cb, cr)
		wantY, err := DecodeGray(bytes.NewReader(data), maxPixels, 0)
		if err != nil || !bytes.Equal(wantY.Pix, y.Pix) {
			// DecodeColour reads the chroma scans DecodeGray skips:
			// a corrupt one fails it alone, never the other way.
			t.Fatalf("luma differs from DecodeGray's (its error: %v)", err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		yc, ok := img.(*image.YCbCr)
		if !ok || cb == nil {
			return
		}
		for cy := range min(cb.Rect.Dy(), len(yc.Cb)/max(yc.CStride, 1)) {
			for cx := range min(cb.Rect.Dx(), yc.CStride) {
				if cb.Pix[cy*cb.Stride+cx] != yc.Cb[cy*yc.CStride+cx] || cr.Pix[cy*cr.Stride+cx] != yc.Cr[cy*yc.CStride+cx] {
					t.Fatalf("chroma at %d,%d differs from image/jpeg's", cx, cy)
				}
			}
		}
	})
}
