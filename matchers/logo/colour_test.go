package logo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// planesOf decodes a JPEG the tests made into its luma and colour planes
// (image/jpeg's, which imagematch's decoder returns exactly).
func planesOf(t testing.TB, data []byte) (y, cb, cr *image.Gray) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	yc := img.(*image.YCbCr)
	r := image.Rect(0, 0, (yc.Rect.Dx()+1)/2, (yc.Rect.Dy()+1)/2)
	return toGray(img), &image.Gray{Pix: yc.Cb, Stride: yc.CStride, Rect: r}, &image.Gray{Pix: yc.Cr, Stride: yc.CStride, Rect: r}
}

// printedPhoto paints logo (what differs from its ground) in ink on an 800×800 photo of
// ground with a little grain, at x0, y0 and width w, and returns the
// photo JPEG-encoded at quality 40 and the logo's box.
func printedPhoto(t testing.TB, logo image.Image, ground, ink color.RGBA, x0, y0, w int, seed uint64, q int) ([]byte, image.Rectangle) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 800, 800))
	r := rand.New(rand.NewPCG(seed, 3))
	for i := 0; i < len(img.Pix); i += 4 {
		n := uint8(r.IntN(7))
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = ground.R+n, ground.G+n, ground.B+n, 255
	}
	g := toGray(logo)
	lb := g.Bounds()
	// The logo's ground is its corner's grey; how far a pixel is from it,
	// over the farthest, is how much ink it takes (anti-aliased edges
	// partly).
	bg := int(g.GrayAt(lb.Min.X, lb.Min.Y).Y)
	far := 1
	for _, v := range g.Pix {
		far = max(far, abs(int(v)-bg))
	}
	k := float64(lb.Dx()) / float64(w)
	h := int(float64(lb.Dy()) / k)
	for y := range h {
		for x := range w {
			// The mean of the logo's pixels this one covers.
			sx0, sy0 := int(float64(x)*k), int(float64(y)*k)
			sx1, sy1 := max(sx0+1, int(float64(x+1)*k)), max(sy0+1, int(float64(y+1)*k))
			sum, n := 0, 0
			for sy := sy0; sy < min(sy1, lb.Dy()); sy++ {
				for sx := sx0; sx < min(sx1, lb.Dx()); sx++ {
					sum += abs(int(g.GrayAt(lb.Min.X+sx, lb.Min.Y+sy).Y) - bg)
					n++
				}
			}
			a := float64(sum) / float64(max(n, 1)) / float64(far)
			p := img.RGBAAt(x0+x, y0+y)
			mix := func(u, v uint8) uint8 { return uint8(float64(u)*(1-a) + float64(v)*a + 0.5) }
			img.SetRGBA(x0+x, y0+y, color.RGBA{mix(p.R, ink.R), mix(p.G, ink.G), mix(p.B, ink.B), 255})
		}
	}
	return encodeJPEG(t, img, q), image.Rect(x0, y0, x0+w, y0+h)
}

