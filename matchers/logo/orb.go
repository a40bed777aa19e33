package logo

import (
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/markwatch/markwatch/matchers"
)

// scaleStep is the ratio between two pyramid levels, as in ORB (1.2) but a
// little coarser: fewer levels to search in a listing image.
const scaleStep = 1.3

// patchRadius is the radius of the disc a descriptor samples and whose
// intensity centroid orients it; border keeps that disc (and the 5×5 box
// around each sample) inside the level.
const (
	patchRadius = 15
	border      = patchRadius + 4
)

// angleBins is how many steered copies of the sampling pattern are kept
// (12° apart, as ORB's lookup table).
const angleBins = 30

// pattern is the BRIEF sampling pattern: 256 point pairs (x1, y1, x2, y2)
// drawn once from an isotropic Gaussian of σ = 31/5 clipped to the disc of
// radius patchRadius-2, with a fixed seed so every process computes the
// same descriptors. steered holds it rotated to each angle bin.
var steered = func() [angleBins][256][4]int8 {
	r := rand.New(rand.NewPCG(0x6c6f676f, 0x62726965))
	var base [256][4]float64
	for i := range base {
		for j := 0; j < 4; j += 2 {
			for {
				x, y := r.NormFloat64()*31/5, r.NormFloat64()*31/5
				if x*x+y*y <= (patchRadius-2)*(patchRadius-2) {
					base[i][j], base[i][j+1] = x, y
					break
				}
			}
		}
	}
	var out [angleBins][256][4]int8
	for b := range angleBins {
		s, c := math.Sincos(float64(b) * 2 * math.Pi / angleBins)
		for i, p := range base {
			for j := 0; j < 4; j += 2 {
				x, y := p[j], p[j+1]
				out[b][i][j] = int8(math.Round(c*x - s*y))
				out[b][i][j+1] = int8(math.Round(s*x + c*y))
			}
		}
	}
	return out
}()

// umax[v] is the half-width of the orientation disc at row offset v.
var umax = func() [patchRadius + 1]int {
	var u [patchRadius + 1]int
	for v := range u {
		u[v] = int(math.Floor(math.Sqrt(float64(patchRadius*patchRadius)-float64(v*v)) + 0.5))
	}
	return u
}()

// gray is one pyramid level: 8-bit luma, row-major, stride w.
type gray struct {
	w, h int
	pix  []uint8
}

func fromImage(g *image.Gray) gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if g.Stride == w && b.Min == (image.Point{}) {
		return gray{w, h, g.Pix[:w*h]}
	}
	out := gray{w, h, make([]uint8, w*h)}
	for y := range h {
		copy(out.pix[y*w:(y+1)*w], g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):])
	}
	return out
}

