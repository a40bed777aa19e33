package logo

import (
	"math"
	"math/bits"
	"slices"
	"unsafe"

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
	// over has bit t set for a descriptor whose key t is a bucket over
	// maxBucket (one a query passes over; see shortlistPairs).
	over []uint16
	// start[t][k]..start[t][k+1] are the positions in ent[t] of the
	// descriptors whose key t is k.
	start [tables][]uint32
	ent   [tables][]uint32
	// maxBucket is the largest bucket a query reads.
	maxBucket uint32
	// The largest buckets a query reads (see inlineFactor) are also kept
	// whole, descriptors and owners inline: inl[t][k]..inl[t][k+1] are
	// bucket k's positions in big[t] (none for the others).
	inl [tables][]uint32
	big [tables][]bigEntry
}

// bigEntry is an entry of a large bucket with its descriptor and owner.
type bigEntry struct {
	d      matchers.Descriptor
	e, own uint32
}

// Buckets of inlineFactor times the mean entries or more (at least
// minInline), the largest first and at most 1/inlineBudget of the
// descriptors' number in each table, keep their descriptors and owners
// inline. Reading the index is most of a query's cost, and it is a cache
// miss per entry when an entry points to its descriptor: the logos share
// emblems and typefaces, so a few large buckets (a pattern a hundred
// logos have) are most of what a query reads. Inline, they are read in
// sequence. On the curve's 1,000 drawn logos, the buckets so kept are
// 25% of the entries and 78% of those a photo reads; matching costs a
// third less CPU for 2.35 times the memory (all buckets over 8 times the
// mean, 45% of the entries: 95% of the reads, 45% less CPU, 3.4 times
// the memory).
const (
	inlineFactor = 8
	minInline    = 32
	inlineBudget = 4
)

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
	ix.over = make([]uint16, len(ix.desc))
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
		for i := range ix.desc {
			k := key(&ix.desc[i], t)
			if start[k+1]-start[k] > ix.maxBucket {
				ix.over[i] |= 1 << t
			}
		}
		ix.inline(t, max(uint32(max(minInline, inlineFactor*len(ix.desc)>>16)), ix.inlineFloor(t, len(ix.desc)/inlineBudget)))
	}
	return ix, skipped
}

// inlineFloor is the least bucket size at which table t's buckets of
// at most maxBucket entries, the largest first, hold no more than budget
// entries in all.
func (ix *index) inlineFloor(t, budget int) uint32 {
	hist := make([]int, ix.maxBucket+1)
	start := ix.start[t]
	for k := range 1 << 16 {
		if l := start[k+1] - start[k]; l <= ix.maxBucket {
			hist[l]++
		}
	}
	sum := 0
	for l := int(ix.maxBucket); l > 0; l-- {
		if sum += l * hist[l]; sum > budget {
			return uint32(l + 1)
		}
	}
	return 1
}

// inline copies table t's buckets of at least minLen entries (and no
// more than maxBucket) to big[t].
func (ix *index) inline(t int, minLen uint32) {
	start := ix.start[t]
	inl := make([]uint32, len(start))
	n := uint32(0)
	for k := range 1 << 16 {
		inl[k] = n
		if l := start[k+1] - start[k]; l >= minLen && l <= ix.maxBucket {
			n += l
		}
	}
	inl[1<<16] = n
	big := make([]bigEntry, 0, n)
	for k := range 1 << 16 {
		if inl[k] < inl[k+1] {
			for _, e := range ix.ent[t][start[k]:start[k+1]] {
				big = append(big, bigEntry{ix.desc[e], e, ix.owner[e]})
			}
		}
	}
	ix.inl[t], ix.big[t] = inl, big
}

func hamming(a, b *matchers.Descriptor) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) + bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// pair is a listing keypoint matched to a logo keypoint.
type pair struct {
	l, r matchers.Keypoint
	// q is the listing keypoint's position in its features.
	q    uint32
	dist int
	// w is how much the pair says about its logo: 1/n for a listing
	// descriptor whose near descriptors are in n logos. An emblem or a
	// letter that many logos share weighs little; a stretch of one logo's
	// own name or layout weighs much.
	w float32
}

