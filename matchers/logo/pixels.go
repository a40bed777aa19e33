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
	bufs   *pyramidBufs
	once   sync.Once
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
// already cannot give back memory another image now uses.
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

// Release implements matchers.Pixels. Describe finds no level after it.
func (p *pyramid) Release() {
	p.once.Do(func() {
		p.levels = nil
		pyramidPool.Put(p.bufs)
		p.bufs = nil
	})
}
