// Package score combines matcher signals into one score per (listing, mark),
// decides whether a complaint is filed, and writes the explanation a
// reviewer reads.
//
// The combination follows the labeling policy of the design: a listing
// infringes a mark when it uses the mark (its name, an obfuscation of it, its
// logo or official photos) AND something says the goods are not genuine (a
// counterfeit cue, a price below the counterfeit floor, an evasive spelling,
// official photos reused by a seller who is not authorized). So:
//
//	use   = noisy-or of the use signals (text, image)
//	aggr  = noisy-or of the aggravating signals, each times its weight
//	raw   = use × (Base + (1−Base) × aggr)
//	score = raw × Π(1 − dampener)   (authorized seller, nominative use)
//
// Use alone scores at most Base (0.35 by default), below every sensible
// threshold: naming a brand is not infringing. Each factor is monotone and
// explainable, and every number comes from a signal whose evidence is
// attached. The weights are set from what the signals mean, not fitted to
// the fixtures; `markwatch eval` prints a reliability table so drift from
// calibration shows.
package score

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// Matcher roles, keyed by matcher name.
const (
	roleUse = iota + 1
	roleAggravating
	roleDampening
)

var roles = map[string]int{
	"text":  roleUse,
	"image": roleUse,
	// logo (matchers/logo): a mark's logo seen in a seller's own photo is
	// use of the mark, not in itself evidence of a fake (genuine goods
	// show their logo too), so its kind has no evasion weight.
	"logo":   roleUse,
	"cue":    roleAggravating,
	"price":  roleAggravating,
	"seller": roleDampening,
}

