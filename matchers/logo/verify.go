package logo

import (
	"math"
	"math/rand/v2"

	"github.com/markwatch/markwatch/matchers"
)

// similarity maps logo coordinates to listing coordinates:
// (x, y) ↦ (a·x − b·y + tx, b·x + a·y + ty), a rotation by atan2(b, a) and
// a scale of hypot(a, b). It cannot mirror.
type similarity struct{ a, b, tx, ty float64 }

func (s similarity) apply(x, y float64) (float64, float64) {
	return s.a*x - s.b*y + s.tx, s.b*x + s.a*y + s.ty
}

func (s similarity) scale() float64 { return math.Hypot(s.a, s.b) }
func (s similarity) angle() float64 { return math.Atan2(s.b, s.a) }

// fit2 is the similarity taking p's logo points to its listing points.
func fit2(p, q pair) (similarity, bool) {
	rx, ry := float64(q.r.X-p.r.X), float64(q.r.Y-p.r.Y)
	lx, ly := float64(q.l.X-p.l.X), float64(q.l.Y-p.l.Y)
	n := rx*rx + ry*ry
	if n < 16 { // under 4 pixels apart: the fit's angle is noise
		return similarity{}, false
	}
	// (lx + i·ly) / (rx + i·ry)
	a, b := (lx*rx+ly*ry)/n, (ly*rx-lx*ry)/n
	s := similarity{a: a, b: b}
	s.tx = float64(p.l.X) - (a*float64(p.r.X) - b*float64(p.r.Y))
	s.ty = float64(p.l.Y) - (b*float64(p.r.X) + a*float64(p.r.Y))
	return s, true
}

// fitLSQ is the least-squares similarity over the pairs ps[i] for i in idx.
func fitLSQ(ps []pair, idx []int) similarity {
	var mrx, mry, mlx, mly float64
	for _, i := range idx {
		mrx += float64(ps[i].r.X)
		mry += float64(ps[i].r.Y)
		mlx += float64(ps[i].l.X)
		mly += float64(ps[i].l.Y)
	}
	n := float64(len(idx))
	mrx, mry, mlx, mly = mrx/n, mry/n, mlx/n, mly/n
	var num1, num2, den float64
	for _, i := range idx {
		rx, ry := float64(ps[i].r.X)-mrx, float64(ps[i].r.Y)-mry
		lx, ly := float64(ps[i].l.X)-mlx, float64(ps[i].l.Y)-mly
		num1 += rx*lx + ry*ly
		num2 += rx*ly - ry*lx
		den += rx*rx + ry*ry
	}
	if den == 0 {
		return similarity{}
	}
	s := similarity{a: num1 / den, b: num2 / den}
	s.tx = mlx - (s.a*mrx - s.b*mry)
	s.ty = mly - (s.b*mrx + s.a*mry)
	return s
}

// angleDiff is a − b wrapped into (−π, π].
func angleDiff(a, b float64) float64 {
	d := math.Mod(a-b, 2*math.Pi)
	switch {
	case d > math.Pi:
		d -= 2 * math.Pi
	case d <= -math.Pi:
		d += 2 * math.Pi
	}
	return d
}

// verifyParams bound what a fit may be.
type verifyParams struct {
	minInliers int
	// tolerance is the largest reprojection error, as a share of the
	// logo's projected size (its keypoint box's diagonal).
	tolerance float64
	// maxAngle is the largest rotation of the logo, in radians.
	maxAngle float64
	// minWidth, maxWidth bound the projected logo's width as a share of
	// the image's width.
	minWidth, maxWidth float64
	// iterations and maxIterations are the least and the most RANSAC
	// samples (Options.Iterations, Options.MaxIterations).
	iterations, maxIterations int
	// minCoverage is the least share of the expected keypoints a fit
	// must explain.
	minCoverage float64
	// minDistinct is the least summed weight of the distinct inliers.
	minDistinct float64
}

// consistent says whether pair p agrees with s beyond its position: its
// keypoints' orientations differ by about s's rotation, and their pyramid
// scales by about s's scale. Descriptor matches that agree by chance in
// position rarely agree in these too.
func consistent(s similarity, p pair) bool {
	if math.Abs(angleDiff(float64(p.l.Angle-p.r.Angle), s.angle())) > 35*math.Pi/180 {
		return false
	}
	k := float64(p.l.Scale/p.r.Scale) / s.scale()
	return k > 1/1.75 && k < 1.75
}

