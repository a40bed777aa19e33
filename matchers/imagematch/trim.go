package imagematch

import "slices"

// Border trimming: a listing often shows an official photo or a logo on a
// larger canvas (padding, letterboxing, a frame). Hashing the content inside
// uniform borders makes such a copy hash like its source; the untrimmed
// image is always hashed as well, so a trim that bites into the picture
// itself (a flat sky, a white studio background) costs nothing.
const (
	// trimTolerance is how far, in grey levels, a border cell may be from
	// the border's brightness: JPEG at quality 30 blurs a border's edge by
	// a few levels at the working plane's resolution.
	trimTolerance = 10
	// trimMaxTolerance caps the tolerance a noisy line earns (see uniform).
	trimMaxTolerance = 24
	// trimShare is the share of a line's cells that must be border for the
	// line to count as border; the rest may be compression noise. At least
	// trimSlack cells may be off in any line: where a border does not end on
	// a JPEG block boundary, the cells at both ends of the next line mix
	// border and picture.
	trimShare = 0.97
	trimSlack = 2
	// trimMinSide is the smallest share of a side trimming may leave;
	// anything smaller means the image was nearly uniform, not padded.
	trimMinSide = 0.02
)

// trim returns the box inside the plane's uniform borders, fullRect if
// there are none. Rows are trimmed before columns, and both again until
// nothing changes: a row that crosses a left and right border of another
// colour is not uniform until those borders are gone.
func (p *plane) trim() rect { return p.trimWithin(fullRect) }

// trimWithin is trim restricted to region r: what lies outside r is
// ignored, as if the image had been cropped to r.
func (p *plane) trimWithin(r rect) rect {
	// Cells [x0, x1) × [y0, y1); a cell belongs to r if most of it does.
	x0, y0 := int(r.x0*float64(p.w)+0.5), int(r.y0*float64(p.h)+0.5)
	x1, y1 := int(r.x1*float64(p.w)+0.5), int(r.y1*float64(p.h)+0.5)
	bx0, by0, bx1, by1 := x0, y0, x1, y1
	line := make([]float32, max(p.w, p.h))
	var scratch lineScratch
	row := func(y int) []float32 { return p.pix[y*p.w+x0 : y*p.w+x1] }
	col := func(x int) []float32 {
		c := line[:0]
		for y := y0; y < y1; y++ {
			c = append(c, p.pix[y*p.w+x])
		}
		return c
	}
	if p.lines == nil {
		p.lines = map[lineKey]lineVerdict{}
	}
	judge := func(k lineKey, line func(int) []float32) (bool, float32) {
		if v, ok := p.lines[k]; ok {
			return v.uniform, v.median
		}
		u, m := uniformMedian(line(k.i), &scratch)
		p.lines[k] = lineVerdict{u, m}
		return u, m
	}
	judgeRow := func(y int) (bool, float32) { return judge(lineKey{false, y, x0, x1}, row) }
	judgeCol := func(x int) (bool, float32) { return judge(lineKey{true, x, y0, y1}, col) }
	for range 4 {
		px0, py0, px1, py1 := x0, y0, x1, y1
		y0 = trimSide(y0, y1, 1, judgeRow)
		y1 = trimSide(y1-1, y0-1, -1, judgeRow) + 1
		x0 = trimSide(x0, x1, 1, judgeCol)
		x1 = trimSide(x1-1, x0-1, -1, judgeCol) + 1
		if x1-x0 < int(trimMinSide*float64(p.w))+1 || y1-y0 < int(trimMinSide*float64(p.h))+1 {
			return r // (nearly) uniform: nothing to trim to
		}
		if x0 == px0 && y0 == py0 && x1 == px1 && y1 == py1 {
			break
		}
	}
	// Trimming judged each line against the whole width or height of what
	// was left, so a detail that is small beside a large canvas (the tip
	// of an emblem) was taken for noise; how large the canvas is must not
	// matter. Grow the box back while the line just outside it, as long as
	// the box, is not uniform.
	for grown := true; grown; {
		grown = false
		if y0 > by0 && !first(judgeRow(y0-1)) {
			y0, grown = y0-1, true
		}
		if y1 < by1 && !first(judgeRow(y1)) {
			y1, grown = y1+1, true
		}
		if x0 > bx0 && !first(judgeCol(x0-1)) {
			x0, grown = x0-1, true
		}
		if x1 < bx1 && !first(judgeCol(x1)) {
			x1, grown = x1+1, true
		}
	}
	if x0 == bx0 && y0 == by0 && x1 == bx1 && y1 == by1 {
		return r
	}
	return rect{
		float64(x0) / float64(p.w), float64(y0) / float64(p.h),
		float64(x1) / float64(p.w), float64(y1) / float64(p.h),
	}
}

// framed reports whether all four outer lines of the plane are uniform, as
// they are around a logo or product on a plain ground. If trim then finds
// no content inside, the plane was too coarse to tell the content from the
// ground (thin strokes of a dark-on-dark logo averaged into 8×8 blocks
// stay within the tolerance), not free of borders.
func (p *plane) framed() bool {
	var scratch lineScratch
	col := func(x int) []float32 {
		c := make([]float32, p.h)
		for y := range p.h {
			c[y] = p.pix[y*p.w+x]
		}
		return c
	}
	for _, l := range [][]float32{p.pix[:p.w], p.pix[(p.h-1)*p.w:], col(0), col(p.w - 1)} {
		if u, _ := uniformMedian(l, &scratch); !u {
			return false
		}
	}
	return true
}

// trimSide walks lines from start towards stop (exclusive) by step while
// they are uniform, and returns the first line that is not. If every line
// is uniform, the walk crossed a solid shape (lines restricted to a shape's
// own rows are all one colour), and it returns where the colour first
// changed instead: the shape's edge. A region of one colour throughout is
// the shape itself and returns start.
func trimSide(start, stop, step int, judge func(int) (bool, float32)) int {
	change := start
	var prev float32
	for i := start; i != stop; i += step {
		ok, m := judge(i)
		if !ok {
			return i
		}
		if i != start && change == start && (m < prev-trimTolerance || m > prev+trimTolerance) {
			change = i
		}
		prev = m
	}
	return change
}

