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
// Its rows are made on demand, a band of rows at a time: a fit's logo
// covers a band of the photo, and the rows of a level's band are made
// from the rows of the level before that they need, with the same
// arithmetic as the whole level (the descriptors are the extraction's,
// bit for bit: TestPixelsDescribeAsExtracted,
// TestPyramidRowsMatchWhole). Dense verification of a fit on a photo
// checked for the first time cost 11 ms when every row of every level
// was made, 3.6 ms a band at a time (BenchmarkDenseVerify). Its memory (about 7 MB for an 800×800 photo with the enlarged
// level) is pooled: Release gives it back.
type pyramid struct {
	levels []pyrLevel
	bufs   *pyramidBufs
	// base is the plane level 0 is made from when upsample (the
	// working copy, enlarged 1.3 times into level 0); level 0 is the
	// working copy itself otherwise.
	base     gray
	upsample bool
	// tmp is a row of column sums for boxRows; rowsF and rowsI the rows
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
// image, and its box sums. Plane rows [pLo, pHi) and box rows [bLo, bHi)
// are made (none while lo == hi).
type pyrLevel struct {
	scale    float64
	w, h     int
	plane    []uint8
	box      []uint16
	off      *steeredOffsets
	pLo, pHi int
	bLo, bHi int
	// The columns' source pixels and weights (halfStep's for a level
	// after the first, enlarge's for an enlarged first level) and the
	// source rows a row.
	half       halfCols
	en         enlargeCols
	fy         float64
	sourceFull bool // level 0 is the working copy: every row made
}

var pyramidPool = sync.Pool{New: func() any { return new(pyramidBufs) }}

// rowBlock is the granularity, in rows, of the bands made: a request is
// rounded out to it, so that a logo's keypoints, asked for in any order,
// extend a level's band a few dozen times rather than once a row
// (BenchmarkDenseVerify: 3.4–3.7 ms at 4 or 8 rows, 4.1–4.9 at 16,
// 5.4–6.0 at 32, 6.0–6.4 at 64: rows made and not needed cost more than
// the extensions).
const rowBlock = 8

// newPyramid lays out, over pooled memory, the pyramid Extractor.Listing
// extracts from the working plane g (unit image pixels a pixel): g
// enlarged 1.3 times first when upsample, then each level from the one
// before, as extract makes them. No row is made yet.
func newPyramid(g gray, levels int, unit float64, upsample bool) *pyramid {
	b := pyramidPool.Get().(*pyramidBufs)
	p := &pyramid{bufs: b, base: g, upsample: upsample}
	top := g
	if upsample {
		unit /= scaleStep
		top = gray{w: int(math.Round(float64(g.w) * scaleStep)), h: int(math.Round(float64(g.h) * scaleStep))}
		levels++
	}
	type dims struct{ w, h int }
	var ds []dims
	for k := range levels {
		s := math.Pow(scaleStep, float64(k))
		if side := float64(min(top.w, top.h)) / s; side < 2*border+8 {
			break
		}
		if k == 0 {
			ds = append(ds, dims{top.w, top.h})
			continue
		}
		ds = append(ds, dims{int(math.Round(float64(top.w) / s)), int(math.Round(float64(top.h) / s))})
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
		switch {
		case k == 0 && !upsample:
			l.plane, l.pLo, l.pHi, l.sourceFull = g.pix, 0, d.h, true
			continue
		default:
			l.plane = b.plane[atP : atP+d.w*d.h]
			atP += d.w * d.h
		}
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

// band returns the rows of [a, b) not yet in [lo, hi) once [a, b) is
// rounded out to rowBlock and clipped to [0, h), as at most two strips,
// and the band made then.
func band(a, b, lo, hi, h int) (strips [2][2]int, n, newLo, newHi int) {
	a = max(a/rowBlock*rowBlock, 0)
	b = min((b+rowBlock-1)/rowBlock*rowBlock, h)
	if a >= b {
		return strips, 0, lo, hi
	}
	if lo >= hi {
		strips[0] = [2]int{a, b}
		return strips, 1, a, b
	}
	if a >= lo && b <= hi {
		return strips, 0, lo, hi
	}
	// The band stays one run of rows: what lies between is made too.
	newLo, newHi = min(a, lo), max(b, hi)
	if newLo < lo {
		strips[n] = [2]int{newLo, lo}
		n++
	}
	if newHi > hi {
		strips[n] = [2]int{hi, newHi}
		n++
	}
	return strips, n, newLo, newHi
}

// planeRows makes rows [a, b) of level k's plane.
func (p *pyramid) planeRows(k, a, b int) {
	l := &p.levels[k]
	if l.sourceFull {
		return
	}
	strips, n, lo, hi := band(a, b, l.pLo, l.pHi, l.h)
	for _, s := range strips[:n] {
		if k == 0 {
			enlargeRows(p.base, gray{l.w, l.h, l.plane}, &l.en, l.fy, s[0], s[1], &p.rowsF)
			continue
		}
		src := &p.levels[k-1]
		p.planeRows(k-1, halfStepSource(s[0], l.fy, src.h), halfStepSource(s[1]-1, l.fy, src.h)+2)
		halfStepRows(gray{src.w, src.h, src.plane}, gray{l.w, l.h, l.plane}, &l.half, l.fy, s[0], s[1], &p.rowsI)
	}
	l.pLo, l.pHi = lo, hi
}

// boxRows makes rows [a, b) of level k's box sums (rows within 2 of an
// edge hold no sum and are not made).
func (p *pyramid) boxRows(k, a, b int) {
	l := &p.levels[k]
	strips, n, lo, hi := band(a, b, l.bLo, l.bHi, l.h)
	if n == 0 {
		return
	}
	p.planeRows(k, lo-2, hi+2)
	if cap(p.tmp) < l.w {
		p.tmp = make([]uint16, l.w)
	}
	col := p.tmp[:l.w]
	w := l.w
	for _, s := range strips[:n] {
		for y := max(s[0], 2); y < min(s[1], l.h-2); y++ {
			// Column sums of 5 rows, then a running sum of 5 of them:
			// the same integer sums as boxSums.
			r0, r1, r2, r3, r4 := l.plane[(y-2)*w:][:w], l.plane[(y-1)*w:][:w], l.plane[y*w:][:w], l.plane[(y+1)*w:][:w], l.plane[(y+2)*w:][:w]
			for x := range col {
				col[x] = uint16(r0[x]) + uint16(r1[x]) + uint16(r2[x]) + uint16(r3[x]) + uint16(r4[x])
			}
			out := l.box[y*w:][:w]
			out[0], out[1], out[w-2], out[w-1] = 0, 0, 0, 0
			sum := col[0] + col[1] + col[2] + col[3] + col[4]
			out[2] = sum
			o := out[3 : w-2]
			in, gone := col[5:][:len(o)], col[:len(o)]
			for x := range o {
				sum += in[x] - gone[x]
				o[x] = sum
			}
		}
	}
	l.bLo, l.bHi = lo, hi
}

// Describe is pixels.Describe: the level nearest scale, its box rows
// about y made if they are not yet.
func (p *pyramid) Describe(x, y, scale, angle float64) (matchers.Descriptor, bool) {
	best, bd := -1, math.Log(1.4)
	for i, l := range p.levels {
		if d := math.Abs(math.Log(scale / l.scale)); d < bd {
			best, bd = i, d
		}
	}
	if best < 0 {
		return matchers.Descriptor{}, false
	}
	l := &p.levels[best]
	lx, ly := int(math.Round(x/l.scale)), int(math.Round(y/l.scale))
	if lx < border || ly < border || lx >= l.w-border || ly >= l.h-border {
		return matchers.Descriptor{}, false
	}
	if ly-border < l.bLo || ly+border >= l.bHi {
		p.boxRows(best, ly-border, ly+border+1)
	}
	return describe(l.box, l.off, ly*l.w+lx, angle), true
}

// Release gives the pooled memory back; Describe finds no level after
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
// the first Describe and row band by row band after (see pyramid). Most
// photos have no fit to check, and for those the features keep 1 byte a
// pixel of the image instead of 3 a pixel of every level, and nothing is
// computed. Describe is for one goroutine at a time (the matcher checks
// an image's fits in turn).
type pixels struct {
	work     gray
	unit     float64
	levels   int
	upsample bool
	built    *pyramid
	released bool
}

// Describe implements matchers.Pixels.
func (p *pixels) Describe(x, y, scale, angle float64) (matchers.Descriptor, bool) {
	if p.released {
		return matchers.Descriptor{}, false
	}
	if p.built == nil {
		p.built = newPyramid(p.work, p.levels, p.unit, p.upsample)
	}
	return p.built.Describe(x, y, scale, angle)
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