// Matchers names every matcher the scorer knows, sorted: the label values
// of per-matcher metrics, created at zero.
func Matchers() []string {
	out := make([]string, 0, len(roles))
	for name := range roles {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Evasion weights: how much an evidence kind of a use matcher counts as
// aggravation on its own. Plain uses (exact, variant, transliteration) are
// absent: they are not evidence of anything but use.
var evasionWeight = map[string]float64{
	"leet":           0.85,
	"homoglyph":      0.9,
	"fullwidth":      0.8,
	"invisible":      0.9,
	"split_letters":  0.8,
	"diacritics":     0.6,
	"squashed":       0.55,
	"spaced":         0.6,
	"fuzzy":          0.9,
	"masked":         0.85,
	"short_typo":     0.8, // counted only with context, see contextual
	"short_leet":     0.85,
	"official_photo": 1.0, // reuse of the brand's own photos by a non-authorized seller: in itself the policy's evidence
	"logo":           0.85,
}

// Options configures the scorer.
type Options struct {
	// Threshold is the score at or above which a complaint is filed, for
	// marks without a threshold of their own (default 0.5).
	Threshold float64
	// RuleVersion goes into every complaint id; bump it when the rules
	// change so that rescoring files new complaints (default "r1").
	RuleVersion string
	// Base is the share of the use score a listing gets without any
	// aggravating signal (default 0.35).
	Base float64
	// OtherGoods is the dampening applied when the listing's category is
	// not among the mark's categories (default 0.5; negative turns it off).
	OtherGoods float64
	// MaxCandidates caps the marks scored per listing (default 64), so a
	// listing that names every brand cannot make scoring quadratic.
	MaxCandidates int
}

func (o Options) withDefaults() Options {
	if o.Threshold <= 0 {
		o.Threshold = 0.5
	}
	if o.RuleVersion == "" {
		o.RuleVersion = "r1"
	}
	if o.Base <= 0 {
		o.Base = 0.35
	}
	switch {
	case o.OtherGoods == 0:
		o.OtherGoods = 0.5
	case o.OtherGoods < 0:
		o.OtherGoods = 0
	}
	if o.MaxCandidates <= 0 {
		o.MaxCandidates = 64
	}
	return o
}

// Validate names the first bad option.
func (o Options) Validate() error {
	if o.Threshold < 0 || o.Threshold > 1 {
		return fmt.Errorf("score: threshold %g outside [0,1]", o.Threshold)
	}
	if o.Base < 0 || o.Base >= 1 {
		return fmt.Errorf("score: base %g outside [0,1)", o.Base)
	}
	return nil
}

// Result is the verdict on one (listing, mark) pair.
type Result struct {
	Mark        *matchers.Mark
	Score       float64
	Threshold   float64
	Flagged     bool
	ComplaintID string
	Explanation string
	Evidence    []domain.Evidence
	// Signals holds each matcher's score by matcher name, for evaluation
	// per matcher.
	Signals map[string]float64
	// Suppressed names, once each, why a Suppressor dropped evidence of
	// this result (nil when nothing was dropped); Score, Flagged and
	// Evidence are those without it.
	Suppressed []string
	// FlaggedUnsuppressed is whether the result would have been flagged
	// with the suppressed evidence: a complaint the suppression stopped
	// when it is true and Flagged is not.
	FlaggedUnsuppressed bool
}

// Suppressor drops use evidence that must not count for one mark: a
// reference image under quarantine, a photo or phrase in a negative bank.
// It must be safe for concurrent use and cheap: it is asked about every
// piece of use evidence of every candidate mark.
type Suppressor interface {
	// Suppress returns why evidence e of mark mk in listing l must not
	// count, or "" to keep it.
	Suppress(l *matchers.Listing, mk *matchers.Mark, e *domain.Evidence) string
}

// Scorer scores listings against a fixed set of marks. It is immutable and
// safe for concurrent use; follow mark updates by building a new one.
type Scorer struct {
	opts         Options
	byID         map[string]*matchers.Mark
	presearchers []matchers.Presearcher
	matchers     []matchers.Matcher
}

// New returns a scorer over marks. Presearchers pick candidate marks; every
// matcher in ms then scores the candidates. Matchers must have names listed
// in the role table (text, image, logo, cue, price, seller).
func New(marks []*matchers.Mark, presearchers []matchers.Presearcher, ms []matchers.Matcher, opts Options) (*Scorer, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Scorer{opts: opts, byID: make(map[string]*matchers.Mark, len(marks)), presearchers: presearchers, matchers: ms}
	for _, m := range marks {
		if m != nil && m.Mark != nil && m.Active() {
			s.byID[m.MarkID] = m
		}
	}
	for _, m := range ms {
		if roles[m.Name()] == 0 {
			return nil, fmt.Errorf("score: matcher %q has no role (want one of text, image, logo, cue, price, seller)", m.Name())
		}
	}
	return s, nil
}

// Options returns the scorer's options with defaults applied.
func (s *Scorer) Options() Options { return s.opts }

// Marks returns the number of active marks the scorer knows.
func (s *Scorer) Marks() int { return len(s.byID) }

// Score returns a result per candidate mark any matcher found evidence
// for (a dampened result may score 0 and still explain why), best first. Ties are broken by mark id so the order is deterministic.
func (s *Scorer) Score(ctx context.Context, l *matchers.Listing) ([]Result, error) {
	return s.ScoreSuppressed(ctx, l, nil)
}

// ScoreSuppressed is Score with the use evidence sup drops taken out
// before the signals combine: a use signal that loses evidence scores as
// its strongest evidence left, as a contextual spelling out of context
// does. Each result says what was suppressed and whether it would have
// been flagged without. A nil sup is Score.
func (s *Scorer) ScoreSuppressed(ctx context.Context, l *matchers.Listing, sup Suppressor) ([]Result, error) {
	cands, pre, err := s.candidates(ctx, l)
	if err != nil || len(cands) == 0 {
		return nil, err
	}
	sigs := make([][]matchers.Signal, len(s.matchers))
	for i, m := range s.matchers {
		if got, ok := pre[m.Name()]; ok {
			// Already scored by its presearch pass.
			sigs[i] = make([]matchers.Signal, len(cands))
			for j, mk := range cands {
				sigs[i][j] = got[mk.MarkID]
			}
			continue
		}
		if sigs[i], err = m.Match(ctx, l, cands); err != nil {
			return nil, fmt.Errorf("score: matcher %s: %w", m.Name(), err)
		}
		if len(sigs[i]) != len(cands) {
			return nil, fmt.Errorf("score: matcher %s returned %d signals for %d marks", m.Name(), len(sigs[i]), len(cands))
		}
	}
	var out []Result
	for j, mk := range cands {
		r := s.combine(l, mk, j, sigs)
		if sup != nil {
			r = s.suppress(l, mk, j, sigs, sup, r)
		}
		// A match whose every evidence was suppressed stays, unflagged,
		// when it would have filed: the detector counts what it stopped.
		if len(r.Evidence) > 0 || r.FlaggedUnsuppressed {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Result) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(a.Mark.MarkID, b.Mark.MarkID)
	})
	return out, nil
}

// candidates runs the presearchers. Those that are CandidateMatchers
// also return their signals, by matcher name and mark id.
func (s *Scorer) candidates(ctx context.Context, l *matchers.Listing) ([]*matchers.Mark, map[string]map[string]matchers.Signal, error) {
	seen := map[string]bool{}
	var cands []*matchers.Mark
	var pre map[string]map[string]matchers.Signal
	for _, p := range s.presearchers {
		var ids []string
		var err error
		if cm, ok := p.(matchers.CandidateMatcher); ok && s.scores(cm) {
			var sigs []matchers.Signal
			ids, sigs, err = cm.MatchCandidates(ctx, l)
			if err == nil {
				if pre == nil {
					pre = map[string]map[string]matchers.Signal{}
				}
				got := make(map[string]matchers.Signal, len(ids))
				for k, id := range ids {
					got[id] = sigs[k]
				}
				pre[cm.Name()] = got
			}
		} else {
			ids, err = p.Candidates(ctx, l)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("score: presearch: %w", err)
		}
		for _, id := range ids {
			if m, ok := s.byID[id]; ok && !seen[id] {
				seen[id] = true
				cands = append(cands, m)
			}
		}
	}
	slices.SortFunc(cands, func(a, b *matchers.Mark) int { return strings.Compare(a.MarkID, b.MarkID) })
	if len(cands) > s.opts.MaxCandidates {
		cands = cands[:s.opts.MaxCandidates]
	}
	return cands, pre, nil
}

// scores reports whether m is one of the scorer's matchers.
func (s *Scorer) scores(m matchers.Matcher) bool {
	for _, x := range s.matchers {
		if x == m {
			return true
		}
	}
	return false
}

// combine applies the formula of the package doc to the signals of mark j.
func (s *Scorer) combine(l *matchers.Listing, mk *matchers.Mark, j int, sigs [][]matchers.Signal) Result {
	r := Result{Mark: mk, Threshold: s.opts.Threshold, Signals: map[string]float64{}}
	if mk.Threshold != nil {
		r.Threshold = *mk.Threshold
	}
	notUse, notAggr, keep := 1.0, 1.0, 1.0
	var use, aggr, damp []domain.Evidence
	ordinary := ordinaryWordOnly(s.matchers, sigs, j)
	supported := inContext(l, mk, s.matchers, sigs, j)
	// Whether another mark is used matters only to secondary evidence of
	// mark j: the walk over every candidate's signals is skipped without.
	other := hasKind(s.matchers, sigs, j, secondary) && usesOther(s.matchers, sigs, j)
	for i, m := range s.matchers {
		sig := sigs[i][j]
		if roles[m.Name()] == roleUse && !supported {
			sig = without(sig, contextual)
		}
		if roles[m.Name()] == roleUse && other {
			sig = without(sig, secondary)
		}
		score := clamp01(sig.Score)
		r.Signals[m.Name()] = score
		if score == 0 {
			continue
		}
		switch roles[m.Name()] {
		case roleUse:
			notUse *= 1 - score
			use = append(use, sig.Evidence...)
			// Evasive spellings and reused brand imagery also aggravate.
			best := 0.0
			for _, e := range sig.Evidence {
				best = max(best, evasionWeight[e.Kind]*clamp01(e.Score))
			}
			notAggr *= 1 - best
		case roleAggravating:
			if ordinary && m.Name() == "price" {
				// The mark's name is also an ordinary word and nothing
				// else says this is the brand's product: a low price
				// says little ("Harbor blue canvas tote bag", $8).
				score *= ordinaryPriceFactor
			}
			notAggr *= 1 - score
			aggr = append(aggr, sig.Evidence...)
		case roleDampening:
			keep *= 1 - score
			damp = append(damp, sig.Evidence...)
		}
	}
	useScore := 1 - notUse
	aggrScore := 1 - notAggr
	if e, ok := otherGoods(l, mk, s.opts.OtherGoods); ok {
		// A mark protects the goods it is registered for: a listing in
		// another category using the word is more likely an ordinary
		// use of it ("Harbor seal plush toy", "Corvina red wine").
		keep *= 1 - s.opts.OtherGoods
		damp = append(damp, e)
	}
	raw := useScore * (s.opts.Base + (1-s.opts.Base)*aggrScore)
	r.Score = round4(clamp01(raw * keep))
	r.Flagged = r.Score > 0 && r.Score >= r.Threshold
	r.Evidence = slices.Concat(use, aggr, damp)
	r.Explanation = explain(use, aggr, damp)
	r.ComplaintID = domain.ComplaintID(l.ListingID, l.Version, mk.MarkID, s.opts.RuleVersion)
	return r
}

// suppress recombines mark j's signals without the use evidence sup drops,
// and returns r unchanged when it drops nothing. Only the column of mark j
// is copied, so a listing with nothing to suppress costs one call per use
// evidence and no allocation.
func (s *Scorer) suppress(l *matchers.Listing, mk *matchers.Mark, j int, sigs [][]matchers.Signal, sup Suppressor, r Result) Result {
	var reasons []string
	var kept [][]matchers.Signal
	for i, m := range s.matchers {
		if roles[m.Name()] != roleUse {
			continue
		}
		sig := sigs[i][j]
		var out *matchers.Signal
		for k := range sig.Evidence {
			why := sup.Suppress(l, mk, &sig.Evidence[k])
			if why == "" {
				if out != nil {
					out.Evidence = append(out.Evidence, sig.Evidence[k])
					out.Score = max(out.Score, sig.Evidence[k].Score)
				}
				continue
			}
			if !slices.Contains(reasons, why) {
				reasons = append(reasons, why)
			}
			if out == nil {
				out = &matchers.Signal{Evidence: slices.Clone(sig.Evidence[:k])}
				for _, e := range out.Evidence {
					out.Score = max(out.Score, e.Score)
				}
			}
		}
		if out == nil {
			continue
		}
		if kept == nil {
			// One column per matcher, holding mark j only, so that
			// combine sees index 0.
			kept = make([][]matchers.Signal, len(sigs))
			for x := range sigs {
				kept[x] = []matchers.Signal{sigs[x][j]}
			}
		}
		kept[i][0] = *out
	}
	if kept == nil {
		return r
	}
	got := s.combine(l, mk, 0, kept)
	got.Suppressed = reasons
	got.FlaggedUnsuppressed = r.Flagged
	return got
}

// contextual lists the evidence kinds that are a use of a mark only in
// context: a misspelling or leet reading of a name of three to five
// letters is one edit from many honest words and model codes (Z3K, V1K,
// Avett), so a looser distance would not do; what does is the rest of the
// listing saying it is about the brand's goods.
//
// logo_partial (matchers/logo): part of a mark's logo fitted in a seller's
// photo, too little of it to tell the logo from an emblem or letters it
// shares with other marks and with honest goods; with the listing about
// the mark's goods, or a cue or a low price, it is read as the logo.
var contextual = map[string]bool{"short_typo": true, "short_leet": true, "logo_partial": true}

// inContext reports whether the listing supports reading a contextual
// spelling as mark j: its category is not outside the mark's goods, and
// the category is one of them, or a cue or a low price fired, or the
// spelling stands in the brand field.
func inContext(l *matchers.Listing, mk *matchers.Mark, ms []matchers.Matcher, sigs [][]matchers.Signal, j int) bool {
	inGoods := false
	if l.Category != "" && len(mk.Categories) > 0 {
		for _, c := range mk.Categories {
			inGoods = inGoods || strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(l.Category))
		}
		if !inGoods {
			return false
		}
	}
	if inGoods {
		return true
	}
	for i, m := range ms {
		sig := sigs[i][j]
		switch {
		case roles[m.Name()] == roleAggravating && sig.Score > 0:
			return true
		case roles[m.Name()] == roleUse:
			for _, e := range sig.Evidence {
				if contextual[e.Kind] && e.Field == "brand" {
					return true
				}
			}
		}
	}
	return false
}

