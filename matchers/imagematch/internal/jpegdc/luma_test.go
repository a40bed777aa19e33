package jpegdc

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stdlibLuma is image/jpeg's decode of data as a grey image: its Y plane,
// or the grey image of a one-component JPEG.
func stdlibLuma(t testing.TB, data []byte) (*image.Gray, error) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			switch m := img.(type) {
			case *image.YCbCr:
				g.Pix[y*g.Stride+x] = m.Y[m.YOffset(b.Min.X+x, b.Min.Y+y)]
			case *image.Gray:
				g.Pix[y*g.Stride+x] = m.GrayAt(b.Min.X+x, b.Min.Y+y).Y
			default:
				t.Fatalf("image/jpeg returned a %T", img)
			}
		}
	}
	return g, nil
}

// boxMean is g reduced by s on each side, each pixel the rounded mean of
// the pixels of g it covers (fewer at the right and bottom edges).
func boxMean(g *image.Gray, s int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, (w+s-1)/s, (h+s-1)/s))
	for oy := range out.Rect.Dy() {
		for ox := range out.Rect.Dx() {
			sum, n := 0, 0
			for y := oy * s; y < min(oy*s+s, h); y++ {
				for x := ox * s; x < min(ox*s+s, w); x++ {
					sum += int(g.Pix[y*g.Stride+x])
					n++
				}
			}
			out.Pix[oy*out.Stride+ox] = uint8((sum + n/2) / n)
		}
	}
	return out
}

// compareLuma checks DecodeGray at every scale against image/jpeg: at full
// scale pixel for pixel, reduced against the box mean of image/jpeg's
// pixels. The reduced transform averages before rounding (blocks that may
// clip, and partial edge blocks, are averaged after), so a pixel may be a
// level off, and few are.
func compareLuma(t *testing.T, data []byte) {
	t.Helper()
	want, err := stdlibLuma(t, data)
	if err != nil {
		t.Fatalf("image/jpeg: %v", err)
	}
	for shift := uint(0); shift <= MaxShift; shift++ {
		got, err := DecodeGray(bytes.NewReader(data), 0, shift)
		if err != nil {
			t.Fatalf("DecodeGray(shift %d): %v", shift, err)
		}
		ref := want
		if shift > 0 {
			ref = boxMean(want, 1<<shift)
		}
		if got.Rect != ref.Rect {
			t.Fatalf("shift %d: size %v, want %v", shift, got.Rect, ref.Rect)
		}
		var sum, worst float64
		for y := range ref.Rect.Dy() {
			for x := range ref.Rect.Dx() {
				d := math.Abs(float64(got.Pix[y*got.Stride+x]) - float64(ref.Pix[y*ref.Stride+x]))
				sum += d
				worst = max(worst, d)
			}
		}
		mean := sum / float64(ref.Rect.Dx()*ref.Rect.Dy())
		switch {
		case shift == 0 && worst != 0:
			t.Errorf("full scale differs from image/jpeg's Y: mean |Δ| %.3f, max |Δ| %.0f", mean, worst)
		case shift > 0 && (mean > 0.25 || worst > 1):
			t.Errorf("1/%d scale differs from the box mean of image/jpeg's Y: mean |Δ| %.3f, max |Δ| %.0f", 1<<shift, mean, worst)
		}
	}
}