// uniformMedian reports whether a line is border: all but a few of its cells
// within a tolerance of its median. Each line is measured against its own
// median rather than a border colour: an edge that does not fall on a JPEG
// block boundary leaves a line or two of blended cells between a border and
// the picture, and a frame may sit inside a border of another colour.
//
// The tolerance grows with the line's grain (three standard deviations of
// it, up to trimMaxTolerance): a flat stretch of a photo has grain whose
// amplitude per cell depends on how many pixels a cell averages, and
// whether it counts as border must not depend on the image's resolution.
// The grain is estimated from the median difference between neighbouring
// cells, which edges and smooth shading barely move.
//
// It also returns the line's median, and uses scratch (grown as needed)
// instead of allocating: trimming calls it for every line it walks.
//
// The verdict is reached without the grain when the tolerance's bounds
// settle it: a line that is border at trimTolerance is border at any
// tolerance the grain may earn, and one that is not at trimMaxTolerance is
// at none. Only lines between the two pay for the grain's median. The
// verdicts are those of measuring the grain on every line
// (TestUniformMedianUnchanged).
func uniformMedian(l []float32, scratch *lineScratch) (bool, float32) {
	n := len(l)
	if n == 0 {
		return true, 0
	}
	// Fast path: a line whose whole range is within the tolerance is
	// border whatever its median (every cell is within trimTolerance of
	// it); its midrange stands in for the median, off by at most half the
	// tolerance. Flat backgrounds are most of what trimming walks.
	lo, hi := l[0], l[0]
	for _, v := range l[1:] {
		// Comparisons, not the min and max builtins, whose NaN and
		// signed-zero rules cost a few instructions a cell; a line
		// holds neither NaN nor a zero of either sign that matters.
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	if hi-lo <= trimTolerance {
		return true, (lo + hi) / 2
	}
	if scratch == nil {
		scratch = new(lineScratch)
	}
	scratch.grow(n)
	bg := scratch.selectRank(l, n/2, 1)
	border := func(in int) bool {
		off := n - in
		return off <= trimSlack || float64(in) >= trimShare*float64(n)
	}
	// The grain's tolerance lies in [trimTolerance, trimMaxTolerance], and
	// border is monotone in it: count at both bounds in one pass.
	lo10, hi10 := bg-trimTolerance, bg+trimTolerance
	lo24, hi24 := bg-trimMaxTolerance, bg+trimMaxTolerance
	in10, in24 := 0, 0
	for _, v := range l {
		if v >= lo10 && v <= hi10 {
			in10++
		}
		if v >= lo24 && v <= hi24 {
			in24++
		}
	}
	if border(in10) {
		return true, bg
	}
	if !border(in24) {
		return false, bg
	}
	tol := float32(trimTolerance)
	if n > 2 {
		d := scratch.diffs[:n-1]
		for i := range d {
			d[i] = abs32(l[i+1] - l[i])
		}
		// For Gaussian grain of deviation σ, neighbour differences have a
		// median of 0.954σ. Grain differences are a few levels: quarter-
		// level buckets.
		sigma := scratch.selectRank(d, len(d)/2, 4) / 0.954
		tol = min(max(tol, 3*sigma), trimMaxTolerance)
	}
	switch tol {
	case trimTolerance:
		return border(in10), bg
	case trimMaxTolerance:
		return border(in24), bg
	}
	in := 0
	for _, v := range l {
		if v >= bg-tol && v <= bg+tol {
			in++
		}
	}
	return border(in), bg
}

// lineScratch is the memory uniformMedian reuses from line to line:
// trimming judges thousands of lines of an image.
type lineScratch struct {
	diffs, bucket []float32
	keys          []uint8
}

// grow makes room for lines of n cells.
func (s *lineScratch) grow(n int) {
	if cap(s.diffs) < n {
		s.diffs = make([]float32, n)
		s.bucket = make([]float32, n)
		s.keys = make([]uint8, n)
	}
	s.diffs, s.bucket, s.keys = s.diffs[:n], s.bucket[:n], s.keys[:n]
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// median returns the median (the element of rank len/2) of v without
// modifying it, by quickselect on a copy: linear time, where sorting every
// scanned row and column cost most of the hashing time.
func median(v []float32) float32 {
	if len(v) == 0 {
		return 0
	}
	return selectMedian(slices.Clone(v))
}

// selectMedian returns the element of rank len/2 of s, reordering s.
func selectMedian(s []float32) float32 {
	if len(s) == 0 {
		return 0
	}
	return selectRank(s, len(s)/2)
}

// selectRank returns the element of rank k (0-based, ascending) of s,
// reordering s: quickselect.
func selectRank(s []float32, k int) float32 {
	lo, hi := 0, len(s)-1
	for lo < hi {
		// Median of three as the pivot keeps sorted rows (gradients) linear.
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}

// binnedMin is the shortest slice selectRank buckets; shorter ones are
// quickselected whole, which is as fast there.
const binnedMin = 48

// selectRank returns the element of rank k of v (len(v) ≤ the length s
// was grown to) without modifying it, the same element the package's
// selectRank returns: the values are counted into 256 buckets of width
// 1/scale (negative values in the first, values from 255/scale up in the
// last; the bucket is non-decreasing in the value, so the element of rank
// k lies in the bucket where the counts pass k), and only that bucket's
// values are quickselected. A line of a photo's background spreads over
// ten to twenty grey levels, so the quickselect sees a tenth of the line;
// quickselecting it whole, with a swap for most cells, was most of
// trimming's time.
func (s *lineScratch) selectRank(v []float32, k int, scale float32) float32 {
	if len(v) < binnedMin {
		b := append(s.bucket[:0], v...)
		return selectRank(b, k)
	}
	keys := s.keys[:len(v)]
	var count [256]int32
	for i, x := range v {
		key := uint8(min(max(int(x*scale), 0), 255))
		keys[i] = key
		count[key]++
	}
	b, below := 0, 0
	for below+int(count[b]) <= k {
		below += int(count[b])
		b++
	}
	m := s.bucket[:0]
	for i, key := range keys {
		if int(key) == b {
			m = append(m, v[i])
		}
	}
	return selectRank(m, k-below)
}

// around returns the brightness around box c: the median of the ring of
// cells just outside it, or of its own edge cells if c fills the plane.
func (p *plane) around(c rect) float32 {
	x0, y0 := int(c.x0*float64(p.w)+0.5), int(c.y0*float64(p.h)+0.5)
	x1, y1 := int(c.x1*float64(p.w)+0.5), int(c.y1*float64(p.h)+0.5)
	var ring []float32
	add := func(x, y int) {
		if x >= 0 && x < p.w && y >= 0 && y < p.h {
			ring = append(ring, p.pix[y*p.w+x])
		}
	}
	for _, d := range []int{1, 0} { // outside first, the box's own edge if need be
		for x := x0 - d; x < x1+d; x++ {
			add(x, y0-d)
			add(x, y1-1+d)
		}
		for y := y0; y < y1; y++ {
			add(x0-d, y)
			add(x1-1+d, y)
		}
		if len(ring) > 0 {
			break
		}
	}
	return median(ring)
}

// first is a verdict without its median.
func first(uniform bool, _ float32) bool { return uniform }