// secondary lists the evidence kinds that are not a use of a mark in a
// listing that plainly uses another mark (usesOther): part of a logo
// seen in the photo of goods the listing sells as another brand's is
// more likely a pattern the two share, or a print on those goods, than a
// second brand's logo; and the cue or low price that would put it in
// context is the other brand's.
var secondary = map[string]bool{"logo_partial": true}

// hasKind reports whether mark j has use evidence of one of kinds.
func hasKind(ms []matchers.Matcher, sigs [][]matchers.Signal, j int, kinds map[string]bool) bool {
	for i, m := range ms {
		if roles[m.Name()] != roleUse {
			continue
		}
		for _, e := range sigs[i][j].Evidence {
			if kinds[e.Kind] {
				return true
			}
		}
	}
	return false
}

// usesOther reports whether a mark other than mark j has use evidence
// that is neither contextual nor secondary: its name or an evasion of it
// in the text, its official photos, its whole logo.
func usesOther(ms []matchers.Matcher, sigs [][]matchers.Signal, j int) bool {
	for i, m := range ms {
		if roles[m.Name()] != roleUse {
			continue
		}
		for k, sig := range sigs[i] {
			if k == j {
				continue
			}
			for _, e := range sig.Evidence {
				if !contextual[e.Kind] && !secondary[e.Kind] && e.Kind != "common_word" {
					return true
				}
			}
		}
	}
	return false
}

