package logo

import (
	"image"
	"math"
	"testing"
)

// TestListingEnlargedLevel: a listing image's pyramid starts with the
// image enlarged 1.3 times (keypoint scale 1/1.3), whose keypoints are
// placed in the image's own pixel coordinates, and NoUpsample leaves that
// level out.
func TestListingEnlargedLevel(t *testing.T) {
	// Small dark squares on a light ground: corners at known places, a
	// few pixels apart, as the letters of a small logo's name.
	g := image.NewGray(image.Rect(0, 0, 400, 300))
	for i := range g.Pix {
		g.Pix[i] = 220
	}
	var corners [][2]float64
	for y := 60; y < 240; y += 30 {
		for x := 60; x < 340; x += 30 {
			for dy := range 8 {
				for dx := range 8 {
					g.Pix[(y+dy)*g.Stride+x+dx] = 30
				}
			}
			corners = append(corners, [2]float64{float64(x), float64(y)}, [2]float64{float64(x + 8), float64(y)},
				[2]float64{float64(x), float64(y + 8)}, [2]float64{float64(x + 8), float64(y + 8)})
		}
	}
	near := func(x, y float32) bool {
		for _, c := range corners {
			if math.Hypot(float64(x)-c[0], float64(y)-c[1]) <= 3 {
				return true
			}
		}
		return false
	}
	for name, c := range map[string]struct {
		o        ExtractorOptions
		enlarged bool
	}{
		"default":    {ExtractorOptions{}, true},
		"NoUpsample": {ExtractorOptions{NoUpsample: true}, false},
	} {
		f := NewExtractor(c.o).Listing(g)
		if f.W != 400 || f.H != 300 {
			t.Errorf("%s: features of a %d×%d image, want 400×300", name, f.W, f.H)
		}
		n, placed := 0, 0
		for _, p := range f.Points {
			if p.Scale < 1 {
				n++
				if math.Abs(float64(p.Scale)-1/scaleStep) > 1e-3 {
					t.Errorf("%s: enlarged keypoint at scale %g, want %g", name, p.Scale, 1/scaleStep)
				}
				if near(p.X, p.Y) {
					placed++
				}
			}
		}
		switch {
		case c.enlarged && (n == 0 || placed < n*9/10):
			t.Errorf("%s: %d keypoints at the enlarged level, %d of them at a square's corner", name, n, placed)
		case !c.enlarged && n > 0:
			t.Errorf("%s: %d keypoints at an enlarged level", name, n)
		}
	}
}
