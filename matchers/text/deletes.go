package text

import (
	"slices"
	"unicode/utf8"
)

// deleteIndex finds the mark keys within edit distance 1 or 2 of a term by
// symmetric deletion (the SymSpell idea): every key's deletions of up to
// two runes are hashed once at build time, a term's deletions are hashed at
// lookup time, and a key whose deletion equals one of the term's is a
// candidate, which a bounded edit-distance check then accepts or refuses.
//
// Why not bleve's Levenshtein automaton, which the matcher used first: an
// automaton is built for every new term (vellum allocates and clears a
// 10,000-state table for each, which the collector then reclaims), so on a
// stream of never-seen words it cost ~0.6 ms per word, the LRU cache in
// front of it being useless there (profile in docs/BENCHMARKS.md). Here a
// term of n runes costs at most 1 + (n-P) + (n-P)(n-P-1)/2 probes of a bit
// filter that stays in cache (P = the fuzzy prefix), and a map lookup for
// the few that pass, whatever the number of marks.
//
// Completeness: if two strings are within restricted Damerau–Levenshtein
// (optimal string alignment) distance d, each reaches a common subsequence
// by at most d deletions (an insertion is one deletion on one side, a
// substitution or a transposition one on each side), so every key within
// distance d shares a deletion with the term. When both strings start with
// the same P runes, some common subsequence of the same length keeps those
// runes aligned (exchange argument), so deletions never need to touch the
// prefix: this is how the index honours FuzzyPrefix and keeps its size down.
//
// Semantics match the automaton exactly (TestTypoIndexesAgree and
// TestFuzzyHitsUnchanged compare the two): distance is the optimal string
// alignment distance over runes (bleve builds its automata with
// transpositions), a key must begin with the term's first P runes, and the
// term itself is never its own match.
type deleteIndex struct {
	keys []string // fuzzy keys in byte order, the order bleve's dictionary yields them
	// postings maps a deletion's hash to the key that has it (high bit
	// clear) or, with the high bit set, to an offset in lists where a
	// count and that many key ids follow. Most deletions belong to one
	// key, so most need no list.
	postings map[uint64]uint32
	lists    []uint32
	// filter holds every indexed deletion hash: a term's deletion it
	// refuses is in no key, and testing it is much cheaper than a miss
	// in the postings map, which is megabytes. Most deletions of a
	// never-seen word stop here.
	filter bitFilter
	prefix int // runes never deleted, FuzzyPrefix
	// alphabet holds every rune of every key: a term with more runes
	// outside it than the allowed distance cannot match (model codes,
	// other scripts), which refuses it before any hashing.
	ascii    [128]bool
	nonASCII map[rune]struct{}
}

const listBit = 1 << 31

// newDeleteIndex indexes keys: deletions of up to two runes for keys of at least min2 runes, which a term of the
// two-edit length could reach, and of one rune for the others.
func newDeleteIndex(keys []string, prefix, min2 int) *deleteIndex {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	x := &deleteIndex{keys: keys, prefix: prefix, nonASCII: map[rune]struct{}{}}
	type entry struct {
		h  uint64
		id uint32
	}
	var entries []entry
	var hs []uint64
	for id, k := range keys {
		for _, r := range k {
			if r < utf8.RuneSelf {
				x.ascii[r] = true
			} else {
				x.nonASCII[r] = struct{}{}
			}
		}
		d := 1
		if utf8.RuneCountInString(k) >= min2 {
			d = 2
		}
		hs = appendDeletions(hs[:0], k, prefix, d)
		for _, h := range hs {
			entries = append(entries, entry{h, uint32(id)})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return int(a.id) - int(b.id)
	})
	entries = slices.Compact(entries)
	x.filter = newBitFilter(len(entries))
	for _, e := range entries {
		x.filter.add(e.h)
	}
	x.postings = make(map[uint64]uint32, len(entries)*3/4)
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].h == entries[i].h {
			j++
		}
		if j == i+1 {
			x.postings[entries[i].h] = entries[i].id
		} else {
			x.postings[entries[i].h] = listBit | uint32(len(x.lists))
			x.lists = append(x.lists, uint32(j-i))
			for _, e := range entries[i:j] {
				x.lists = append(x.lists, e.id)
			}
		}
		i = j
	}
	return x
}

