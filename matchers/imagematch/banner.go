package imagematch

import "math"

// A reseller's sales banner ("SALE -70%", a phone number) is often laid
// across the middle of a stolen photo as a semi-opaque band of about a
// ninth of its height. bands() covers banners at the top and the bottom by
// hashing the image without them; a band elsewhere crosses every region,
// and its hard edges and text move a perceptual hash further than any crop
// does. unbanner finds one such band and fills it in from the rows just
// above and below it, which brings the low frequencies a hash keeps back
// near the original's: the listing is hashed once more, as if the band
// were not there. The reference side is unchanged.

// Bounds of a band, as shares of the image's height.
const (
	minBannerShare = 1.0 / 16
	maxBannerShare = 1.0 / 5
)

// minBannerStep is the least mean brightness change, in levels of 255,
// at each edge of a band: a band at half opacity of a colour 25 levels
// away from the photo under it. Changes are taken two rows apart, since a
// band's edge rarely falls on a JPEG block boundary and its DC plane
// smears the edge over two rows.
const minBannerStep = 12

// minBannerCoherence is the least share of columns that change at a band's
// edge, and that change back the other way by about as much at its other
// edge: a band spans
// the whole width, while text, objects and shadows make edges that only
// some columns share. The sign of the change may differ from column to
// column (a yellow band darkens a white backdrop and lightens a dark bag).
const minBannerCoherence = 0.75

// unbanner returns a copy of p with the strongest horizontal band filled
// in from the rows around it, and true; or false when no band was found.
// Bands touching the top or the bottom are left to bands().
func (p *plane) unbanner() (*plane, bool) {
	if p.h < 16 || p.w < 8 {
		return nil, false
	}
	minH := max(2, int(math.Round(float64(p.h)*minBannerShare)))
	maxH := int(math.Ceil(float64(p.h) * maxBannerShare))
	// diff(y, x) is the change from row y-2 to row y in column x.
	diff := func(y, x int) float32 { return p.pix[y*p.w+x] - p.pix[(y-2)*p.w+x] }
	// mag[y] is the mean size of the change into row y, where enough
	// columns change; 0 elsewhere.
	mag := make([]float64, p.h)
	var edges []int
	for y := 2; y < p.h; y++ {
		sum, moved := 0.0, 0
		for x := range p.w {
			d := math.Abs(float64(diff(y, x)))
			sum += d
			if d >= 6 {
				moved++
			}
		}
		if m := sum / float64(p.w); m >= minBannerStep && float64(moved) >= minBannerCoherence*float64(p.w) {
			mag[y] = m
			edges = append(edges, y)
		}
	}
	// A band is an edge into it at y0 and one out of it at y1 that most
	// columns cross the opposite way: rows y0-1 … y1-1 may be covered (the
	// rows at each edge partly), rows y0-2 and y1 are clear.
	best, b0, b1 := 0.0, 0, 0
	for i, y0 := range edges {
		if y0 < 3 {
			continue
		}
		for _, y1 := range edges[i+1:] {
			if y1-y0 < minH || y1-y0 > maxH+1 || y1 > p.h-2 {
				continue
			}
			back := 0
			for x := range p.w {
				// Back by about as much as it changed on the way in.
				d0, d1 := diff(y0, x), diff(y1, x)
				if d0*d1 < 0 && abs32(d0+d1) <= 0.5*max(abs32(d0), abs32(d1)) {
					back++
				}
			}
			if float64(back) < minBannerCoherence*float64(p.w) {
				continue
			}
			if s := min(mag[y0], mag[y1]); s > best {
				best, b0, b1 = s, y0, y1
			}
		}
	}
	if best == 0 {
		return nil, false
	}
	// JPEG rings next to a hard edge up to the end of its 8-pixel block:
	// take the clear rows from that far off the band. What lay under the
	// band is guessed from them; text in it is opaque, and even a
	// semi-opaque band lets through too little of a busy photo to unblend
	// reliably (fitting the blend and inverting it matched fewer photos
	// than this on the fixtures).
	pad := max(0, int(math.Round(8*float64(p.h)/float64(max(p.imgH, 1))))-1)
	a, c := max(0, b0-2-pad), min(p.h-1, b1+pad)
	q := &plane{w: p.w, h: p.h, pix: getFloats(len(p.pix)), pooled: true, imgW: p.imgW, imgH: p.imgH}
	copy(q.pix, p.pix)
	above, below := p.pix[a*p.w:(a+1)*p.w], p.pix[c*p.w:(c+1)*p.w]
	for y := a + 1; y < c; y++ {
		t := float32(y-a) / float32(c-a)
		row := q.pix[y*p.w : (y+1)*p.w]
		for x := range row {
			row[x] = (1-t)*above[x] + t*below[x]
		}
	}
	return q, true
}
