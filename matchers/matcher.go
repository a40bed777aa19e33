// Package matchers defines the contract every markwatch matcher implements
// and the prepared forms of listings and marks they work on.
//
// A matcher looks at one listing and a set of candidate marks and returns one
// Signal per mark: a strength in [0,1] and the evidence behind it. Matchers
// are independent of each other and of the pipeline: they import this
// package and matchers/normalize, nothing else of markwatch's. The scorer
// (matchers/score) combines their signals into one score per (listing, mark).
//
// Sub-packages: normalize (one normalization for marks and listings), text
// (word marks, presearch through exact terms and bleve), cue (counterfeit
// cue words), price (below the counterfeit floor), imagematch (perceptual
// hashes of logos and official photos), logo (a logo inside a seller's
// own photo, from local features; see Features), seller (authorized sellers,
// nominative use), score (combination, thresholds, explanations) and
// matchertest (the conformance suite every matcher passes).
package matchers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/markwatch/markwatch/internal/domain"
)

// Matcher scores a listing against candidate marks.
//
// Match returns exactly one Signal per mark in marks, in the same order.
// Contract:
//   - deterministic: the same listing and marks give the same signals;
//   - safe for concurrent use by many goroutines;
//   - returns ctx.Err() promptly once ctx is canceled;
//   - never panics, whatever the listing's fields hold (empty, huge,
//     hostile Unicode); a listing the matcher cannot use yields zero signals;
//   - every Signal.Score is in [0,1], and a Signal with Score > 0 carries
//     at least one Evidence naming this matcher.
//
// An error means the matcher could not do its job (canceled, index closed);
// it is never used for bad listing content.
type Matcher interface {
	// Name is the matcher's short stable name: "text", "cue", "price",
	// "image", "seller". It appears in evidence and metrics.
	Name() string
	Match(ctx context.Context, l *Listing, marks []*Mark) ([]Signal, error)
}

// Presearcher picks the few marks a listing could infringe, so that the
// matchers run against candidates instead of every registered mark.
//
// Candidates returns the ids of candidate marks, without duplicates, in a
// deterministic order. The contract of Matcher about concurrency,
// cancellation and panics applies.
type Presearcher interface {
	Candidates(ctx context.Context, l *Listing) ([]string, error)
}

// CandidateMatcher is a Presearcher that also scores what it finds, and
// can do both in one pass over the listing. The scorer uses it, when a
// matcher offers it, instead of Candidates followed by Match.
//
// MatchCandidates returns the same ids as Candidates and, in the same
// order, the same signals Match would return for those marks.
type CandidateMatcher interface {
	Matcher
	Presearcher
	MatchCandidates(ctx context.Context, l *Listing) (ids []string, sigs []Signal, err error)
}

// Signal is one matcher's verdict on one (listing, mark) pair.
type Signal struct {
	// Score is the strength of the signal in [0,1]; 0 means nothing found.
	Score float64
	// Evidence explains the score; non-empty when Score > 0.
	Evidence []domain.Evidence
}

// Listing is a listing prepared for matching. The pipeline builds it once
// per listing; matchers only read it.
type Listing struct {
	*domain.Listing
	// Price is the parsed price amount; HasPrice is false when the listing
	// has no price or it could not be parsed.
	Price    float64
	HasPrice bool
	// Images holds the perceptual hashes of the listing's images, computed
	// before matching (fetching is not a matcher's job), in listing order.
	Images []ListingImage
}

// ListingImage is one listing image as the image matcher sees it.
type ListingImage struct {
	// Index is the image's position in the listing's images.
	Index int
	URL   string
	// Hashes are perceptual hashes of the image and of its variants
	// (trimmed borders, mirror); empty when the image could not be had.
	Hashes []uint64
	// Regions, when set, has one entry per hash: the part of the image
	// the hash was computed from (imagematch.Hasher.HashListingImageRegions),
	// nil for the whole image. The image matcher reports the region of
	// the hash that matched.
	Regions []*domain.Region
	// Err says why the image could not be fetched or decoded, if so.
	Err string
	// Cause classifies how the image was had, or why not, in a word from
	// a closed set for metrics ("ok", "cached", "not_found", "timeout",
	// ...; see internal/detection); empty when the preparer does not say.
	Cause string
	// Features are the image's local features for logo detection; nil
	// when the preparer does not compute them or the image has none.
	Features *Features
}

// Mark is a mark prepared for matching.
type Mark struct {
	*domain.Mark
	// References are the hashes of the mark's logos and official photos.
	References []ReferenceImage
}

// ReferenceImage is one hashed logo or official photo of a mark.
type ReferenceImage struct {
	// Kind is "logo" or "official".
	Kind   string
	URL    string
	Hashes []uint64
	// Features are a logo's local features (domain.ImageHash.Features,
	// decoded); nil when the mark carries none.
	Features *Features
}

// Candidate kinds of image references.
const (
	RefLogo     = "logo"
	RefOfficial = "official"
)

// NewListing prepares a decoded listing for matching.
func NewListing(l *domain.Listing) *Listing {
	p := &Listing{Listing: l}
	if l.Price != nil {
		if amt, err := domain.ParseAmount(l.Price.Amount); err == nil {
			p.Price, p.HasPrice = amt, true
		}
	}
	return p
}

// NewMark prepares a decoded mark for matching, parsing the precomputed
// image hashes it carries.
func NewMark(m *domain.Mark) (*Mark, error) {
	p := &Mark{Mark: m}
	for i, ih := range m.ImageHashes {
		ref := ReferenceImage{Kind: ih.Kind, URL: ih.URL}
		for j, s := range ih.Hashes {
			h, err := ParseHash(s)
			if err != nil {
				return nil, fmt.Errorf("mark %s: image_hashes[%d].hashes[%d]: %w", m.MarkID, i, j, err)
			}
			ref.Hashes = append(ref.Hashes, h)
		}
		if ih.Features != "" {
			f, err := DecodeFeatures(ih.Features)
			if err != nil {
				return nil, fmt.Errorf("mark %s: image_hashes[%d].features: %w", m.MarkID, i, err)
			}
			ref.Features = f
		}
		p.References = append(p.References, ref)
	}
	return p, nil
}

// ParseHash parses a 64-bit perceptual hash written as 16 hex digits.
func ParseHash(s string) (uint64, error) {
	if len(s) != 16 {
		return 0, fmt.Errorf("hash %q: want 16 hex digits", s)
	}
	h, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("hash %q: %w", s, err)
	}
	return h, nil
}

// FormatHash writes a 64-bit perceptual hash as 16 lowercase hex digits.
func FormatHash(h uint64) string { return fmt.Sprintf("%016x", h) }