// fitResult is a verified detection of one logo.
type fitResult struct {
	s       similarity
	inliers int
	// coverage is inliers over the logo keypoints the fit says should be
	// visible (see expected).
	coverage float64
	// weight is the distinct inliers' summed pair weight.
	weight float64
	// evenness is the share of the expected keypoints lying in parts of
	// the logo the fit explains at least a third as well as the whole
	// (see evenShare).
	evenness float64
	// inlierIdx are the fit's inliers, as positions in the pairs it was
	// verified on.
	inlierIdx []int
}

// cells counts logo keypoints on an evenCells × evenCells grid over the
// logo's keypoint box (see evenShare).
type cells [evenCells * evenCells]int

// evenCells is the side of the grid over the logo's keypoint box that
// evenness counts in.
const evenCells = 5

// cell is the grid cell of the logo keypoint p.
func (lr *logoRef) cell(p matchers.Keypoint) int {
	const g = evenCells
	bw, bh := max(lr.x1-lr.x0, 1e-3), max(lr.y1-lr.y0, 1e-3)
	cx := min(max(int(g*(p.X-lr.x0)/bw), 0), g-1)
	cy := min(max(int(g*(p.Y-lr.y0)/bh), 0), g-1)
	return cy*g + cx
}

// expected counts the logo's keypoints (pts) that the fit s should make
// findable in a w×h image whose keypoints come at pyramid scales
// scales: inside the image, at a scale one of its levels has, once per
// position on a 2-pixel grid; in all and per cell of lr. A logo that
// only shares an emblem or a few letters with the one in the photo
// explains a small share of them; the logo itself a large share.
func expected(pts []matchers.Keypoint, lr *logoRef, s similarity, w, h int, scales []float32) (n int, per cells) {
	seen := map[[2]int32]bool{}
	for _, p := range pts {
		x, y := s.apply(float64(p.X), float64(p.Y))
		if x < 0 || y < 0 || x >= float64(w) || y >= float64(h) {
			continue
		}
		key := [2]int32{int32(p.X / 2), int32(p.Y / 2)}
		if atScale(s.scale()*float64(p.Scale), scales) && !seen[key] {
			seen[key] = true
			n++
			per[lr.cell(p)]++
		}
	}
	return n, per
}

// atScale reports whether a keypoint of scale want in the photo is at a
// scale one of its pyramid levels has (within a factor of 1.4).
func atScale(want float64, scales []float32) bool {
	for _, ls := range scales {
		if k := want / float64(ls); k > 1/1.4 && k < 1.4 {
			return true
		}
	}
	return false
}

// evenShare says how evenly a fit explains the logo, from the logo's
// expected keypoints per cell (exp, total in all, see expected) and the
// fit's distinct inliers per cell (inl, found in all, see distinct): the
// share of the expected keypoints lying in cells whose own coverage is at
// least a third of the fit's. The logo shown is explained all over, as
// far as its keypoints were found; another logo that shares its emblem,
// its badge or its typeface with the one shown (two brands' round badges
// with a star, a name under the same ring) is explained where they share
// a part and hardly where they differ — its name — and its evenness is
// lower however many inliers the shared part gives (Options.MinEvenness;
// docs/BENCHMARKS.md, "How evenly a fit explains the logo").
func evenShare(exp, inl cells, total, found int) float64 {
	if total == 0 {
		return 0
	}
	// A cell is explained when inl/exp ≥ (found/total)/3.
	even := 0
	for c := range exp {
		if exp[c] > 0 && 3*inl[c]*total >= found*exp[c] {
			even += exp[c]
		}
	}
	return float64(even) / float64(total)
}

