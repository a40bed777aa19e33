package imagematch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// DefaultMaxDistance is the match distance used when Options leaves it
// unset, chosen from TestHashRobustness. With 8 generated images per kind,
// copies under every transformation of the issue lie at 0 to 10 bits from
// one of their reference's hashes (95% at 6 or less) and unrelated images
// at 14 or more. With 30 per kind, 0.13% of copies lie beyond 10 and
// 0.019% of unrelated listing-image/reference pairs within it, nearly all
// between two word marks; a distance of 8 would miss 0.51% and mismatch
// 0.010%.
const DefaultMaxDistance = 10

// maxMaxDistance bounds Options.MaxDistance: from about 16 bits on,
// unrelated images match routinely.
const maxMaxDistance = 16

// Options configure a Matcher.
type Options struct {
	// MaxDistance is the largest Hamming distance (of 64 bits) at which a
	// listing image matches a reference hash; 0 means DefaultMaxDistance.
	MaxDistance int
	// MaxEvidence caps the evidence items of one signal (one per matching
	// listing image, best first); 0 means 3.
	MaxEvidence int
	// Ambiguity is how many bits further than its nearest reference a
	// listing image may be from another mark's reference and still match
	// it (default 1; negative means 0). A copied photo is a copy of one
	// reference: when two brands' photos are both near, the nearer one is
	// the source, and the other is a look-alike product shot.
	Ambiguity int
}

// Matcher is the "image" matcher: it finds marks whose logos or official
// photos are reused in a listing's images, by the Hamming distance between
// the listing's image hashes (HashListingImage) and the marks' reference
// hashes (HashReference). It implements matchers.Matcher, and
// matchers.Presearcher over an index of every mark's reference hashes,
// which Set and Remove keep current as marks change. It is safe for
// concurrent use.
type Matcher struct {
	maxDist, maxEvidence, ambiguity int

	mu sync.RWMutex
	ix *index
}

var (
	_ matchers.Matcher     = (*Matcher)(nil)
	_ matchers.Presearcher = (*Matcher)(nil)
)

// New returns a Matcher whose presearch index holds the reference hashes
// of marks.
func New(marks []*matchers.Mark, opts Options) (*Matcher, error) {
	switch {
	case opts.MaxDistance < 0 || opts.MaxDistance > maxMaxDistance:
		return nil, fmt.Errorf("imagematch: max distance %d outside 0..%d", opts.MaxDistance, maxMaxDistance)
	case opts.MaxDistance == 0:
		opts.MaxDistance = DefaultMaxDistance
	}
	switch {
	case opts.MaxEvidence < 0:
		return nil, fmt.Errorf("imagematch: max evidence %d is negative", opts.MaxEvidence)
	case opts.MaxEvidence == 0:
		opts.MaxEvidence = 3
	}
	switch {
	case opts.Ambiguity < 0:
		opts.Ambiguity = 0
	case opts.Ambiguity == 0:
		opts.Ambiguity = 1
	}
	m := &Matcher{maxDist: opts.MaxDistance, maxEvidence: opts.MaxEvidence, ambiguity: opts.Ambiguity, ix: newIndex()}
	for i, mk := range marks {
		if mk == nil || mk.Mark == nil {
			return nil, fmt.Errorf("imagematch: marks[%d] is nil", i)
		}
		m.Set(mk)
	}
	return m, nil
}

// Name returns "image".
func (m *Matcher) Name() string { return "image" }

// Set indexes mark's reference hashes, replacing those it had; a mark with
// no references is removed.
func (m *Matcher) Set(mark *matchers.Mark) {
	var hashes []uint64
	for _, ref := range mark.References {
		hashes = append(hashes, ref.Hashes...)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ix.set(mark.MarkID, hashes)
}

// Remove drops a mark from the index.
func (m *Matcher) Remove(markID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ix.remove(markID)
}

// Len returns the number of reference hashes indexed.
func (m *Matcher) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.ix.hashes)
}

// Candidates returns the marks with a reference hash within the match
// distance of one of the listing's images and within Ambiguity bits of that
// image's nearest reference, closest first (ties by mark id).
func (m *Matcher) Candidates(ctx context.Context, l *matchers.Listing) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	best := map[string]int{}
	for _, img := range l.Images {
		if len(img.Hashes) == 0 {
			continue
		}
		m.mu.RLock()
		hits, err := m.ix.search(ctx, img.Hashes, m.maxDist)
		m.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			if h.dist > hits[0].dist+m.ambiguity {
				break // hits are sorted by distance
			}
			if d, ok := best[h.id]; !ok || h.dist < d {
				best[h.id] = h.dist
			}
		}
	}
	if len(best) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(best))
	for id := range best {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if best[a] != best[b] {
			return best[a] - best[b]
		}
		return strings.Compare(a, b)
	})
	return ids, nil
}

