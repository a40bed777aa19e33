package logo

import (
	"encoding/binary"
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"unsafe"

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
		// Enlarging (a small logo, a listing image's first level):
		// bilinear.
		enlarge(g, out, fx, fy)
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

// enlarge fills out (larger than g) by bilinear interpolation in floating
// point. Each source row is interpolated across once, into one of two
// rows kept while the output rows between them are made (an enlarged
// source row serves 1–3 output rows), and the columns' source pixels and
// weights are computed once: the same arithmetic on the same values as
// interpolating every output pixel from its four source pixels, so the
// same output bit for bit (TestEnlargeMatchesReference), at a fraction of
// the cost of the enlarged level a listing image starts with.
func enlarge(g gray, out gray, fx, fy float64) {
	c := newEnlargeCols(g.w, out.w, fx)
	enlargeRows(g, out, &c, fy, 0, out.h, 0, out.w, nil)
}

// enlargeCols are enlarge's columns' source pixels and weights.
type enlargeCols struct {
	x0s, x1s []int32
	txs, uxs []float64
}

func newEnlargeCols(gw, w int, fx float64) enlargeCols {
	c := enlargeCols{x0s: make([]int32, w), x1s: make([]int32, w), txs: make([]float64, w), uxs: make([]float64, w)}
	for x := range w {
		sx := (float64(x)+0.5)*fx - 0.5
		x0 := min(max(int(math.Floor(sx)), 0), gw-1)
		c.x0s[x], c.x1s[x] = int32(x0), int32(min(x0+1, gw-1))
		tx := min(max(sx-float64(x0), 0), 1)
		c.txs[x], c.uxs[x] = tx, 1-tx
	}
	return c
}

// enlargeRows makes rows [a, b) of out, enlarge's output, from g, in
// columns [c0, c1); the two rows it interpolates across are kept in buf
// (nil: its own).
func enlargeRows(g, out gray, c *enlargeCols, fy float64, a, b, c0, c1 int, buf *[2][]float64) {
	w := out.w
	x0s, x1s, txs, uxs := c.x0s[c0:c1], c.x1s[c0:c1], c.txs[c0:c1], c.uxs[c0:c1]
	across := func(dst []float64, sy int) {
		src := g.pix[sy*g.w : (sy+1)*g.w]
		dst = dst[:len(x0s)]
		for x := range dst {
			dst[x] = float64(src[x0s[x]])*uxs[x] + float64(src[x1s[x]])*txs[x]
		}
	}
	rp := newRowPair(c1-c0, across, buf)
	for y := a; y < b; y++ {
		sy := (float64(y)+0.5)*fy - 0.5
		y0 := min(max(int(math.Floor(sy)), 0), g.h-1)
		y1 := min(y0+1, g.h-1)
		ty := min(max(sy-float64(y0), 0), 1)
		ra, rb := rp.rows(y0, y1)
		uy := 1 - ty
		row := out.pix[y*w+c0 : y*w+c1]
		a, b := ra[:len(row)], rb[:len(row)]
		for x := range row {
			row[x] = uint8(a[x]*uy + b[x]*ty + 0.5)
		}
	}
}

// rowPair keeps two source rows interpolated across (by fill, into a row
// of w) for an interpolation down the columns: consecutive output rows
// mostly share a source row, which is then interpolated across once.
type rowPair[T any] struct {
	a, b   []T
	ia, ib int
	fill   func(dst []T, sy int)
}

// newRowPair returns a rowPair holding no row, its rows in buf when buf
// is not nil (grown to w if need be; a pyramid making a part of a level
// at a time reuses them), else in rows of its own.
func newRowPair[T any](w int, fill func(dst []T, sy int), buf *[2][]T) *rowPair[T] {
	if buf == nil {
		buf = new([2][]T)
	}
	for i := range buf {
		if cap(buf[i]) < w {
			buf[i] = make([]T, w)
		}
		buf[i] = buf[i][:w]
	}
	return &rowPair[T]{a: buf[0], b: buf[1], ia: -1, ib: -1, fill: fill}
}

// rows returns source rows y0 and y1 interpolated across, filling only
// those not already held.
func (p *rowPair[T]) rows(y0, y1 int) (a, b []T) {
	if p.ia != y0 {
		if p.ib == y0 {
			p.a, p.b, p.ia, p.ib = p.b, p.a, p.ib, p.ia
		} else {
			p.fill(p.a, y0)
			p.ia = y0
		}
	}
	if p.ib != y1 {
		p.fill(p.b, y1)
		p.ib = y1
	}
	return p.a, p.b
}

// halfStep scales g down to w×h (a small step, as between pyramid levels)
// by bilinear interpolation in 8-bit fixed point, into dst's memory when
// it is large enough.
func halfStep(g gray, w, h int, dst []uint8) gray {
	if cap(dst) < w*h {
		dst = make([]uint8, w*h)
	}
	out := gray{w, h, dst[:w*h]}
	c := newHalfCols(g.w, w, float64(g.w)/float64(w))
	halfStepRows(g, out, &c, float64(g.h)/float64(h), 0, h, 0, w, nil)
	return out
}

// halfCols are halfStep's columns' source pixels and 8-bit weights.
type halfCols struct{ xs, xt []int32 }

func newHalfCols(gw, w int, fx float64) halfCols {
	c := halfCols{xs: make([]int32, w), xt: make([]int32, w)}
	for x := range w {
		sx := (float64(x)+0.5)*fx - 0.5
		x0 := min(max(int(sx), 0), gw-2)
		c.xs[x] = int32(x0)
		c.xt[x] = int32(min(max(sx-float64(x0), 0), 1) * 256)
	}
	return c
}

// halfStepSource is the first of the two rows of g (h rows) that row y
// of halfStep's output is made from, at fy source rows a row.
func halfStepSource(y int, fy float64, h int) int {
	sy := (float64(y)+0.5)*fy - 0.5
	return min(max(int(sy), 0), h-2)
}

// halfStepRows makes rows [a, b) of out, halfStep's output, from g, in
// columns [c0, c1); the two rows it interpolates across are kept in buf
// (nil: its own).
func halfStepRows(g, out gray, c *halfCols, fy float64, a, b, c0, c1 int, buf *[2][]int32) {
	w := out.w
	// a·(256-t) + b·t = 256a + (b-a)·t, exactly: half the products.
	// Each source row is interpolated across once (rowPair).
	xs, xt := c.xs[c0:c1], c.xt[c0:c1]
	across := func(dst []int32, sy int) {
		src := g.pix[sy*g.w : (sy+1)*g.w]
		dst = dst[:len(xs)]
		for x := range dst {
			i := xs[x]
			p := int32(src[i])
			dst[x] = p<<8 + (int32(src[i+1])-p)*xt[x]
		}
	}
	rp := newRowPair(c1-c0, across, buf)
	for y := a; y < b; y++ {
		sy := (float64(y)+0.5)*fy - 0.5
		y0 := halfStepSource(y, fy, g.h)
		ty := int32(min(max(sy-float64(y0), 0), 1) * 256)
		ra, rb := rp.rows(y0, y0+1)
		row := out.pix[y*w+c0 : y*w+c1]
		a, b := ra[:len(row)], rb[:len(row)]
		for x := range row {
			row[x] = uint8((a[x]<<8 + (b[x]-a[x])*ty + 1<<15) >> 16)
		}
	}
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

// fastInto returns, appended to cs[:0], the FAST-9 corners of g with
// threshold t (≥ 0) that survive 3×3 non-maximum suppression on the FAST
// score, at least border pixels from the edges, in raster order. score
// is scratch of g's size, all zero on entry and left so (only the
// corners' cells are written, then cleared: clearing a whole level cost
// more than the corners).
func fastInto(g gray, t int, score []int32, cs []corner) []corner {
	w, h := g.w, g.h
	var off [16]int
	for i, c := range circle {
		off[i] = c[1]*w + c[0]
	}
	cs = cs[:0]
	if t < 0 || w < 2*border+1 || h < 2*border+1 {
		return cs
	}
	pix := g.pix[:w*h]
	// The row's candidates, on the stack for a typical width.
	var xbuf [1024]int32
	xs := xbuf[:0]
	for y := border; y < h-border; y++ {
		row := pix[y*w : (y+1)*w]
		xs = fastRow(row, pix[(y-3)*w:][:len(row)], pix[(y+3)*w:][:len(row)], t, xs[:0])
		for _, x32 := range xs {
			x := int(x32)
			p := int(row[x])
			hi, lo := p+t, p-t
			a, b := int(pix[(y-3)*w+x]), int(pix[(y+3)*w+x])
			c, d := int(row[x+3]), int(row[x-3])
			nb := b2i(a > hi) + b2i(b > hi) + b2i(c > hi) + b2i(d > hi)
			nd := b2i(a < lo) + b2i(b < lo) + b2i(c < lo) + b2i(d < lo)
			if nb < 2 && nd < 2 {
				continue
			}
			i := y*w + x
			var bright, dark uint32
			var sb, sd int32
			// Without branches: whether a circle pixel is brighter,
			// darker or neither is a coin toss the branch predictor
			// lost. m is all ones when its difference is positive.
			for k := range 16 {
				v := int(pix[i+off[k]])
				db, dd := v-hi, lo-v
				mb, md := -db>>63, -dd>>63
				bright |= uint32(mb&1) << k
				dark |= uint32(md&1) << k
				sb += int32(db & mb)
				sd += int32(dd & md)
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
	// Keep local maxima (ties: the first in raster order wins); the
	// others' score in cs is zeroed, then every cell written is cleared
	// as the kept ones are packed.
	for j, c := range cs {
		i := c.y*w + c.x
		s := c.score
		if score[i-w-1] > s || score[i-w] > s || score[i-w+1] > s || score[i-1] > s ||
			score[i+1] >= s || score[i+w-1] >= s || score[i+w] >= s || score[i+w+1] >= s {
			cs[j].score = 0
		}
	}
	n := 0
	for _, c := range cs {
		score[c.y*w+c.x] = 0
		if c.score > 0 {
			cs[n] = c
			n++
		}
	}
	return cs[:n]
}

// fastRow appends to xs the x, at least border from the ends, of row's
// pixels whose pixels 3 above (up) and 3 below (dn) are not both within t
// of theirs: an arc of 9 of FAST's 16 holds one of any two pixels 8
// apart, so the others are no corner. Most pixels end here, so it tests
// 8 pixels at a time in the lanes of a word (fastLanes), then the few
// left one by one; a function of its own keeps its variables in
// registers.
//
//go:noinline
func fastRow(row, up, dn []uint8, t int, xs []int32) []int32 {
	up, dn = up[:len(row)], dn[:len(row)]
	x, end := border, len(row)-border
	if t < 256 {
		const even = 0x00ff00ff00ff00ff
		t1 := uint64(t+1) * 0x0001000100010001
		for ; x+8 <= end; x += 8 {
			p := binary.LittleEndian.Uint64(row[x:])
			u := binary.LittleEndian.Uint64(up[x:])
			d := binary.LittleEndian.Uint64(dn[x:])
			// Pixel k's verdict at bit 8k+7.
			m := fastLanes(p&even, u&even, d&even, t1)>>8 | fastLanes(p>>8&even, u>>8&even, d>>8&even, t1)
			for m != 0 {
				xs = append(xs, int32(x+bits.TrailingZeros64(m)>>3))
				m &= m - 1
			}
		}
	}
	for ; x < end; x++ {
		p := int(row[x])
		// |v-p| ≤ t as one unsigned comparison.
		if uint(int(up[x])-p+t) > uint(2*t) || uint(int(dn[x])-p+t) > uint(2*t) {
			xs = append(xs, int32(x))
		}
	}
	return xs
}

// fastLanes tests 4 pixels p against the pixels u above and d below them,
// each in a 16-bit lane of a word (t1 is t+1 in every lane): lane k's top
// bit is set when u or d differs from p by more than t. 0x8000+a-b-(t+1)
// has its top bit set exactly when a-b > t, and stays within its lane
// (between 0x8000-511 and 0x80ff) for t < 256.
func fastLanes(p, u, d, t1 uint64) uint64 {
	const top = 0x8000800080008000
	ph, uh, dh := (p|top)-t1, (u|top)-t1, (d|top)-t1
	return ((uh - p) | (ph - u) | (dh - p) | (ph - d)) & top
}

// arc9Tab has bit m set when the 16-bit circular mask m has 9 consecutive
// bits.
var arc9Tab = func() (tab [1 << 13]uint8) {
	for m := range uint32(1 << 16) {
		if bits.OnesCount32(m) < 9 {
			continue
		}
		mm := m | m<<16
		r := mm
		for k := 1; k < 9; k++ {
			r &= mm >> k
		}
		if r&0xffff != 0 {
			tab[m>>3] |= 1 << (m & 7)
		}
	}
	return tab
}()

// arc9 reports whether the 16-bit circular mask has 9 consecutive bits.
func arc9(m uint32) bool {
	return arc9Tab[(m>>3)&(1<<13-1)]>>(m&7)&1 != 0
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

// boxSums writes to dst, at every pixel at least 2 from g's edges, the
// sum of the 5×5 box centred on it (at most 25×255, so 16 bits): what
// BRIEF compares, once per level rather than four summed-area look-ups
// per sample. tmp is scratch; both are grown as needed and returned.
func boxSums(g gray, dst, tmp []uint16) (box, scratch []uint16) {
	w, h := g.w, g.h
	n := w * h
	if cap(dst) < n {
		dst = make([]uint16, n)
	}
	if cap(tmp) < n {
		tmp = make([]uint16, n)
	}
	dst, tmp = dst[:n], tmp[:n]
	if w < 5 || h < 5 {
		return dst, tmp
	}
	// Rows: a running sum of 5 pixels (the slices of equal length let
	// the compiler drop the bounds checks). The two columns at each end
	// hold no sum; they are zeroed so that the columns' pass can run
	// over whole rows (below).
	for y := range h {
		src := g.pix[y*w:][:w]
		out := tmp[y*w:][:w]
		s := uint16(src[0]) + uint16(src[1]) + uint16(src[2]) + uint16(src[3]) + uint16(src[4])
		out[0], out[1], out[w-2], out[w-1] = 0, 0, 0, 0
		out[2] = s
		o := out[3 : w-2]
		in, gone := src[5:][:len(o)], src[:len(o)]
		for x := range o {
			s += uint16(in[x]) - uint16(gone[x])
			o[x] = s
		}
	}
	// Columns: the first sum in full, then a running sum row by row,
	// over the plane as one run from row 3 to row h-3 (its end columns
	// sum zeros). 4 sums at a time in the 16-bit lanes of a word: a
	// lane's prev+add is at most 25×255+5×255 and its result is not
	// negative, so no lane carries into or borrows from the next.
	first := dst[2*w:][:w]
	for x := range w {
		first[x] = tmp[x] + tmp[w+x] + tmp[2*w+x] + tmp[3*w+x] + tmp[4*w+x]
	}
	if h > 5 {
		b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 2*n)
		a := unsafe.Slice((*byte)(unsafe.Pointer(&tmp[0])), 2*n)
		i, end := 3*w, (h-2)*w
		for ; i+4 <= end; i += 4 {
			v := binary.NativeEndian.Uint64(b[2*(i-w):]) + binary.NativeEndian.Uint64(a[2*(i+2*w):]) - binary.NativeEndian.Uint64(a[2*(i-3*w):])
			binary.NativeEndian.PutUint64(b[2*i:], v)
		}
		for ; i < end; i++ {
			dst[i] = dst[i-w] + tmp[i+2*w] - tmp[i-3*w]
		}
	}
	return dst, tmp
}

// steeredOffsets is the sampling pattern of every angle bin as offsets
// into a level of width w: the pair's first and second point.
type steeredOffsets [angleBins][256][2]int32

func (o *steeredOffsets) set(w int) {
	for b := range angleBins {
		for i, p := range &steered[b] {
			o[b][i] = [2]int32{int32(p[1])*int32(w) + int32(p[0]), int32(p[3])*int32(w) + int32(p[2])}
		}
	}
}

// angleBin is the nearest steered pattern to angle.
func angleBin(angle float64) int {
	bin := int(math.Round(angle/(2*math.Pi)*angleBins)) % angleBins
	if bin < 0 {
		bin += angleBins
	}
	return bin
}

// describe computes the rotated BRIEF descriptor at pixel c of a level
// (box its 5×5 sums, off its offsets) for angle: bit i is set when the
// box at the pair's first point sums below that at its second.
func describe(box []uint16, off *steeredOffsets, c int, angle float64) matchers.Descriptor {
	var d matchers.Descriptor
	pat := &off[angleBin(angle)]
	for j := range 4 {
		var word uint64
		for i, p := range pat[j*64 : j*64+64] {
			if box[c+int(p[0])] < box[c+int(p[1])] {
				word |= 1 << i
			}
		}
		d[j] = word
	}
	return d
}

// orbScratch is one extraction's working memory, reused through a
// sync.Pool: a listing image's levels, scores and box sums are a few
// megabytes that would otherwise be garbage after every image.
type orbScratch struct {
	level    [2][]uint8
	score    []int32
	cs       []corner
	box, tmp []uint16
	off      steeredOffsets
}

var orbPool = sync.Pool{New: func() any { return new(orbScratch) }}

// levelCount is how many of levels pyramid levels a w×h first level
// has room for: a level needs a patch and its border (padded, a logo's
// pyramid, surrounded by its own edge, goes on down to 24 pixels).
// Extraction and the matcher's pyramid (newPyramid) count alike.
func levelCount(w, h, levels int, padded bool) int {
	n := 0
	for ; n < levels; n++ {
		s := math.Pow(scaleStep, float64(n))
		if side := float64(min(w, h)) / s; side < 2*border+8 && !padded || side < 24 {
			break
		}
	}
	return n
}

// levelSize is the size of level k of a pyramid whose first level is
// w×h, each level scaleStep times smaller than the one before.
func levelSize(w, h, k int) (int, int) {
	s := math.Pow(scaleStep, float64(k))
	return int(math.Round(float64(w) / s)), int(math.Round(float64(h) / s))
}

// enlargedSize is the size of a w×h plane enlarged scaleStep times, a
// listing pyramid's first level.
func enlargedSize(w, h int) (int, int) {
	return int(math.Round(float64(w) * scaleStep)), int(math.Round(float64(h) * scaleStep))
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
	n := levelCount(g.w, g.h, levels, padded)
	var total float64
	for k := range n {
		total += weight(k)
	}
	sc := orbPool.Get().(*orbScratch)
	defer orbPool.Put(sc)
	f.Points = make([]matchers.Keypoint, 0, maxPts)
	f.Desc = make([]matchers.Descriptor, 0, maxPts)
	prev := g
	for k := range n {
		s := math.Pow(scaleStep, float64(k))
		lv := g
		if k > 0 {
			// Each level from the one before, bilinear: a step of 1.3
			// hardly aliases, and it costs a quarter of the box filter.
			// The two buffers alternate: a level is made from the last.
			w, h := levelSize(g.w, g.h, k)
			lv = halfStep(prev, w, h, sc.level[k&1])
			sc.level[k&1] = lv.pix[:cap(lv.pix)]
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
		if len(sc.score) < lv.w*lv.h {
			// Zeroed: fast leaves it so.
			sc.score = make([]int32, lv.w*lv.h)
		}
		cs := fastInto(lv, threshold, sc.score[:lv.w*lv.h], sc.cs)
		sc.cs = cs
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
		if len(cs) == 0 {
			continue
		}
		sc.box, sc.tmp = boxSums(lv, sc.box, sc.tmp)
		sc.off.set(lv.w)
		for _, c := range cs {
			a := orientation(lv, c.x, c.y)
			f.Points = append(f.Points, matchers.Keypoint{
				X: float32(float64(c.x-off) * s * unit), Y: float32(float64(c.y-off) * s * unit),
				Angle: float32(a), Scale: float32(s * unit),
			})
			f.Desc = append(f.Desc, describe(sc.box, &sc.off, c.y*lv.w+c.x, a))
		}
	}
	return f
}
