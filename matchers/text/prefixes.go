package text

// prefixFilter tells, with no false negatives, whether a byte string may
// begin some key (a mark name or variant, or a distinct_from name): the
// exact pass stops widening a window of tokens as soon as its squashed
// text begins no key, instead of looking up every window of up to
// MaxWindow tokens in two maps. Most listing words begin no key, so most
// tokens cost one bit test instead of a dozen string-map lookups.
//
// It is a one-hash Bloom filter over every byte prefix of every key,
// about sixteen bits per prefix (a few percent false positives, which
// only cost the map lookups the pass would have made anyway). Prefix
// hashes are polynomial (see appendDeletions), so a window's hash grows
// with the window, one multiply-add per byte.
type prefixFilter struct {
	bits []uint64
	mask uint64
}

func newPrefixFilter(keys []string) prefixFilter {
	n := 0
	for _, k := range keys {
		n += len(k)
	}
	size := uint64(1 << 10)
	for size < 16*uint64(n) {
		size <<= 1
	}
	f := prefixFilter{bits: make([]uint64, size/64), mask: size - 1}
	for _, k := range keys {
		var h uint64
		for i := 0; i < len(k); i++ {
			h = h*hashBase + uint64(k[i])
			f.set(finish(h, i+1))
		}
	}
	return f
}

func (f prefixFilter) set(h uint64) {
	b := h & f.mask
	f.bits[b/64] |= 1 << (b % 64)
}

// has reports whether a string of n bytes whose polynomial hash (before
// finish) is h may begin a key. The zero filter says yes to everything.
func (f prefixFilter) has(h uint64, n int) bool {
	if f.bits == nil {
		return true
	}
	b := finish(h, n) & f.mask
	return f.bits[b/64]&(1<<(b%64)) != 0
}