// resize scales g to w×h by averaging the source pixels each target pixel
// covers (box filter), which keeps small text legible where bilinear
// sampling would alias it.
func resize(g gray, w, h int) gray {
	out := gray{w, h, make([]uint8, w*h)}
	fx, fy := float64(g.w)/float64(w), float64(g.h)/float64(h)
	if fx <= 1 && fy <= 1 {
		// Enlarging (a small logo): bilinear.
		for y := range h {
			sy := (float64(y)+0.5)*fy - 0.5
			y0 := min(max(int(math.Floor(sy)), 0), g.h-1)
			y1 := min(y0+1, g.h-1)
			ty := min(max(sy-float64(y0), 0), 1)
			for x := range w {
				sx := (float64(x)+0.5)*fx - 0.5
				x0 := min(max(int(math.Floor(sx)), 0), g.w-1)
				x1 := min(x0+1, g.w-1)
				tx := min(max(sx-float64(x0), 0), 1)
				a := float64(g.pix[y0*g.w+x0])*(1-tx) + float64(g.pix[y0*g.w+x1])*tx
				b := float64(g.pix[y1*g.w+x0])*(1-tx) + float64(g.pix[y1*g.w+x1])*tx
				out.pix[y*w+x] = uint8(a*(1-ty) + b*ty + 0.5)
			}
		}
		return out
	}
	// Horizontal pass into floats, then vertical, each a box of the
	// covered span with fractional end weights.
	tmp := make([]float32, w*g.h)
	spans := func(n, m int, f float64) ([]int, []int, [][]float32) {
		lo, hi, wts := make([]int, m), make([]int, m), make([][]float32, m)
		for i := range m {
			a, b := float64(i)*f, float64(i+1)*f
			i0, i1 := int(a), min(int(math.Ceil(b)), n)
			lo[i], hi[i] = i0, i1
			ws := make([]float32, i1-i0)
			for k := i0; k < i1; k++ {
				ws[k-i0] = float32((math.Min(b, float64(k+1)) - math.Max(a, float64(k))) / f)
			}
			wts[i] = ws
		}
		return lo, hi, wts
	}
	xl, _, xw := spans(g.w, w, fx)
	for y := range g.h {
		row := g.pix[y*g.w:]
		for x := range w {
			var s float32
			for k, wt := range xw[x] {
				s += wt * float32(row[xl[x]+k])
			}
			tmp[y*w+x] = s
		}
	}
	yl, _, yw := spans(g.h, h, fy)
	for y := range h {
		for x := range w {
			var s float32
			for k, wt := range yw[y] {
				s += wt * tmp[(yl[y]+k)*w+x]
			}
			out.pix[y*w+x] = uint8(min(s+0.5, 255))
		}
	}
	return out
}

// halfStep scales g down to w×h (a small step, as between pyramid levels)
// by bilinear interpolation in 8-bit fixed point.
func halfStep(g gray, w, h int) gray {
	out := gray{w, h, make([]uint8, w*h)}
	fx, fy := float64(g.w)/float64(w), float64(g.h)/float64(h)
	xs := make([]int32, w)
	xt := make([]int32, w)
	for x := range w {
		sx := (float64(x)+0.5)*fx - 0.5
		x0 := min(max(int(sx), 0), g.w-2)
		xs[x] = int32(x0)
		xt[x] = int32(min(max(sx-float64(x0), 0), 1) * 256)
	}
	for y := range h {
		sy := (float64(y)+0.5)*fy - 0.5
		y0 := min(max(int(sy), 0), g.h-2)
		ty := int32(min(max(sy-float64(y0), 0), 1) * 256)
		r0, r1 := g.pix[y0*g.w:], g.pix[(y0+1)*g.w:]
		row := out.pix[y*w : (y+1)*w]
		for x := range row {
			i, t := xs[x], xt[x]
			a := int32(r0[i])*(256-t) + int32(r0[i+1])*t
			b := int32(r1[i])*(256-t) + int32(r1[i+1])*t
			row[x] = uint8((a*(256-ty) + b*ty + 1<<15) >> 16)
		}
	}
	return out
}

// circle is the Bresenham circle of radius 3 FAST tests, clockwise from
// the top.
var circle = [16][2]int{
	{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
	{0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3},
}

// corner is a FAST corner of one level.
type corner struct {
	x, y   int
	score  int32
	harris float32
}

// fast returns the FAST-9 corners of g with threshold t that survive 3×3
// non-maximum suppression on the FAST score, at least border pixels from
// the edges. score is scratch of g's size.
func fast(g gray, t int, score []int32) []corner {
	w := g.w
	var off [16]int
	for i, c := range circle {
		off[i] = c[1]*w + c[0]
	}
	clear(score)
	var cs []corner
	for y := border; y < g.h-border; y++ {
		for x := border; x < w-border; x++ {
			i := y*w + x
			p := int(g.pix[i])
			hi, lo := p+t, p-t
			// An arc of 9 of the 16 holds one of any two pixels 8 apart
			// and two of the four at 90°: cheap rejections first.
			a, b := int(g.pix[i+off[0]]), int(g.pix[i+off[8]])
			if a <= hi && a >= lo && b <= hi && b >= lo {
				continue
			}
			c, d := int(g.pix[i+off[4]]), int(g.pix[i+off[12]])
			nb := b2i(a > hi) + b2i(b > hi) + b2i(c > hi) + b2i(d > hi)
			nd := b2i(a < lo) + b2i(b < lo) + b2i(c < lo) + b2i(d < lo)
			if nb < 2 && nd < 2 {
				continue
			}
			var bright, dark uint32
			var sb, sd int32
			for k := range 16 {
				v := int(g.pix[i+off[k]])
				if v > hi {
					bright |= 1 << k
					sb += int32(v - hi)
				} else if v < lo {
					dark |= 1 << k
					sd += int32(lo - v)
				}
			}
			var s int32
			if arc9(bright) {
				s = sb
			}
			if arc9(dark) {
				s = max(s, sd)
			}
			if s > 0 {
				score[i] = s
				cs = append(cs, corner{x: x, y: y, score: s})
			}
		}
	}
	// Keep local maxima (ties: the first in raster order wins).
	out := cs[:0]
	for _, c := range cs {
		i := c.y*w + c.x
		s := c.score
		if score[i-w-1] > s || score[i-w] > s || score[i-w+1] > s || score[i-1] > s ||
			score[i+1] >= s || score[i+w-1] >= s || score[i+w] >= s || score[i+w+1] >= s {
			continue
		}
		out = append(out, c)
	}
	return out
}

// arc9 reports whether the 16-bit circular mask has 9 consecutive bits.
func arc9(m uint32) bool {
	if bits.OnesCount32(m) < 9 {
		return false
	}
	m |= m << 16
	r := m
	for k := 1; k < 9; k++ {
		r &= m >> k
	}
	return r&0xffff != 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// harris is the Harris corner response at (x, y) over a 7×7 window of
// central-difference gradients (k = 0.04), ORB's ranking of FAST corners:
// FAST fires along edges too, Harris prefers true corners.
func harris(g gray, x, y int) float32 {
	w := g.w
	var sxx, syy, sxy float32
	for dy := -3; dy <= 3; dy++ {
		i := (y+dy)*w + x
		for dx := -3; dx <= 3; dx++ {
			j := i + dx
			ix := float32(int(g.pix[j+1]) - int(g.pix[j-1]))
			iy := float32(int(g.pix[j+w]) - int(g.pix[j-w]))
			sxx += ix * ix
			syy += iy * iy
			sxy += ix * iy
		}
	}
	tr := sxx + syy
	return sxx*syy - sxy*sxy - 0.04*tr*tr
}

// orientation is the angle of the intensity centroid of the disc of
// radius patchRadius around (x, y).
func orientation(g gray, x, y int) float64 {
	w := g.w
	c := y*w + x
	var m01, m10 int
	for u := -patchRadius; u <= patchRadius; u++ {
		m10 += u * int(g.pix[c+u])
	}
	for v := 1; v <= patchRadius; v++ {
		var sum int
		d := umax[v]
		for u := -d; u <= d; u++ {
			plus, minus := int(g.pix[c+u+v*w]), int(g.pix[c+u-v*w])
			sum += plus - minus
			m10 += u * (plus + minus)
		}
		m01 += v * sum
	}
	return math.Atan2(float64(m01), float64(m10))
}

// integral is the summed-area table of g, (w+1)×(h+1).
func integral(g gray, sum []uint32) []uint32 {
	w1 := g.w + 1
	sum = slices.Grow(sum[:0], w1*(g.h+1))[:w1*(g.h+1)]
	clear(sum[:w1])
	for y := range g.h {
		var row uint32
		sum[(y+1)*w1] = 0
		for x := range g.w {
			row += uint32(g.pix[y*g.w+x])
			sum[(y+1)*w1+x+1] = sum[y*w1+x+1] + row
		}
	}
	return sum
}

// describe computes the rotated BRIEF descriptor at (x, y) for angle:
// bit i is set when the 5×5 box mean at the pair's first point is below
// that at its second.
func describe(sum []uint32, w, x, y int, angle float64) matchers.Descriptor {
	w1 := w + 1
	bin := int(math.Round(angle/(2*math.Pi)*angleBins)) % angleBins
	if bin < 0 {
		bin += angleBins
	}
	box := func(px, py int) uint32 {
		x0, y0 := px-2, py-2
		return sum[(y0+5)*w1+x0+5] - sum[y0*w1+x0+5] - sum[(y0+5)*w1+x0] + sum[y0*w1+x0]
	}
	var d matchers.Descriptor
	pat := &steered[bin]
	for i := range 256 {
		p := &pat[i]
		if box(x+int(p[0]), y+int(p[1])) < box(x+int(p[2]), y+int(p[3])) {
			d[i>>6] |= 1 << (i & 63)
		}
	}
	return d
}

// extract computes the features of g over levels pyramid levels (fewer if
// the image gets smaller than a patch), at most maxPts keypoints in all,
// shared between levels in proportion to weight(level). Coordinates are
// multiplied by unit so they refer to the caller's image. With padded,
// each level is first surrounded by a border that repeats its edge, so
// that a small logo's corners near its edge still get a whole patch (a
// listing image is not padded: its edges are not a logo's).
func extract(g gray, levels, maxPts, threshold int, weight func(int) float64, unit float64, padded bool) *matchers.Features {
	f := &matchers.Features{W: int(math.Round(float64(g.w) * unit)), H: int(math.Round(float64(g.h) * unit))}
	var total float64
	n := 0
	for ; n < levels; n++ {
		s := math.Pow(scaleStep, float64(n))
		if side := float64(min(g.w, g.h)) / s; side < 2*border+8 && !padded || side < 24 {
			break
		}
		total += weight(n)
	}
	var (
		score []int32
		sum   []uint32
	)
	prev := g
	for k := range n {
		s := math.Pow(scaleStep, float64(k))
		lv := g
		if k > 0 {
			// Each level from the one before, bilinear: a step of 1.3
			// hardly aliases, and it costs a quarter of the box filter.
			lv = halfStep(prev, int(math.Round(float64(g.w)/s)), int(math.Round(float64(g.h)/s)))
		}
		prev = lv
		quota := int(math.Round(float64(maxPts) * weight(k) / total))
		if quota == 0 {
			continue
		}
		off := 0
		if padded {
			lv, off = pad(lv, border), border
		}
		if cap(score) < lv.w*lv.h {
			score = make([]int32, lv.w*lv.h)
		}
		cs := fast(lv, threshold, score[:lv.w*lv.h])
		// Harris on the strongest FAST corners only: its 49-pixel window
		// is the costliest step per corner.
		if len(cs) > 4*quota {
			slices.SortFunc(cs, func(a, b corner) int { return int(b.score - a.score) })
			cs = cs[:4*quota]
		}
		for i := range cs {
			cs[i].harris = harris(lv, cs[i].x, cs[i].y)
		}
		slices.SortStableFunc(cs, func(a, b corner) int {
			switch {
			case a.harris > b.harris:
				return -1
			case a.harris < b.harris:
				return 1
			}
			return 0
		})
		cs = cs[:min(len(cs), quota)]
		sum = integral(lv, sum)
		for _, c := range cs {
			a := orientation(lv, c.x, c.y)
			f.Points = append(f.Points, matchers.Keypoint{
				X: float32(float64(c.x-off) * s * unit), Y: float32(float64(c.y-off) * s * unit),
				Angle: float32(a), Scale: float32(s * unit),
			})
			f.Desc = append(f.Desc, describe(sum, lv.w, c.x, c.y, a))
		}
	}
	return f
}
