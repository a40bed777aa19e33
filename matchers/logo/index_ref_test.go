package logo

// The matching as it was before it was made faster (h-logospeed), kept as
// the reference TestCandidatesMatchReference holds the fast code to: the
// same logos, in the same order, with the same pairs. The vote table is
// a map here.

import (
	"math"
	"slices"

	"github.com/markwatch/markwatch/matchers"
)

// candidates pairs each listing descriptor with its nearest descriptor in
// every logo having one within maxDist bits (through the multi-index) and
// within 1/ratio times the nearest logo's distance. It returns the pairs
// of the at most maxLogos logos whose pairs agree most on one pose, most
// first, among those with at least minPairs pairs.
//
// Why vote on the pose: logos share emblems and typefaces, so a listing
// descriptor of the emblem, or of a letter, is near to a hundred logos'
// as much as to the logo shown, and a textured product is near to some
// descriptor of every logo. Only the logo shown has many pairs that put
// it at one place, size and angle in the photo. Each pair predicts the
// logo's centre in the image (the listing keypoint plus the logo
// keypoint's offset from the logo's centre, turned by the difference of
// their orientations and scaled by the ratio of their pyramid scales);
// the votes fall in bins of 12 angles, scales two pyramid steps wide and
// cells a quarter of the logo's diagonal at that scale, each pair voting
// for the 2 nearest scales × 2×2 nearest cells (so a peak is not split by
// a bin's edge) at the nearest angle, weighted by the pair's distance. A
// logo's score is its fullest bin, and RANSAC runs on the best few logos
// only, where verifying every logo with enough pairs costs tens of
// milliseconds at 1,000 logos.
func (ix *index) candidatesRef(sc *scratch, bins map[uint32]float32, f *matchers.Features, maxDist int, ratio float64, maxLogos, minPairs int, minWidth, maxWidth float64) (logos []uint32, pairs [][]pair) {
	sc.hits = sc.hits[:0]
	md := int32(maxDist)
	for qi := range f.Desc {
		q := &f.Desc[qi]
		stamp := uint32(qi + 1)
		cur := sc.cur[:0]
		// thr is the distance beyond which a descriptor can no longer
		// matter, given the nearest found so far (see reach).
		best, thr := md+1, md
		for t := range tables {
			k := key(q, t)
			if bl, bh := ix.inl[t][k], ix.inl[t][k+1]; bl < bh {
				for i := range ix.big[t][bl:bh] {
					b := &ix.big[t][bl+uint32(i)]
					d := int32(hamming(q, &b.d))
					if d > thr {
						continue
					}
					cur = sc.takeRef(cur, stamp, hit{q: uint32(qi), e: b.e, logo: b.own, d: d})
					if d < best {
						best, thr = d, reach(d, md, ratio)
					}
				}
				continue
			}
			lo, hi := ix.start[t][k], ix.start[t][k+1]
			if hi-lo > ix.maxBucket {
				continue
			}
			for _, e := range ix.ent[t][lo:hi] {
				d := int32(hamming(q, &ix.desc[e]))
				if d > thr {
					continue
				}
				cur = sc.takeRef(cur, stamp, hit{q: uint32(qi), e: e, logo: ix.owner[e], d: d})
				if d < best {
					best, thr = d, reach(d, md, ratio)
				}
			}
		}
		sc.cur = cur
		lim := int32(float64(best) / ratio)
		n := 0
		for _, c := range cur {
			if c.d <= best+tieBits {
				n++
			}
		}
		for _, c := range cur {
			if c.d <= lim {
				c.w = 0
				if c.d <= best+tieBits {
					c.w = 1 / float32(n)
				}
				sc.hits = append(sc.hits, c)
			}
		}
	}
	// Stamps are per query number: clear them so the next image's query 1
	// is not taken for this one's.
	clear(sc.stamp)
	// Group the hits by logo (counting sort).
	clear(sc.count)
	for _, h := range sc.hits {
		sc.count[h.logo+1]++
	}
	for i := 1; i < len(sc.count); i++ {
		sc.count[i] += sc.count[i-1]
	}
	sc.byLogo = slices.Grow(sc.byLogo[:0], len(sc.hits))[:len(sc.hits)]
	for _, h := range sc.hits {
		sc.byLogo[sc.count[h.logo]] = h
		sc.count[h.logo]++
	}
	// count[o] is now where logo o's hits end (and o+1's start).
	sc.ranked = sc.ranked[:0]
	start := uint32(0)
	for o := range ix.logos {
		end := sc.count[o]
		hs := sc.byLogo[start:end]
		start = end
		if len(hs) < minPairs {
			continue
		}
		if v := ix.voteRef(bins, o, hs, f, minWidth, maxWidth); v > 0 {
			sc.ranked = append(sc.ranked, scored{uint32(o), v})
		}
	}
	slices.SortFunc(sc.ranked, func(a, b scored) int {
		if a.votes != b.votes {
			if a.votes > b.votes {
				return -1
			}
			return 1
		}
		return int(a.logo) - int(b.logo)
	})
	for _, r := range sc.ranked[:min(len(sc.ranked), maxLogos)] {
		end := sc.count[r.logo]
		begin := uint32(0)
		if r.logo > 0 {
			begin = sc.count[r.logo-1]
		}
		ps := make([]pair, end-begin)
		for i, h := range sc.byLogo[begin:end] {
			ps[i] = pair{l: f.Points[h.q], r: ix.pts[h.e], q: h.q, dist: int(h.d), w: h.w}
		}
		logos, pairs = append(logos, r.logo), append(pairs, ps)
	}
	return logos, pairs
}

