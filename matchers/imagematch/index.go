package imagematch

import (
	"context"
	"math/bits"
	"slices"
)

// index is a Hamming index over the reference hashes of all marks: a flat
// array scanned linearly. A scan costs about a nanosecond per hash and
// query hash, so a million reference hashes take a few milliseconds per
// listing image; a metric tree or multi-index hashing would save little at
// the match distance used (10 of 64 bits: the 64 bits would have to be cut
// into 11 blocks of under 6 bits, each matching a large share of the
// index) and cost memory and code.
//
// index is not safe for concurrent use; Matcher guards it.
type index struct {
	hashes []uint64
	slot   []int32          // slot[i] is the mark hashes[i] belongs to
	ids    []string         // mark id by slot; "" for a free slot
	slots  map[string]int32 // slot by mark id
	free   []int32
}

func newIndex() *index { return &index{slots: map[string]int32{}} }

// set replaces the hashes of mark id; no hashes removes the mark.
func (ix *index) set(id string, hashes []uint64) {
	ix.remove(id)
	if len(hashes) == 0 {
		return
	}
	var s int32
	if n := len(ix.free); n > 0 {
		s, ix.free = ix.free[n-1], ix.free[:n-1]
		ix.ids[s] = id
	} else {
		s = int32(len(ix.ids))
		ix.ids = append(ix.ids, id)
	}
	ix.slots[id] = s
	for _, h := range hashes {
		ix.hashes = append(ix.hashes, h)
		ix.slot = append(ix.slot, s)
	}
}

// remove drops the hashes of mark id, compacting the arrays in one pass.
func (ix *index) remove(id string) {
	s, ok := ix.slots[id]
	if !ok {
		return
	}
	delete(ix.slots, id)
	ix.ids[s] = ""
	ix.free = append(ix.free, s)
	n := 0
	for i, owner := range ix.slot {
		if owner != s {
			ix.hashes[n], ix.slot[n] = ix.hashes[i], owner
			n++
		}
	}
	ix.hashes, ix.slot = ix.hashes[:n], ix.slot[:n]
}

// hit is a mark with a hash within the search distance.
type hit struct {
	id   string
	dist int
}

// scanChunk is how many hashes are scanned between cancellation checks:
// about 64 µs of work per query hash.
const scanChunk = 1 << 16

// search returns the marks with a hash within maxDist of any query hash,
// each with its best distance, ordered by distance and then id.
func (ix *index) search(ctx context.Context, queries []uint64, maxDist int) ([]hit, error) {
	best := map[int32]int{}
	for start := 0; start < len(ix.hashes); start += scanChunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+scanChunk, len(ix.hashes))
		chunk := ix.hashes[start:end]
		// Query by query over the chunk: the inner loop is a popcount and a
		// compare that is almost never true, which the CPU predicts well.
		for _, q := range queries {
			for i, h := range chunk {
				if d := bits.OnesCount64(h ^ q); d <= maxDist {
					s := ix.slot[start+i]
					if b, ok := best[s]; !ok || d < b {
						best[s] = d
					}
				}
			}
		}
	}
	hits := make([]hit, 0, len(best))
	for s, d := range best {
		hits = append(hits, hit{ix.ids[s], d})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.dist != b.dist {
			return a.dist - b.dist
		}
		if a.id < b.id {
			return -1
		}
		if a.id > b.id {
			return 1
		}
		return 0
	})
	return hits, nil
}