// hit is one (listing descriptor, logo) pair found by a query: the logo's
// nearest descriptor to it.
type hit struct {
	q, e, logo uint32
	d          int32
	// w is 1/n for the n logos whose nearest descriptor is within
	// tieBits of the nearest logo's, 0 for the others (see pair.w).
	w float32
}

// tieBits: logos whose nearest descriptors to a listing descriptor are
// within this many bits of each other are, for that descriptor, tied.
const tieBits = 6

// The pose space of the votes (see candidates): houghScales scale bins of
// two pyramid steps from the smallest plausible scale, houghAngles angles,
// and the logo's centre in cells of houghCell times its diagonal at the
// bin's scale. The votes of one logo go to an open-addressing table of
// 1<<hashBits bins (a logo has at most a few thousand pairs, 8 votes
// each).
const (
	houghScales = 8
	houghAngles = 12
	houghCell   = 0.25
	emptyKey    = ^uint32(0)
	hashBits    = 15
)

// scratch is one query's working memory, reused through a sync.Pool so
// that the hot loop allocates nothing.
type scratch struct {
	stamp []uint32 // per logo: 1 + the listing descriptor that last hit it
	allow []bool   // per logo: shortlisted (see Options.Shortlist)
	// The shortlist's stages (see shortlistPairs): the first stage's
	// ties and nearest distance per listing descriptor, the listing's
	// keys, and the second stage's nearest per listing descriptor.
	ties  []tie
	best1 []int32
	lk    listingKeys
	near  []nearest
	// touchedQ is a bit per listing descriptor (see shortlistPairs).
	touchedQ []uint64
	rev      []hit
	best2    []int32
	nTie     []float32
	slot     []int32  // per logo: its position in cur
	count    []uint32 // per logo: its hits, then where they start in byLogo
	cur      []hit    // the current listing descriptor's hits, one per logo
	hits     []hit    // every kept hit
	// byLogo is hits grouped by logo.
	byLogo []hit
	// bins are one logo's votes in pose space (open addressing, a key
	// and its sum side by side: one cache line per vote); touched lists
	// the slots to clear for the next logo.
	bins    []bin
	touched []int32
	ranked  []scored
	// bounds are the logos' bounds on their fullest bin; best the
	// fullest bins so far (see candidates).
	bounds []bounded
	best   []float32
	// wsum is a logo's vote weights per angle and scale (see bound).
	wsum [houghAngles][houghScales + 1]float64
	// dist and own are a small bucket's distances and owners, read in a
	// first pass (see candidates); rpts the logo keypoints of byLogo.
	dist []int32
	own  []uint32
	rpts []matchers.Keypoint
	// logs memoizes math.Log of a pair's scale ratio (see vote).
	logs [logMemo]logEntry
	// dhist counts distances (see nthNearest).
	dhist [257]int32
}

// bin is one pose bin of the vote table.
type bin struct {
	k uint32
	v float32
}

// logMemo is the size of the direct-mapped memo of vote's logarithms: the
// ratio of two pyramid scales takes a few dozen values.
const logMemo = 1024

type logEntry struct {
	ls, rs uint32 // the listing's and the logo's scale, as bits; 0: empty
	log    float64
}

type scored struct {
	logo  uint32
	votes float32
}

// bounded is a logo's bound on its fullest bin (see bound) and its hits.
type bounded struct {
	logo, n uint32
	bound   float64
}

func (ix *index) newScratch() *scratch {
	n := len(ix.logos)
	sc := &scratch{stamp: make([]uint32, n), allow: make([]bool, n), slot: make([]int32, n), count: make([]uint32, n+1), bins: make([]bin, 1<<hashBits),
		dist: make([]int32, ix.maxBucket), own: make([]uint32, ix.maxBucket)}
	for i := range sc.bins {
		sc.bins[i].k = emptyKey
	}
	return sc
}

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
func (ix *index) candidates(sc *scratch, f *matchers.Features, maxDist int, ratio float64, maxLogos, minPairs int, minWidth, maxWidth float64) (logos []uint32, pairs [][]pair) {
	return ix.candidatesIn(sc, f, probe{tabs: allTables}, maxDist, ratio, maxLogos, minPairs, minWidth, maxWidth)
}

