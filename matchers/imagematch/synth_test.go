package imagematch

// Deterministic synthetic images and the transformations a counterfeit
// listing applies to a brand's images, for the robustness measurements.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// parsedFonts are the Go fonts, parsed once per test binary.
var parsedFonts = sync.OnceValues(func() ([]*opentype.Font, error) {
	var out []*opentype.Font
	for _, ttf := range [][]byte{goregular.TTF, gobold.TTF, goitalic.TTF, gomedium.TTF, gomonobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
})

// newFace returns font i of the Go fonts at a size in pixels.
func newFace(i int, size float64) font.Face {
	fs, err := parsedFonts()
	if err != nil {
		return nil
	}
	face, err := opentype.NewFace(fs[i%len(fs)], &opentype.FaceOptions{Size: max(size, 1), DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil
	}
	return face
}

// drawText draws text at dot, or nothing if the font could not be had
// (TestSynthFonts fails then).
func drawText(dst *image.RGBA, face font.Face, c color.Color, dot fixed.Point26_6, text string) {
	if face == nil {
		return
	}
	defer face.Close()
	d := &font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face, Dot: dot}
	d.DrawString(text)
}

func TestSynthFonts(t *testing.T) {
	if _, err := parsedFonts(); err != nil {
		t.Fatal(err)
	}
}

var words = []string{
	"AURELIO", "Kestrel", "NOVA", "Brightwell", "ZEPHYRA", "Lumen&Co", "ORCA", "Valtério",
	"Maison Pell", "QUILL", "Thorne", "HALCYON", "Ibex", "Solenne", "MARROW", "Cobalt",
	"Pinion", "VESPERA", "Juniper", "OKAPI", "Rook & Bell", "SABLE", "Tamsin", "ULTRAMAR",
	"Wren", "XANTHE", "Yarrow", "ZINNIA", "Acre", "Birch", "CIRRUS", "Delft",
}

// synthKind is a kind of reference image.
type synthKind int

const (
	kindPhoto   synthKind = iota // a scene: gradient, shapes, a word
	kindLogo                     // a word mark on a plain light ground
	kindProduct                  // an object on a white studio background
)

func (k synthKind) String() string { return [...]string{"photo", "logo", "product"}[k] }

// synthImage draws image number seed of the given kind, w×h pixels.
func synthImage(kind synthKind, seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, uint64(kind)+0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	randColor := func(lo, hi int) color.RGBA {
		return color.RGBA{uint8(lo + rng.IntN(hi-lo)), uint8(lo + rng.IntN(hi-lo)), uint8(lo + rng.IntN(hi-lo)), 255}
	}
	switch kind {
	case kindPhoto:
		c0, c1 := randColor(0, 256), randColor(0, 256)
		ang := rng.Float64() * 2 * math.Pi
		fill(img, func(x, y float64) (color.RGBA, bool) {
			t := (math.Cos(ang)*(x-0.5)+math.Sin(ang)*(y-0.5))*0.9 + 0.5
			return lerp(c0, c1, t), true
		})
		for range 4 + rng.IntN(5) {
			drawShape(img, rng, randColor(0, 256))
		}
		drawWord(img, rng, words[rng.IntN(len(words))], randColor(0, 256), 0.08+rng.Float64()*0.1)
		addNoise(img, rng, 6)
	case kindLogo:
		// A word mark, maybe with an emblem, centred with clear space
		// around it as logo files have.
		bg := randColor(225, 256)
		fill(img, func(x, y float64) (color.RGBA, bool) { return bg, true })
		ink := randColor(0, 120)
		cx, cy := 0.45+rng.Float64()*0.1, 0.4+rng.Float64()*0.2
		size := 0.12 + rng.Float64()*0.12
		if rng.IntN(2) == 0 {
			drawEmblem(img, rng, randColor(0, 200), cx, max(cy-size*1.3, size+0.08), size)
		}
		// Word and typeface from the seed: 160 distinct word marks, so that
		// no two "unrelated" logos are the same mark.
		drawWordAt(img, int(seed%5), words[seed%uint64(len(words))], ink, size, cx, cy, 0.6)
	case kindProduct:
		fill(img, func(x, y float64) (color.RGBA, bool) { return color.RGBA{255, 255, 255, 255}, true })
		body := randColor(20, 230)
		cx, cy := 0.35+rng.Float64()*0.3, 0.35+rng.Float64()*0.3
		rx, ry := 0.15+rng.Float64()*0.2, 0.15+rng.Float64()*0.2
		fill(img, func(x, y float64) (color.RGBA, bool) {
			dx, dy := (x-cx)/rx, (y-cy)/ry
			// A rounded box (superellipse) with a vertical shading.
			if math.Pow(math.Abs(dx), 4)+math.Pow(math.Abs(dy), 4) > 1 {
				return color.RGBA{}, false
			}
			return lerp(body, color.RGBA{255, 255, 255, 255}, 0.35*(1-dy)/2), true
		})
		for range 2 + rng.IntN(3) {
			drawShape(img, rng, randColor(0, 256))
		}
		drawWord(img, rng, words[rng.IntN(len(words))], randColor(0, 256), 0.05+rng.Float64()*0.05)
		addNoise(img, rng, 2)
	}
	return img
}

func lerp(a, b color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1)
	mix := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

// fill paints every pixel for which f returns true; f sees coordinates
// normalized to [0, 1].
func fill(img *image.RGBA, f func(x, y float64) (color.RGBA, bool)) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c, ok := f((float64(x)+0.5)/float64(b.Dx()), (float64(y)+0.5)/float64(b.Dy())); ok {
				img.SetRGBA(x, y, c)
			}
		}
	}
}