// luma is the JPEG luma of c.
func luma(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// TestColourPlanes: a logo printed in teal on brown of the same brightness
// has no corners in the luma, and is found in the colour planes
// (ExtractorOptions.Colour, Options.ColourMinDense), boxed where it is
// and named as found in colour; off (ColourMinDense -1, or features of
// the luma alone), it is not found. The same logo printed dark is found
// in the luma, once: the colour planes add no second detection over it.
func TestColourPlanes(t *testing.T) {
	logos := inventLogos(t, 21, 60)
	m, err := New(marksOf(logos), Options{})
	if err != nil {
		t.Fatal(err)
	}
	off, err := New(marksOf(logos), Options{ColourMinDense: -1})
	if err != nil {
		t.Fatal(err)
	}
	ex := NewExtractor(ExtractorOptions{Pixels: true, Colour: true})
	brown, teal := color.RGBA{140, 100, 60, 255}, color.RGBA{40, 139, 120, 255}
	if d := luma(brown) - luma(teal); d < -1 || d > 1 {
		t.Fatalf("brown and teal differ in luma by %.1f", d)
	}
	detect := func(m *Matcher, f *matchers.Features) []Detection {
		t.Helper()
		l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Features: f}}}
		ds, err := m.Detect(t.Context(), l)
		matchers.ReleasePixels(l.Images)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	found := 0
	for i := range 6 {
		data, box := printedPhoto(t, logos.imgs[i], brown, teal, 100+20*i, 100+30*i, 360, uint64(i), 75)
		y, cb, cr := planesOf(t, data)
		f := ex.ListingColour(y, cb, cr)
		if len(f.Colour) != 2 {
			t.Fatalf("logo %d: %d colour planes' features, want 2", i, len(f.Colour))
		}
		for _, c := range f.Colour {
			if c.W != 800 || c.H != 800 || c.Pixels == nil {
				t.Fatalf("logo %d: colour features of %d×%d, pixels %v", i, c.W, c.H, c.Pixels != nil)
			}
			for _, p := range c.Points {
				if p.X < 0 || p.Y < 0 || p.X >= 800 || p.Y >= 800 || p.Scale < 2 {
					t.Fatalf("logo %d: colour keypoint %+v outside the image or finer than the plane", i, p)
				}
			}
		}
		for _, d := range detect(m, f) {
			if d.Mark.MarkID != marksOf(logos)[i].MarkID {
				t.Errorf("logo %d: %s found instead", i, d.Mark.MarkID)
				continue
			}
			c := image.Pt(d.Region.X+d.Region.W/2, d.Region.Y+d.Region.H/2)
			if d.Plane == "" || d.Partial || !c.In(box) || d.Dense < 0.9 {
				t.Errorf("logo %d: detection %+v: want found whole in a colour plane, centred in %v, dense ≥ 0.9", i, d, box)
				continue
			}
			found++
			// The evidence names the plane and boxes the logo.
			l := &matchers.Listing{Listing: &domain.Listing{}, Images: []matchers.ListingImage{{Features: ex.ListingColour(y, cb, cr)}}}
			_, sigs, err := m.MatchCandidates(t.Context(), l)
			matchers.ReleasePixels(l.Images)
			if err != nil || len(sigs) != 1 || len(sigs[0].Evidence) != 1 {
				t.Fatalf("logo %d: signals %+v, %v", i, sigs, err)
			}
			if e := sigs[0].Evidence[0]; e.Kind != Kind || e.Region == nil || *e.Region != d.Region || !strings.Contains(e.Detail, "colour (C") || !strings.Contains(e.Detail, "in the brightness alone") {
				t.Errorf("logo %d: evidence %+v", i, e)
			}
		}
		for _, d := range detect(off, ex.ListingColour(y, cb, cr)) {
			t.Errorf("logo %d: found with colour planes off: %+v", i, d)
		}
		for _, d := range detect(m, ex.Listing(y)) {
			t.Errorf("logo %d: found in the luma alone: %+v", i, d)
		}
		// Printed dark on the same ground: the luma's detection alone.
		data, _ = printedPhoto(t, logos.imgs[i], brown, color.RGBA{20, 20, 20, 255}, 100+20*i, 100+30*i, 360, uint64(i), 75)
		y, cb, cr = planesOf(t, data)
		ds := detect(m, ex.ListingColour(y, cb, cr))
		if len(ds) != 1 || ds[0].Plane != "" {
			t.Errorf("logo %d printed dark: %d detections (%+v), want one, in the luma", i, len(ds), ds)
		}
	}
	t.Logf("logos printed in teal on brown found in colour: %d of 6", found)
	if found < 5 {
		t.Fatalf("logos printed in teal on brown found in colour: %d of 6, want at least 5", found)
	}
}

// TestListingColourSizes: colour planes of any size (a JPEG's own
// sampling, another image's full resolution, a plane of one pixel, planes
// of two sizes) are brought to half the working copy's size and described
// without panicking, their keypoints inside the image; without Colour, or
// without a plane, the features are the luma's alone.
func TestListingColourSizes(t *testing.T) {
	ex := NewExtractor(ExtractorOptions{Pixels: true, Colour: true})
	grey := func(w, h int, seed uint64) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		r := rand.New(rand.NewPCG(seed, 9))
		for i := range g.Pix {
			g.Pix[i] = uint8(r.IntN(256))
		}
		return g
	}
	for _, c := range []struct{ yw, yh, cw, ch, rw, rh int }{
		{800, 600, 400, 300, 400, 300}, {801, 601, 401, 301, 401, 301}, {640, 480, 640, 480, 640, 480},
		{1600, 1200, 800, 600, 800, 600}, {800, 800, 400, 800, 400, 800}, {1, 1, 1, 1, 1, 1},
		{9, 300, 5, 150, 5, 150}, {500, 400, 250, 200, 100, 80},
	} {
		f := ex.ListingColour(grey(c.yw, c.yh, 1), grey(c.cw, c.ch, 2), grey(c.rw, c.rh, 3))
		if len(f.Colour) != 2 {
			t.Fatalf("%+v: %d colour planes", c, len(f.Colour))
		}
		for _, p := range f.Colour {
			if p.W != c.yw || p.H != c.yh || p.Pixels == nil {
				t.Fatalf("%+v: plane of %d×%d, pixels %v", c, p.W, p.H, p.Pixels != nil)
			}
			for _, k := range p.Points {
				if k.X < 0 || k.Y < 0 || k.X > float32(c.yw) || k.Y > float32(c.yh) {
					t.Fatalf("%+v: keypoint %+v outside the image", c, k)
				}
			}
		}
		f.ReleasePixels()
	}
	y := grey(200, 200, 4)
	for name, f := range map[string]*matchers.Features{
		"no colour option": NewExtractor(ExtractorOptions{Pixels: true}).ListingColour(y, grey(100, 100, 5), grey(100, 100, 6)),
		"no pixels option": NewExtractor(ExtractorOptions{Colour: true}).ListingColour(y, grey(100, 100, 5), grey(100, 100, 6)),
		"no cr":            ex.ListingColour(y, grey(100, 100, 5), nil),
	} {
		if f.Colour != nil {
			t.Errorf("%s: colour planes described", name)
		}
	}
}
