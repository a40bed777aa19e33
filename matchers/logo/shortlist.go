package logo

import (
	"math/bits"
	"slices"

	"github.com/markwatch/markwatch/matchers"
)

// Two-stage matching (Options.Shortlist). The one-stage query reads, for
// each of a photo's ~1,200 descriptors, every index entry sharing one of
// its 16 keys: ~1.8 million entries at 1,000 drawn logos, most of them
// near (logos share emblems and typefaces), paired with ~300 logos each.
// The shortlist reads a few tables only (candidatesIn with spread
// tables), ranks the logos by the same pose votes, and keeps the best
// Shortlist of them; then shortlistPairs pairs the photo's descriptors
// with those logos' descriptors only, the other way round: each
// shortlisted logo descriptor's 16 keys are looked up in a table of the
// photo's own keys. That costs the shortlisted logos' keypoints × 16
// look-ups, whatever the number of logos indexed.

// tie is a listing descriptor's logo within tieBits of its nearest, as
// the first stage found it.
type tie struct {
	q, logo uint32
	d       int32
}

// nearest is a listing descriptor's nearest descriptor in the logo being
// paired: its distance, the first table it shares a key in, and which.
type nearest struct {
	d     int32
	t     int32
	e     uint32
	stamp uint32
}

// listingKeys maps each table's keys to the photo's descriptors having
// them: open addressing (keys and chain heads), chains through next.
type listingKeys struct {
	mask uint32
	key  [tables][]uint32
	head [tables][]int32
	next [tables][]int32
	// has has a bit set for each key of a table some listing
	// descriptor has: 8 KB a table, where the open-addressing slots
	// are ~40 KB, and most keys looked up are none of the photo's.
	has [tables][1 << 16 / 64]uint64
}

const noKey = ^uint32(0)

// build fills lk with f's descriptors' keys.
func (lk *listingKeys) build(f *matchers.Features) {
	size := 1 << bits.Len(uint(max(16, 2*len(f.Desc))))
	lk.mask = uint32(size - 1)
	for t := range tables {
		if cap(lk.key[t]) < size {
			lk.key[t], lk.head[t] = make([]uint32, size), make([]int32, size)
		}
		lk.key[t], lk.head[t] = lk.key[t][:size], lk.head[t][:size]
		for i := range lk.key[t] {
			lk.key[t][i] = noKey
		}
		lk.next[t] = slices.Grow(lk.next[t][:0], len(f.Desc))[:len(f.Desc)]
		clear(lk.has[t][:])
		for qi := range f.Desc {
			k := key(&f.Desc[qi], t)
			lk.has[t][k>>6] |= 1 << (k & 63)
			i := (k * 0x9e3779b1) >> 16 & lk.mask
			for lk.key[t][i] != noKey && lk.key[t][i] != k {
				i = (i + 1) & lk.mask
			}
			if lk.key[t][i] == noKey {
				lk.key[t][i], lk.head[t][i] = k, -1
			}
			lk.next[t][qi] = lk.head[t][i]
			lk.head[t][i] = int32(qi)
		}
	}
}

// first is the first of the photo's descriptors with key k in table t
// (-1: none); next[t] chains the others.
func (lk *listingKeys) first(t int, k uint32) int32 {
	if lk.has[t][k>>6]>>(k&63)&1 == 0 {
		return -1
	}
	i := (k * 0x9e3779b1) >> 16 & lk.mask
	for {
		switch lk.key[t][i] {
		case k:
			return lk.head[t][i]
		case noKey:
			return -1
		}
		i = (i + 1) & lk.mask
	}
}

// shortlistTieScale is what a logo the first stage found tied, and not
// shortlisted, counts for in a pair's weight when the first stage reads
// 4 tables (twice that at 2 tables, and so on, at least 1): the first
// stage finds such a logo with a few tables' chance, the full query's 16
// tables about 2–3 times as often (see docs/BENCHMARKS.md).
var shortlistTieScale = float32(2.5)