// without drops the evidence of the given kinds from a use signal, its
// score becoming that of the strongest evidence left.
func without(sig matchers.Signal, kinds map[string]bool) matchers.Signal {
	out := matchers.Signal{}
	for _, e := range sig.Evidence {
		if kinds[e.Kind] {
			continue
		}
		out.Evidence = append(out.Evidence, e)
		out.Score = max(out.Score, e.Score)
	}
	if len(out.Evidence) == len(sig.Evidence) {
		return sig
	}
	return out
}

// ordinaryPriceFactor weighs down the price signal when the only use of
// the mark is its name written as an ordinary word.
const ordinaryPriceFactor = 0.3

// ordinaryWordOnly reports whether every use evidence of mark j is a
// common-word use of its name (no image, no brand field, no evasion).
func ordinaryWordOnly(ms []matchers.Matcher, sigs [][]matchers.Signal, j int) bool {
	seen := false
	for i, m := range ms {
		if roles[m.Name()] != roleUse {
			continue
		}
		for _, e := range sigs[i][j].Evidence {
			if e.Kind != "common_word" {
				return false
			}
			seen = true
		}
	}
	return seen
}

// explain writes the sentence a reviewer reads: the strongest use, then the
// aggravating signals, then what dampened the score.
func explain(use, aggr, damp []domain.Evidence) string {
	var parts []string
	byScore := func(ev []domain.Evidence) []domain.Evidence {
		ev = slices.Clone(ev)
		slices.SortStableFunc(ev, func(a, b domain.Evidence) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return 0
		})
		return ev
	}
	seen := map[string]bool{}
	add := func(d string) {
		if d != "" && !seen[d] {
			seen[d] = true
			parts = append(parts, d)
		}
	}
	for i, e := range byScore(use) {
		if i == 2 {
			break
		}
		add(e.Detail)
	}
	for _, e := range byScore(aggr) {
		add(e.Detail)
	}
	out := strings.Join(parts, " + ")
	var d []string
	for _, e := range byScore(damp) {
		if !seen[e.Detail] {
			seen[e.Detail] = true
			d = append(d, e.Detail)
		}
	}
	if len(d) > 0 {
		out += "; dampened: " + strings.Join(d, ", ")
	}
	return out
}

// otherGoods reports, with its evidence, a listing whose category is not
// one of the mark's categories. Either side unknown means no signal.
func otherGoods(l *matchers.Listing, mk *matchers.Mark, damp float64) (domain.Evidence, bool) {
	if damp <= 0 || l.Category == "" || len(mk.Categories) == 0 {
		return domain.Evidence{}, false
	}
	for _, c := range mk.Categories {
		if strings.EqualFold(strings.TrimSpace(c), strings.TrimSpace(l.Category)) {
			return domain.Evidence{}, false
		}
	}
	return domain.Evidence{
		Matcher: "score", Kind: "other_goods", Field: "category", Match: l.Category, Score: damp,
		Detail: fmt.Sprintf("category '%s' is not among the mark's goods (%s)", l.Category, strings.Join(mk.Categories, ", ")),
	}, true
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }
