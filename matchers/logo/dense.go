package logo

import (
	"math"
	"slices"

	"github.com/markwatch/markwatch/matchers"
)

// Dense verification: once a fit gives a logo's pose, a descriptor is
// taken from the photo's own pixels where the pose puts each of the
// logo's keypoints, steered by the pose, and compared with the logo
// keypoint's. Where guided matching (guided.go) needs a corner to have
// been found in the photo there, this reads the photo whatever its
// corners; where a fit's inliers are the descriptors the index paired,
// this tests every keypoint of the logo. The logo shown gives near
// descriptors all over it; another brand's logo built from the same
// badge, emblem and typeface gives them where the two share a part and
// not across the name, whose letters differ in place.
//
// A similarity is too coarse for that: the mild perspective of a photo
// (a few percent of the logo's width) moves a keypoint by more than a
// descriptor tolerates, so the pose is first refined to a homography on
// the fit's inliers (refineHomography).

const (
	// denseDistance is the farthest (in bits of 256) the photo's
	// descriptor in place may be from the logo keypoint's to confirm it.
	denseDistance = 40
	// minHomographyPairs is the fewest inliers a homography is fitted
	// on; below that the similarity places the keypoints.
	minHomographyPairs = 8
	// maxHomographyShift bounds, as a share of the logo's diagonal in
	// the photo, how far the homography may move a corner of the logo's
	// box from where the similarity puts it: farther, the inliers were
	// too few or too bunched to say, and the similarity is kept.
	maxHomographyShift = 0.15
	// denseGrid is the side of the grid of parts a logo's keypoints'
	// box is cut into for the evenness of its confirmation; a part
	// counts when it holds at least denseMinPart positions, and is
	// confirmed when at least denseMinPartShare of them are.
	denseGrid         = 4
	denseMinPart      = 8
	denseMinPartShare = 0.4
)

// denseResult is a fit's dense verification: the share of the logo's
// keypoint positions confirmed, and the share of positions lying in
// confirmed parts of the logo (both -1 when nothing could be described).
type denseResult struct {
	share, evenness float64
}

// homography maps a logo's coordinates into a photo's.
type homography [9]float64

func (h *homography) apply(x, y float64) (float64, float64) {
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// fitHomography fits a homography from the pairs' logo keypoints (r) to
// their photo keypoints (l) by least squares (the direct linear
// transformation with h₃₃ = 1, on coordinates normalised as Hartley
// advises); false when the pairs are too few or degenerate.
func fitHomography(ps []pair) (homography, bool) {
	if len(ps) < 4 {
		return homography{}, false
	}
	// Normalise each side: centroid at the origin, mean distance √2.
	norm := func(get func(pair) (float64, float64)) (mx, my, sc float64) {
		for _, p := range ps {
			x, y := get(p)
			mx += x
			my += y
		}
		mx /= float64(len(ps))
		my /= float64(len(ps))
		var d float64
		for _, p := range ps {
			x, y := get(p)
			d += math.Hypot(x-mx, y-my)
		}
		d /= float64(len(ps))
		if d < 1e-9 {
			return mx, my, 0
		}
		return mx, my, math.Sqrt2 / d
	}
	ax, ay, as := norm(func(p pair) (float64, float64) { return float64(p.r.X), float64(p.r.Y) })
	bx, by, bs := norm(func(p pair) (float64, float64) { return float64(p.l.X), float64(p.l.Y) })
	if as == 0 || bs == 0 {
		return homography{}, false
	}
	// Normal equations of the 8 unknowns, [AᵀA | Aᵀb].
	var m [8][9]float64
	add := func(row [8]float64, rhs float64) {
		for i := range 8 {
			for j := i; j < 8; j++ {
				m[i][j] += row[i] * row[j]
			}
			m[i][8] += row[i] * rhs
		}
	}
	for _, p := range ps {
		x, y := (float64(p.r.X)-ax)*as, (float64(p.r.Y)-ay)*as
		u, v := (float64(p.l.X)-bx)*bs, (float64(p.l.Y)-by)*bs
		add([8]float64{x, y, 1, 0, 0, 0, -u * x, -u * y}, u)
		add([8]float64{0, 0, 0, x, y, 1, -v * x, -v * y}, v)
	}
	for i := range 8 {
		for j := range i {
			m[i][j] = m[j][i]
		}
	}
	// Gauss–Jordan with partial pivoting.
	for c := range 8 {
		piv := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-9 {
			return homography{}, false
		}
		m[c], m[piv] = m[piv], m[c]
		for r := range 8 {
			if r == c || m[r][c] == 0 {
				continue
			}
			k := m[r][c] / m[c][c]
			for j := c; j < 9; j++ {
				m[r][j] -= k * m[c][j]
			}
		}
	}
	var hn [9]float64
	for i := range 8 {
		hn[i] = m[i][8] / m[i][i]
	}
	hn[8] = 1
	// Undo the normalisations: H = T_b⁻¹ · Hn · T_a.
	ta := [9]float64{as, 0, -as * ax, 0, as, -as * ay, 0, 0, 1}
	tbi := [9]float64{1 / bs, 0, bx, 0, 1 / bs, by, 0, 0, 1}
	mul := func(a, b [9]float64) [9]float64 {
		var o [9]float64
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					o[i*3+j] += a[i*3+k] * b[k*3+j]
				}
			}
		}
		return o
	}
	h := homography(mul(tbi, mul(hn, ta)))
	for _, v := range h {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return homography{}, false
		}
	}
	return h, true
}

// pairsAt returns the pairs of ps at positions idx (a fit's inliers).
func pairsAt(ps []pair, idx []int) []pair {
	out := make([]pair, len(idx))
	for k, i := range idx {
		out[k] = ps[i]
	}
	return out
}

// refineHomography fits a homography on a fit's inliers, then again
// without those more than twice the median residual away (an inlier
// within the similarity's tolerance can still be a wrong pair), and
// keeps it only if it moves no corner of the logo's box more than
// maxHomographyShift of its diagonal from where the similarity s puts
// it.
func refineHomography(ps []pair, lr *logoRef, s similarity) (homography, bool) {
	if len(ps) < minHomographyPairs {
		return homography{}, false
	}
	h, ok := fitHomography(ps)
	if !ok {
		return h, false
	}
	res := make([]float64, len(ps))
	for i, p := range ps {
		x, y := h.apply(float64(p.r.X), float64(p.r.Y))
		res[i] = math.Hypot(x-float64(p.l.X), y-float64(p.l.Y))
	}
	sorted := slices.Clone(res)
	slices.Sort(sorted)
	cut := max(2*sorted[len(sorted)/2], 1.5)
	keep := make([]pair, 0, len(ps))
	for i, p := range ps {
		if res[i] <= cut {
			keep = append(keep, p)
		}
	}
	if len(keep) >= minHomographyPairs && len(keep) < len(ps) {
		if h2, ok := fitHomography(keep); ok {
			h = h2
		}
	}
	diag := math.Hypot(float64(lr.x1-lr.x0), float64(lr.y1-lr.y0)) * s.scale()
	for _, c := range [4][2]float32{{lr.x0, lr.y0}, {lr.x1, lr.y0}, {lr.x0, lr.y1}, {lr.x1, lr.y1}} {
		hx, hy := h.apply(float64(c[0]), float64(c[1]))
		sx, sy := s.apply(float64(c[0]), float64(c[1]))
		if d := math.Hypot(hx-sx, hy-sy); !(d <= maxHomographyShift*diag) {
			return homography{}, false
		}
	}
	return h, true
}