// shortlistPairs pairs f's descriptors with the descriptors of the logos
// short (ascending), as candidatesIn does with p.allow set to them: for
// each listing descriptor, each logo's nearest descriptor among those
// sharing a key with it (buckets over the index's cap left out as there),
// within maxDist bits, kept within 1/ratio times the nearest logo's
// distance and weighted by the logos tied with the nearest. With
// withTies, the nearest logo and the ties also count the other logos the
// first stage found (sc.best1, sc.ties: a few tables' worth), so that a
// listing descriptor of an emblem a hundred logos share weighs little
// though few of them are shortlisted. It then ranks the logos as
// candidates does.
func (ix *index) shortlistPairs(sc *scratch, f *matchers.Features, short []uint32, withTies bool, tieScale float32, maxDist int, ratio float64, maxLogos, minPairs int, minWidth, maxWidth float64) ([]uint32, [][]pair) {
	md := int32(maxDist)
	nq := len(f.Desc)
	sc.lk.build(f)
	lk := &sc.lk
	sc.near = slices.Grow(sc.near[:0], nq)[:nq]
	clear(sc.near)
	sc.rev = sc.rev[:0]
	stamp := uint32(0)
	// touched has a bit set for each listing descriptor the logo being
	// paired reaches: walking its words gives them in order, which a
	// sort of their list cost a tenth of the second stage.
	touched := slices.Grow(sc.touchedQ[:0], (nq+63)/64)[:(nq+63)/64]
	clear(touched)
	sc.touchedQ = touched
	for _, o := range short {
		lr := &ix.logos[o]
		stamp++
		for e := lr.first; e < lr.first+lr.n; e++ {
			d := &ix.desc[e]
			over := ix.over[e]
			for t := range tables {
				if over>>t&1 != 0 {
					continue
				}
				for qi := lk.first(t, key(d, t)); qi >= 0; qi = lk.next[t][qi] {
					h := int32(hamming(&f.Desc[qi], d))
					if h > md {
						continue
					}
					n := &sc.near[qi]
					if n.stamp != stamp {
						*n = nearest{h, int32(t), uint32(e), stamp}
						touched[qi>>6] |= 1 << (qi & 63)
					} else if h < n.d || (h == n.d && int32(t) < n.t) {
						n.d, n.t, n.e = h, int32(t), uint32(e)
					}
				}
			}
		}
		for w, word := range touched {
			if word == 0 {
				continue
			}
			touched[w] = 0
			for ; word != 0; word &= word - 1 {
				qi := uint32(w<<6 + bits.TrailingZeros64(word))
				n := &sc.near[qi]
				sc.rev = append(sc.rev, hit{q: qi, e: n.e, logo: o, d: n.d})
			}
		}
	}
	// The nearest logo per listing descriptor, then the ties.
	best := slices.Grow(sc.best2[:0], nq)[:nq]
	nTie := slices.Grow(sc.nTie[:0], nq)[:nq]
	sc.best2, sc.nTie = best, nTie
	for i := range best {
		best[i] = md + 1
		if withTies {
			best[i] = min(best[i], sc.best1[i])
		}
	}
	for _, h := range sc.rev {
		best[h.q] = min(best[h.q], h.d)
	}
	clear(nTie)
	for _, h := range sc.rev {
		if h.d <= best[h.q]+tieBits {
			nTie[h.q]++
		}
	}
	if withTies {
		allow := sc.allow
		for _, c := range sc.ties {
			if !allow[c.logo] && c.d <= best[c.q]+tieBits {
				nTie[c.q] += tieScale
			}
		}
	}
	sc.hits = sc.hits[:0]
	for _, h := range sc.rev {
		if h.d > int32(float64(best[h.q])/ratio) {
			continue
		}
		if h.d <= best[h.q]+tieBits {
			h.w = 1 / nTie[h.q]
		}
		sc.hits = append(sc.hits, h)
	}
	return ix.rank(sc, f, maxLogos, minPairs, minWidth, maxWidth, 0, false)
}

// tieCount is a listing descriptor's nearest distance over every logo
// indexed and the number of logos tied with it (within tieBits), as a
// one-stage query counts them; done once counted.
type tieCount struct {
	best, n int32
	done    bool
}

// oneStageWeights gives the pairs of ps at idx (a two-stage fit's
// inliers) the weights a one-stage query gives them (hit.w): 1/n for the
// n logos of the whole index whose nearest descriptor to the pair's
// listing descriptor is within tieBits of the nearest, 0 when the pair's
// own logo is not one of them. The second stage weighs a pair by the
// shortlisted logos and the ties the first stage saw in a few of the
// tables, an estimate that undercounts the logos sharing an emblem: a
// look-alike of an indexed logo, built from its emblem, passed
// MinDistinct in two stages where one stage rejected it. The whole
// index is read for the listing descriptors of the fits that can be
// kept only, each once per photo (memo, indexed by listing descriptor).
// It leaves sc's stamps clear.
func (ix *index) oneStageWeights(sc *scratch, f *matchers.Features, ps []pair, idx []int, maxDist int, ratio float64, memo []tieCount) {
	md := int32(maxDist)
	for _, i := range idx {
		p := &ps[i]
		tc := &memo[p.q]
		if !tc.done {
			cur, best := ix.nearLogos(sc, sc.cur[:0], &f.Desc[p.q], int(p.q), allTables, nil, md, tieBits, ratio)
			sc.cur = cur
			n := int32(0)
			for _, c := range cur {
				if c.d <= best+tieBits {
					n++
				}
				// The stamps nearLogos left, cleared: the scratch goes
				// back to the pool as it came.
				sc.stamp[c.logo] = 0
			}
			*tc = tieCount{best: best, n: n, done: true}
		}
		p.w = 0
		if tc.n > 0 && int32(p.dist) <= tc.best+tieBits {
			p.w = 1 / float32(tc.n)
		}
	}
}
