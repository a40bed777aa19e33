package logo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/markwatch/markwatch/fixtures/generate"
	"github.com/markwatch/markwatch/matchers"
)

// refLevel is a whole pyramid level as the extraction makes it: the
// reference the pyramid's bands are held to.
type refLevel struct {
	scale float64
	w, h  int
	box   []uint16
	off   *steeredOffsets
}

// buildPyramidRef makes every row of every level at once, as the
// pyramid did before it made them a band at a time.
func buildPyramidRef(g gray, levels int, unit float64, upsample bool) []refLevel {
	if upsample {
		unit /= scaleStep
		up, buf := enlarged(g)
		defer enlargedPool.Put(buf)
		g = gray{up.w, up.h, append([]uint8(nil), up.pix...)}
		levels++
	}
	var out []refLevel
	prev := g
	for k := range levels {
		s := math.Pow(scaleStep, float64(k))
		if side := float64(min(g.w, g.h)) / s; side < 2*border+8 {
			break
		}
		lv := g
		if k > 0 {
			lv = halfStep(prev, int(math.Round(float64(g.w)/s)), int(math.Round(float64(g.h)/s)), nil)
		}
		prev = lv
		box, _ := boxSums(lv, nil, nil)
		off := new(steeredOffsets)
		off.set(lv.w)
		out = append(out, refLevel{scale: s * unit, w: lv.w, h: lv.h, box: box, off: off})
	}
	return out
}

func describeWhole(levels []refLevel, x, y, scale, angle float64) (matchers.Descriptor, bool) {
	best, bd := -1, math.Log(1.4)
	for i, l := range levels {
		if d := math.Abs(math.Log(scale / l.scale)); d < bd {
			best, bd = i, d
		}
	}
	if best < 0 {
		return matchers.Descriptor{}, false
	}
	l := &levels[best]
	lx, ly := int(math.Round(x/l.scale)), int(math.Round(y/l.scale))
	if lx < border || ly < border || lx >= l.w-border || ly >= l.h-border {
		return matchers.Descriptor{}, false
	}
	return describe(l.box, l.off, ly*l.w+lx, angle), true
}

// TestPyramidRowsMatchWhole: descriptors taken anywhere, at any scale and
// angle, in any order (the made rectangle extended up, down, sideways
// and across gaps), from the pyramid made a rectangle at a time are those
// of the whole pyramid, with and without the enlarged level, on a photo
// and on odd sizes.
func TestPyramidRowsMatchWhole(t *testing.T) {
	logos := inventLogos(t, 21, 1)
	img, _ := generate.LogoScene(rand.New(rand.NewPCG(9, 2)), logos.imgs[0], generate.SceneOptions{})
	photo := fromImage(lumaOf(t, encodeJPEG(t, img, 60)))
	r := rand.New(rand.NewPCG(4, 4))
	noise := func(w, h int) gray {
		g := gray{w, h, make([]uint8, w*h)}
		for i := range g.pix {
			g.pix[i] = uint8(r.IntN(256))
		}
		return g
	}
	for _, c := range []struct {
		name     string
		g        gray
		unit     float64
		upsample bool
	}{
		{"photo, enlarged level", photo, 1, true},
		{"photo, no enlarged level", photo, 1, false},
		{"odd size, enlarged level", noise(333, 517), 1.7, true},
		{"odd size, no enlarged level", noise(611, 97), 1, false},
	} {
		ref := buildPyramidRef(c.g, 4, c.unit, c.upsample)
		p := newPyramid(c.g, 4, c.unit, c.upsample)
		W, H := float64(c.g.w)*c.unit, float64(c.g.h)*c.unit
		described := 0
		for i := range 3000 {
			x, y := W*r.Float64(), H*r.Float64()
			if i%3 == 0 {
				// Walk up the image: bands extended upwards.
				y = H * (1 - float64(i)/3000)
			}
			scale := c.unit * math.Exp(r.Float64()*math.Log(4)) / scaleStep
			angle := 2 * math.Pi * r.Float64()
			want, okw := describeWhole(ref, x, y, scale, angle)
			got, okg := p.Describe(x, y, scale, angle)
			if okw != okg || got != want {
				t.Fatalf("%s: at (%.1f, %.1f) scale %.2f angle %.2f: described %v, %d bits from the whole pyramid's (described %v)", c.name, x, y, scale, angle, okg, hamming(&got, &want), okw)
			}
			if okg {
				described++
			}
		}
		if described < 1000 {
			t.Errorf("%s: only %d of 3000 patches described", c.name, described)
		}
		// A patch's surroundings, not the whole: after one patch, most
		// of the largest level is not made.
		p.Release()
		q := newPyramid(c.g, 4, c.unit, c.upsample)
		l0 := q.levels[0]
		if _, ok := q.Describe(W/2, H/2, l0.scale, 0); ok {
			l := q.levels[0]
			side := 2*border + 2*growBlock + 1
			if w, h := l.bm.x1-l.bm.x0, l.bm.y1-l.bm.y0; w > side || h > side {
				t.Errorf("%s: one patch made %d×%d box sums of %d×%d", c.name, w, h, l.w, l.h)
			}
		}
		q.Release()
	}
	// A plane too small for any level describes nothing and makes
	// nothing.
	tiny := newPyramid(noise(30, 30), 4, 1, true)
	defer tiny.Release()
	if _, ok := tiny.Describe(15, 15, 1, 0); ok || len(tiny.levels) != 0 {
		t.Errorf("a 30×30 plane (39×39 enlarged): %d levels, a patch described: %v", len(tiny.levels), ok)
	}
}

// Describe reads a descriptor as dense verification read it before it
// read the pose's own samples (DescribeMapped): at the level nearest
// scale, its nearest pixel and angle bin, its box sums about (x, y)
// made if they are not yet. The tests probe the pyramid's rows with it
// and compare DescribeMapped against it.
func (p *pyramid) Describe(x, y, scale, angle float64) (matchers.Descriptor, bool) {
	best := p.nearest(scale)
	if best < 0 {
		return matchers.Descriptor{}, false
	}
	l := &p.levels[best]
	lx, ly := int(math.Round(x/l.scale)), int(math.Round(y/l.scale))
	if lx < border || ly < border || lx >= l.w-border || ly >= l.h-border {
		return matchers.Descriptor{}, false
	}
	if q := (rect{lx - border, ly - border, lx + border + 1, ly + border + 1}); !l.bm.contains(q) {
		p.boxRect(best, q)
	}
	return describe(l.box, l.off, ly*l.w+lx, angle), true
}
