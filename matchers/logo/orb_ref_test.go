package logo

// The feature extraction as it was before it was made faster (h-logospeed),
// kept as the reference TestFeaturesMatchReference holds the fast code to:
// the same keypoints and descriptors, bit for bit.

import (
	"math"
	"math/bits"
	"slices"

	"github.com/markwatch/markwatch/matchers"
)

// resizeEnlargeRef is resize's enlarging branch as it was before enlarge
// (h-feat): every output pixel from its four source pixels.
func resizeEnlargeRef(g gray, w, h int) gray {
	out := gray{w, h, make([]uint8, w*h)}
	fx, fy := float64(g.w)/float64(w), float64(g.h)/float64(h)
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

// halfStep scales g down to w×h (a small step, as between pyramid levels)
// by bilinear interpolation in 8-bit fixed point.
func halfStepRef(g gray, w, h int) gray {
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
var circleRef = [16][2]int{
	{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
	{0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3},
}

// corner is a FAST corner of one level.
type cornerRef struct {
	x, y   int
	score  int32
	harris float32
}

// fast returns the FAST-9 corners of g with threshold t that survive 3×3
// non-maximum suppression on the FAST score, at least border pixels from
// the edges. score is scratch of g's size.
func fastRef(g gray, t int, score []int32) []cornerRef {
	w := g.w
	var off [16]int
	for i, c := range circleRef {
		off[i] = c[1]*w + c[0]
	}
	clear(score)
	var cs []cornerRef
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
			nb := b2iRef(a > hi) + b2iRef(b > hi) + b2iRef(c > hi) + b2iRef(d > hi)
			nd := b2iRef(a < lo) + b2iRef(b < lo) + b2iRef(c < lo) + b2iRef(d < lo)
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
			if arc9Ref(bright) {
				s = sb
			}
			if arc9Ref(dark) {
				s = max(s, sd)
			}
			if s > 0 {
				score[i] = s
				cs = append(cs, cornerRef{x: x, y: y, score: s})
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
func arc9Ref(m uint32) bool {
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

func b2iRef(b bool) int {
	if b {
		return 1
	}
	return 0
}

// harris is the Harris corner response at (x, y) over a 7×7 window of
// central-difference gradients (k = 0.04), ORB's ranking of FAST corners:
// FAST fires along edges too, Harris prefers true corners.
func harrisRef(g gray, x, y int) float32 {
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
func orientationRef(g gray, x, y int) float64 {
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
func integralRef(g gray, sum []uint32) []uint32 {
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
func describeRef(sum []uint32, w, x, y int, angle float64) matchers.Descriptor {
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
func extractRef(g gray, levels, maxPts, threshold int, weight func(int) float64, unit float64, padded bool) *matchers.Features {
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
			lv = halfStepRef(prev, int(math.Round(float64(g.w)/s)), int(math.Round(float64(g.h)/s)))
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
		cs := fastRef(lv, threshold, score[:lv.w*lv.h])
		// Harris on the strongest FAST corners only: its 49-pixel window
		// is the costliest step per corner.
		if len(cs) > 4*quota {
			slices.SortFunc(cs, func(a, b cornerRef) int { return int(b.score - a.score) })
			cs = cs[:4*quota]
		}
		for i := range cs {
			cs[i].harris = harrisRef(lv, cs[i].x, cs[i].y)
		}
		slices.SortStableFunc(cs, func(a, b cornerRef) int {
			switch {
			case a.harris > b.harris:
				return -1
			case a.harris < b.harris:
				return 1
			}
			return 0
		})
		cs = cs[:min(len(cs), quota)]
		sum = integralRef(lv, sum)
		for _, c := range cs {
			a := orientationRef(lv, c.x, c.y)
			f.Points = append(f.Points, matchers.Keypoint{
				X: float32(float64(c.x-off) * s * unit), Y: float32(float64(c.y-off) * s * unit),
				Angle: float32(a), Scale: float32(s * unit),
			})
			f.Desc = append(f.Desc, describeRef(sum, lv.w, c.x, c.y, a))
		}
	}
	return f
}
