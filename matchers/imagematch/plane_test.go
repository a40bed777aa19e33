package imagematch

import (
	"image"
	"image/color"
	"math"
	"testing"

	"golang.org/x/image/draw"
)

// planeOf converts img to a working plane, as a full decode does.
func planeOf(img image.Image) *plane { return planeFromImage(img, white) }

func near(a, b rect, tol float64) bool {
	return math.Abs(a.x0-b.x0) <= tol && math.Abs(a.y0-b.y0) <= tol &&
		math.Abs(a.x1-b.x1) <= tol && math.Abs(a.y1-b.y1) <= tol
}

func TestTrim(t *testing.T) {
	photo := synthImage(kindPhoto, 11, 400, 300)
	canvas := func(w, h int, c color.Color) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return m
	}
	framed := canvas(600, 500, color.Black) // black frame, white mat, photo
	draw.Draw(framed, image.Rect(50, 50, 550, 450), image.White, image.Point{}, draw.Src)
	draw.Draw(framed, image.Rect(100, 100, 500, 400), photo, image.Point{}, draw.Src)
	small := canvas(1000, 1000, color.RGBA{240, 235, 230, 255}) // a small mark on a big canvas
	draw.Draw(small, image.Rect(450, 480, 560, 510), image.NewUniform(color.RGBA{30, 30, 90, 255}), image.Point{}, draw.Src)
	tests := []struct {
		name string
		img  image.Image
		want rect
	}{
		{"no_border", photo, fullRect},
		{"padded_white", padded(photo, 0.25, 0.25, color.White), rect{0.5 / 3, 0.5 / 3, 2.5 / 3, 2.5 / 3}},
		{"letterbox_black", padded(photo, 0, 0.2, color.Black), rect{0, 0.2 / 1.4, 1, 1.2 / 1.4}},
		{"frame_in_frame", framed, rect{100.0 / 600, 100.0 / 500, 500.0 / 600, 400.0 / 500}},
		{"small_mark", small, rect{0.45, 0.48, 0.56, 0.51}},
		{"uniform", canvas(300, 300, color.Gray{77}), fullRect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := planeOf(tc.img)
			got := p.trim()
			// Within a cell or two of the working plane.
			if !near(got, tc.want, 2.5/float64(min(p.w, p.h))) {
				t.Errorf("trim = %.4f, want %.4f", got, tc.want)
			}
		})
	}
}

func TestTrimWithinIgnoresOutside(t *testing.T) {
	// A banner at the bottom of a padded photo: trimming the top 80% finds
	// the photo's box as if the banner were not there.
	photo := synthImage(kindPhoto, 12, 400, 400)
	img := padded(photo, 0.25, 0.25, color.White)
	b := img.Bounds()
	// A dark band with light lettering across the whole width.
	band := image.Rect(0, b.Dy()*85/100, b.Dx(), b.Dy()*95/100)
	draw.Draw(img, band, image.Black, image.Point{}, draw.Src)
	for x := 10; x+20 < b.Dx(); x += 40 {
		draw.Draw(img, image.Rect(x, band.Min.Y+10, x+20, band.Max.Y-10), image.White, image.Point{}, draw.Src)
	}
	p := planeOf(img)
	got := p.trimWithin(rect{0, 0, 1, 0.8})
	want := rect{1.0 / 6, 1.0 / 6, 5.0 / 6, 0.8}
	if !near(got, want, 2.5/float64(p.w)) {
		t.Errorf("trimWithin = %.4f, want %.4f", got, want)
	}
	if whole := p.trim(); whole.y1 < 0.9 {
		t.Errorf("trim of the whole image = %.4f; the banner should keep the bottom", whole)
	}
}

func TestResampleKeepsMeans(t *testing.T) {
	// A 2×2 checker of 8×8-pixel squares: area averaging to one cell per
	// square is exact, to one cell in all is the mean, and a region clipped
	// to one square with a background fills the rest.
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			if (x/8+y/8)%2 == 0 {
				img.Pix[y*16+x] = 200
			}
		}
	}
	p := planeOf(img)
	tests := []struct {
		name string
		g    region
		w, h int
		want []float32
	}{
		{"exact", crop(fullRect), 2, 2, []float32{200, 0, 0, 200}},
		{"mean", crop(fullRect), 1, 1, []float32{100}},
		{"upsample_constant", crop(rect{0, 0, 0.5, 0.5}), 3, 3, []float32{200, 200, 200, 200, 200, 200, 200, 200, 200}},
		{"half_cells", crop(rect{0.25, 0, 0.75, 0.5}), 2, 1, []float32{200, 0}},
		{"clip_with_background", region{r: rect{0, 0, 1, 0.5}, clip: rect{0, 0, 0.5, 0.5}, bg: 50}, 2, 1, []float32{200, 50}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]float32, tc.w*tc.h)
			p.sample(tc.g, tc.w, tc.h, got)
			for i := range got {
				if math.Abs(float64(got[i]-tc.want[i])) > 1e-3 {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestContentRegionAspect(t *testing.T) {
	p := &plane{w: 100, h: 100, pix: make([]float32, 100*100), imgW: 1000, imgH: 500}
	// A box 600×60 pixels: widened to 600×300 around its centre.
	g := p.content(rect{0.2, 0.4, 0.8, 0.52})
	if h := (g.r.y1 - g.r.y0) * 500; math.Abs(h-300) > 1e-9 || math.Abs((g.r.y0+g.r.y1)/2-0.46) > 1e-9 {
		t.Errorf("region %.4f: height %v px, want 300 around 0.46", g.r, h)
	}
	if g.clip != (rect{0.2, 0.4, 0.8, 0.52}) {
		t.Errorf("clip %.4f, want the box", g.clip)
	}
	// A square box is left alone.
	if g := p.content(rect{0.1, 0.1, 0.3, 0.5}); g.r != g.clip {
		t.Errorf("square box widened to %.4f", g.r)
	}
}