// lookup returns the keys within distance dist of term that begin with
// prefix (the term's first runes, or "" for no constraint), in byte order
// of the keys, without term itself.
func (x *deleteIndex) lookup(term string, dist int, prefix string) []fuzzyTerm {
	if x.foreign(term) > dist {
		return nil
	}
	var ids []uint32
	if prefix == "" && x.prefix > 0 {
		// The term is no longer than the prefix, so bleve would have
		// looked it up unconstrained; the index keeps prefixes whole,
		// so scan. Only a FuzzyPrefix as long as FuzzyMinRunes-1 gets
		// here.
		for id := range x.keys {
			ids = append(ids, uint32(id))
		}
	} else {
		var buf [128]uint64
		for _, h := range appendDeletions(buf[:0], term, x.prefix, dist) {
			if !x.filter.has(h) {
				continue
			}
			v, ok := x.postings[h]
			switch {
			case !ok:
			case v&listBit == 0:
				ids = append(ids, v)
			default:
				off := v &^ listBit
				n := x.lists[off]
				ids = append(ids, x.lists[off+1:off+1+n]...)
			}
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
	}
	var out []fuzzyTerm
	var tr, kr [64]rune
	t := appendRunes(tr[:0], term)
	for _, id := range ids {
		k := x.keys[id]
		if k == term || len(k) < len(prefix) || k[:len(prefix)] != prefix {
			continue
		}
		if d := osaDistance(t, appendRunes(kr[:0], k), dist); d > 0 && d <= dist {
			out = append(out, fuzzyTerm{key: k, dist: uint8(d)})
		}
	}
	return out
}

// foreign counts the runes of term that occur in no key: each needs an
// edit of its own.
func (x *deleteIndex) foreign(term string) int {
	n := 0
	for _, r := range term {
		if r < utf8.RuneSelf {
			if !x.ascii[r] {
				n++
			}
		} else if _, ok := x.nonASCII[r]; !ok {
			n++
		}
	}
	return n
}

// appendDeletions appends to dst the hash of s and of every string made
// from s by deleting up to d runes after the first keep runes. Duplicates
// (deleting either of two equal neighbours) are not removed: callers dedupe
// ids.
//
// The hash is polynomial over the bytes (h = h*hashBase + b, modulo
// 2^64), so that the hash of a string with one or two runes cut out is
// put together in O(1) from prefix hashes instead of copying and hashing
// each deletion: a 10-rune term has 46 of them. Collisions only cost a
// verification (lookup checks every candidate's real distance).
func appendDeletions(dst []uint64, s string, keep, d int) []uint64 {
	var offsA [48]int
	var preA [96]uint64
	offs, pre := offsA[:0], preA[:0]
	for i := range s {
		offs = append(offs, i)
	}
	n := len(offs)
	offs = append(offs, len(s))
	pre = append(pre, 0)
	for k := 0; k < len(s); k++ {
		pre = append(pre, pre[k]*hashBase+uint64(s[k]))
	}
	L := len(s)
	// span is the hash of s[a:b].
	span := func(a, b int) uint64 { return pre[b] - pre[a]*power(b-a) }
	dst = append(dst, finish(pre[L], L))
	if d < 1 || n <= keep {
		return dst
	}
	for i := keep; i < n; i++ {
		a1, b1 := offs[i], offs[i+1]
		head := pre[a1]
		// s without rune i.
		dst = append(dst, finish(head*power(L-b1)+span(b1, L), L-(b1-a1)))
		if d < 2 {
			continue
		}
		for j := i + 1; j < n; j++ {
			a2, b2 := offs[j], offs[j+1]
			// s without runes i and j.
			h := (head*power(a2-b1)+span(b1, a2))*power(L-b2) + span(b2, L)
			dst = append(dst, finish(h, L-(b1-a1)-(b2-a2)))
		}
	}
	return dst
}

const hashBase = 0x100000001b3 // FNV's 64-bit prime: odd, bits spread

// pow holds hashBase^k; powers beyond it are computed (long keys only).
var pow = func() (p [256]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * hashBase
	}
	return p
}()

func power(k int) uint64 {
	if k < len(pow) {
		return pow[k]
	}
	v := pow[len(pow)-1]
	for range k - (len(pow) - 1) {
		v *= hashBase
	}
	return v
}

// finish mixes the length into a polynomial hash and spreads its bits
// (splitmix64's finalizer), since the filter uses the low bits.
func finish(h uint64, n int) uint64 {
	h ^= uint64(n) * 0x9e3779b97f4a7c15
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

func appendRunes(dst []rune, s string) []rune {
	for _, r := range s {
		dst = append(dst, r)
	}
	return dst
}

// osaDistance is the optimal string alignment distance of a and b
// (insertions, deletions, substitutions and transpositions of neighbours,
// no substring edited twice), the distance bleve's automata compute. It
// returns max+1 as soon as the distance is known to exceed max.
func osaDistance(a, b []rune, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	// Three rows of the dynamic programme: two back for transpositions.
	var buf [3 * 65]int
	w := len(b) + 1
	var prev2, prev, cur []int
	if 3*w <= len(buf) {
		prev2, prev, cur = buf[:w], buf[w:2*w], buf[2*w:3*w]
	} else {
		prev2, prev, cur = make([]int, w), make([]int, w), make([]int, w)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], max+1)
}
