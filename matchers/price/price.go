// Package price is the matcher for prices below the counterfeit floor: a
// listing that asks a small fraction of what the genuine product costs is
// evidence of a counterfeit.
//
// The reference is the mark's reference price for the listing's category
// (compared case-insensitively), else the mark's reference price without a
// category. Currencies are converted through a rate table from config.
// Whenever the comparison cannot be made honestly — no listing price, a price
// of zero, no reference, a currency missing from the table — the signal is
// zero and no error is returned: an unknown price is not evidence.
//
// Scoring. Let ratio = listing price / reference price, both in the base
// currency. At or above Floor the score is 0: the labeling policy treats
// resale at a normal price as negative, and outlet or second-hand discounts
// of 50–70% are common, so a weak band above the floor would mostly add
// false positives to the combined score. Below the floor the score is
//
//	0.6 + 0.4·(1 − ratio/Floor)
//
// so that crossing the floor is already a clear signal (0.6) and a price
// near nothing is as strong as it gets (1.0 in the limit).
package price

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Name is the matcher's name in evidence and metrics.
const Name = "price"

// KindBelowFloor is the evidence kind for a price below the floor.
const KindBelowFloor = "below_floor"

// Defaults for unset Options.
const (
	DefaultFloor = 0.30
	DefaultBase  = "USD"
)

// Score shape below the floor: the score at the floor and the extra reached
// as the price goes to zero.
const (
	scoreAtFloor = 0.6
	scoreSpan    = 0.4
)

// Options configure the price matcher.
type Options struct {
	// Floor is the counterfeit floor as a fraction of the reference price,
	// in (0, 1); 0 means DefaultFloor.
	Floor float64
	// Rates maps currency codes to how many units of the currency buy one
	// unit of Base (EUR: 0.92 with base USD). Base itself needs no entry.
	// Prices in currencies missing here are compared only against
	// references in the same currency.
	Rates map[string]float64
	// Base is the currency the rates are quoted against; "" means
	// DefaultBase.
	Base string
}

// Matcher scores listings whose price is below the counterfeit floor.
// It is immutable after New and safe for concurrent use.
type Matcher struct {
	floor float64
	base  string
	rates map[string]float64 // includes base at 1
}

// New validates opts, applies defaults and returns a matcher.
func New(opts Options) (*Matcher, error) {
	if opts.Floor == 0 {
		opts.Floor = DefaultFloor
	}
	if math.IsNaN(opts.Floor) || opts.Floor <= 0 || opts.Floor >= 1 {
		return nil, fmt.Errorf("price: new: floor must be in (0, 1), got %v", opts.Floor)
	}
	if opts.Base == "" {
		opts.Base = DefaultBase
	}
	if err := checkRates(opts.Base, opts.Rates); err != nil {
		return nil, fmt.Errorf("price: new: %w", err)
	}
	// Copy so that a caller mutating its map cannot race with Match.
	rates := maps.Clone(opts.Rates)
	if rates == nil {
		rates = map[string]float64{}
	}
	rates[opts.Base] = 1
	return &Matcher{floor: opts.Floor, base: opts.Base, rates: rates}, nil
}

// Name returns "price".
func (m *Matcher) Name() string { return Name }

// Match returns, for each mark, how far below the counterfeit floor of the
// mark's reference price the listing's price is.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs := make([]matchers.Signal, len(marks))
	if l == nil || l.Listing == nil || !l.HasPrice || l.Listing.Price == nil || l.Listing.Price.Currency == "" {
		return sigs, nil
	}
	used := secondHand(l)
	for i, mk := range marks {
		if mk == nil || mk.Mark == nil {
			continue
		}
		sigs[i] = m.signal(l, mk, used)
	}
	return sigs, nil
}

// usedFactor weighs down the price signal of a listing that says its item
// is second-hand: a reference price is a new item's, and worn goods sell
// far below it honestly.
const usedFactor = 0.3

