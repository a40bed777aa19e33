package logo

import (
	"math"
	"sync"

	"github.com/markwatch/markwatch/matchers"
)

// pyramid is a listing image's pyramid as feature extraction leaves it:
// every level's 5×5 box sums (what BRIEF compares) and sampling offsets,
// kept so that the matcher can take a descriptor anywhere once a fit gives
// a logo's pose (dense verification, see denseShare). It implements
// matchers.Pixels. Its memory (about 5 MB for an 800×800 photo with the
// enlarged level) is pooled: Release gives it back.
type pyramid struct {
	levels []pyrLevel
	// buf backs every level's box sums; offs the levels' offsets.
	buf  []uint16
	offs []*steeredOffsets
	once sync.Once
}

// pyrLevel is one kept level: box sums of a w×h plane whose pixel is
// scale pixels of the image.
type pyrLevel struct {
	scale float64
	w, h  int
	box   []uint16
	off   *steeredOffsets
}

var pyramidPool = sync.Pool{New: func() any { return new(pyramid) }}

// newPyramid takes a pyramid from the pool, empty.
func newPyramid() *pyramid {
	p := pyramidPool.Get().(*pyramid)
	p.levels = p.levels[:0]
	p.buf = p.buf[:0]
	p.once = sync.Once{}
	return p
}

// level reserves the box sums of a w×h level at scale and returns them
// (length w×h, contents undefined) with its offsets, set for w.
func (p *pyramid) level(scale float64, w, h int) ([]uint16, *steeredOffsets) {
	n := w * h
	k := len(p.levels)
	if k == len(p.offs) {
		p.offs = append(p.offs, new(steeredOffsets))
	}
	off := p.offs[k]
	off.set(w)
	// Levels are laid out one after another in buf; growing buf moves
	// the levels already there, so their slices are taken again.
	start := len(p.buf)
	if cap(p.buf) < start+n {
		nb := make([]uint16, start, max(2*cap(p.buf), start+n))
		copy(nb, p.buf)
		p.buf = nb
		at := 0
		for i := range p.levels {
			l := &p.levels[i]
			l.box = p.buf[at : at+l.w*l.h]
			at += l.w * l.h
		}
	}
	p.buf = p.buf[:start+n]
	box := p.buf[start : start+n]
	p.levels = append(p.levels, pyrLevel{scale: scale, w: w, h: h, box: box, off: off})
	return box, off
}

// Describe implements matchers.Pixels.
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

// Release implements matchers.Pixels.
func (p *pyramid) Release() {
	p.once.Do(func() {
		p.levels = p.levels[:0]
		pyramidPool.Put(p)
	})
}