// probe says which part of the index a query reads: the tables tabs, and
// of their entries those of the logos allow marks (nil: every logo).
type probe struct {
	tabs  []int
	allow []bool
	// noPairs: only the ranked logos are wanted (a shortlist), not
	// their pairs.
	noPairs bool
	// ties: record in sc.ties each listing descriptor's nearest logos
	// (within tieBits of its nearest, sc.best1), for the second stage's
	// weights (see shortlistPairs).
	ties bool
	// near, when positive, keeps for each listing descriptor the hits
	// of its near nearest logos only (those within the distance of its
	// near-th nearest logo): what the shortlist votes on (see
	// Options.ShortlistNearest). The ties and weights still count every
	// logo found.
	near int
	// margin, when positive, keeps for each listing descriptor the hits
	// within margin bits of its nearest logo only (the votes of the
	// shortlist, see Options.ShortlistMargin).
	margin int
	// minVotes, when positive, ranks only the logos whose fullest pose
	// bin reaches it (see Options.ShortlistMinVotes).
	minVotes float32
}

// allTables are the multi-index's tables in order: a full query.
var allTables = func() (t []int) {
	for i := range tables {
		t = append(t, i)
	}
	return t
}()

// spreadTables are n of the multi-index's tables spread over the
// descriptor (n from 1 to tables): what the shortlist stage reads (see
// Options.Shortlist).
func spreadTables(n int) []int {
	n = min(max(n, 1), tables)
	t := make([]int, n)
	for i := range t {
		t[i] = i * tables / n
	}
	return t
}

