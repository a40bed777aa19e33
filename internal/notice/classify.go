package notice

import (
	"slices"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
)

// Evidence kinds the classification reads; they are the matchers' own
// (matchers/text, cue, price, seller, imagematch), repeated here because
// matchers sit below this package in the import graph and the kinds are
// part of the complaint format anyway.
const (
	kindCue           = "cue"
	kindNominative    = "nominative"
	kindOfficialPhoto = "official_photo"
	kindLogo          = "logo"
	// kindLogoInPhoto and kindLogoPartial: a mark's logo found, whole or
	// in part, on the goods in the seller's own photo (matchers/logo).
	kindLogoInPhoto = "logo_in_photo"
	kindLogoPartial = "logo_partial"
	kindFuzzy       = "fuzzy"
	kindBelowFloor  = "below_floor"
)

// obfuscationKinds are the text matcher's kinds for a brand name spelled
// to evade detection.
var obfuscationKinds = []string{"leet", "homoglyph", "fullwidth", "diacritics", "invisible", "split_letters", "spaced", "squashed"}

// Violation names the mistake a complaint shows, for the education in its
// notice. The evidence decides, most specific first: a nominative phrase
// ("case for X") means an accessory that named the brand as its own; then
// counterfeit cue words, reused official photos or logo, a look-alike
// (fuzzy) name, an obfuscated name, a price below the floor. Without such
// evidence (a manual complaint) the reviewer's reason code decides, and
// mark_use is the rest.
func Violation(c *domain.Complaint, reasonCode string) string {
	has := func(pred func(domain.Evidence) bool) bool {
		return slices.ContainsFunc(c.Evidence, func(e domain.Evidence) bool { return e.Score > 0 && pred(e) })
	}
	kind := func(kinds ...string) func(domain.Evidence) bool {
		return func(e domain.Evidence) bool { return slices.Contains(kinds, e.Kind) }
	}
	switch {
	case has(kind(kindNominative)):
		return domain.ViolationCompatibleAccessory
	case has(kind(kindCue)):
		return domain.ViolationCounterfeitCue
	case has(kind(kindOfficialPhoto, kindLogo)):
		return domain.ViolationOfficialPhotos
	case has(kind(kindFuzzy)):
		return domain.ViolationLookAlikeBrand
	case has(kind(obfuscationKinds...)):
		return domain.ViolationObfuscatedMark
	case has(kind(kindBelowFloor)):
		return domain.ViolationPriceBelowFloor
	}
	switch reasonCode {
	case "counterfeit":
		return domain.ViolationCounterfeitCue
	case "official_photo_reuse":
		return domain.ViolationOfficialPhotos
	case "obfuscated_mark":
		return domain.ViolationObfuscatedMark
	case "price_below_floor":
		return domain.ViolationPriceBelowFloor
	}
	return domain.ViolationMarkUse
}

// NominativeLike reports whether a violation is the honest seller's
// mistake that a first offence may be taught rather than struck for.
func NominativeLike(violation string) bool {
	return violation == domain.ViolationCompatibleAccessory
}

// textFields are the listing fields whose matched words a seller sees.
var textFields = []string{"title", "brand", "description"}

// SellerEvidence is the part of c's evidence its seller may see: the words
// of its own listing that matched, the public URLs of mark's reference
// images its photos matched or showed (a logo seen on the goods), and its price beside mark's reference price
// when the price was evidence. Nothing else of the complaint is copied:
// not the explanation or notes, not other sellers (the authorized-seller
// list stays out).
func SellerEvidence(c *domain.Complaint, mark *domain.Mark) domain.NoticeEvidence {
	var ev domain.NoticeEvidence
	refs := append(slices.Clone(mark.OfficialImages), mark.Logos...)
	priced := false
	for _, e := range c.Evidence {
		if e.Score <= 0 {
			continue // dampeners and non-matches are not reasons
		}
		switch {
		case e.Kind == kindBelowFloor:
			priced = true
		case e.Kind == kindOfficialPhoto || e.Kind == kindLogo || e.Kind == kindLogoInPhoto || e.Kind == kindLogoPartial:
			// The evidence names the reference (its Reference, or the
			// detail: "matches official photo URL", "logo URL found in
			// the photo"); only a URL the mark itself publishes is
			// copied.
			for _, r := range refs {
				if r != "" && (r == e.Reference || strings.Contains(e.Detail, r)) && !slices.Contains(ev.ReferenceImages, r) {
					ev.ReferenceImages = append(ev.ReferenceImages, r)
				}
			}
		case slices.Contains(textFields, e.Field) && e.Match != "" && e.Kind != "authorized":
			if !slices.Contains(ev.MatchedWords, e.Match) {
				ev.MatchedWords = append(ev.MatchedWords, e.Match)
			}
		}
	}
	if priced && c.Listing != nil && c.Listing.Price != nil {
		for _, rp := range mark.ReferencePrices {
			if rp.Currency != c.Listing.Price.Currency || (rp.Category != "" && rp.Category != c.Listing.Category) {
				continue
			}
			ev.Price = &domain.PriceComparison{
				Listing:   *c.Listing.Price,
				Reference: domain.Money{Amount: rp.Amount, Currency: rp.Currency},
			}
			if rp.Category != "" {
				break // a category's own price beats the general one
			}
		}
	}
	return ev
}
