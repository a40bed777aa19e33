package logo

import (
	"math"
	"sync"

	"github.com/markwatch/markwatch/matchers"
)

// pyramid is a listing image's pyramid as feature extraction makes it:
// every level's plane and 5×5 box sums (what BRIEF compares) and
// sampling offsets, so that the matcher can take a descriptor anywhere
// once a fit gives a logo's pose (dense verification, see denseShare).
// Its pixels are made on demand, a rectangle at a time: a fit's logo
// covers a part of the photo, and a level's pixels there are made from
// the pixels of the level before that they need, with the same
// arithmetic as the whole level (the descriptors are the extraction's,
// bit for bit: TestPixelsDescribeAsExtracted, TestPyramidRowsMatchWhole).
// Dense verification of a fit on a photo checked for the first time cost
// 11 ms when every row of every level was made, 3.6 ms a band of rows at
// a time, 1.9 ms a rectangle at a time (BenchmarkDenseVerify). Its memory
// (about 7 MB laid out for an 800×800 photo with the enlarged level) is
// pooled: Release gives it back.
type pyramid struct {
	levels []pyrLevel
	bufs   *pyramidBufs
	// base is the working copy: level 0 itself, or what level 0 is
	// enlarged from (1.3 times).
	base gray
	// tmp is a row of column sums for boxRect; rowsF and rowsI the rows
	// enlargeRows and halfStepRows interpolate across.
	tmp   []uint16
	rowsF [2][]float64
	rowsI [2][]int32
}

// pyramidBufs is a pyramid's pooled memory: box backs every level's box
// sums, plane their planes, offs holds the levels' offsets.
type pyramidBufs struct {
	box   []uint16
	plane []uint8
	offs  []*steeredOffsets
}

// pyrLevel is one level: a w×h plane whose pixel is scale pixels of the
// image, and its box sums. The plane is made over the rectangle pm, the
// box sums over bm (none while empty).
type pyrLevel struct {
	scale  float64
	w, h   int
	plane  []uint8
	box    []uint16
	off    *steeredOffsets
	pm, bm rect
	// The columns' source pixels and weights (halfStep's for a level
	// after the first, enlarge's for an enlarged first level) and the
	// source rows a row.
	half       halfCols
	en         enlargeCols
	fy         float64
	sourceFull bool // level 0 is the working copy: every row made
}

var pyramidPool = sync.Pool{New: func() any { return new(pyramidBufs) }}

// growBlock is the granularity, in pixels, of what is made: a request is
// rounded out to it, so that a logo's keypoints, asked for in any order,
// extend a level's made rectangle a few dozen times rather than once a
// pixel (BenchmarkDenseVerify, whole rows: 3.4–3.7 ms at 4 or 8 rows,
// 4.1–4.9 at 16, 5.4–6.0 at 32, 6.0–6.4 at 64; rectangles: 1.9 at 4, 2.1–2.2
// at 8, 2.8–2.9 at 16: pixels made and not needed cost more than the
// extensions).
const growBlock = 4

// newPyramid lays out, over pooled memory, the pyramid Extractor.Listing
// extracts from the working plane g (unit image pixels a pixel): g
// enlarged 1.3 times first when upsample, then each level from the one
// before, as extract makes them. No row is made yet.
func newPyramid(g gray, levels int, unit float64, upsample bool) *pyramid {
	b := pyramidPool.Get().(*pyramidBufs)
	p := &pyramid{bufs: b, base: g}
	tw, th := g.w, g.h
	if upsample {
		unit /= scaleStep
		tw, th = enlargedSize(g.w, g.h)
		levels++
	}
	type dims struct{ w, h int }
	ds := make([]dims, levelCount(tw, th, levels, false))
	for k := range ds {
		ds[k].w, ds[k].h = levelSize(tw, th, k)
	}
	nb, np := 0, 0
	for k, d := range ds {
		nb += d.w * d.h
		if k > 0 || upsample {
			np += d.w * d.h
		}
	}
	if cap(b.box) < nb {
		b.box = make([]uint16, nb)
	}
	if cap(b.plane) < np {
		b.plane = make([]uint8, np)
	}
	b.box, b.plane = b.box[:nb], b.plane[:np]
	for len(b.offs) < len(ds) {
		b.offs = append(b.offs, new(steeredOffsets))
	}
	atB, atP := 0, 0
	p.levels = make([]pyrLevel, len(ds))
	for k, d := range ds {
		l := &p.levels[k]
		l.scale, l.w, l.h = math.Pow(scaleStep, float64(k))*unit, d.w, d.h
		l.box = b.box[atB : atB+d.w*d.h]
		atB += d.w * d.h
		l.off = b.offs[k]
		l.off.set(d.w)
		if k == 0 && !upsample {
			l.plane, l.pm, l.sourceFull = g.pix, rect{0, 0, d.w, d.h}, true
			continue
		}
		l.plane = b.plane[atP : atP+d.w*d.h]
		atP += d.w * d.h
		src := g
		if k > 0 {
			src = gray{w: ds[k-1].w, h: ds[k-1].h}
		}
		fx := float64(src.w) / float64(d.w)
		l.fy = float64(src.h) / float64(d.h)
		if k == 0 {
			l.en = newEnlargeCols(src.w, d.w, fx)
			continue
		}
		l.half = newHalfCols(src.w, d.w, fx)
	}
	return p
}

// rect is the pixels [x0, x1) × [y0, y1) of a level (empty when x0 ≥ x1
// or y0 ≥ y1).
type rect struct{ x0, y0, x1, y1 int }

func (r rect) empty() bool { return r.x0 >= r.x1 || r.y0 >= r.y1 }

func (r rect) contains(q rect) bool {
	return !r.empty() && q.x0 >= r.x0 && q.y0 >= r.y0 && q.x1 <= r.x1 && q.y1 <= r.y1
}

// grow returns the parts (at most 4) of the rectangle made once q,
// rounded out to growBlock and clipped to lim, is added to the made
// rectangle r, and that rectangle: r and q's bounding box (what lies
// between them is made too, so that a level's made pixels stay one
// rectangle).
func grow(r, q, lim rect) (parts [4]rect, n int, u rect) {
	q = rect{max(q.x0/growBlock*growBlock, lim.x0), max(q.y0/growBlock*growBlock, lim.y0),
		min((q.x1+growBlock-1)/growBlock*growBlock, lim.x1), min((q.y1+growBlock-1)/growBlock*growBlock, lim.y1)}
	if q.empty() || r.contains(q) {
		return parts, 0, r
	}
	if r.empty() {
		parts[0] = q
		return parts, 1, q
	}
	u = rect{min(r.x0, q.x0), min(r.y0, q.y0), max(r.x1, q.x1), max(r.y1, q.y1)}
	for _, p := range [4]rect{
		{u.x0, u.y0, u.x1, r.y0}, // above r
		{u.x0, r.y1, u.x1, u.y1}, // below
		{u.x0, r.y0, r.x0, r.y1}, // left of r
		{r.x1, r.y0, u.x1, r.y1}, // right
	} {
		if !p.empty() {
			parts[n] = p
			n++
		}
	}
	return parts, n, u
}

// planeRect makes level k's plane over q.
func (p *pyramid) planeRect(k int, q rect) {
	l := &p.levels[k]
	if l.sourceFull {
		return
	}
	parts, n, u := grow(l.pm, q, rect{0, 0, l.w, l.h})
	for _, r := range parts[:n] {
		if k == 0 {
			enlargeRows(p.base, gray{l.w, l.h, l.plane}, &l.en, l.fy, r.y0, r.y1, r.x0, r.x1, &p.rowsF)
			continue
		}
		src := &p.levels[k-1]
		p.planeRect(k-1, rect{int(l.half.xs[r.x0]), halfStepSource(r.y0, l.fy, src.h), int(l.half.xs[r.x1-1]) + 2, halfStepSource(r.y1-1, l.fy, src.h) + 2})
		halfStepRows(gray{src.w, src.h, src.plane}, gray{l.w, l.h, l.plane}, &l.half, l.fy, r.y0, r.y1, r.x0, r.x1, &p.rowsI)
	}
	l.pm = u
}