// placement puts a logo's keypoints in the photo at a fit's pose: by
// the homography refined on the fit's inliers when there is one
// (refineHomography), else by its similarity s; patches are steered and
// scaled by s. A logo in mild perspective (its corners moved by a few
// percent of its size) is placed by the similarity a few pixels off at
// its far side, as much as a small logo's letters are apart; the
// homography puts each keypoint where the photo shows it, so that
// guided and dense verification test the right place.
type placement struct {
	s    similarity
	h    homography
	useH bool
}

// place returns the placement of logo lr at similarity s, refined on the
// fit's inlier pairs.
func place(s similarity, lr *logoRef, inliers []pair) placement {
	h, ok := refineHomography(inliers, lr, s)
	return placement{s: s, h: h, useH: ok}
}

func (pl *placement) apply(x, y float64) (float64, float64) {
	if pl.useH {
		return pl.h.apply(x, y)
	}
	return pl.s.apply(x, y)
}

// local is the placement's linear map at logo point (x, y): the image
// offset (m[0]·dx + m[1]·dy, m[2]·dx + m[3]·dy) of a small logo offset
// (dx, dy); the similarity's own, or the homography's derivative there.
func (pl *placement) local(x, y float64) [4]float64 {
	if !pl.useH {
		return [4]float64{pl.s.a, -pl.s.b, pl.s.b, pl.s.a}
	}
	h := &pl.h
	w := h[6]*x + h[7]*y + h[8]
	u := (h[0]*x + h[1]*y + h[2]) / w
	v := (h[3]*x + h[4]*y + h[5]) / w
	return [4]float64{(h[0] - u*h[6]) / w, (h[1] - u*h[7]) / w, (h[3] - v*h[6]) / w, (h[4] - v*h[7]) / w}
}

// placedPoint is a logo keypoint placed in the photo by a fit's pose: its
// position and patch scale there, and the distance of the photo's
// descriptor in place to the keypoint's (-1: not described).
type placedPoint struct {
	x, y, scale float32
	dist        int16
}

// denseShare returns the share of the logo's keypoint positions (one per
// position on a 2-pixel grid, both polarities together) inside the photo
// whose descriptor in place, at the fit's pose, is within denseDistance
// bits of the logo keypoint's: the positions placed by pl; and the
// evenness of that confirmation over the logo's parts (denseGrid). -1
// when no position could be described (the logo lies outside the
// photo's levels). It also returns where each keypoint was placed, for
// apartShare.
func denseShare(px matchers.Pixels, lr *logoRef, pts []matchers.Keypoint, desc []matchers.Descriptor, pl *placement) (denseResult, []placedPoint) {
	at := make(map[[2]int32]int, len(pts)/2)
	scale := pl.s.scale()
	placed := make([]placedPoint, len(pts))
	for k, p := range pts {
		placed[k].dist = -1
		x, y := pl.apply(float64(p.X), float64(p.Y))
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		placed[k].x, placed[k].y, placed[k].scale = float32(x), float32(y), float32(scale*float64(p.Scale))
		// The keypoint's own samples, where the pose puts them: its
		// pattern (its level's pixels, steered to its angle) through
		// the placement's local map, scaled by its level.
		lm := pl.local(float64(p.X), float64(p.Y))
		ks := float64(p.Scale)
		d, ok := px.DescribeMapped(x, y, [4]float64{lm[0] * ks, lm[1] * ks, lm[2] * ks, lm[3] * ks}, float64(p.Angle))
		if !ok {
			continue
		}
		dist := hamming(&d, &desc[k])
		placed[k].dist = int16(dist)
		key := [2]int32{int32(p.X / 2), int32(p.Y / 2)}
		if b, seen := at[key]; !seen || dist < b {
			at[key] = dist
		}
	}
	if len(at) == 0 {
		return denseResult{share: -1, evenness: -1}, placed
	}
	// Each position's part of the logo's box: near and all positions.
	var parts [denseGrid * denseGrid][2]int
	bw, bh := max(lr.x1-lr.x0, 1), max(lr.y1-lr.y0, 1)
	near := 0
	for key, d := range at {
		// The position's grid cell, from the 2-pixel key's corner.
		cx := int((float32(key[0])*2 - lr.x0) / bw * denseGrid)
		cy := int((float32(key[1])*2 - lr.y0) / bh * denseGrid)
		part := &parts[min(max(cy, 0), denseGrid-1)*denseGrid+min(max(cx, 0), denseGrid-1)]
		part[1]++
		if d <= denseDistance {
			near++
			part[0]++
		}
	}
	return denseResult{share: float64(near) / float64(len(at)), evenness: partsEvenness(parts[:])}, placed
}

