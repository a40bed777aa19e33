package matchers

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestFeaturesRoundTrip(t *testing.T) {
	f := &Features{W: 300, H: 200, Points: []Keypoint{{X: 10.25, Y: 199.5, Angle: -1, Scale: 1.69}, {X: 0, Y: 0, Angle: 3, Scale: 1}},
		Desc: []Descriptor{{1, 2, 3, math.MaxUint64}, {0, 0, 0, 1 << 63}}}
	s, err := EncodeFeatures(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeFeatures(s)
	if err != nil {
		t.Fatal(err)
	}
	if g.W != 300 || g.H != 200 || len(g.Points) != 2 || g.Desc[0] != f.Desc[0] || g.Desc[1] != f.Desc[1] {
		t.Fatalf("round trip: %+v", g)
	}
	p := g.Points[0]
	if p.X != 10.25 || p.Y != 199.5 || math.Abs(float64(p.Scale)-1.69) > 1.0/32 ||
		math.Abs(float64(p.Angle)-(2*math.Pi-1)) > 2*math.Pi/256 {
		t.Errorf("keypoint 0 decoded as %+v", p)
	}
}

func TestDecodeFeaturesRejects(t *testing.T) {
	good, err := EncodeFeatures(&Features{W: 10, H: 10, Points: []Keypoint{{X: 1, Y: 1, Scale: 1}}, Desc: []Descriptor{{}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"empty":      "",
		"not base64": "!!!!",
		"truncated":  good[:len(good)-4],
		"too long":   strings.Repeat("A", 30_000),
		"no magic":   "AAAAAAAAAAAA",
	} {
		if _, err := DecodeFeatures(s); !errors.Is(err, ErrFeatures) {
			t.Errorf("%s: %v, want ErrFeatures", name, err)
		}
	}
}

// FuzzDecodeFeatures: features come from the marks topic, untrusted. The
// decoder must never panic, and what it accepts lies inside its image and
// re-encodes to itself.
func FuzzDecodeFeatures(f *testing.F) {
	good, _ := EncodeFeatures(&Features{W: 10, H: 10, Points: []Keypoint{{X: 1, Y: 1, Scale: 1}}, Desc: []Descriptor{{7}}})
	f.Add(good)
	f.Add("LF1")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := DecodeFeatures(s)
		if err != nil {
			if !errors.Is(err, ErrFeatures) {
				t.Fatalf("error %v does not wrap ErrFeatures", err)
			}
			return
		}
		for _, p := range g.Points {
			if p.X < 0 || p.Y < 0 || p.X >= float32(g.W) || p.Y >= float32(g.H) || p.Scale <= 0 {
				t.Fatalf("keypoint %+v outside %d×%d", p, g.W, g.H)
			}
		}
		again, err := EncodeFeatures(g)
		if err != nil || again != s {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}

// countingPixels counts its releases.
type countingPixels struct{ released int }

func (c *countingPixels) DescribeMapped(x, y float64, m [4]float64, angle float64) (Descriptor, bool) {
	return Descriptor{}, false
}
func (c *countingPixels) Release() { c.released++ }

// TestReleasePixels: each image's pixels, and its colour planes', are
// released once and dropped from its features; images without features
// or pixels are left alone.
func TestReleasePixels(t *testing.T) {
	a, b, cb, cr := &countingPixels{}, &countingPixels{}, &countingPixels{}, &countingPixels{}
	// The colour planes' pixels go with their image's.
	colour := []*Features{{Pixels: cb}, nil, {Pixels: cr}}
	imgs := []ListingImage{{Features: &Features{Pixels: a}}, {}, {Features: &Features{}}, {Features: &Features{Pixels: b, Colour: colour}}}
	ReleasePixels(imgs)
	ReleasePixels(imgs)
	if a.released != 1 || b.released != 1 || cb.released != 1 || cr.released != 1 {
		t.Errorf("released %d, %d, %d and %d times, want once each", a.released, b.released, cb.released, cr.released)
	}
	for i, im := range imgs {
		if im.Features != nil && im.Features.Pixels != nil {
			t.Errorf("image %d keeps its pixels", i)
		}
	}
	if colour[0].Pixels != nil || colour[2].Pixels != nil {
		t.Error("a colour plane keeps its pixels")
	}
	ReleasePixels(nil)
}

// TestEncodeFeaturesWithoutPixels: pixels are in memory only; the
// encoding is the same with them.
func TestEncodeFeaturesWithoutPixels(t *testing.T) {
	f := &Features{W: 10, H: 10, Points: []Keypoint{{X: 1, Y: 2, Angle: 0.5, Scale: 1}}, Desc: []Descriptor{{1, 2, 3, 4}}}
	plain, err := EncodeFeatures(f)
	if err != nil {
		t.Fatal(err)
	}
	f.Pixels = &countingPixels{}
	with, err := EncodeFeatures(f)
	if err != nil {
		t.Fatal(err)
	}
	if with != plain {
		t.Error("pixels changed the encoding")
	}
	d, err := DecodeFeatures(with)
	if err != nil || d.Pixels != nil {
		t.Errorf("decoded %+v, %v: want no pixels", d, err)
	}
}
