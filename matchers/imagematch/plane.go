package imagematch

import (
	"image"
	"image/color"
	"sync"

	"github.com/markwatch/markwatch/matchers/imagematch/internal/jpegdc"
)

// workSide caps the side of the working plane. The hash sees the image
// through a 64×64 grid, but a trimmed region may be a small part of the
// image (a logo on a large canvas) whose edges must still be found to a few
// percent of its own size; 512 cells per side allow that while every later
// step stays cheap.
const workSide = 512

// plane is a brightness image: pix[y*w+x] in [0, 255], every cell covering
// the same share of the source image. Coordinates in rect are normalized to
// [0, 1] so that the same region means the same thing at any resolution;
// imgW and imgH are the source's size in pixels, for aspect ratios (cells
// need not be square: each side is capped separately).
type plane struct {
	w, h       int
	pix        []float32
	imgW, imgH int
	// pooled says pix came from floatPool (see release).
	pooled bool
	// lines remembers the verdict on each line segment trimming judged:
	// the whole image and its six bands share most of their lines. A
	// plane belongs to one hashing call, so no lock.
	lines map[lineKey]lineVerdict
}

// lineKey names a row (or column, when col) i restricted to cells [a, b).
type lineKey struct {
	col     bool
	i, a, b int
}

// lineVerdict is uniformMedian's answer on a line.
type lineVerdict struct {
	uniform bool
	median  float32
}

// rect is a region [x0, x1) × [y0, y1) of an image in normalized coordinates.
type rect struct{ x0, y0, x1, y1 float64 }

var fullRect = rect{0, 0, 1, 1}

// axis holds the weights of an area-average resampling along one axis:
// output cell j is the sum over k in [off[j], off[j+1]) of wt[k]·src[idx[k]];
// cover[j] is the share of output cell j that source cells cover.
type axis struct {
	off   []int
	idx   []int
	wt    []float32
	cover []float32
}

// newAxis computes the area weights that map source cells with the given
// edges (normalized, ascending, len = cells+1) onto n equal output cells
// spanning [a, b). Only source area inside [lo, hi) counts; the rest of an
// output cell is left for the caller to fill. Area averaging is exact for
// any scale factor, so the plane of a JPEG's DC coefficients and the plane
// of its full decode agree.
func newAxis(edges []float64, a, b float64, n int, clipLo, clipHi float64) axis {
	ax := axis{off: make([]int, n+1), cover: make([]float32, n)}
	k := 0
	for j := range n {
		lo := a + (b-a)*float64(j)/float64(n)
		hi := a + (b-a)*float64(j+1)/float64(n)
		// lo only grows with j, so the first overlapping cell only moves right.
		for k < len(edges)-2 && edges[k+1] <= lo {
			k++
		}
		var sum float64
		for i := k; i < len(edges)-1 && edges[i] < hi; i++ {
			ov := min(hi, edges[i+1], clipHi) - max(lo, edges[i], clipLo)
			if ov <= 0 {
				continue
			}
			ax.idx = append(ax.idx, i)
			ax.wt = append(ax.wt, float32(ov/(hi-lo)))
			sum += ov
		}
		ax.cover[j] = float32(sum / (hi - lo))
		ax.off[j+1] = len(ax.idx)
	}
	return ax
}

func (ax *axis) apply(dst []float32, src []float32) {
	for j := range dst {
		var s float32
		for k := ax.off[j]; k < ax.off[j+1]; k++ {
			s += ax.wt[k] * src[ax.idx[k]]
		}
		dst[j] = s
	}
}

// needs reports whether source index i contributes to any output cell.
func (ax *axis) needs(i int) bool {
	// idx is ascending over the whole axis, so a bounds check suffices.
	return len(ax.idx) > 0 && i >= ax.idx[0] && i <= ax.idx[len(ax.idx)-1]
}

// uniformEdges returns the edges of n equal cells.
func uniformEdges(n int) []float64 {
	e := make([]float64, n+1)
	for i := range e {
		e[i] = float64(i) / float64(n)
	}
	return e
}

// resampler streams source rows through the horizontal pass and then runs
// the vertical pass, so that a large image never needs a full-size float
// plane: memory is one source row plus outW × source height.
type resampler struct {
	xs, ys     axis
	outW, outH int
	tmp        []float32 // outW × source rows
	bg         float32
}