// take keeps h in cur if it is its logo's first or nearest for the
// current listing descriptor (stamp).
func (sc *scratch) takeRef(cur []hit, stamp uint32, h hit) []hit {
	o := h.logo
	if sc.stamp[o] != stamp {
		sc.stamp[o] = stamp
		sc.slot[o] = int32(len(cur))
		return append(cur, h)
	}
	if c := &cur[sc.slot[o]]; h.d < c.d {
		c.d, c.e = h.d, h.e
	}
	return cur
}

// vote casts the pose votes of logo o's hits and returns its largest bin.
func (ix *index) voteRef(bins map[uint32]float32, o int, hs []hit, f *matchers.Features, minWidth, maxWidth float64) float32 {
	lr := &ix.logos[o]
	cx, cy := float64(lr.x0+lr.x1)/2, float64(lr.y0+lr.y1)/2
	lw := float64(lr.x1 - lr.x0)
	diag := math.Hypot(float64(lr.x1-lr.x0), float64(lr.y1-lr.y0))
	iw := float64(f.W)
	smin := minWidth * iw / 1.5 / lw
	// 1/cell size per scale bin: a quarter of the logo's diagonal at the
	// bin's middle scale.
	var inv [houghScales]float64
	for sb := range inv {
		inv[sb] = 1 / (houghCell * diag * smin * math.Pow(scaleStep, 2*float64(sb)+1))
	}
	logSmin := math.Log(smin)
	var top float32
	for _, h := range hs {
		if len(bins) > 1<<hashBits/2 {
			// The table is half full: more keypoints than MaxKeypoints'
			// default. The votes so far decide, and add never loops.
			break
		}
		l, r := &f.Points[h.q], &ix.pts[h.e]
		s := float64(l.Scale / r.Scale)
		if bw := s * lw; bw < minWidth*iw/1.5 || bw > maxWidth*iw*1.5 {
			continue // a pose that puts the logo out of the size range
		}
		w := voteWeight(h.d)
		a := float64(l.Angle - r.Angle)
		// The angle to 1/64 of a turn is close enough for where the centre
		// falls (under 3° off) and spares a Sincos.
		ai := int(math.Round(a*sinBins/(2*math.Pi))) & (sinBins - 1)
		sin, cos := sinTab[ai], sinTab[(ai+sinBins/4)&(sinBins-1)]
		ox, oy := cx-float64(r.X), cy-float64(r.Y)
		// Scale bins of two pyramid steps from the smallest plausible;
		// the position's cells a quarter of the logo's diagonal at the
		// bin's scale.
		fs := (math.Log(s)-logSmin)/(2*math.Log(scaleStep)) - 0.5
		// The angle in its nearest bin only: voting in the two nearest, as
		// for scale and position, found no more logos (on the curve's
		// first 60 photos) and cost twice the votes.
		ab := uint32(int(math.Round(a/(2*math.Pi)*houghAngles))+2*houghAngles) % houghAngles
		s0 := int(math.Floor(fs))
		for ds := range 2 {
			sb := s0 + ds
			if sb < 0 || sb >= houghScales {
				continue
			}
			px := (float64(l.X)+s*(cos*ox-sin*oy))*inv[sb] - 0.5
			py := (float64(l.Y)+s*(sin*ox+cos*oy))*inv[sb] - 0.5
			x0, y0 := int(math.Floor(px)), int(math.Floor(py))
			for dy := range 2 {
				for dx := range 2 {
					k := uint32(sb)<<28 | ab<<24 | uint32((y0+dy)&0xfff)<<12 | uint32((x0+dx)&0xfff)
					bins[k] += w
					top = max(top, bins[k])
				}
			}
		}
	}
	clear(bins)
	return top
}
