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

// maxBucket bounds the entries read from one bucket: a key shared by that
// many descriptors says little (a flat patch's bits) and would cost the
// query more than every other bucket together.
const maxBucket = 4096

// logoRef is one indexed logo.
type logoRef struct {
	mark int // index in index.marks
	url  string
	// box is the extent of the logo's keypoints in its own coordinates:
	// what a detection's region is projected from.
	x0, y0, x1, y1 float32
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
			lr := logoRef{mark: mi, url: ref.URL, x0: f.Points[0].X, y0: f.Points[0].Y, x1: f.Points[0].X, y1: f.Points[0].Y}
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

// nearest finds, for each listing descriptor, its nearest indexed
// descriptor through the multi-index and keeps it when it is within
// maxDist bits and nearer than ratio times the nearest descriptor of any
// other mark. Kept pairs are returned grouped by logo.
func (ix *index) nearest(f *matchers.Features, maxDist int, ratio float64) map[uint32][]pair {
	out := map[uint32][]pair{}
	for qi := range f.Desc {
		q := &f.Desc[qi]
		best, bestD, bestMark := -1, 257, -1
		otherD := 257 // nearest of another mark
		for t := range tables {
			k := key(q, t)
			lo, hi := ix.start[t][k], ix.start[t][k+1]
			if hi-lo > maxBucket {
				continue
			}
			for _, e := range ix.ent[t][lo:hi] {
				d := hamming(q, &ix.desc[e])
				if d >= otherD && d >= bestD {
					continue
				}
				m := ix.logos[ix.owner[e]].mark
				switch {
				case m == bestMark:
					if d < bestD {
						best, bestD = int(e), d
					}
				case d < bestD:
					otherD = bestD
					best, bestD, bestMark = int(e), d, m
				default:
					otherD = min(otherD, d)
				}
			}
		}
		if best < 0 || bestD > maxDist || float64(bestD) >= ratio*float64(otherD) {
			continue
		}
		o := ix.owner[best]
		out[o] = append(out[o], pair{l: f.Points[qi], r: ix.pts[best], dist: bestD})
	}
	return out
}

// bytes is the index's approximate memory.
func (ix *index) bytes() int {
	n := len(ix.desc)
	return n*(32+16+4) + tables*(n*4+(1<<16+1)*4)
}