// libjpegGolden reads the luma libjpeg-turbo's djpeg decoded from the
// JPEG at path, kept beside it as path minus ".jpeg" plus ".djpeg.pgm" for
// the files image/jpeg refuses; nil if there is none.
func libjpegGolden(t *testing.T, path string) *image.Gray {
	t.Helper()
	data, err := os.ReadFile(strings.TrimSuffix(path, ".jpeg") + ".djpeg.pgm")
	if err != nil {
		return nil
	}
	var w, h, maxv int
	header := bytes.SplitN(data, []byte("\n"), 4)
	if len(header) != 4 {
		t.Fatalf("bad golden PGM for %s", path)
	}
	n := len(data) - len(header[3])
	if _, err := fmt.Sscanf(string(data[:n]), "P5\n%d %d\n%d\n", &w, &h, &maxv); err != nil || maxv != 255 || len(data)-n != w*h {
		t.Fatalf("bad golden PGM for %s: %v", path, err)
	}
	return &image.Gray{Pix: data[n:], Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// compareGolden checks DecodeGray's full-scale luma against libjpeg's,
// whose inverse DCT rounds differently: a level off here and there.
func compareGolden(t *testing.T, data []byte, want *image.Gray) {
	t.Helper()
	got, err := DecodeGray(bytes.NewReader(data), 0, 0)
	if err != nil {
		t.Fatalf("DecodeGray: %v", err)
	}
	if got.Rect != want.Rect {
		t.Fatalf("size %v, want libjpeg's %v", got.Rect, want.Rect)
	}
	var sum, worst float64
	for i := range want.Pix {
		d := math.Abs(float64(got.Pix[i]) - float64(want.Pix[i]))
		sum += d
		worst = max(worst, d)
	}
	if mean := sum / float64(len(want.Pix)); mean > 0.25 || worst > 2 {
		t.Errorf("luma differs from libjpeg's: mean |Δ| %.3f, max |Δ| %.0f", mean, worst)
	}
}

func TestDecodeGrayMatchesStdlib(t *testing.T) {
	eachTestFile(t, func(data []byte) error {
		_, err := DecodeGray(bytes.NewReader(data), 0, 0)
		return err
	}, func(t *testing.T, data []byte, golden *image.Gray) {
		if golden != nil {
			compareGolden(t, data, golden)
			return
		}
		compareLuma(t, data)
	})
}

// TestDecodeGrayGenerated covers what image/jpeg's encoder writes (4:2:0
// colour and grey, baseline) at sizes that are not multiples of the block
// or the MCU, qualities from 10 to 100, photos with flat areas, edges and
// grain.
func TestDecodeGrayGenerated(t *testing.T) {
	sizes := [][2]int{{1, 1}, {7, 5}, {8, 8}, {9, 17}, {16, 16}, {33, 31}, {127, 64}, {250, 190}, {333, 127}, {801, 603}}
	for i, sz := range sizes {
		for _, q := range []int{10, 40, 85, 100} {
			for _, grey := range []bool{false, true} {
				name := fmt.Sprintf("%dx%d_q%d", sz[0], sz[1], q)
				if grey {
					name += "_grey"
				}
				t.Run(name, func(t *testing.T) {
					img := scene(uint64(i*1000+q), sz[0], sz[1], grey)
					var buf bytes.Buffer
					if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
						t.Fatal(err)
					}
					compareLuma(t, buf.Bytes())
				})
			}
		}
	}
}

// scene draws a w×h test picture: a gradient, a few hard-edged shapes of
// saturated colours, and grain.
func scene(seed uint64, w, h int, grey bool) image.Image {
	rng := rand.New(rand.NewPCG(seed, 7))
	type box struct {
		x0, y0, x1, y1 int
		c              color.RGBA
	}
	var boxes []box
	for range 6 {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		boxes = append(boxes, box{x0, y0, x0 + 1 + rng.IntN(w), y0 + 1 + rng.IntN(h),
			color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}})
	}
	colour := func(x, y int) color.RGBA {
		c := color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255}
		for _, b := range boxes {
			if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 {
				c = b.c
			}
		}
		n := rng.IntN(31) - 15
		c.R = uint8(min(max(int(c.R)+n, 0), 255))
		c.G = uint8(min(max(int(c.G)+n, 0), 255))
		return c
	}
	if grey {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.Pix[y*g.Stride+x] = colour(x, y).G
			}
		}
		return g
	}
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, colour(x, y))
		}
	}
	return m
}