// newResampler maps region r of a source with the given cell edges onto an
// outW × outH grid. Source area outside clip counts as brightness bg.
func newResampler(xEdges, yEdges []float64, r, clip rect, bg float32, outW, outH int) *resampler {
	return &resampler{
		xs:   newAxis(xEdges, r.x0, r.x1, outW, clip.x0, clip.x1),
		ys:   newAxis(yEdges, r.y0, r.y1, outH, clip.y0, clip.y1),
		outW: outW, outH: outH,
		tmp: getFloats(outW * (len(yEdges) - 1)),
		bg:  bg,
	}
}

// floatPool holds resamplers' row buffers between images: an 800×800
// image hashed from its full decode needs 1.6 MB of them to make its
// plane and 128 KB for each of its dozen regions, which was a third of
// what hashing it allocated. Buffers are handed out dirty: a resampler
// reads only the rows it was fed.
var floatPool sync.Pool // of *[]float32

// maxPooledFloats caps the buffers kept (4 MiB): a rare large image's
// buffer is left to the collector rather than held.
const maxPooledFloats = 1 << 20

// getFloats returns a buffer of n floats, of unspecified contents.
func getFloats(n int) []float32 {
	if b, ok := floatPool.Get().(*[]float32); ok {
		if cap(*b) >= n {
			return (*b)[:n]
		}
		floatPool.Put(b)
	}
	return make([]float32, n)
}

// release gives the plane's cells back to the pool when they came from
// it. The plane cannot be used after; a plane never released is left to
// the collector, as before the pool.
func (p *plane) release() {
	if p.pooled {
		putFloats(p.pix)
		p.pix, p.pooled = nil, false
	}
}

// putFloats gives b back to the pool; b must not be used after.
func putFloats(b []float32) {
	if cap(b) <= maxPooledFloats {
		floatPool.Put(&b)
	}
}

// row feeds source row y.
func (rs *resampler) row(y int, src []float32) {
	rs.xs.apply(rs.tmp[y*rs.outW:(y+1)*rs.outW], src)
}

// finish runs the vertical pass into dst (outW × outH), filling what the
// source does not cover with the background. The resampler cannot be used
// after it.
func (rs *resampler) finish(dst []float32) {
	for j := range rs.outH {
		out := dst[j*rs.outW : (j+1)*rs.outW]
		clear(out)
		for k := rs.ys.off[j]; k < rs.ys.off[j+1]; k++ {
			w, src := rs.ys.wt[k], rs.tmp[rs.ys.idx[k]*rs.outW:]
			for x := range out {
				out[x] += w * src[x]
			}
		}
		for x := range out {
			if c := rs.xs.cover[x] * rs.ys.cover[j]; c < 1 {
				out[x] += rs.bg * (1 - c)
			}
		}
	}
	putFloats(rs.tmp)
	rs.tmp = nil
}

// workSize is the working plane's size for a source of w × h cells.
func workSize(w, h int) (int, int) { return min(w, workSide), min(h, workSide) }

// planeFromDC builds the working plane from a JPEG's DC plane. The plane
// is taken to cover whole blocks: the last column and row of blocks may
// reach up to 7 pixels past the image, into padding that encoders fill by
// repeating the edge, which shifts nothing by more than a block. Mapping
// the blocks onto the image's exact width instead would blend neighbouring
// blocks all across the plane and turn every sharp border into a ramp.
func planeFromDC(dc *jpegdc.Plane) *plane {
	p := &plane{w: dc.W, h: dc.H, pix: dc.Pix, imgW: 8 * dc.W, imgH: 8 * dc.H}
	if dc.W <= workSide && dc.H <= workSide {
		return p
	}
	ww, wh := workSize(dc.W, dc.H)
	rs := newResampler(uniformEdges(dc.W), uniformEdges(dc.H), fullRect, fullRect, 0, ww, wh)
	for y := range dc.H {
		rs.row(y, dc.Pix[y*dc.W:(y+1)*dc.W])
	}
	p.w, p.h, p.pix, p.pooled = ww, wh, getFloats(ww*wh), true
	rs.finish(p.pix)
	return p
}

// Luma weights of ITU-R BT.601, the Y of JPEG's YCbCr, so that decoded RGB
// images and JPEG luma planes give the same brightness.
const (
	lumR = 0.299
	lumG = 0.587
	lumB = 0.114
)

// Grounds a transparent image is composited on, as brightness.
const (
	white float32 = 255
	black float32 = 0
)

