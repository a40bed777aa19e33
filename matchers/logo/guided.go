package logo

import (
	"math"

	"github.com/markwatch/markwatch/matchers"
)

// Guided matching: once a fit gives the logo's pose in the photo, each of
// the logo's keypoints that should be visible is looked for where the
// pose puts it, among the photo's keypoints there, not through the index.
// A logo shown is confirmed all over, as far as its corners were found;
// another brand's logo built from the same badge, emblem and typeface is
// confirmed where the two share a part and not across the name, where the
// photo's keypoints are the other name's letters. The index pairs a
// listing descriptor with one descriptor per logo, the nearest within
// the ratio test, so a fit's inliers are a thin sample of what agrees;
// looked for in place, every keypoint of the logo is tested.

const (
	// guidedDistance is the farthest (in bits of 256) a photo's
	// descriptor may be from the logo keypoint's to confirm it.
	guidedDistance = 40
	// guidedTolerance is the share of the fit's inlier tolerance within
	// which a photo's keypoint stands where the logo keypoint should.
	guidedTolerance = 0.5
	// gridCell is the side, in pixels, of the cells the photo's
	// keypoints are bucketed in for guided look-ups.
	gridCell = 16
)

// pointGrid buckets a photo's keypoints by position.
type pointGrid struct {
	cols, rows int
	// start[c]..start[c+1] are the positions in idx of cell c's
	// keypoints.
	start []int32
	idx   []int32
}

func newPointGrid(f *matchers.Features) *pointGrid {
	g := &pointGrid{cols: f.W/gridCell + 1, rows: f.H/gridCell + 1}
	g.start = make([]int32, g.cols*g.rows+1)
	g.idx = make([]int32, len(f.Points))
	cell := func(p matchers.Keypoint) int {
		cx := min(max(int(p.X)/gridCell, 0), g.cols-1)
		cy := min(max(int(p.Y)/gridCell, 0), g.rows-1)
		return cy*g.cols + cx
	}
	for _, p := range f.Points {
		g.start[cell(p)+1]++
	}
	for c := 1; c < len(g.start); c++ {
		g.start[c] += g.start[c-1]
	}
	fill := make([]int32, g.cols*g.rows)
	for i, p := range f.Points {
		c := cell(p)
		g.idx[g.start[c]+fill[c]] = int32(i)
		fill[c]++
	}
	return g
}

// guidedEvenness returns the evenness (evenShare) of the logo keypoints
// confirmed in place, placed by pl (the homography refined on the fit's
// inliers when there is one: a small logo in perspective placed by its
// similarity is off by more than the tolerance at its far side): of
// those the fit says should be visible (as expected counts them, one per
// position), the ones with a photo keypoint within guidedTolerance of the
// inlier tolerance, of orientation and scale consistent with the fit's
// similarity, within guidedDistance bits.
func guidedEvenness(g *pointGrid, f *matchers.Features, lr *logoRef, pts []matchers.Keypoint, desc []matchers.Descriptor, pl *placement, scales []float32, tolerance float64) float64 {
	s := pl.s
	diag := math.Hypot(float64(lr.x1-lr.x0), float64(lr.y1-lr.y0))
	tol := max(2, guidedTolerance*tolerance*diag*s.scale())
	tol2 := tol * tol
	r := int(math.Ceil(tol / gridCell))
	type spot struct {
		cell      int
		confirmed bool
	}
	at := make(map[[2]int32]spot, len(pts)/2)
	for k, p := range pts {
		x, y := pl.apply(float64(p.X), float64(p.Y))
		if !(x >= 0 && y >= 0 && x < float64(f.W) && y < float64(f.H)) || !atScale(s.scale()*float64(p.Scale), scales) {
			continue
		}
		key := [2]int32{int32(p.X / 2), int32(p.Y / 2)}
		sp, seen := at[key]
		if !seen {
			sp.cell = lr.cell(p)
		}
		if !sp.confirmed {
			cx, cy := int(x)/gridCell, int(y)/gridCell
		search:
			for gy := max(cy-r, 0); gy <= min(cy+r, g.rows-1); gy++ {
				for gx := max(cx-r, 0); gx <= min(cx+r, g.cols-1); gx++ {
					c := gy*g.cols + gx
					for _, q := range g.idx[g.start[c]:g.start[c+1]] {
						lp := f.Points[q]
						dx, dy := float64(lp.X)-x, float64(lp.Y)-y
						if dx*dx+dy*dy > tol2 || !consistent(s, pair{l: lp, r: p}) {
							continue
						}
						if hamming(&f.Desc[q], &desc[k]) <= guidedDistance {
							sp.confirmed = true
							break search
						}
					}
				}
			}
		}
		at[key] = sp
	}
	var exp, conf cells
	total, found := 0, 0
	for _, sp := range at {
		exp[sp.cell]++
		total++
		if sp.confirmed {
			conf[sp.cell]++
			found++
		}
	}
	if found == 0 {
		// Nothing confirmed is not even (evenShare's cells all pass a
		// bar of 0).
		return 0
	}
	return evenShare(exp, conf, total, found)
}
