package logo

import (
	"math"
	"sync"

	"github.com/markwatch/markwatch/matchers"
)

// pyramid is a listing image's pyramid as feature extraction makes it:
// every level's 5×5 box sums (what BRIEF compares) and sampling offsets,
// built (see pixels) so that the matcher can take a descriptor anywhere
// once a fit gives a logo's pose (dense verification, see denseShare).
// Its memory (about 5 MB for an 800×800 photo with the enlarged level) is
// pooled: Release gives it back.
type pyramid struct {
	levels []pyrLevel
	bufs   *pyramidBufs
}

// pyramidBufs is a pyramid's pooled memory: buf backs every level's box
// sums, offs holds the levels' offsets.
type pyramidBufs struct {
	buf  []uint16
	offs []*steeredOffsets
}

// pyrLevel is one kept level: box sums of a w×h plane whose pixel is
// scale pixels of the image.
type pyrLevel struct {
	scale float64
	w, h  int
	box   []uint16
	off   *steeredOffsets
}

var pyramidPool = sync.Pool{New: func() any { return new(pyramidBufs) }}

// newPyramid returns an empty pyramid over pooled memory. Each image
// gets its own pyramid value, so a Release of one that was released
// already cannot give back memory another image now uses (pixels
// releases its pyramid once).
func newPyramid() *pyramid {
	b := pyramidPool.Get().(*pyramidBufs)
	b.buf = b.buf[:0]
	return &pyramid{bufs: b}
}

// level reserves the box sums of a w×h level at scale and returns them
// (length w×h, contents undefined) with its offsets, set for w.
func (p *pyramid) level(scale float64, w, h int) ([]uint16, *steeredOffsets) {
	b := p.bufs
	n := w * h
	k := len(p.levels)
	if k == len(b.offs) {
		b.offs = append(b.offs, new(steeredOffsets))
	}
	off := b.offs[k]
	off.set(w)
	// Levels are laid out one after another in buf; growing buf moves
	// the levels already there, so their slices are taken again.
	start := len(b.buf)
	if cap(b.buf) < start+n {
		nb := make([]uint16, start, max(2*cap(b.buf), start+n))
		copy(nb, b.buf)
		b.buf = nb
		at := 0
		for i := range p.levels {
			l := &p.levels[i]
			l.box = b.buf[at : at+l.w*l.h]
			at += l.w * l.h
		}
	}
	b.buf = b.buf[:start+n]
	box := b.buf[start : start+n]
	p.levels = append(p.levels, pyrLevel{scale: scale, w: w, h: h, box: box, off: off})
	return box, off
}

// Describe is pixels.Describe once the pyramid is built.
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
// which the pyramid's box sums are built, as the extraction built its
// levels, on the first Describe. Most photos have no fit to check, and
// for those the features keep 1 byte a pixel of the image instead of 2
// a pixel of every level, and nothing is computed. Describe is for one
// goroutine at a time (the matcher checks an image's fits in turn).
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
		p.built = buildPyramid(p.work, p.levels, p.unit, p.upsample)
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

// buildPyramid computes the box sums of the pyramid Extractor.Listing
// extracts from the working plane g (unit image pixels a pixel): the
// plane enlarged 1.3 times first when upsample, then each level from the
// one before, as extract makes them, so that a descriptor taken from it
// at a keypoint is the one extracted there.
func buildPyramid(g gray, levels int, unit float64, upsample bool) *pyramid {
	p := newPyramid()
	if upsample {
		unit /= scaleStep
		up, buf := enlarged(g)
		defer enlargedPool.Put(buf)
		g = up
		levels++
	}
	sc := orbPool.Get().(*orbScratch)
	defer orbPool.Put(sc)
	prev := g
	for k := range levels {
		s := math.Pow(scaleStep, float64(k))
		if side := float64(min(g.w, g.h)) / s; side < 2*border+8 {
			break
		}
		lv := g
		if k > 0 {
			lv = halfStep(prev, int(math.Round(float64(g.w)/s)), int(math.Round(float64(g.h)/s)), sc.level[k&1])
			sc.level[k&1] = lv.pix[:cap(lv.pix)]
		}
		prev = lv
		box, _ := p.level(s*unit, lv.w, lv.h)
		_, sc.tmp = boxSums(lv, box, sc.tmp)
	}
	return p
}