func TestDecodeGrayCapsAndGarbage(t *testing.T) {
	data, err := os.ReadFile("testdata/video-001.q50.420.jpeg")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	px := int64(cfg.Width * cfg.Height)
	if _, err := DecodeGray(bytes.NewReader(data), px-1, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("cap below the pixel count: %v, want ErrTooLarge", err)
	}
	if _, err := DecodeGray(bytes.NewReader(data), 0, MaxShift+1); err == nil {
		t.Errorf("a scale below 1/%d is accepted", 1<<MaxShift)
	}
	for name, in := range map[string][]byte{
		"empty": nil, "soi_eoi": {0xff, 0xd8, 0xff, 0xd9},
		"truncated": data[:len(data)/2], "not_jpeg": []byte("GIF89a...."),
	} {
		if _, err := DecodeGray(bytes.NewReader(in), 0, 1); err == nil {
			t.Errorf("%s: DecodeGray succeeds", name)
		}
	}
}

// seedLuma seeds a luma fuzz target with the small test files that have a
// luma plane, each at the given scales.
func seedLuma(f *testing.F, scales ...uint8) {
	files, _ := filepath.Glob("testdata/*.jpeg")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 8000 && !strings.Contains(name, "cmyk") {
			for _, s := range scales {
				f.Add(data, s)
			}
		}
	}
}

// FuzzDecodeGray checks that the luma decoder never panics, respects its
// pixel cap, returns an image of the declared size at the asked scale and,
// at full scale, agrees with image/jpeg whenever both succeed.
func FuzzDecodeGray(f *testing.F) {
	seedLuma(f, 0, 1)
	f.Fuzz(func(t *testing.T, data []byte, scale uint8) {
		const maxPixels = 1 << 20
		shift := uint(scale % (MaxShift + 1))
		g, err := DecodeGray(bytes.NewReader(data), maxPixels, shift)
		if err != nil {
			return
		}
		cfg, cfgErr := jpeg.DecodeConfig(bytes.NewReader(data))
		if cfgErr != nil {
			return // the frame header image/jpeg reads first may differ
		}
		s := 1 << shift
		if want := image.Rect(0, 0, (cfg.Width+s-1)/s, (cfg.Height+s-1)/s); g.Rect != want || len(g.Pix) != want.Dx()*want.Dy() {
			t.Fatalf("image %v (%d bytes), want %v", g.Rect, len(g.Pix), want)
		}
		if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
			t.Fatalf("%d×%d decoded over the cap", cfg.Width, cfg.Height)
		}
		if shift != 0 {
			return
		}
		want, err := stdlibLuma(t, data)
		if err != nil || !bytes.Equal(want.Pix, g.Pix) && want.Rect == g.Rect {
			// image/jpeg may refuse what this decoder accepts (it
			// decodes chroma this one skips); where both succeed they
			// must agree.
			if err == nil {
				t.Fatalf("full-scale luma differs from image/jpeg's")
			}
		}
	})
}

// TestDecodeGrayMutations runs DecodeGray over test files with a few
// random bytes changed, at every scale: a deterministic complement to
// FuzzDecodeGray that runs in every test pass. It must never panic, and
// what it returns must have the declared size.
func TestDecodeGrayMutations(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpeg")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		data, err := os.ReadFile(files[rng.IntN(len(files))])
		if err != nil {
			t.Fatal(err)
		}
		for range 1 + rng.IntN(4) {
			data[rng.IntN(len(data))] = byte(rng.IntN(256))
		}
		shift := uint(rng.IntN(MaxShift + 1))
		g, err := DecodeGray(bytes.NewReader(data), 1<<20, shift)
		if err != nil {
			continue
		}
		if len(g.Pix) != g.Rect.Dx()*g.Rect.Dy() || g.Rect.Empty() {
			t.Fatalf("image %v with %d bytes", g.Rect, len(g.Pix))
		}
	}
}

