// Package suppress decides which use evidence of a match must not count:
// evidence of a reference image or variant that the review service put in
// quarantine (carried on the mark), and evidence a reviewer marked as not
// distinctive in a negative bank (an image by perceptual-hash distance, a
// phrase by normalized text), per mark or global. It implements
// score.Suppressor; the scorer takes the evidence out before the signals
// combine, so the rest of a match (the mark's name, its other photos)
// still counts.
//
// The bank is immutable once built: detectors build a new one when the
// negative-banks topic changes and swap it in, as they do the marks.
// Image entries are checked by a linear scan of their hashes; banks are
// made by hand, one rejected complaint at a time, so they stay in the
// hundreds to thousands, and BenchmarkSuppress measures the cost per
// listing at that size.
package suppress

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Reasons a piece of evidence is suppressed: the values of Result.Suppressed
// and the kind labels of the detector's metrics.
const (
	// QuarantineImage: the evidence matched a reference image in quarantine.
	QuarantineImage = "quarantine_image"
	// QuarantineVariant: the evidence matched a variant in quarantine.
	QuarantineVariant = "quarantine_variant"
	// BankImage: the listing image is near a banked image.
	BankImage = "bank_image"
	// BankPhrase: the matched text is a banked phrase.
	BankPhrase = "bank_phrase"
)

// DefaultMaxDistance is the default of Options.MaxDistance: the Hamming
// distance (of 64 bits) within which a listing image counts as a banked
// one. Stricter than the image matcher's own default (10), so that a
// banked photo does not also swallow a near but different brand photo.
const DefaultMaxDistance = 6

// Options configure a Bank.
type Options struct {
	// MaxDistance is the Hamming distance within which a listing image
	// is the banked image (default DefaultMaxDistance; at most 32).
	MaxDistance int
}

// entries are the entries of one scope: one mark, or every mark.
type entries struct {
	hashes  []uint64
	phrases map[string]bool // normalize.Key of each phrase
}

// Bank is a negative bank built from its entries. A nil *Bank is an empty
// bank that still applies the marks' quarantines. Safe for concurrent use.
type Bank struct {
	maxDist int
	global  entries
	byMark  map[string]*entries
	n       int
}

// New builds a bank from entries; an entry whose phrase normalizes to
// nothing is ignored (it could only match nothing).
func New(es []*domain.BankEntry, o Options) (*Bank, error) {
	switch {
	case o.MaxDistance == 0:
		o.MaxDistance = DefaultMaxDistance
	case o.MaxDistance < 0 || o.MaxDistance > 32:
		return nil, fmt.Errorf("suppress: max distance %d outside 0..32", o.MaxDistance)
	}
	b := &Bank{maxDist: o.MaxDistance, byMark: map[string]*entries{}}
	for _, e := range es {
		scope := &b.global
		if e.MarkID != "" {
			if scope = b.byMark[e.MarkID]; scope == nil {
				scope = &entries{}
				b.byMark[e.MarkID] = scope
			}
		}
		switch e.Kind {
		case domain.BankImage:
			for i, s := range e.Hashes {
				h, err := matchers.ParseHash(s)
				if err != nil {
					return nil, fmt.Errorf("suppress: entry %s: hashes[%d]: %w", e.EntryID, i, err)
				}
				scope.hashes = append(scope.hashes, h)
			}
		case domain.BankPhrase:
			k := normalize.Key(e.Phrase)
			if k == "" {
				continue
			}
			if scope.phrases == nil {
				scope.phrases = map[string]bool{}
			}
			scope.phrases[k] = true
		default:
			return nil, fmt.Errorf("suppress: entry %s: unknown kind %q", e.EntryID, e.Kind)
		}
		b.n++
	}
	return b, nil
}

// Len is the number of entries in the bank.
func (b *Bank) Len() int {
	if b == nil {
		return 0
	}
	return b.n
}

// Suppress implements score.Suppressor: quarantines first (they say more
// to an operator), then the mark's bank, then the global bank.
func (b *Bank) Suppress(l *matchers.Listing, mk *matchers.Mark, e *domain.Evidence) string {
	if len(mk.Quarantines) > 0 && e.Reference != "" {
		switch e.Matcher {
		case "image":
			if _, ok := mk.Quarantined(domain.QuarantineImage, e.Reference); ok {
				return QuarantineImage
			}
		case "text":
			if _, ok := mk.Quarantined(domain.QuarantineVariant, e.Reference); ok {
				return QuarantineVariant
			}
		}
	}
	if b == nil || b.n == 0 {
		return ""
	}
	scopes := [2]*entries{b.byMark[mk.MarkID], &b.global}
	switch e.Matcher {
	case "image":
		img := listingImage(l, e.Field)
		if img == nil {
			return ""
		}
		for _, s := range scopes {
			if s != nil && b.nearAny(img.Hashes, s.hashes) {
				return BankImage
			}
		}
	case "text":
		if e.Match == "" {
			return ""
		}
		var k string
		for _, s := range scopes {
			if s == nil || len(s.phrases) == 0 {
				continue
			}
			if k == "" {
				k = normalize.Key(e.Match)
			}
			if s.phrases[k] {
				return BankPhrase
			}
		}
	}
	return ""
}

// nearAny reports whether any of the image's hashes is within the bank's
// distance of any banked hash.
func (b *Bank) nearAny(img, banked []uint64) bool {
	for _, h := range img {
		for _, x := range banked {
			// The Hamming distance, as imagematch.Distance: this package
			// imports no matcher.
			if bits.OnesCount64(h^x) <= b.maxDist {
				return true
			}
		}
	}
	return false
}

// listingImage finds the image an evidence field ("images[2]") names.
func listingImage(l *matchers.Listing, field string) *matchers.ListingImage {
	s, ok := strings.CutPrefix(field, "images[")
	if !ok {
		return nil
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return nil
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return nil
	}
	for k := range l.Images {
		if l.Images[k].Index == i {
			return &l.Images[k]
		}
	}
	return nil
}
