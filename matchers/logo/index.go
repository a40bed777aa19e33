package logo

import (
	"math/bits"

	"github.com/markwatch/markwatch/matchers"
)

// tables is the number of hash tables of the multi-index: the 256-bit
// descriptor cut into 16 keys of 16 bits. Two descriptors within 15 bits
// share at least one key exactly (pigeonhole); at 40 bits, typical of a
// logo's keypoint seen again under JPEG, blur and rotation, a given key
// still matches with probability (1-40/256)^16 ≈ 7%, so 1 − 0.93^16 ≈ 69%
// of such pairs are found, and a logo has dozens of keypoints to spare.
const tables = 16

// bucketFactor bounds the entries read from one bucket to this many times
// the mean bucket (at least minBucketCap): BRIEF's bits are not
// independent, and a few keys (the bits of a patch with one edge across
// it) are shared by thousands of descriptors; such a key says little and
// reading its bucket would cost the query more than every other bucket
// together.
const (
	bucketFactor = 128
	minBucketCap = 32
)

// logoRef is one indexed logo.
type logoRef struct {
	mark int // index in index.marks
	url  string
	// box is the extent of the logo's keypoints in its own coordinates:
	// what a detection's region is projected from.
	x0, y0, x1, y1 float32
	// first and n locate the logo's keypoints in index.pts.
	first, n int
}

// index holds every logo's descriptors and the multi-index over them.
// Immutable once built; safe for concurrent queries.
type index struct {
	marks []*matchers.Mark
	logos []logoRef
	desc  []matchers.Descriptor
	pts   []matchers.Keypoint
	owner []uint32 // logo of each descriptor
	// start[t][k]..start[t][k+1] are the positions in ent[t] of the
	// descriptors whose key t is k.
	start [tables][]uint32
	ent   [tables][]uint32
	// maxBucket is the largest bucket a query reads.
	maxBucket uint32
}

func key(d *matchers.Descriptor, t int) uint32 {
	return uint32(d[t>>2]>>(16*(t&3))) & 0xffff
}

// newIndex indexes the features of every logo of marks, at most maxPerLogo
// descriptors each and maxTotal in all (later logos beyond it are left
// out and counted in skipped).
func newIndex(marks []*matchers.Mark, maxPerLogo, maxTotal int) (ix *index, skipped int) {
	ix = &index{}
	for _, mk := range marks {
		if mk == nil || mk.Mark == nil || !mk.Active() {
			continue
		}
		mi := -1
		for _, ref := range mk.References {
			f := ref.Features
			if ref.Kind != matchers.RefLogo || f == nil || len(f.Points) == 0 {
				continue
			}
			n := min(len(f.Points), len(f.Desc), maxPerLogo)
			if len(ix.desc)+n > maxTotal {
				skipped++
				continue
			}
			if mi < 0 {
				mi = len(ix.marks)
				ix.marks = append(ix.marks, mk)
			}
			lr := logoRef{mark: mi, url: ref.URL, x0: f.Points[0].X, y0: f.Points[0].Y, x1: f.Points[0].X, y1: f.Points[0].Y, first: len(ix.desc), n: n}
			for _, p := range f.Points[:n] {
				lr.x0, lr.y0 = min(lr.x0, p.X), min(lr.y0, p.Y)
				lr.x1, lr.y1 = max(lr.x1, p.X), max(lr.y1, p.Y)
			}
			li := uint32(len(ix.logos))
			ix.logos = append(ix.logos, lr)
			ix.desc = append(ix.desc, f.Desc[:n]...)
			ix.pts = append(ix.pts, f.Points[:n]...)
			for range n {
				ix.owner = append(ix.owner, li)
			}
		}
	}
	ix.maxBucket = uint32(max(minBucketCap, bucketFactor*len(ix.desc)>>16))
	// Counting sort per table: offsets, then entries.
	for t := range tables {
		start := make([]uint32, 1<<16+1)
		for i := range ix.desc {
			start[key(&ix.desc[i], t)+1]++
		}
		for k := 1; k < len(start); k++ {
			start[k] += start[k-1]
		}
		ent := make([]uint32, len(ix.desc))
		next := append([]uint32(nil), start[:1<<16]...)
		for i := range ix.desc {
			k := key(&ix.desc[i], t)
			ent[next[k]] = uint32(i)
			next[k]++
		}
		ix.start[t], ix.ent[t] = start, ent
	}
	return ix, skipped
}

func hamming(a, b *matchers.Descriptor) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) + bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// pair is a listing keypoint matched to a logo keypoint.
type pair struct {
	l, r matchers.Keypoint
	dist int
}

// topK is how many logos one listing descriptor may be matched to.
const topK = 8

// nearest finds, for each listing descriptor, its nearest indexed
// descriptor in each logo through the multi-index, and keeps the pair for
// the nearest logo and for up to topK−1 others nearly as near (within
// 1/ratio times the nearest distance, and within maxDist bits). A strict
// ratio test against other logos would throw away most true matches when
// logos share letters of one typeface or a common emblem; geometric
// verification, per logo, is what tells them apart. Kept pairs are
// returned grouped by logo.
func (ix *index) nearest(f *matchers.Features, maxDist int, ratio float64) map[uint32][]pair {
	out := map[uint32][]pair{}
	type cand struct {
		logo  uint32
		entry uint32
		d     int
	}
	for qi := range f.Desc {
		q := &f.Desc[qi]
		var top [topK]cand
		n := 0
		worst := maxDist + 1 // distance a new logo must beat when top is full
		for t := range tables {
			k := key(q, t)
			lo, hi := ix.start[t][k], ix.start[t][k+1]
			if hi-lo > ix.maxBucket {
				continue
			}
			for _, e := range ix.ent[t][lo:hi] {
				d := hamming(q, &ix.desc[e])
				if d > maxDist || (n == topK && d >= worst) {
					continue
				}
				o := ix.owner[e]
				i := 0
				for i < n && top[i].logo != o {
					i++
				}
				switch {
				case i < n:
					if d < top[i].d {
						top[i].d, top[i].entry = d, e
					}
				case n < topK:
					top[n] = cand{o, e, d}
					n++
				default:
					// Replace the farthest.
					w := 0
					for j := 1; j < n; j++ {
						if top[j].d > top[w].d {
							w = j
						}
					}
					top[w] = cand{o, e, d}
				}
				if n == topK {
					worst = 0
					for j := range n {
						worst = max(worst, top[j].d)
					}
				}
			}
		}
		if n == 0 {
			continue
		}
		best := top[0].d
		for j := 1; j < n; j++ {
			best = min(best, top[j].d)
		}
		for _, c := range top[:n] {
			if float64(c.d)*ratio <= float64(best) {
				out[c.logo] = append(out[c.logo], pair{l: f.Points[qi], r: ix.pts[c.entry], dist: c.d})
			}
		}
	}
	return out
}

// bytes is the index's approximate memory.
func (ix *index) bytes() int {
	n := len(ix.desc)
	return n*(32+16+4) + tables*(n*4+(1<<16+1)*4)
}
