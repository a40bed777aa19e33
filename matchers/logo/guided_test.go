package logo

import (
	"math/rand/v2"
	"testing"

	"github.com/markwatch/markwatch/matchers"
)

// TestGuidedEvenness: at a fit's pose, a logo whose keypoints all stand
// in the photo where the pose puts them, with descriptors a few bits off,
// is confirmed evenly; one whose right half shows other patterns at those
// places (another name in the same badge), or nothing near them, or
// patterns turned the other way, is not; a logo cut by the photo's edge
// is judged on what the photo holds.
func TestGuidedEvenness(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	lr := logoRef{x0: 0, y0: 0, x1: 250, y1: 250}
	var pts []matchers.Keypoint
	var desc []matchers.Descriptor
	for range 400 {
		pts = append(pts, matchers.Keypoint{X: float32(250 * r.Float64()), Y: float32(250 * r.Float64()), Scale: 1})
		desc = append(desc, randomDescriptor(r))
	}
	// flip returns d with n of its bits changed.
	flip := func(d matchers.Descriptor, n int) matchers.Descriptor {
		for _, b := range r.Perm(256)[:n] {
			d[b/64] ^= 1 << (b % 64)
		}
		return d
	}
	// photo puts each logo keypoint at pose s as shown(i) says: its
	// descriptor and whether it is there at all.
	photo := func(s similarity, shown func(i int, p matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool)) *matchers.Features {
		f := &matchers.Features{W: 800, H: 800}
		for i, p := range pts {
			x, y := s.apply(float64(p.X), float64(p.Y))
			q := matchers.Keypoint{X: float32(x + r.Float64() - 0.5), Y: float32(y + r.Float64() - 0.5), Scale: 1}
			if x < 0 || y < 0 || x >= 800 || y >= 800 {
				continue
			}
			q, d, ok := shown(i, q)
			if ok {
				f.Points = append(f.Points, q)
				f.Desc = append(f.Desc, d)
			}
		}
		// The rest of the scene: keypoints away from the logo.
		for range 300 {
			f.Points = append(f.Points, matchers.Keypoint{X: float32(450 + 340*r.Float64()), Y: float32(450 + 340*r.Float64()), Scale: 1})
			f.Desc = append(f.Desc, randomDescriptor(r))
		}
		return f
	}
	s := similarity{a: 1, tx: 100, ty: 100}
	guided := func(s similarity, f *matchers.Features) float64 {
		return guidedEvenness(newPointGrid(f), f, &lr, pts, desc, s, []float32{1}, 0.05)
	}
	for _, c := range []struct {
		name   string
		s      similarity
		shown  func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool)
		lo, hi float64
	}{
		{"the logo, descriptors 25 bits off", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			return q, flip(desc[i], 25), true
		}, 0.9, 1},
		{"the logo, a third of its keypoints found", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			return q, flip(desc[i], 25), i%3 == 0
		}, 0.9, 1},
		{"its right half other patterns", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			if pts[i].X >= 125 {
				return q, randomDescriptor(r), true
			}
			return q, flip(desc[i], 25), true
		}, 0, 0.6},
		{"its right half descriptors 60 bits off", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			if pts[i].X >= 125 {
				return q, flip(desc[i], 60), true
			}
			return q, flip(desc[i], 25), true
		}, 0, 0.6},
		{"its right half moved by 3 tolerances", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			if pts[i].X >= 125 {
				q.X += 3 * 0.5 * 0.05 * 354
			}
			return q, flip(desc[i], 25), true
		}, 0, 0.6},
		{"its right half turned 90°", s, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			if pts[i].X >= 125 {
				q.Angle += 1.57
			}
			return q, flip(desc[i], 25), true
		}, 0, 0.6},
		{"cut by the photo's edge", similarity{a: 1, tx: 650, ty: 100}, func(i int, q matchers.Keypoint) (matchers.Keypoint, matchers.Descriptor, bool) {
			return q, flip(desc[i], 25), true
		}, 0.9, 1},
	} {
		if g := guided(c.s, photo(c.s, c.shown)); g < c.lo || g > c.hi {
			t.Errorf("%s: guided evenness %.2f, want %.2f to %.2f", c.name, g, c.lo, c.hi)
		}
	}
	if g := guided(s, &matchers.Features{W: 800, H: 800}); g != 0 {
		t.Errorf("a photo without keypoints: guided evenness %.2f, want 0", g)
	}
}

func randomDescriptor(r *rand.Rand) matchers.Descriptor {
	return matchers.Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
}