// checkGrayDC checks DecodeGrayDC on data at every scale against the two
// decodes it replaces: its luma is DecodeGray's byte for byte, its plane
// Decode's value for value.
func checkGrayDC(t *testing.T, data []byte) {
	t.Helper()
	wantPlane, err := Decode(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for shift := uint(0); shift <= MaxShift; shift++ {
		wantGray, err := DecodeGray(bytes.NewReader(data), 0, shift)
		if err != nil {
			t.Fatalf("DecodeGray(shift %d): %v", shift, err)
		}
		g, p, err := DecodeGrayDC(bytes.NewReader(data), 0, shift)
		if err != nil {
			t.Fatalf("DecodeGrayDC(shift %d): %v", shift, err)
		}
		if g.Rect != wantGray.Rect || !bytes.Equal(g.Pix, wantGray.Pix) {
			t.Fatalf("shift %d: luma differs from DecodeGray's", shift)
		}
		if p.W != wantPlane.W || p.H != wantPlane.H || p.Width != wantPlane.Width || p.Height != wantPlane.Height {
			t.Fatalf("plane %d×%d of %d×%d, want %d×%d of %d×%d", p.W, p.H, p.Width, p.Height,
				wantPlane.W, wantPlane.H, wantPlane.Width, wantPlane.Height)
		}
		for i, v := range wantPlane.Pix {
			if p.Pix[i] != v {
				t.Fatalf("plane value %d = %v, Decode's %v", i, p.Pix[i], v)
			}
		}
	}
}

// TestDecodeGrayDCMatchesBothModes runs checkGrayDC over every test file
// that has a luma plane (baseline, progressive, every sampling, restart
// intervals, grey) and over what image/jpeg's encoder writes.
func TestDecodeGrayDCMatchesBothModes(t *testing.T) {
	eachTestFile(t, func(data []byte) error {
		_, _, err := DecodeGrayDC(bytes.NewReader(data), 0, 0)
		return err
	}, func(t *testing.T, data []byte, _ *image.Gray) {
		checkGrayDC(t, data)
	})
	for i, sz := range [][2]int{{7, 5}, {33, 31}, {250, 190}, {801, 603}} {
		for _, grey := range []bool{false, true} {
			t.Run(fmt.Sprintf("generated_%dx%d_grey_%v", sz[0], sz[1], grey), func(t *testing.T) {
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, scene(uint64(i), sz[0], sz[1], grey), &jpeg.Options{Quality: 75}); err != nil {
					t.Fatal(err)
				}
				checkGrayDC(t, buf.Bytes())
			})
		}
	}
}

// FuzzDecodeGrayDC checks that the shared decode never panics, respects
// its pixel cap, and whenever it succeeds returns DecodeGray's luma and,
// when Decode succeeds too, Decode's plane.
func FuzzDecodeGrayDC(f *testing.F) {
	seedLuma(f, 0, 2)
	f.Fuzz(func(t *testing.T, data []byte, scale uint8) {
		const maxPixels = 1 << 20
		shift := uint(scale % (MaxShift + 1))
		g, p, err := DecodeGrayDC(bytes.NewReader(data), maxPixels, shift)
		if err != nil {
			return
		}
		if int64(p.Width)*int64(p.Height) > maxPixels {
			t.Fatalf("%d×%d decoded over the cap", p.Width, p.Height)
		}
		wantGray, err := DecodeGray(bytes.NewReader(data), maxPixels, shift)
		if err != nil || g.Rect != wantGray.Rect || !bytes.Equal(g.Pix, wantGray.Pix) {
			t.Fatalf("luma differs from DecodeGray's (its error: %v)", err)
		}
		wantPlane, err := Decode(bytes.NewReader(data), maxPixels)
		if err != nil {
			// The luma modes skip scans of chroma alone unread, where
			// Decode entropy-decodes them (testdata/fuzz holds such a
			// file, whose chroma scan is corrupt): the luma they
			// return is the same either way.
			return
		}
		if p.W != wantPlane.W || p.H != wantPlane.H || len(p.Pix) != len(wantPlane.Pix) {
			t.Fatalf("plane %d×%d, Decode's %d×%d", p.W, p.H, wantPlane.W, wantPlane.H)
		}
		for i, v := range wantPlane.Pix {
			if p.Pix[i] != v {
				t.Fatalf("plane value %d = %v, Decode's %v", i, p.Pix[i], v)
			}
		}
	})
}
