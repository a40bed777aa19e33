package imagematch

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
)

// transparentLogo draws logo number seed as brands publish logos for any
// background: the mark in ink (and its emblem in emblem, when it has one)
// on a fully transparent canvas, anti-aliased edges partly transparent.
func transparentLogo(seed uint64, w, h int, ink, emblem color.RGBA) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x7a11))
	img := image.NewRGBA(image.Rect(0, 0, w, h)) // transparent black
	cx, cy := 0.45+rng.Float64()*0.1, 0.45+rng.Float64()*0.1
	size := 0.16 + rng.Float64()*0.08
	if seed%2 == 0 {
		drawEmblem(img, rng, emblem, cx, max(cy-size*1.3, size+0.08), size)
	}
	drawWordAt(img, int(seed%5), words[(seed*7)%uint64(len(words))], ink, size, cx, cy, 0.7)
	return img
}

// groundKind is what a listing photo shows a logo on.
type groundKind struct {
	name string
	draw func(img *image.RGBA)
}

func uniformGround(name string, c color.RGBA) groundKind {
	return groundKind{name, func(img *image.RGBA) { draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src) }}
}

// gradientGround shades from a to b top to bottom, as a studio backdrop.
func gradientGround(name string, a, b color.RGBA) groundKind {
	return groundKind{name, func(img *image.RGBA) {
		fill(img, func(_, y float64) (color.RGBA, bool) { return lerp(a, b, y), true })
	}}
}

// grounds are the backgrounds of the generated listing photos: light,
// dark, saturated, shaded and grainy.
var grounds = []groundKind{
	uniformGround("white", color.RGBA{255, 255, 255, 255}),
	uniformGround("black", color.RGBA{0, 0, 0, 255}),
	uniformGround("mid_grey", color.RGBA{128, 128, 128, 255}),
	uniformGround("red", color.RGBA{200, 30, 30, 255}),
	uniformGround("navy", color.RGBA{20, 30, 90, 255}),
	uniformGround("yellow", color.RGBA{245, 215, 40, 255}),
	gradientGround("dark_gradient", color.RGBA{10, 10, 40, 255}, color.RGBA{60, 40, 80, 255}),
	gradientGround("light_gradient", color.RGBA{250, 245, 235, 255}, color.RGBA{200, 205, 215, 255}),
	{"grainy_green", func(img *image.RGBA) {
		draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{40, 110, 60, 255}), image.Point{}, draw.Src)
		addNoise(img, rand.New(rand.NewPCG(5, 5)), 3)
	}},
}

// lumaRGBA is the BT.601 brightness of an opaque colour.
func lumaRGBA(c color.RGBA) float64 {
	return lumR*float64(c.R) + lumG*float64(c.G) + lumB*float64(c.B)
}

// listingPhoto shows logo on ground, scaled to a share of an 800×600
// photo at an offset, as a listing would, re-encoded as JPEG.
func listingPhoto(t *testing.T, logo image.Image, ground groundKind, share float64, dx, dy int) []byte {
	t.Helper()
	photo := image.NewRGBA(image.Rect(0, 0, 800, 600))
	ground.draw(photo)
	lb := logo.Bounds()
	w := int(share * 800)
	h := w * lb.Dy() / lb.Dx()
	x0, y0 := (800-w)/2+dx, (600-h)/2+dy
	draw.CatmullRom.Scale(photo, image.Rect(x0, y0, x0+w, y0+h), logo, lb, draw.Over, nil)
	return encodeJPEG(t, photo, 85)
}

// TestTransparentLogos: a logo with transparency matches a listing photo
// that shows it on any background it stands out from, whatever the logo's
// colour: white-on-transparent (blank on white, made for dark grounds),
// black-on-transparent, one-colour and two-colour logos. Unrelated logos
// on the same grounds stay out of the match distance.
func TestTransparentLogos(t *testing.T) {
	white := color.RGBA{255, 255, 255, 255}
	black := color.RGBA{0, 0, 0, 255}
	red := color.RGBA{210, 25, 35, 255}
	teal := color.RGBA{0, 150, 140, 255}
	orange := color.RGBA{250, 140, 0, 255}
	logos := []struct {
		name        string
		ink, emblem color.RGBA
	}{
		{"white_on_transparent", white, white},
		{"black_on_transparent", black, black},
		{"red_on_transparent", red, red},
		{"teal_and_orange_on_transparent", teal, orange},
	}
	h := NewHasher(Limits{})
	ctx := context.Background()
	for li, lg := range logos {
		t.Run(lg.name, func(t *testing.T) {
			for _, seed := range []uint64{uint64(11 + 2*li), uint64(12 + 2*li)} {
				logo := transparentLogo(seed, 600, 400, lg.ink, lg.emblem)
				ref, err := h.HashReference(ctx, encodePNG(t, logo))
				if err != nil {
					t.Fatalf("seed %d: HashReference: %v", seed, err)
				}
				other := transparentLogo(seed+100, 600, 400, lg.ink, lg.emblem)
				for gi, g := range grounds {
					bg := image.NewRGBA(image.Rect(0, 0, 1, 1))
					g.draw(bg)
					// A logo one cannot see cannot be matched: skip grounds
					// of (nearly) the logo's own brightness.
					if math.Abs(lumaRGBA(bg.RGBAAt(0, 0))-lumaRGBA(lg.ink)) < 60 {
						continue
					}
					share, dx, dy := 0.5+0.1*float64(gi%4), 10*(gi%3)-10, 8*(gi%2)
					got, err := h.HashListingImage(ctx, listingPhoto(t, logo, g, share, dx, dy))
					if err != nil {
						t.Fatalf("seed %d on %s: HashListingImage: %v", seed, g.name, err)
					}
					d := minDistance(got, ref)
					if d > DefaultMaxDistance {
						t.Errorf("seed %d on %s: distance %d to its reference, want ≤ %d", seed, g.name, d, DefaultMaxDistance)
					}
					notMine, err := h.HashListingImage(ctx, listingPhoto(t, other, g, share, dx, dy))
					if err != nil {
						t.Fatalf("other logo on %s: %v", g.name, err)
					}
					if d := minDistance(notMine, ref); d <= DefaultMaxDistance {
						t.Errorf("seed %d on %s: an unrelated logo lies at distance %d, within the match distance", seed, g.name, d)
					}
					t.Logf("seed %d on %-15s distance %2d", seed, g.name, d)
				}
			}
		})
	}
}

// TestTransparencyBothBlank: a transparent image with nothing visible on
// either ground is still featureless.
func TestTransparencyBothBlank(t *testing.T) {
	empty := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	half := image.NewNRGBA(image.Rect(0, 0, 300, 200))
	for i := 3; i < len(half.Pix); i += 4 {
		half.Pix[i-1], half.Pix[i] = 128, 128 // one uniform translucent grey
	}
	for name, img := range map[string]image.Image{"fully transparent": empty, "uniform translucent": half} {
		if _, err := NewHasher(Limits{}).HashReference(context.Background(), encodePNG(t, img)); !errors.Is(err, ErrFeatureless) {
			t.Errorf("%s: err = %v, want ErrFeatureless", name, err)
		}
	}
}

// TestInterleave: the hashes of two grounds are merged in turn, without
// duplicates, up to the cap.
func TestInterleave(t *testing.T) {
	got := interleave([][]uint64{{1, 2, 3, 4}, {9, 2, 8}}, 5)
	if want := []uint64{1, 9, 2, 3, 8}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("interleave = %v, want %v", got, want)
	}
	if got := interleave([][]uint64{{1, 2, 3}}, 2); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("one list = %v", got)
	}
}