// candidatesIn is candidates on the part of the index p names. With
// p.allow, the nearest logo, the ratio test and the ties that weigh a
// pair (hit.w) are among the allowed logos only.
func (ix *index) candidatesIn(sc *scratch, f *matchers.Features, p probe, maxDist int, ratio float64, maxLogos, minPairs int, minWidth, maxWidth float64) (logos []uint32, pairs [][]pair) {
	sc.hits = sc.hits[:0]
	md := int32(maxDist)
	allow := p.allow
	if p.ties {
		sc.ties = sc.ties[:0]
		sc.best1 = slices.Grow(sc.best1[:0], len(f.Desc))[:len(f.Desc)]
	}
	// mg: how far past the nearest a descriptor still matters to the
	// votes or the ties (see probe.margin).
	mg := md
	if p.margin > 0 {
		mg = max(int32(p.margin), tieBits)
	}
	for qi := range f.Desc {
		cur, best := ix.nearLogos(sc, sc.cur[:0], &f.Desc[qi], qi, p.tabs, allow, md, mg, ratio)
		sc.cur = cur
		lim := int32(float64(best) / ratio)
		n := 0
		for _, c := range cur {
			if c.d <= best+tieBits {
				n++
			}
		}
		if p.ties {
			sc.best1[qi] = best
			for _, c := range cur {
				if c.d <= best+tieBits {
					sc.ties = append(sc.ties, tie{uint32(qi), c.logo, c.d})
				}
			}
		}
		if p.margin > 0 {
			lim = min(lim, best+int32(p.margin))
		}
		if p.near > 0 && len(cur) > p.near {
			lim = min(lim, nthNearest(cur, p.near, &sc.dhist))
		}
		for _, c := range cur {
			if c.d <= lim && (allow == nil || allow[c.logo]) {
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
	return ix.rank(sc, f, maxLogos, minPairs, minWidth, maxWidth, p.minVotes, p.noPairs)
}

// nearLogos reads the tables tabs for listing descriptor q (the qi-th)
// and returns its hits, one per logo (the logo's nearest descriptor,
// within reach of the nearest found: reach, and mg bits past it), and the
// nearest's distance (md+1: none within md). With allow, only the logos
// it marks are read. The stamps it leaves (qi+1 per logo hit) are the
// caller's to clear.
func (ix *index) nearLogos(sc *scratch, cur []hit, q *matchers.Descriptor, qi int, tabs []int, allow []bool, md, mg int32, ratio float64) ([]hit, int32) {
	stamp := uint32(qi + 1)
	// thr is the distance beyond which a descriptor can no longer
	// matter, given the nearest found so far (see reach).
	best, thr := md+1, md
	for _, t := range tabs {
		k := key(q, t)
		if bl, bh := ix.inl[t][k], ix.inl[t][k+1]; bl < bh {
			for i := range ix.big[t][bl:bh] {
				b := &ix.big[t][bl+uint32(i)]
				if allow != nil && !allow[b.own] {
					continue
				}
				d := int32(hamming(q, &b.d))
				if d > thr {
					continue
				}
				cur = sc.take(cur, stamp, hit{q: uint32(qi), e: b.e, logo: b.own, d: d})
				if d < best {
					best, thr = d, min(reach(d, md, ratio), d+mg)
				}
			}
			continue
		}
		lo, hi := ix.start[t][k], ix.start[t][k+1]
		if hi-lo > ix.maxBucket {
			continue
		}
		// Two passes: the distances and owners first, whose loads (a
		// cache miss each) do not depend on one another, so the
		// processor overlaps them; then the entries in order, as one
		// pass would take them.
		ents := ix.ent[t][lo:hi]
		dist, own := sc.dist[:len(ents)], sc.own[:len(ents)]
		if allow == nil {
			for j, e := range ents {
				dist[j] = int32(hamming(q, &ix.desc[e]))
				own[j] = ix.owner[e]
			}
		} else {
			// The owner first: a logo not shortlisted costs no
			// descriptor load.
			for j, e := range ents {
				o := ix.owner[e]
				own[j], dist[j] = o, md+1
				if allow[o] {
					dist[j] = int32(hamming(q, &ix.desc[e]))
				}
			}
		}
		for j, d := range dist {
			if d > thr {
				continue
			}
			cur = sc.take(cur, stamp, hit{q: uint32(qi), e: ents[j], logo: own[j], d: d})
			if d < best {
				best, thr = d, min(reach(d, md, ratio), d+mg)
			}
		}
	}
	return cur, best
}

// nthNearest is the distance of the n-th nearest of cur (each a distinct
// logo), counted by distance in hist (cleared again after).
func nthNearest(cur []hit, n int, hist *[257]int32) int32 {
	for _, c := range cur {
		hist[c.d]++
	}
	var d int32
	k := int32(0)
	for d = 0; d < 256; d++ {
		if k += hist[d]; k >= int32(n) {
			break
		}
	}
	for _, c := range cur {
		hist[c.d] = 0
	}
	return d
}

// rank groups sc.hits by logo, votes on the poses and returns the at
// most maxLogos logos whose pairs agree most on one pose, and their pairs
// unless noPairs (see candidates).
func (ix *index) rank(sc *scratch, f *matchers.Features, maxLogos, minPairs int, minWidth, maxWidth float64, minVotes float32, noPairs bool) (logos []uint32, pairs [][]pair) {
	// Group the hits by logo (counting sort).
	clear(sc.count)
	for _, h := range sc.hits {
		sc.count[h.logo+1]++
	}
	for i := 1; i < len(sc.count); i++ {
		sc.count[i] += sc.count[i-1]
	}
	// The logo keypoints of the hits, in the same order: the bounds and
	// the votes read them in sequence, and here the loads do not depend
	// on one another, where in the votes' loop each waited.
	sc.byLogo = slices.Grow(sc.byLogo[:0], len(sc.hits))[:len(sc.hits)]
	sc.rpts = slices.Grow(sc.rpts[:0], len(sc.hits))[:len(sc.hits)]
	for _, h := range sc.hits {
		sc.byLogo[sc.count[h.logo]] = h
		sc.rpts[sc.count[h.logo]] = ix.pts[h.e]
		sc.count[h.logo]++
	}
	// count[o] is now where logo o's hits end (and o+1's start).
	//
	// Every vote falls in a bin of one angle and two neighbouring scales,
	// so a logo's fullest bin holds at most its fullest (angle, two
	// scales) sum: a bound that costs one addition a pair where the
	// votes cost eight look-ups. The logos are voted on in decreasing
	// bound, and those whose bound is below the maxLogos-th fullest bin
	// found so far are not: they could not rank among the first
	// maxLogos, so the logos returned, their order and their pairs are
	// the same as when every logo is voted on.
	sc.ranked, sc.bounds = sc.ranked[:0], sc.bounds[:0]
	start := uint32(0)
	for o := range ix.logos {
		end := sc.count[o]
		hs := sc.byLogo[start:end]
		start = end
		if len(hs) < minPairs {
			continue
		}
		// A logo whose bound is under minVotes (less a rounding's
		// worth: the bound sums in float64 what the votes sum in
		// float32) cannot reach it.
		if b := ix.bound(sc, o, hs, sc.rpts[start-uint32(len(hs)):start], f, minWidth, maxWidth); b > 0 && b >= 0.999*float64(minVotes) {
			sc.bounds = append(sc.bounds, bounded{uint32(o), uint32(len(hs)), b})
		}
	}
	slices.SortFunc(sc.bounds, func(a, b bounded) int {
		if a.bound != b.bound {
			if a.bound > b.bound {
				return -1
			}
			return 1
		}
		return int(a.logo) - int(b.logo)
	})
	// best holds the maxLogos fullest bins so far, most first.
	best := sc.best[:0]
	for _, c := range sc.bounds {
		if len(best) == maxLogos && maxLogos > 0 && boundBelow(c.bound, c.n, best[maxLogos-1]) {
			break
		}
		o := c.logo
		begin := uint32(0)
		if o > 0 {
			begin = sc.count[o-1]
		}
		v := ix.vote(sc, int(o), sc.byLogo[begin:sc.count[o]], sc.rpts[begin:sc.count[o]], f, minWidth, maxWidth)
		if v <= 0 || v < minVotes {
			continue
		}
		sc.ranked = append(sc.ranked, scored{o, v})
		if len(best) < maxLogos {
			best = append(best, v)
		} else if maxLogos > 0 && v > best[maxLogos-1] {
			best[maxLogos-1] = v
		} else {
			continue
		}
		for i := len(best) - 1; i > 0 && best[i] > best[i-1]; i-- {
			best[i], best[i-1] = best[i-1], best[i]
		}
	}
	sc.best = best
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
		if noPairs {
			logos = append(logos, r.logo)
			continue
		}
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

// reach is the largest distance at which a descriptor still matters to
// a listing descriptor whose nearest is at best bits: kept as a pair
// within best/ratio, or tied (within best+tieBits), and never beyond md.
// The nearest only gets nearer as buckets are read, so what is passed
// over for being beyond reach would have been dropped at the end anyway.
func reach(best, md int32, ratio float64) int32 {
	return min(md, max(int32(float64(best)/ratio), best+tieBits))
}

// take keeps h in cur if it is its logo's first or nearest for the
// current listing descriptor (stamp).
func (sc *scratch) take(cur []hit, stamp uint32, h hit) []hit {
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
func (ix *index) vote(sc *scratch, o int, hs []hit, rp []matchers.Keypoint, f *matchers.Features, minWidth, maxWidth float64) float32 {
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
	for i, h := range hs {
		if len(sc.touched) > len(sc.bins)/2 {
			// The table is half full: more keypoints than MaxKeypoints'
			// default. The votes so far decide, and add never loops.
			break
		}
		l, r := &f.Points[h.q], &rp[i]
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
		fs := (sc.log(l.Scale, r.Scale, s)-logSmin)/logStep2 - 0.5
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
					top = max(top, sc.add(k, w))
				}
			}
		}
	}
	sc.resetBins()
	return top
}

// boundBelow reports whether a logo with n hits whose fullest bin is at
// most bound is surely below a fullest bin of top. The bound is summed in
// float64, the bins in float32, each of at most n weights: a bin can
// exceed its exact sum by n float32 roundings, which the margin covers.
func boundBelow(bound float64, n uint32, top float32) bool {
	return bound*(1+float64(n)*0x1p-22)+1e-6 < float64(top)
}

// bound is an upper bound on the fullest bin vote finds for logo o's
// hits: the largest sum of the vote weights of the pairs that vote at
// one angle and at one of two neighbouring scales (each pair's votes go
// to one angle and two scales, so every bin's pairs are among those of
// one such sum). It is 0 for a logo no pair votes for, +Inf when a vote
// weight is negative (MaxDistance over 80 bits).
func (ix *index) bound(sc *scratch, o int, hs []hit, rp []matchers.Keypoint, f *matchers.Features, minWidth, maxWidth float64) float64 {
	lr := &ix.logos[o]
	lw := float64(lr.x1 - lr.x0)
	iw := float64(f.W)
	smin := minWidth * iw / 1.5 / lw
	logSmin := math.Log(smin)
	clear(sc.wsum[:])
	any := false
	for i, h := range hs {
		l, r := &f.Points[h.q], &rp[i]
		s := float64(l.Scale / r.Scale)
		if bw := s * lw; bw < minWidth*iw/1.5 || bw > maxWidth*iw*1.5 {
			continue
		}
		w := voteWeight(h.d)
		if w < 0 {
			return math.Inf(1)
		}
		a := float64(l.Angle - r.Angle)
		fs := (sc.log(l.Scale, r.Scale, s)-logSmin)/logStep2 - 0.5
		ab := uint32(int(math.Round(a/(2*math.Pi)*houghAngles))+2*houghAngles) % houghAngles
		// Votes go to scales s0 and s0+1; wsum's index is s0+1.
		s0 := int(math.Floor(fs))
		if s0 < -1 || s0 >= houghScales {
			continue
		}
		sc.wsum[ab][s0+1] += float64(w)
		any = true
	}
	if !any {
		return 0
	}
	var top float64
	for ab := range sc.wsum {
		ws := &sc.wsum[ab]
		for sb := range houghScales {
			// Scale bin sb gets the votes of s0 = sb-1 and s0 = sb.
			top = max(top, ws[sb]+ws[sb+1])
		}
	}
	return top
}

// voteWeight is a pair's vote, linear in its distance: 1 at 32 bits, 1/3 at 64:
// on the curve's first photos, the true logo's inliers are mostly at
// 20–47 bits and the other pairs mostly at 40–60. Weighted so, the true
// logo ranked in the top 8 for 4 more of 60 photos than with equal votes.
func voteWeight(d int32) float32 {
	return float32(80-d) / 48
}

// logStep2 is the logarithm of a scale bin's width, two pyramid steps
// (a variable: math.Log is not folded at compile time).
var logStep2 = 2 * math.Log(scaleStep)

// sinTab is the sine at sinBins angles around the circle.
const sinBins = 64

var sinTab = func() (t [sinBins]float64) {
	for i := range t {
		t[i] = math.Sin(float64(i) * 2 * math.Pi / sinBins)
	}
	return t
}()

// add counts one vote for key k in the scratch's open-addressing table.
func (sc *scratch) add(k uint32, w float32) float32 {
	mask := uint32(len(sc.bins) - 1)
	i := (k * 0x9e3779b1) >> (32 - hashBits)
	for {
		b := &sc.bins[i&mask]
		switch b.k {
		case k:
			b.v += w
			return b.v
		case emptyKey:
			b.k, b.v = k, w
			sc.touched = append(sc.touched, int32(i&mask))
			return w
		}
		i++
	}
}

func (sc *scratch) resetBins() {
	for _, i := range sc.touched {
		sc.bins[i].k = emptyKey
	}
	sc.touched = sc.touched[:0]
}

// log is math.Log(s) for s, the ratio of the listing keypoint's scale ls
// to the logo keypoint's rs, memoized by the two scales: they are
// pyramid scales, so a photo's pairs have a few dozen ratios, and the
// logarithm was a tenth of the votes' cost.
func (sc *scratch) log(ls, rs float32, s float64) float64 {
	lb, rb := math.Float32bits(ls), math.Float32bits(rs)
	if lb == 0 && rb == 0 {
		return math.Log(s)
	}
	e := &sc.logs[((lb^rb*0x85ebca6b)*0x9e3779b1)>>(32-10)]
	if e.ls != lb || e.rs != rb {
		e.ls, e.rs, e.log = lb, rb, math.Log(s)
	}
	return e.log
}

// bytes is the index's approximate memory.
func (ix *index) bytes() int {
	n, nb := len(ix.desc), 0
	for t := range tables {
		nb += len(ix.big[t])
	}
	return n*(32+16+4+2) + tables*(n*4+2*(1<<16+1)*4) + nb*int(unsafe.Sizeof(bigEntry{}))
}