// drawShape draws a random disc, ring, rectangle, triangle or stripe.
func drawShape(img *image.RGBA, rng *rand.Rand, c color.RGBA) {
	cx, cy := rng.Float64(), rng.Float64()
	r := 0.05 + rng.Float64()*0.25
	switch rng.IntN(5) {
	case 0:
		fill(img, func(x, y float64) (color.RGBA, bool) { return c, math.Hypot(x-cx, y-cy) < r })
	case 1:
		fill(img, func(x, y float64) (color.RGBA, bool) {
			d := math.Hypot(x-cx, y-cy)
			return c, d < r && d > r*0.7
		})
	case 2:
		w, h := r, 0.05+rng.Float64()*0.25
		fill(img, func(x, y float64) (color.RGBA, bool) { return c, math.Abs(x-cx) < w && math.Abs(y-cy) < h })
	case 3:
		a0 := rng.Float64() * 2 * math.Pi
		var px, py [3]float64
		for i := range 3 {
			a := a0 + float64(i)*2*math.Pi/3 + rng.Float64()*0.5
			px[i], py[i] = cx+r*math.Cos(a), cy+r*math.Sin(a)
		}
		fill(img, func(x, y float64) (color.RGBA, bool) {
			s := func(i, j int) float64 { return (px[j]-px[i])*(y-py[i]) - (py[j]-py[i])*(x-px[i]) }
			a, b, d := s(0, 1), s(1, 2), s(2, 0)
			return c, (a >= 0 && b >= 0 && d >= 0) || (a <= 0 && b <= 0 && d <= 0)
		})
	case 4:
		ang := rng.Float64() * math.Pi
		wd := 0.02 + rng.Float64()*0.06
		fill(img, func(x, y float64) (color.RGBA, bool) {
			return c, math.Abs(math.Cos(ang)*(x-cx)+math.Sin(ang)*(y-cy)) < wd
		})
	}
}

// drawEmblem draws a disc, ring or triangle of radius r centred at (cx, cy).
func drawEmblem(img *image.RGBA, rng *rand.Rand, c color.RGBA, cx, cy, r float64) {
	aspect := float64(img.Bounds().Dy()) / float64(img.Bounds().Dx())
	switch rng.IntN(3) {
	case 0:
		fill(img, func(x, y float64) (color.RGBA, bool) { return c, math.Hypot((x-cx)/aspect, y-cy) < r })
	case 1:
		fill(img, func(x, y float64) (color.RGBA, bool) {
			d := math.Hypot((x-cx)/aspect, y-cy)
			return c, d < r && d > r*0.6
		})
	default:
		fill(img, func(x, y float64) (color.RGBA, bool) {
			dy := (y - (cy - r)) / (2 * r)
			return c, dy >= 0 && dy <= 1 && math.Abs(x-cx)/aspect <= dy*r
		})
	}
}

// drawWordAt draws a word in Go font fi centred at (cx, cy), its height a
// share of the image's height, shrunk to at most maxWidth of the image's
// width.
func drawWordAt(img *image.RGBA, fi int, word string, c color.RGBA, size, cx, cy, maxWidth float64) {
	b := img.Bounds()
	px := size * float64(b.Dy())
	if face := newFace(fi, px); face != nil {
		adv := float64(font.MeasureString(face, word).Ceil())
		face.Close()
		if limit := maxWidth * float64(b.Dx()); adv > limit {
			px *= limit / adv
		}
	}
	face := newFace(fi, px)
	if face == nil {
		return
	}
	adv := font.MeasureString(face, word).Ceil()
	x := b.Min.X + int(cx*float64(b.Dx())) - adv/2
	y := b.Min.Y + int(cy*float64(b.Dy())+0.35*px)
	drawText(img, face, c, fixed.P(x, y), word)
}

