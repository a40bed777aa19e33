package logo

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// TestFeaturesMatchReference holds the fast feature extraction to the
// straightforward one it replaced (orb_ref_test.go): the same keypoints,
// in the same order, and the same descriptors, bit for bit, on sellers'
// photos, logos (padded levels), noise and odd sizes. The curve's cached
// sets and every figure measured before stay valid only so.
func TestFeaturesMatchReference(t *testing.T) {
	logos := inventLogos(t, 31, 4)
	var imgs []*image.Gray
	for i := range 3 {
		r := rand.New(rand.NewPCG(32, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		imgs = append(imgs, lumaOf(t, encodeJPEG(t, img, 40)))
	}
	r := rand.New(rand.NewPCG(33, 0))
	for _, wh := range [][2]int{{97, 61}, {64, 64}, {300, 41}, {57, 233}, {40, 40}, {23, 30}} {
		g := image.NewGray(image.Rect(0, 0, wh[0], wh[1]))
		for i := range g.Pix {
			g.Pix[i] = uint8(r.IntN(256))
		}
		imgs = append(imgs, g)
	}
	for _, img := range logos.imgs {
		imgs = append(imgs, toGray(img))
	}
	same := func(t *testing.T, got, want *matchers.Features) {
		t.Helper()
		if got.W != want.W || got.H != want.H || len(got.Points) != len(want.Points) || len(got.Desc) != len(want.Desc) {
			t.Fatalf("%dx%d with %d points, %d descriptors; want %dx%d, %d, %d", got.W, got.H, len(got.Points), len(got.Desc), want.W, want.H, len(want.Points), len(want.Desc))
		}
		for i := range want.Points {
			if got.Points[i] != want.Points[i] || got.Desc[i] != want.Desc[i] {
				t.Fatalf("keypoint %d: %+v %x, want %+v %x", i, got.Points[i], got.Desc[i], want.Points[i], want.Desc[i])
			}
		}
	}
	listing := func(k int) float64 { return math.Pow(scaleStep, -float64(k)) }
	logo := func(k int) float64 { return math.Pow(scaleStep, -0.5*float64(k)) }
	for i, img := range imgs {
		g := fromImage(img)
		for _, th := range []int{12, 5, 30} {
			same(t, extract(g, 4, 1200, th, listing, 1, false), extractRef(g, 4, 1200, th, listing, 1, false))
			same(t, extract(g, 8, 256, th, logo, 0.5, true), extractRef(g, 8, 256, th, logo, 0.5, true))
			// Every corner, not only those kept: FAST and its suppression.
			sc := make([]int32, g.w*g.h)
			got, want := fastInto(g, th, sc, nil), fastRef(g, th, make([]int32, g.w*g.h))
			if len(got) != len(want) {
				t.Fatalf("image %d threshold %d: %d corners, want %d", i, th, len(got), len(want))
			}
			for j := range want {
				if got[j].x != want[j].x || got[j].y != want[j].y || got[j].score != want[j].score {
					t.Fatalf("image %d threshold %d: corner %d %+v, want %+v", i, th, j, got[j], want[j])
				}
			}
			for j, v := range sc {
				if v != 0 {
					t.Fatalf("image %d: score scratch left dirty at %d", i, j)
				}
			}
		}
	}
	// The Extractor as the matcher uses it, through its pooled buffers,
	// twice (a dirty buffer would show).
	// With the enlarged first level (the default) the reference runs on
	// the same enlarged copy, one level more, at a unit of 1/1.3.
	ex := NewExtractor(ExtractorOptions{})
	flat := NewExtractor(ExtractorOptions{NoUpsample: true})
	for range 2 {
		for _, img := range imgs[:3] {
			same(t, flat.Listing(img), extractRef(fromImage(img), 4, 1200, 12, listing, 1, false))
			g := fromImage(img)
			up := resize(g, int(math.Round(float64(g.w)*scaleStep)), int(math.Round(float64(g.h)*scaleStep)))
			want := extractRef(up, 5, 1200, 12, listing, 1/scaleStep, false)
			want.W, want.H = img.Bounds().Dx(), img.Bounds().Dy()
			same(t, ex.Listing(img), want)
		}
	}
}

// TestEnlargeMatchesReference holds resize's enlarging branch (the
// enlarged first level of every listing image, small logos) to the
// per-pixel bilinear interpolation it replaced, bit for bit, on photos
// and noise, at the listing's 1.3 and at other factors, odd sizes and
// one-pixel sides included.
func TestEnlargeMatchesReference(t *testing.T) {
	logos := inventLogos(t, 34, 2)
	var gs []gray
	for i := range 2 {
		r := rand.New(rand.NewPCG(35, uint64(i)))
		img, _ := generate.LogoScene(r, logos.imgs[i], generate.SceneOptions{})
		gs = append(gs, fromImage(lumaOf(t, encodeJPEG(t, img, 40))))
	}
	r := rand.New(rand.NewPCG(36, 0))
	for _, wh := range [][2]int{{97, 61}, {1, 1}, {1, 7}, {9, 1}, {2, 2}, {40, 40}, {23, 30}} {
		g := gray{wh[0], wh[1], make([]uint8, wh[0]*wh[1])}
		for i := range g.pix {
			g.pix[i] = uint8(r.IntN(256))
		}
		gs = append(gs, g)
	}
	for i, g := range gs {
		for _, k := range [][2]float64{{scaleStep, scaleStep}, {1, 1}, {1.07, 2.5}, {3.3, 1.01}, {1.5, 1.5}} {
			w, h := int(math.Round(float64(g.w)*k[0])), int(math.Round(float64(g.h)*k[1]))
			got, want := resize(g, w, h), resizeEnlargeRef(g, w, h)
			if got.w != want.w || got.h != want.h {
				t.Fatalf("image %d ×%v: %dx%d, want %dx%d", i, k, got.w, got.h, want.w, want.h)
			}
			for j := range want.pix {
				if got.pix[j] != want.pix[j] {
					t.Fatalf("image %d ×%v: pixel %d is %d, want %d", i, k, j, got.pix[j], want.pix[j])
				}
			}
		}
	}
}

// TestFastRowLanes holds fastRow's 8-pixel lanes to the test one pixel
// at a time: the same candidates, no more (FAST would drop the extra
// ones itself, so TestFeaturesMatchReference could not tell), on noise
// and on near-flat rows where the differences sit at ±t.
func TestFastRowLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(37, 0))
	for n := range 200 {
		w := 2*border + 1 + r.IntN(90)
		row, up, dn := make([]uint8, w), make([]uint8, w), make([]uint8, w)
		base := r.IntN(256)
		for i := range w {
			if n%2 == 0 {
				row[i], up[i], dn[i] = uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256))
				continue
			}
			near := func() uint8 { return uint8(min(max(base+r.IntN(31)-15, 0), 255)) }
			row[i], up[i], dn[i] = near(), near(), near()
		}
		for _, th := range []int{0, 1, 5, 12, 30, 255, 300} {
			var want []int32
			for x := border; x < w-border; x++ {
				p := int(row[x])
				if abs(int(up[x])-p) > th || abs(int(dn[x])-p) > th {
					want = append(want, int32(x))
				}
			}
			got := fastRow(row, up, dn, th, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("row %d threshold %d: %v, want %v", n, th, got, want)
			}
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestBoxSums holds boxSums to the 5×5 sums counted pixel by pixel, at
// every pixel at least 2 from the edges, with scratch left dirty by
// earlier levels (the pool's): garbage there must not reach a sum
// through the lanes of the columns' pass.
func TestBoxSums(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 0))
	for _, wh := range [][2]int{{5, 5}, {6, 9}, {7, 5}, {33, 17}, {64, 64}, {97, 61}, {203, 11}} {
		w, h := wh[0], wh[1]
		g := gray{w, h, make([]uint8, w*h)}
		for i := range g.pix {
			g.pix[i] = uint8(r.IntN(256))
			if r.IntN(3) == 0 {
				g.pix[i] = 255
			}
		}
		dst, tmp := make([]uint16, w*h), make([]uint16, w*h)
		for i := range dst {
			dst[i], tmp[i] = uint16(r.Uint32()), uint16(r.Uint32())
		}
		box, _ := boxSums(g, dst, tmp)
		for y := 2; y < h-2; y++ {
			for x := 2; x < w-2; x++ {
				var want uint16
				for dy := -2; dy <= 2; dy++ {
					for dx := -2; dx <= 2; dx++ {
						want += uint16(g.pix[(y+dy)*w+x+dx])
					}
				}
				if box[y*w+x] != want {
					t.Fatalf("%dx%d at (%d,%d): %d, want %d", w, h, x, y, box[y*w+x], want)
				}
			}
		}
	}
}

// TestHalfStepMatchesReference holds halfStep (each source row
// interpolated across once, half the products) to the per-pixel
// fixed-point interpolation it replaced, every pixel, at the pyramid's
// step and others, into a dirty buffer.
func TestHalfStepMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(39, 0))
	for _, wh := range [][2]int{{1040, 1040}, {97, 61}, {64, 64}, {300, 41}, {57, 233}, {3, 3}} {
		g := gray{wh[0], wh[1], make([]uint8, wh[0]*wh[1])}
		for i := range g.pix {
			g.pix[i] = uint8(r.IntN(256))
		}
		for _, k := range []float64{scaleStep, 1.01, 1.9, 2.5} {
			w, h := max(1, int(math.Round(float64(g.w)/k))), max(1, int(math.Round(float64(g.h)/k)))
			dirty := make([]uint8, w*h+7)
			for i := range dirty {
				dirty[i] = uint8(r.IntN(256))
			}
			got, want := halfStep(g, w, h, dirty), halfStepRef(g, w, h)
			if !slices.Equal(got.pix, want.pix) || got.w != want.w || got.h != want.h {
				t.Fatalf("%dx%d to %dx%d: not the reference's pixels", g.w, g.h, w, h)
			}
		}
	}
}