// boxRect makes level k's box sums over q (pixels within 2 of an edge
// hold no sum and are not made).
func (p *pyramid) boxRect(k int, q rect) {
	l := &p.levels[k]
	parts, n, u := grow(l.bm, q, rect{2, 2, l.w - 2, l.h - 2})
	if n == 0 {
		return
	}
	p.planeRect(k, rect{u.x0 - 2, u.y0 - 2, u.x1 + 2, u.y1 + 2})
	if cap(p.tmp) < l.w {
		p.tmp = make([]uint16, l.w)
	}
	w := l.w
	for _, r := range parts[:n] {
		// Column sums of 5 rows over the part's columns and 2 each
		// side, then a running sum of 5 of them: the same integer sums
		// as boxSums.
		col := p.tmp[:r.x1-r.x0+4]
		for y := r.y0; y < r.y1; y++ {
			at := r.x0 - 2
			r0, r1, r2, r3, r4 := l.plane[(y-2)*w+at:][:len(col)], l.plane[(y-1)*w+at:][:len(col)], l.plane[y*w+at:][:len(col)], l.plane[(y+1)*w+at:][:len(col)], l.plane[(y+2)*w+at:][:len(col)]
			for x := range col {
				col[x] = uint16(r0[x]) + uint16(r1[x]) + uint16(r2[x]) + uint16(r3[x]) + uint16(r4[x])
			}
			out := l.box[y*w+r.x0:][:r.x1-r.x0]
			sum := col[0] + col[1] + col[2] + col[3] + col[4]
			out[0] = sum
			o := out[1:]
			in, gone := col[5:][:len(o)], col[:len(o)]
			for x := range o {
				sum += in[x] - gone[x]
				o[x] = sum
			}
		}
	}
	l.bm = u
}

// nearest is the level nearest scale, -1 when none is within a factor
// of 1.4 of it.
func (p *pyramid) nearest(scale float64) int {
	best, bd := -1, math.Log(1.4)
	for i, l := range p.levels {
		if d := math.Abs(math.Log(scale / l.scale)); d < bd {
			best, bd = i, d
		}
	}
	return best
}