// planeFromImage converts a decoded image to the working plane, its
// transparent pixels composited on ground (white as a marketplace page
// shows them; black for the second look at a reference logo).
func planeFromImage(img image.Image, ground float32) *plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ww, wh := workSize(w, h)
	rs := newResampler(uniformEdges(w), uniformEdges(h), fullRect, fullRect, 0, ww, wh)
	row := make([]float32, w)
	var palette []float32
	if pm, ok := img.(*image.Paletted); ok {
		palette = make([]float32, len(pm.Palette))
		for i, c := range pm.Palette {
			palette[i] = lumaOf(c, ground)
		}
	}
	for y := range h {
		sy := b.Min.Y + y
		switch m := img.(type) {
		case *image.YCbCr:
			off := m.YOffset(b.Min.X, sy)
			for x := range row {
				row[x] = float32(m.Y[off+x])
			}
		case *image.NYCbCrA:
			yo, ao := m.YOffset(b.Min.X, sy), m.AOffset(b.Min.X, sy)
			for x := range row {
				a := float32(m.A[ao+x])
				row[x] = (float32(m.Y[yo+x])*a + ground*(255-a)) / 255
			}
		case *image.Gray:
			off := m.PixOffset(b.Min.X, sy)
			for x := range row {
				row[x] = float32(m.Pix[off+x])
			}
		case *image.RGBA:
			pix := m.Pix[m.PixOffset(b.Min.X, sy):]
			for x := range row {
				p := pix[4*x : 4*x+4 : 4*x+4]
				// Premultiplied: over the ground adds ground·(1 - a) to
				// each channel, and the luma weights sum to 1.
				back := ground * (255 - float32(p[3])) / 255
				row[x] = lumR*float32(p[0]) + lumG*float32(p[1]) + lumB*float32(p[2]) + back
			}
		case *image.NRGBA:
			pix := m.Pix[m.PixOffset(b.Min.X, sy):]
			for x := range row {
				p := pix[4*x : 4*x+4 : 4*x+4]
				a := float32(p[3])
				l := lumR*float32(p[0]) + lumG*float32(p[1]) + lumB*float32(p[2])
				row[x] = (l*a + ground*(255-a)) / 255
			}
		case *image.Gray16:
			pix := m.Pix[m.PixOffset(b.Min.X, sy):]
			for x := range row {
				row[x] = float32(pix[2*x]) + float32(pix[2*x+1])/256
			}
		case *image.RGBA64:
			pix := m.Pix[m.PixOffset(b.Min.X, sy):]
			for x := range row {
				p := pix[8*x : 8*x+8 : 8*x+8]
				back := ground * (255 - float32(p[6])) / 255 // premultiplied, as RGBA
				row[x] = lumR*float32(p[0]) + lumG*float32(p[2]) + lumB*float32(p[4]) + back
			}
		case *image.NRGBA64:
			// The high bytes: a hash sees the image through a 64×64 grid,
			// where the low bytes are far below the contrast it needs.
			pix := m.Pix[m.PixOffset(b.Min.X, sy):]
			for x := range row {
				p := pix[8*x : 8*x+8 : 8*x+8]
				a := float32(p[6])
				l := lumR*float32(p[0]) + lumG*float32(p[2]) + lumB*float32(p[4])
				row[x] = (l*a + ground*(255-a)) / 255
			}
		case *image.Paletted:
			off := m.PixOffset(b.Min.X, sy)
			for x := range row {
				if i := int(m.Pix[off+x]); i < len(palette) {
					row[x] = palette[i]
				} else {
					row[x] = 0 // out-of-palette index: image/gif's convention is black
				}
			}
		default:
			for x := range row {
				row[x] = lumaOf(img.At(b.Min.X+x, sy), ground)
			}
		}
		rs.row(y, row)
	}
	p := &plane{w: ww, h: wh, pix: getFloats(ww * wh), pooled: true, imgW: w, imgH: h} // finish writes every cell
	rs.finish(p.pix)
	return p
}

// lumaOf is the brightness of any colour composited on ground.
func lumaOf(c color.Color, ground float32) float32 {
	r, g, b, a := c.RGBA() // premultiplied, 16 bits
	back := ground * float32(0xffff-a) / 0xffff
	return (lumR*float32(r)+lumG*float32(g)+lumB*float32(b))/257 + back
}

// sample resamples region g of the plane to an outW × outH grid.
func (p *plane) sample(g region, outW, outH int, dst []float32) {
	rs := newResampler(uniformEdges(p.w), uniformEdges(p.h), g.r, g.clip, g.bg, outW, outH)
	for y := range p.h {
		if rs.ys.needs(y) {
			rs.row(y, p.pix[y*p.w:(y+1)*p.w])
		}
	}
	rs.finish(dst)
}