// usedWords say an item is second-hand, in the languages of the cue
// lexicon; matched on normalize.Fold text as whole words (CJK anywhere).
var usedWords = []string{
	"used", "worn", "pre-owned", "preowned", "pre-loved", "preloved", "second hand", "second-hand", "secondhand", "like new",
	"usado", "usada", "seminuevo", "seminova", "d'occasion", "gebraucht", "getragen",
	"б/у", "ношенный", "ношеная", "ikinci el", "az kullanilmis", "kullanilmis", "مستعمل", "مستعملة",
}

var usedCJK = []string{"二手", "中古", "闲置"}

// secondHand reports whether the listing's title or description says the
// item is used.
func secondHand(l *matchers.Listing) bool {
	text := l.Title + " " + l.Description
	if len(text) > 4096 {
		text = text[:4096]
	}
	folded := " " + normalize.Fold(text) + " "
	for _, w := range usedCJK {
		if strings.Contains(folded, w) {
			return true
		}
	}
	for _, w := range usedWords {
		if i := strings.Index(folded, w); i > 0 && !isWordByte(folded[i-1]) && i+len(w) < len(folded) && !isWordByte(folded[i+len(w)]) {
			return true
		}
	}
	return false
}

func isWordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b >= 0x80
}

// signal compares the listing's price with one mark's reference.
func (m *Matcher) signal(l *matchers.Listing, mk *matchers.Mark, used bool) matchers.Signal {
	ref, ok := reference(mk.ReferencePrices, l.Category)
	if !ok {
		return matchers.Signal{}
	}
	refAmt, err := domain.ParseAmount(ref.Amount)
	if err != nil || refAmt <= 0 {
		return matchers.Signal{}
	}
	// A zero price is a placeholder ("ask for price"), not a bargain.
	price, cur := l.Price, l.Listing.Price.Currency
	if !(price > 0) || math.IsInf(price, 0) {
		return matchers.Signal{}
	}
	ratio, ok := m.ratio(price, cur, refAmt, ref.Currency)
	if !ok || ratio >= m.floor {
		return matchers.Signal{}
	}
	score := min(1, max(0, scoreAtFloor+scoreSpan*(1-ratio/m.floor)))
	detail := fmt.Sprintf("price %s of reference (%.2f %s)", percent(ratio), refAmt, ref.Currency)
	if cur != ref.Currency {
		detail += ", converted from " + cur
	}
	if used {
		score *= usedFactor
		detail += "; the listing says used, so weighed down"
	}
	return matchers.Signal{
		Score: score,
		Evidence: []domain.Evidence{{
			Matcher: Name,
			Score:   score,
			Kind:    KindBelowFloor,
			Field:   "price",
			Match:   fmt.Sprintf("%.2f %s", price, cur),
			Detail:  detail,
		}},
	}
}

// ratio returns price/reference after converting both to the base
// currency; ok is false when a currency is missing from the table. Equal
// currencies need no rate at all.
func (m *Matcher) ratio(price float64, cur string, ref float64, refCur string) (float64, bool) {
	if cur != refCur {
		pr, ok1 := m.rates[cur]
		rr, ok2 := m.rates[refCur]
		if !ok1 || !ok2 {
			return 0, false
		}
		price, ref = price/pr, ref/rr
	}
	r := price / ref
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, false
	}
	return r, true
}

// reference picks the reference price for a listing category: the first
// entry for that category (case-insensitive), else the first entry without
// a category.
func reference(refs []domain.ReferencePrice, category string) (domain.ReferencePrice, bool) {
	category = strings.TrimSpace(category)
	if category != "" {
		for _, r := range refs {
			if r.Category != "" && strings.EqualFold(strings.TrimSpace(r.Category), category) {
				return r, true
			}
		}
	}
	for _, r := range refs {
		if strings.TrimSpace(r.Category) == "" {
			return r, true
		}
	}
	return domain.ReferencePrice{}, false
}

// percent formats a ratio for a reviewer: whole percents, one decimal below
// 10% where the difference between 0.4% and 4% matters.
func percent(r float64) string {
	p := r * 100
	if p < 0.05 {
		return "<0.1%"
	}
	if p < 10 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", p), ".0") + "%"
	}
	return fmt.Sprintf("%.0f%%", p)
}