// DescribeMapped is pixels.DescribeMapped: the level nearest the map's
// scale, its box sums about (x, y) made if they are not yet, each of the
// pattern's samples read between its four nearest sums (bilinear). The
// box stays 5×5 pixels of that level, within a factor of 1.14 of the
// reference's 5×5 mapped (the levels are 1.3 apart), as extraction has
// it.
func (p *pyramid) DescribeMapped(x, y float64, m [4]float64, angle float64) (matchers.Descriptor, bool) {
	best := p.nearest(math.Sqrt(math.Abs(m[0]*m[3] - m[1]*m[2])))
	if best < 0 {
		return matchers.Descriptor{}, false
	}
	l := &p.levels[best]
	// In fixed point: the centre in 1/256 of a pixel, the map in
	// 1/65536, far finer than any pose places a logo. A level's own map
	// at one of its pixels then samples the sums themselves, not an
	// interpolation a rounding error away from them that would break
	// the pattern's ties (equal sums) the other way.
	k := 1 / l.scale
	f00, f01, f10, f11 := m[0]*k, m[1]*k, m[2]*k, m[3]*k
	cx, cy := math.Round(x*k*256)/256, math.Round(y*k*256)/256
	// The pattern's offsets lie within patchRadius-1 of its centre
	// (radius patchRadius-2, rounded when steered); a sample reads the
	// sums one pixel right and down of it. Checked in floating point, so
	// that NaN and infinite places and maps fail it, and a map that
	// passes fits the fixed point below.
	reach := float64(patchRadius-1)*math.Max(math.Hypot(f00, f10), math.Hypot(f01, f11)) + 1
	if !(reach <= reachPad-2 && cx-reach >= 2 && cy-reach >= 2 && cx+reach+2 <= float64(l.w-2) && cy+reach+2 <= float64(l.h-2)) {
		return matchers.Descriptor{}, false
	}
	q := rect{int(math.Floor(cx - reach)), int(math.Floor(cy - reach)), int(math.Floor(cx+reach)) + 2, int(math.Floor(cy+reach)) + 2}
	if !l.bm.contains(q) {
		p.boxRect(best, q)
	}
	// In fixed point: the centre in 1/256 of a pixel (above), the map in
	// 1/65536, far finer than any pose places a logo. A level's own map
	// at one of its pixels then samples the sums themselves, not an
	// interpolation a rounding error away from them that would break
	// the pattern's ties (equal sums) the other way.
	fixed := func(v float64) int32 { return int32(math.Round(v * 65536)) }
	a00, a01, a10, a11 := fixed(f00), fixed(f01), fixed(f10), fixed(f11)
	// Each sample's position in 1/256 pixel from reachPad pixels up and
	// left of the centre's pixel (so never negative): its pixel and the
	// weights of the next; the sums interpolated in 8.8 fixed point each
	// way (at most 25×255×2¹⁶, within 31 bits).
	x0, y0 := int(math.Floor(cx)), int(math.Floor(cy))
	fx := int32((cx-float64(x0))*256) + reachPad*256
	fy := int32((cy-float64(y0))*256) + reachPad*256
	origin := (y0-reachPad)*l.w + x0 - reachPad
	w := l.w
	box := l.box
	sample := func(u, v int8) int32 {
		px := fx + (a00*int32(u)+a01*int32(v)+128)>>8
		py := fy + (a10*int32(u)+a11*int32(v)+128)>>8
		tx, ty := px&255, py&255
		i := origin + int(py>>8)*w + int(px>>8)
		b0, b1, b2, b3 := int32(box[i]), int32(box[i+1]), int32(box[i+w]), int32(box[i+w+1])
		top := b0<<8 + (b1-b0)*tx
		bottom := b2<<8 + (b3-b2)*tx
		return top<<8 + (bottom-top)*ty
	}
	var d matchers.Descriptor
	pat := &steered[angleBin(angle)]
	for j := range 4 {
		var word uint64
		for i, pp := range pat[j*64 : j*64+64] {
			if sample(pp[0], pp[1]) < sample(pp[2], pp[3]) {
				word |= 1 << i
			}
		}
		d[j] = word
	}
	return d, true
}

// reachPad shifts DescribeMapped's sample positions to be positive
// before their whole part is taken (int truncates toward zero): more
// than any offset reaches below the centre's pixel.
const reachPad = 4 * patchRadius

// Release gives the pooled memory back; DescribeMapped finds no level after
// it. Called again, it does nothing.
func (p *pyramid) Release() {
	if p.bufs != nil {
		pyramidPool.Put(p.bufs)
		p.bufs, p.levels = nil, nil
	}
}

// pixels is what a listing image's features keep for dense verification
// (matchers.Pixels): a copy of the extraction's working plane, from
// which the pyramid's levels are made, as the extraction made them, on
// the first DescribeMapped and a rectangle at a time after (see pyramid). Most
// photos have no fit to check, and for those the features keep 1 byte a
// pixel of the image instead of 3 a pixel of every level, and nothing is
// computed. DescribeMapped is for one goroutine at a time (the matcher checks
// an image's fits in turn).
type pixels struct {
	work     gray
	unit     float64
	levels   int
	upsample bool
	built    *pyramid
	released bool
}

// DescribeMapped implements matchers.Pixels.
func (p *pixels) DescribeMapped(x, y float64, m [4]float64, angle float64) (matchers.Descriptor, bool) {
	if p.released {
		return matchers.Descriptor{}, false
	}
	if p.built == nil {
		p.built = newPyramid(p.work, p.levels, p.unit, p.upsample)
	}
	return p.built.DescribeMapped(x, y, m, angle)
}

// Release implements matchers.Pixels.
func (p *pixels) Release() {
	if p.released {
		return
	}
	p.released = true
	if p.built != nil {
		p.built.Release()
		p.built = nil
	}
	p.work = gray{}
}