// nearest returns, for each listing image, the distance to its nearest
// indexed reference hash (beyond the match distance when none is near).
func (m *Matcher) nearest(ctx context.Context, l *matchers.Listing) ([]int, error) {
	out := make([]int, len(l.Images))
	for i, img := range l.Images {
		out[i] = m.maxDist + 1
		if len(img.Hashes) == 0 {
			continue
		}
		m.mu.RLock()
		hits, err := m.ix.search(ctx, img.Hashes, m.maxDist)
		m.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		if len(hits) > 0 {
			out[i] = hits[0].dist
		}
	}
	return out, nil
}

// Match scores the listing's images against each mark's references. The
// score comes from the best distance over all pairs of a listing image hash
// and a reference hash; each listing image that matches adds an evidence
// item naming the reference it matches.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs := make([]matchers.Signal, len(marks))
	if len(marks) == 0 {
		return sigs, nil
	}
	near, err := m.nearest(ctx, l)
	if err != nil {
		return nil, err
	}
	for i, mk := range marks {
		// A mark costs at most 64 listing hashes × 64 references × 64
		// hashes of popcounts; checking every 16 marks is prompt enough.
		if i%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if mk != nil {
			sigs[i] = m.signal(l, mk, near)
		}
	}
	return sigs, nil
}

// imageMatch is the best reference of a mark for one listing image.
type imageMatch struct {
	img  *matchers.ListingImage
	ref  *matchers.ReferenceImage
	dist int
	// at is the index of the listing image's hash that matched.
	at int
}

// region is the part of the listing image whose hash matched, when the
// image's regions are known; nil for the whole image.
func (f imageMatch) region() *domain.Region {
	if f.at >= len(f.img.Regions) || f.img.Regions[f.at] == nil {
		return nil
	}
	r := *f.img.Regions[f.at]
	return &r
}

func (m *Matcher) signal(l *matchers.Listing, mk *matchers.Mark, near []int) matchers.Signal {
	var found []imageMatch
	for i := range l.Images {
		img := &l.Images[i]
		// Past the image's nearest reference by more than the ambiguity
		// margin, this mark's photo is a look-alike, not the source.
		limit := min(m.maxDist, near[i]+m.ambiguity)
		best := imageMatch{dist: limit + 1}
		for j := range mk.References {
			ref := &mk.References[j]
			for k, a := range img.Hashes {
				for _, b := range ref.Hashes {
					if d := Distance(a, b); d < best.dist {
						best = imageMatch{img, ref, d, k}
					}
				}
			}
		}
		if best.ref != nil {
			found = append(found, best)
		}
	}
	if len(found) == 0 {
		return matchers.Signal{}
	}
	// Best first; the listing's order breaks ties, so output is stable.
	slices.SortStableFunc(found, func(a, b imageMatch) int { return a.dist - b.dist })
	found = found[:min(len(found), m.maxEvidence)]
	sig := matchers.Signal{Score: m.score(found[0].dist)}
	for _, f := range found {
		kind, what := "official_photo", "official photo"
		if f.ref.Kind == matchers.RefLogo {
			kind, what = "logo", "logo"
		}
		sig.Evidence = append(sig.Evidence, domain.Evidence{
			Matcher: m.Name(),
			Score:   m.score(f.dist),
			Field:   fmt.Sprintf("images[%d]", f.img.Index),
			Match:   f.img.URL,
			Detail:  fmt.Sprintf("matches %s %s (distance %d/64)", what, f.ref.URL, f.dist),
			Kind:    kind,
			// The reference is named as the mark names it: its URL, or
			// upload:<sha256> for an uploaded file; a quarantine of one
			// image tells its matches from the mark's others by it.
			Reference: f.ref.URL,
			Region:    f.region(),
		})
	}
	return sig
}

// score maps a distance to a signal strength: 1 at distance 0, 0 past the
// match distance, falling quadratically in between. Transformed copies
// cluster at small distances; at the last few bits before the match
// distance generic shots of the same kind of product start to appear (a
// bag photographed like the brand's bag), so the score stays high for the
// former and is weak for the latter: alone it files no complaint.
func (m *Matcher) score(dist int) float64 {
	if dist > m.maxDist {
		return 0
	}
	x := float64(dist) / float64(m.maxDist+1)
	return 1 - x*x
}