// drawWord draws a word with one of the Go fonts, its height a share of
// the image's height, at a random place that keeps it mostly inside.
func drawWord(img *image.RGBA, rng *rand.Rand, word string, c color.RGBA, size float64) {
	b := img.Bounds()
	face := newFace(rng.IntN(5), size*float64(b.Dy()))
	adv := 0
	if face != nil {
		adv = font.MeasureString(face, word).Ceil()
	}
	x := b.Min.X + rng.IntN(max(1, b.Dx()-adv))
	if adv > b.Dx() {
		x = b.Min.X
	}
	y := b.Min.Y + int(size*float64(b.Dy())) + rng.IntN(max(1, b.Dy()-int(1.3*size*float64(b.Dy()))))
	drawText(img, face, c, fixed.P(x, y), word)
}

// addNoise adds deterministic pixel noise of the given amplitude, the grain
// of a real photo.
func addNoise(img *image.RGBA, rng *rand.Rand, amp float64) {
	for i := 0; i < len(img.Pix); i += 4 {
		n := rng.NormFloat64() * amp
		for k := range 3 {
			img.Pix[i+k] = clamp8(float64(img.Pix[i+k]) + n)
		}
	}
}

func clamp8(v float64) uint8 { return uint8(min(max(v+0.5, 0), 255)) }

// A transform is what a listing does to a brand's image. apply returns the
// listing's image and the JPEG quality it is published with. Copies must
// match their original, except for the kinds in measureOnly, whose results
// are only reported (see TestHashRobustness).
type transform struct {
	name        string
	apply       func(img *image.RGBA) (image.Image, int)
	measureOnly []synthKind
}

func resized(img image.Image, scale float64) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, int(float64(b.Dx())*scale+0.5), int(float64(b.Dy())*scale+0.5)))
	draw.CatmullRom.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

// cropped removes shares of the image from the left, top, right and bottom.
func cropped(img *image.RGBA, l, t, r, bt float64) *image.RGBA {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	sub := image.Rect(b.Min.X+int(l*w), b.Min.Y+int(t*h), b.Max.X-int(r*w), b.Max.Y-int(bt*h))
	out := image.NewRGBA(image.Rect(0, 0, sub.Dx(), sub.Dy()))
	draw.Draw(out, out.Bounds(), img, sub.Min, draw.Src)
	return out
}

// padded puts the image on a canvas with borders of the given shares of
// its size on the left/right and top/bottom.
func padded(img *image.RGBA, sx, sy float64, c color.Color) *image.RGBA {
	b := img.Bounds()
	px, py := int(sx*float64(b.Dx())), int(sy*float64(b.Dy()))
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*px, b.Dy()+2*py))
	draw.Draw(out, out.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	draw.Draw(out, b.Add(image.Pt(px, py)), img, b.Min, draw.Src)
	return out
}

func mirrored(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetRGBA(b.Max.X-1-(x-b.Min.X), y, img.RGBAAt(x, y))
		}
	}
	return out
}

// bannered overlays a translucent dark band with white sales text over the
// bottom of the image, the usual "SALE" overlay of a listing.
func bannered(img *image.RGBA, text string) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	b := out.Bounds()
	band := image.Rect(b.Min.X, b.Max.Y-b.Dy()*18/100, b.Max.X, b.Max.Y-b.Dy()*4/100)
	draw.Draw(out, band, image.NewUniform(color.RGBA{0, 0, 0, 150}), image.Point{}, draw.Over)
	drawText(out, newFace(1, float64(band.Dy())*0.7), color.White, fixed.P(band.Min.X+b.Dx()/20, band.Max.Y-band.Dy()/4), text)
	return out
}

// watermarked draws a large translucent word across the middle.
func watermarked(img *image.RGBA, text string) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	b := out.Bounds()
	drawText(out, newFace(1, float64(b.Dy())*0.12), color.RGBA{128, 128, 128, 128}, fixed.P(b.Min.X+b.Dx()/10, b.Min.Y+b.Dy()/2), text)
	return out
}

// recoloured applies f to every pixel's RGB.
func recoloured(img *image.RGBA, f func(r, g, b float64) (float64, float64, float64)) *image.RGBA {
	out := image.NewRGBA(img.Bounds())
	for i := 0; i < len(img.Pix); i += 4 {
		r, g, b := f(float64(img.Pix[i]), float64(img.Pix[i+1]), float64(img.Pix[i+2]))
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = clamp8(r), clamp8(g), clamp8(b), 255
	}
	return out
}