// partsEvenness returns the share of the positions in parts holding at
// least denseMinPart of them that lie in parts confirmed at
// denseMinPartShare or more; 1 when no part is that large (a logo
// too small to be cut into parts is judged by its share alone).
func partsEvenness(parts [][2]int) float64 {
	var all, confirmed int
	for _, p := range parts {
		if p[1] < denseMinPart {
			continue
		}
		all += p[1]
		if float64(p[0]) >= denseMinPartShare*float64(p[1]) {
			confirmed += p[1]
		}
	}
	if all == 0 {
		return 1
	}
	return float64(confirmed) / float64(all)
}

// apartShare is the dense share of logo a's keypoint positions that logo
// b, placed over the same region, does not share: a keypoint of a is
// shared when b has one placed within apartRadius of its patch's size
// (2·patchRadius+1 pixels at its scale),
// at a patch scale within apartScale, whose descriptor is within
// denseDistance bits of a's (the same badge, emblem or letter drawn in
// both). Two logos built from the same parts differ in what is left:
// the logo shown is confirmed there, a rival is not. -1 when fewer than
// minApart positions are left (the logos differ too little to say).
func apartShare(aPts []matchers.Keypoint, aDesc []matchers.Descriptor, a []placedPoint, bDesc []matchers.Descriptor, b []placedPoint) float64 {
	// b's placed keypoints by cell of apartCell pixels.
	cells := make(map[[2]int32][]int32, len(b))
	for j, p := range b {
		if p.scale == 0 {
			continue
		}
		c := [2]int32{int32(p.x / apartCell), int32(p.y / apartCell)}
		cells[c] = append(cells[c], int32(j))
	}
	at := make(map[[2]int32]int, len(a)/2)
	for k, p := range a {
		if p.dist < 0 {
			continue
		}
		r := apartRadius * (2*patchRadius + 1) * p.scale
		shared := false
		cx0, cx1 := int32((p.x-r)/apartCell), int32((p.x+r)/apartCell)
		cy0, cy1 := int32((p.y-r)/apartCell), int32((p.y+r)/apartCell)
	search:
		for cy := cy0; cy <= cy1; cy++ {
			for cx := cx0; cx <= cx1; cx++ {
				for _, j := range cells[[2]int32{cx, cy}] {
					q := &b[j]
					dx, dy := q.x-p.x, q.y-p.y
					if dx*dx+dy*dy > r*r || q.scale > apartScale*p.scale || p.scale > apartScale*q.scale {
						continue
					}
					if hamming(&aDesc[k], &bDesc[j]) <= denseDistance {
						shared = true
						break search
					}
				}
			}
		}
		if shared {
			continue
		}
		key := [2]int32{int32(aPts[k].X / 2), int32(aPts[k].Y / 2)}
		if d, seen := at[key]; !seen || int(p.dist) < d {
			at[key] = int(p.dist)
		}
	}
	if len(at) < minApart {
		return -1
	}
	near := 0
	for _, d := range at {
		if d <= denseDistance {
			near++
		}
	}
	return float64(near) / float64(len(at))
}

const (
	apartCell   = 8
	apartRadius = 0.2
	apartScale  = 1.5
	minApart    = 16
)