// verify runs RANSAC over ps for a similarity from logo lr into an image
// of w×h pixels and returns the best fit that passes every check.
func verify(ps []pair, lr logoRef, pts []matchers.Keypoint, scales []float32, w, h int, vp verifyParams, seed uint64) (fitResult, bool) {
	if len(ps) < vp.minInliers {
		return fitResult{}, false
	}
	diag := math.Hypot(float64(lr.x1-lr.x0), float64(lr.y1-lr.y0))
	r := rand.New(rand.NewPCG(seed, uint64(len(ps))))
	inliers := func(s similarity, buf []int) []int {
		buf = buf[:0]
		tol := max(3, vp.tolerance*diag*s.scale())
		tol2 := tol * tol
		for i, p := range ps {
			x, y := s.apply(float64(p.r.X), float64(p.r.Y))
			dx, dy := x-float64(p.l.X), y-float64(p.l.Y)
			if dx*dx+dy*dy <= tol2 && consistent(s, p) {
				buf = append(buf, i)
			}
		}
		return buf
	}
	plausible := func(s similarity) bool {
		bw := s.scale() * float64(lr.x1-lr.x0)
		return math.Abs(s.angle()) <= vp.maxAngle &&
			bw >= vp.minWidth*float64(w) && bw <= vp.maxWidth*float64(w)
	}
	var best, cur, next []int
	var bestS similarity
	for it := range max(vp.iterations, vp.maxIterations) {
		if it >= vp.iterations && len(best) >= vp.minInliers && float64(it) >= enough(len(best), len(ps)) {
			break
		}
		i, j := r.IntN(len(ps)), r.IntN(len(ps))
		if i == j {
			continue
		}
		s, ok := fit2(ps[i], ps[j])
		if !ok || !plausible(s) || !consistent(s, ps[i]) || !consistent(s, ps[j]) {
			continue
		}
		cur = inliers(s, cur)
		// Local optimisation (LO-RANSAC, Chum et al. 2003): a pose from
		// two right pairs is only as good as their keypoints' positions,
		// and at a few pixels' error over a small logo it misses most of
		// the other right pairs. A promising sample is refitted by least
		// squares on its inliers while that gains inliers, so a true
		// pose's one lucky sample is not lost to its error.
		if len(cur) >= loMinInliers && 2*len(cur) >= len(best) {
			for range 2 {
				s2 := fitLSQ(ps, cur)
				if !plausible(s2) {
					break
				}
				next = inliers(s2, next)
				if len(next) <= len(cur) {
					break
				}
				cur, next, s = next, cur, s2
			}
		}
		if len(cur) > len(best) {
			best, cur = cur, best
			bestS = s
			if len(best) > len(ps)*4/5 {
				break
			}
		}
	}
	if len(best) < vp.minInliers {
		return fitResult{}, false
	}
	// Refine on the inliers, twice, and keep the refit only if plausible.
	for range 2 {
		s := fitLSQ(ps, best)
		if !plausible(s) {
			break
		}
		next := inliers(s, nil)
		if len(next) < len(best) {
			break
		}
		best, bestS = next, s
	}
	n, wsum, inl := distinct(ps, best, &lr)
	if n < vp.minInliers || wsum < vp.minDistinct || !spread(ps, best, lr) {
		return fitResult{}, false
	}
	total, exp := expected(pts, &lr, bestS, w, h, scales)
	cov := float64(n) / float64(max(1, total))
	if cov < vp.minCoverage {
		return fitResult{}, false
	}
	return fitResult{s: bestS, inliers: n, coverage: cov, weight: wsum, evenness: evenShare(exp, inl, total, n), inlierIdx: best}, true
}

// enough is the number of RANSAC samples after which a fit with inliers
// of n pairs has, with 99% confidence, had a sample of two of its inliers
// drawn: ln 0.01 / ln(1 − w²), w = inliers/n (Fischler and Bolles 1981).
// The samples drawn past that are unlikely to find a better fit.
func enough(inliers, n int) float64 {
	w := float64(inliers) / float64(n)
	if w >= 1 {
		return 0
	}
	return math.Log(0.01) / math.Log1p(-w*w)
}

// loMinInliers is the fewest inliers of a RANSAC sample's pose that is
// refitted on them (verify's local optimisation): below, the sample is
// most likely two pairs agreeing by chance.
const loMinInliers = 5

// distinct counts the inliers with distinct listing and logo positions (on
// a 2-pixel grid): one corner seen at two pyramid levels, or a logo
// keypoint and its inverted twin, is one piece of evidence. It returns
// their number, their summed pair weight and their number per cell of lr
// (see evenShare).
func distinct(ps []pair, idx []int, lr *logoRef) (n int, weight float64, per cells) {
	seenL, seenR := map[[2]int32]bool{}, map[[2]int32]bool{}
	for _, i := range idx {
		kl := [2]int32{int32(ps[i].l.X / 2), int32(ps[i].l.Y / 2)}
		kr := [2]int32{int32(ps[i].r.X / 2), int32(ps[i].r.Y / 2)}
		if seenL[kl] || seenR[kr] {
			continue
		}
		seenL[kl], seenR[kr] = true, true
		n++
		weight += float64(ps[i].w)
		per[lr.cell(ps[i].r)]++
	}
	return n, weight, per
}

// spread says whether the inliers cover enough of the logo: a fit on a
// cluster in one corner (one letter the logo shares with the scene's own
// print) is not the logo.
func spread(ps []pair, idx []int, lr logoRef) bool {
	x0, y0, x1, y1 := float32(math.Inf(1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(-1))
	for _, i := range idx {
		p := ps[i].r
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	bw, bh := lr.x1-lr.x0, lr.y1-lr.y0
	if bw <= 0 || bh <= 0 {
		return false
	}
	sx, sy := (x1-x0)/bw, (y1-y0)/bh
	return max(sx, sy) >= 0.35 && sx*sy >= 0.03
}
