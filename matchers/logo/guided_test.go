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
		pl := placement{s: s}
		return guidedEvenness(newPointGrid(f), f, &lr, pts, desc, &pl, []float32{1}, 0.05)
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

// TestGuidedEvennessInPerspective: a small logo in perspective is
// confirmed all over where the homography refined on the fit's inliers
// puts its keypoints; placed by the best similarity alone, its far
// corners fall more than the tolerance (a few pixels at 75 pixels wide)
// from where the photo shows them, and its evenness drops.
func TestGuidedEvennessInPerspective(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 3))
	lr := logoRef{x0: 0, y0: 0, x1: 250, y1: 250}
	// The logo at 0.3 of its size (75 pixels) at 200,200, in perspective:
	// its far corner a fifth nearer its origin than a similarity would
	// put it.
	warp := homography{0.3, 0.012, 0, 0.006, 0.3, 0, 0.0007, 0.0004, 1}
	var pts []matchers.Keypoint
	var desc []matchers.Descriptor
	f := &matchers.Features{W: 800, H: 800}
	var inliers []pair
	for i := range 400 {
		p := matchers.Keypoint{X: float32(250 * r.Float64()), Y: float32(250 * r.Float64()), Scale: 1}
		d := randomDescriptor(r)
		pts, desc = append(pts, p), append(desc, d)
		x, y := warp.apply(float64(p.X), float64(p.Y))
		q := matchers.Keypoint{X: float32(200 + x + r.Float64() - 0.5), Y: float32(200 + y + r.Float64() - 0.5), Scale: 0.3}
		for _, b := range r.Perm(256)[:20] {
			d[b/64] ^= 1 << (b % 64)
		}
		f.Points, f.Desc = append(f.Points, q), append(f.Desc, d)
		if i%8 == 0 {
			inliers = append(inliers, pair{l: q, r: p})
		}
	}
	idx := make([]int, len(inliers))
	for i := range idx {
		idx[i] = i
	}
	s := fitLSQ(inliers, idx)
	bySimilarity := placement{s: s}
	refined := place(s, &lr, inliers)
	if !refined.useH {
		t.Fatal("no homography refined on 50 inliers in mild perspective")
	}
	g := newPointGrid(f)
	sim := guidedEvenness(g, f, &lr, pts, desc, &bySimilarity, []float32{0.3}, 0.05)
	hom := guidedEvenness(g, f, &lr, pts, desc, &refined, []float32{0.3}, 0.05)
	t.Logf("guided evenness placed by the similarity %.2f, by the homography %.2f", sim, hom)
	if hom < 0.9 {
		t.Errorf("placed by the homography: guided evenness %.2f, want ≥ 0.9", hom)
	}
	if sim >= hom {
		t.Errorf("placed by the similarity: guided evenness %.2f, want under the homography's %.2f", sim, hom)
	}
}

func randomDescriptor(r *rand.Rand) matchers.Descriptor {
	return matchers.Descriptor{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
}
