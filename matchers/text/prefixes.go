package text

// bitFilter is a Bloom filter with two probes per element, over hashes
// the caller computes (finish of a polynomial hash, see appendDeletions):
// no false negatives, and with sixteen bits per element about 1.4% false
// positives. The matcher puts one in front of each large map it would
// otherwise probe for words that are mostly absent (key beginnings, key
// deletions, dictionary words): testing two bits in an array that stays
// in cache is several times cheaper than a miss in a map of megabytes.
// The zero filter says yes to everything.
type bitFilter struct {
	bits []uint64
	mask uint64
}

// newBitFilter returns a filter sized for n elements.
func newBitFilter(n int) bitFilter {
	size := uint64(1 << 10)
	for size < 16*uint64(n) {
		size <<= 1
	}
	return bitFilter{bits: make([]uint64, size/64), mask: size - 1}
}

func (f bitFilter) add(h uint64) {
	a, b := h&f.mask, (h>>32)&f.mask
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
}

// has reports whether h may have been added.
func (f bitFilter) has(h uint64) bool {
	if f.bits == nil {
		return true
	}
	a, b := h&f.mask, (h>>32)&f.mask
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

// hashString is the filters' hash of s.
func hashString(s string) uint64 {
	var h uint64
	for i := 0; i < len(s); i++ {
		h = h*hashBase + uint64(s[i])
	}
	return finish(h, len(s))
}

// newPrefixFilter returns the filter of every byte prefix of every key
// (mark names and variants, distinct_from names): the exact pass stops
// widening a window of tokens as soon as its squashed text begins no key,
// instead of looking up every window of up to MaxWindow tokens in two
// maps. Most listing words begin no key, so most tokens cost one filter
// test instead of a dozen string-map lookups. A window's hash grows with
// the window, one multiply-add per byte.
func newPrefixFilter(keys []string) bitFilter {
	n := 0
	for _, k := range keys {
		n += len(k)
	}
	f := newBitFilter(n)
	for _, k := range keys {
		var h uint64
		for i := 0; i < len(k); i++ {
			h = h*hashBase + uint64(k[i])
			f.add(finish(h, i+1))
		}
	}
	return f
}