// hueRotate rotates hue by deg degrees around the grey axis (the usual
// luminance-preserving matrix of CSS's hue-rotate filter).
func hueRotate(deg float64) func(r, g, b float64) (float64, float64, float64) {
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	m := [9]float64{
		0.213 + c*0.787 - s*0.213, 0.715 - c*0.715 - s*0.715, 0.072 - c*0.072 + s*0.928,
		0.213 - c*0.213 + s*0.143, 0.715 + c*0.285 + s*0.140, 0.072 - c*0.072 - s*0.283,
		0.213 - c*0.213 - s*0.787, 0.715 - c*0.715 + s*0.715, 0.072 + c*0.928 + s*0.072,
	}
	return func(r, g, b float64) (float64, float64, float64) {
		return m[0]*r + m[1]*g + m[2]*b, m[3]*r + m[4]*g + m[5]*b, m[6]*r + m[7]*g + m[8]*b
	}
}

var listingTransforms = []transform{
	{"reencode_q85", func(m *image.RGBA) (image.Image, int) { return m, 85 }, nil},
	{"resize_50", func(m *image.RGBA) (image.Image, int) { return resized(m, 0.5), 85 }, nil},
	{"resize_200", func(m *image.RGBA) (image.Image, int) { return resized(m, 2), 85 }, nil},
	{"jpeg_q30", func(m *image.RGBA) (image.Image, int) { return m, 30 }, nil},
	{"crop_5_each_side", func(m *image.RGBA) (image.Image, int) { return cropped(m, .05, .05, .05, .05), 85 }, nil},
	{"crop_10_left", func(m *image.RGBA) (image.Image, int) { return cropped(m, .10, 0, 0, 0), 85 }, nil},
	{"crop_10_bottom", func(m *image.RGBA) (image.Image, int) { return cropped(m, 0, 0, 0, .10), 85 }, nil},
	{"crop_10_top_left", func(m *image.RGBA) (image.Image, int) { return cropped(m, .10, .10, 0, 0), 85 }, nil},
	{"crop_10_each_side", func(m *image.RGBA) (image.Image, int) { return cropped(m, .10, .10, .10, .10), 85 }, nil},
	{"pad_25_white", func(m *image.RGBA) (image.Image, int) { return padded(m, .25, .25, color.White), 85 }, nil},
	{"pad_25_black", func(m *image.RGBA) (image.Image, int) { return padded(m, .25, .25, color.Black), 85 }, nil},
	{"letterbox_grey", func(m *image.RGBA) (image.Image, int) {
		return padded(m, 0, .2, color.RGBA{90, 90, 90, 255}), 85
	}, nil},
	{"mirror", func(m *image.RGBA) (image.Image, int) { return mirrored(m), 85 }, nil},
	{"banner_text", func(m *image.RGBA) (image.Image, int) { return bannered(m, "SALE -70% FREE SHIPPING"), 85 }, nil},
	// A watermark across a logo on a plain canvas is as large as the logo
	// itself and widens the content box; measured, not required.
	{"watermark_text", func(m *image.RGBA) (image.Image, int) { return watermarked(m, "cheapdeals.example"), 85 }, []synthKind{kindLogo}},
	{"hue_30", func(m *image.RGBA) (image.Image, int) { return recoloured(m, hueRotate(30)), 85 }, nil},
	{"brightness_+15", func(m *image.RGBA) (image.Image, int) {
		return recoloured(m, func(r, g, b float64) (float64, float64, float64) { return r*1.15 + 10, g*1.15 + 10, b*1.15 + 10 }), 85
	}, nil},
	// Three transformations at once; thin word marks shrunk to 70% and
	// re-encoded at quality 30 lose their edges. Measured, not required
	// for logos.
	{"combo_mirror_pad_q30", func(m *image.RGBA) (image.Image, int) {
		return padded(mirrored(resized(m, 0.7)), .15, .1, color.White), 30
	}, []synthKind{kindLogo}},
}

func encodeJPEG(tb testing.TB, img image.Image, q int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// synthRef is one generated reference image with its encoded form: logos
// as PNG, photos as JPEG at quality 92, as brands publish them.
type synthRef struct {
	name string
	kind synthKind
	img  *image.RGBA
	data []byte
}

// synthRefs generates n reference images per kind with a mix of sizes and
// aspect ratios.
func synthRefs(tb testing.TB, n int) []synthRef {
	tb.Helper()
	sizes := [][2]int{{600, 600}, {640, 480}, {480, 600}, {720, 540}}
	var out []synthRef
	for _, kind := range []synthKind{kindPhoto, kindLogo, kindProduct} {
		for i := range n {
			sz := sizes[i%len(sizes)]
			img := synthImage(kind, uint64(i), sz[0], sz[1])
			r := synthRef{name: fmt.Sprintf("%s%02d", kind, i), kind: kind, img: img}
			if kind == kindLogo {
				r.data = encodePNG(tb, img)
			} else {
				r.data = encodeJPEG(tb, img, 92)
			}
			out = append(out, r)
		}
	}
	return out
}
