// Package text is the word-mark matcher: it finds a mark's name and variants
// in a listing's title, brand field and description, however they are
// obfuscated, and is the presearcher that picks candidate marks.
//
// Matching works on normalize.Tokens, so every obfuscation normalize undoes
// (leetspeak, homoglyphs, fullwidth, accents, hidden characters, split
// letters) is an exact lookup here. Two passes:
//
//  1. Exact: every window of up to MaxWindow consecutive tokens is squashed
//     (token texts concatenated) and looked up in a hash map of the squashed
//     keys of every mark name and variant. This respects token boundaries
//     ("Dior" is not in "Diorama", "Nikel" is not "Nike"), finds multi-word
//     marks ("louis vuitton"), squashed forms ("louisvuitton") and names
//     broken by spaces ("Vel taro"), and costs a few map lookups per token
//     whatever the number of marks.
//  2. Fuzzy: tokens (and adjacent pairs) the exact pass left unmatched are
//     looked up in a symmetric-delete index of the mark keys (deletes.go):
//     fuzziness 1 from FuzzyMinRunes runes, 2 from Fuzzy2MinRunes, a
//     handful of hash lookups per term whatever the number of marks, so
//     that never-seen words (new model names, shops, SKUs) cost little.
//     Results are also kept in an LRU cache keyed by the term for what
//     repeats. bleve's Levenshtein automaton, the first implementation,
//     remains selectable (FuzzyIndexBleve) as the reference the tests
//     compare against (see docs/BENCHMARKS.md).
//
// Between the two, findLeet reads whitespace-separated chunks aggressively
// (leet digit by digit, look-alike letters, one masked letter as in VELT*RO
// or Qu#llora), and findShortTypo finds names of three to five letters with
// two letters swapped, one doubled or dropped; those short-name hits, and
// leet of three-letter names, are kinds the scorer counts only in context.
//
// A mark may list distinct_from names ("Louis Philippe" for "Louis
// Vuitton"): a hit inside the span of such a name is dropped, and a fuzzy hit
// on a term that is exactly another known name is dropped too.
//
// The matcher's index is immutable once built; callers swap in a new
// Matcher to follow mark updates (copy-on-write).
package text

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Name is the matcher's name in evidence and metrics.
const Name = "text"

// Evidence kinds emitted by the text matcher. KindExact, KindVariant and
// KindTransliteration are plain uses of the mark; every other kind is an
// evasive spelling, which the labeling policy counts as evidence in itself.
const (
	KindExact           = "exact"
	KindVariant         = "variant"
	KindTransliteration = "transliteration"
	KindLeet            = "leet"
	KindHomoglyph       = "homoglyph"
	KindFullwidth       = "fullwidth"
	KindDiacritics      = "diacritics"
	KindInvisible       = "invisible"
	KindSplit           = "split_letters"
	KindSpaced          = "spaced"
	KindSquashed        = "squashed"
	KindFuzzy           = "fuzzy"
	// KindMasked is one inner letter hidden behind *, _, # or . (VELT*RO).
	KindMasked = "masked"
	// KindShortTypo is a name of three to five letters with two letters
	// swapped, one doubled or (five letters) one dropped; KindShortLeet is
	// leet or look-alike letters in a name of three letters. Both are so
	// close to honest words and model codes that the scorer counts them
	// only with context (see score).
	KindShortTypo = "short_typo"
	KindShortLeet = "short_leet"
	// KindCommonWord is a plain use of a one-word mark that is also an
	// ordinary word ("Harbor blue canvas tote"), outside the brand field.
	KindCommonWord = "common_word"
)

// Options tunes the matcher. Zero values take the documented defaults.
type Options struct {
	// MaxWindow is the most tokens squashed together in one lookup
	// (default 6; mark names longer than that in tokens are still found
	// when written with the same tokens).
	MaxWindow int
	// FuzzyMinRunes is the shortest term looked up with fuzziness 1
	// (default 5: shorter names have too many honest neighbours).
	FuzzyMinRunes int
	// Fuzzy2MinRunes is the shortest term looked up with fuzziness 2
	// (default 9).
	Fuzzy2MinRunes int
	// FuzzyPrefix is how many leading characters a fuzzy match must share
	// (default 1; typos in the first letter are rare and cost precision).
	FuzzyPrefix int
	// DisableFuzzy turns the fuzzy pass off.
	DisableFuzzy bool
	// FuzzyCacheSize is the number of terms whose fuzzy lookups are cached
	// (default 100000).
	FuzzyCacheSize int
	// MaxDescriptionBytes is how much of a description is scanned (default
	// 8192): descriptions may be 20 KB, and brand names that matter sit at
	// the top.
	MaxDescriptionBytes int
	// FuzzyIndex selects how typo candidates are found: FuzzyIndexDeletes
	// (the default, "") or FuzzyIndexBleve. Both find the same matches;
	// bleve's is slower on words it has not seen and is kept as the
	// reference for tests and measurements.
	FuzzyIndex string
}

// Values of Options.FuzzyIndex.
const (
	// FuzzyIndexDeletes is the symmetric-delete index (deletes.go).
	FuzzyIndexDeletes = "deletes"
	// FuzzyIndexBleve is bleve's Levenshtein automaton over the term
	// dictionary of mark keys (bleve.go).
	FuzzyIndexBleve = "bleve"
)

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxWindow, 6)
	def(&o.FuzzyMinRunes, 5)
	def(&o.Fuzzy2MinRunes, 9)
	def(&o.FuzzyCacheSize, 100000)
	def(&o.MaxDescriptionBytes, 8192)
	if o.FuzzyPrefix < 0 {
		o.FuzzyPrefix = 0
	} else if o.FuzzyPrefix == 0 {
		o.FuzzyPrefix = 1
	}
	return o
}

// phrase is one name or variant of a mark as the index keeps it.
type phrase struct {
	mark    int32
	text    string // as registered, for explanations
	tokens  int    // number of normalized tokens
	variant bool
	cjk     bool // the phrase is written in a CJK script
	// obf are the transformations normalization applied to the phrase
	// itself (accents of "Hermès", Cyrillic of "Найк"): the same in a
	// listing is the registered spelling, not an evasion.
	obf normalize.Obfuscation
	// common marks a one-word name that is also an English word
	// ("Harbor", "Meadow"): written plainly outside the brand field it
	// is more often the word than the brand.
	common bool
}

// Matcher is the text matcher. It is safe for concurrent use.
type Matcher struct {
	opts   Options
	marks  []*matchers.Mark
	byID   map[string]int32
	keys   map[string][]phrase // squashed key → phrases with that key
	others map[string][]int32  // distinct_from key → marks that declare it
	maxKey int                 // longest key in bytes
	// multi holds the tokens of multi-word names: only a token pair with
	// one of them is looked up fuzzily ("Louis Vuiton"), which keeps the
	// number of distinct fuzzy lookups, and so cache misses, down.
	multi map[string]struct{}
	// keysIL indexes the ASCII keys with i folded into l, for findLeet;
	// maskIL the same keys with one inner letter replaced by '?', for
	// masked spellings (VELT*RO); shortTypos the edits of short one-word
	// keys (see shortEdits).
	keysIL, maskIL, shortTypos map[string][]phrase
	// prefixes holds every beginning of a key and of a distinct_from name.
	prefixes bitFilter
	// dict is the English dictionary (see lexicon.go).
	dict dictionary

	// Exactly one of deletes and bleve is set when the fuzzy pass is on.
	deletes    *deleteIndex
	bleve      *bleveIndex
	fuzzyCache *lru.Cache[string, []fuzzyTerm]
}

type fuzzyTerm struct {
	key  string
	dist uint8
}

// New builds the matcher's index over marks. Inactive marks are skipped.
func New(marks []*matchers.Mark, opts Options) (*Matcher, error) {
	opts = opts.withDefaults()
	m := &Matcher{
		opts:       opts,
		byID:       make(map[string]int32, len(marks)),
		keys:       make(map[string][]phrase, 2*len(marks)),
		others:     map[string][]int32{},
		multi:      map[string]struct{}{},
		keysIL:     map[string][]phrase{},
		maskIL:     map[string][]phrase{},
		dict:       english(),
		shortTypos: map[string][]phrase{},
	}
	for _, mk := range marks {
		if mk == nil || mk.Mark == nil || !mk.Active() {
			continue
		}
		if _, dup := m.byID[mk.MarkID]; dup {
			return nil, fmt.Errorf("text: duplicate mark id %q", mk.MarkID)
		}
		idx := int32(len(m.marks))
		m.marks = append(m.marks, mk)
		m.byID[mk.MarkID] = idx
		m.addPhrase(idx, mk.Name, false)
		for _, v := range mk.Variants {
			m.addPhrase(idx, v, true)
		}
		for _, d := range mk.DistinctFrom {
			if k := normalize.Key(d); k != "" && !slices.Contains(m.others[k], idx) {
				m.others[k] = append(m.others[k], idx)
			}
		}
	}
	starts := make([]string, 0, len(m.keys)+len(m.others))
	for k := range m.keys {
		starts = append(starts, k)
	}
	for k := range m.others {
		starts = append(starts, k)
	}
	m.prefixes = newPrefixFilter(starts)
	if !opts.DisableFuzzy {
		if err := m.buildFuzzy(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Matcher) addPhrase(idx int32, text string, variant bool) {
	toks := normalize.Tokens(text)
	if len(toks) == 0 {
		return
	}
	var b strings.Builder
	cjk := true
	var obf normalize.Obfuscation
	for _, t := range toks {
		b.WriteString(t.Text)
		cjk = cjk && t.CJK
		obf |= t.Obf
	}
	key := b.String()
	for _, p := range m.keys[key] {
		if p.mark == idx {
			return // the same key twice for one mark, e.g. name and a case variant
		}
	}
	if len(toks) > 1 && !cjk {
		for _, t := range toks {
			m.multi[t.Text] = struct{}{}
		}
	}
	_, common := m.dict.common[key]
	p := phrase{mark: idx, text: text, tokens: len(toks), variant: variant, cjk: cjk, obf: obf, common: common && len(toks) == 1}
	m.keys[key] = append(m.keys[key], p)
	if !cjk && isASCIIKey(key) && len(key) >= 3 {
		m.keysIL[ilFold(key)] = append(m.keysIL[ilFold(key)], p)
	}
	if !cjk && isASCIIKey(key) && len(key) >= 4 {
		il := ilFold(key)
		for i := 1; i < len(il)-1; i++ {
			mk := il[:i] + "?" + il[i+1:]
			m.maskIL[mk] = append(m.maskIL[mk], p)
		}
	}
	if !cjk && len(toks) == 1 && isASCIIKey(key) {
		for _, e := range shortEdits(key) {
			m.shortTypos[e] = append(m.shortTypos[e], p)
		}
	}
	m.maxKey = max(m.maxKey, len(key))
}

func isASCIIKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] < 'a' || k[i] > 'z' {
			return false
		}
	}
	return true
}

// buildFuzzy indexes every Latin-script key long enough for fuzzy
// matching in the index Options.FuzzyIndex names.
func (m *Matcher) buildFuzzy() error {
	var keys []string
	for key, ps := range m.keys {
		if ps[0].cjk || utf8.RuneCountInString(key) < m.opts.FuzzyMinRunes {
			continue
		}
		keys = append(keys, key)
	}
	cache, err := lru.New[string, []fuzzyTerm](m.opts.FuzzyCacheSize)
	if err != nil {
		return fmt.Errorf("text: fuzzy cache: %w", err)
	}
	switch m.opts.FuzzyIndex {
	case "", FuzzyIndexDeletes:
		// A key needs its two-rune deletions only if a term long enough
		// for two edits can reach it: Fuzzy2MinRunes less two.
		m.deletes = newDeleteIndex(keys, m.opts.FuzzyPrefix, m.opts.Fuzzy2MinRunes-2)
	case FuzzyIndexBleve:
		if m.bleve, err = newBleveIndex(keys); err != nil {
			return err
		}
	default:
		return fmt.Errorf("text: fuzzy index %q: want %q or %q", m.opts.FuzzyIndex, FuzzyIndexDeletes, FuzzyIndexBleve)
	}
	m.fuzzyCache = cache
	return nil
}

// Close releases the fuzzy index. The matcher must not be used afterwards.
func (m *Matcher) Close() error {
	if m.bleve == nil {
		return nil
	}
	return m.bleve.close()
}

// Name implements matchers.Matcher.
func (m *Matcher) Name() string { return Name }

// Candidates implements matchers.Presearcher: the marks whose name or a
// variant occurs in the listing, exactly, obfuscated or fuzzily.
func (m *Matcher) Candidates(ctx context.Context, l *matchers.Listing) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	hits, err := m.find(l)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[int32]bool{}
	for _, h := range hits {
		if !seen[h.mark] {
			seen[h.mark] = true
			ids = append(ids, m.marks[h.mark].MarkID)
		}
	}
	return ids, nil
}

// MatchCandidates implements matchers.CandidateMatcher: the candidates and
// their signals from one scan of the listing.
func (m *Matcher) MatchCandidates(ctx context.Context, l *matchers.Listing) ([]string, []matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	hits, err := m.find(l)
	if err != nil || len(hits) == 0 {
		return nil, nil, err
	}
	var ids []string
	var sigs []matchers.Signal
	seen := map[int32]bool{}
	for _, h := range hits {
		if !seen[h.mark] {
			seen[h.mark] = true
			ids = append(ids, m.marks[h.mark].MarkID)
			sigs = append(sigs, signal(hits, h.mark))
		}
	}
	return ids, sigs, nil
}

// Match implements matchers.Matcher.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs := make([]matchers.Signal, len(marks))
	if len(marks) == 0 {
		return sigs, nil
	}
	hits, err := m.find(l)
	if err != nil {
		return nil, err
	}
	if len(hits) == 0 {
		return sigs, nil
	}
	for i, mk := range marks {
		idx, ok := m.byID[mk.MarkID]
		if !ok {
			continue
		}
		sigs[i] = signal(hits, idx)
	}
	return sigs, nil
}

// evasive reports whether a kind is a spelling that needed undoing.
func evasive(kind string) bool {
	switch kind {
	case KindExact, KindVariant, KindTransliteration, KindCommonWord:
		return false
	}
	return true
}

// signal turns the hits of one mark into its Signal: the best hit per field
// as evidence, the best hit's strength as the score, with a small boost when
// the mark shows up in more than one field.
func signal(hits []hit, idx int32) matchers.Signal {
	// The best plain use and the best evasive spelling of each field: an
	// evasion is evidence in itself even when a plain variant also matched
	// ("Nordvale Outf\u200bitters" next to the variant "Nordvale").
	var best [2 * numFields]*hit
	for i := range hits {
		h := &hits[i]
		if h.mark != idx {
			continue
		}
		slot := h.field
		if evasive(h.kind) {
			slot += numFields
		}
		if b := best[slot]; b == nil || h.score > b.score {
			best[slot] = h
		}
	}
	var s matchers.Signal
	fields := 0
	for i, h := range best {
		if h == nil {
			continue
		}
		if i < numFields || best[i-numFields] == nil {
			fields++
		}
		s.Score = max(s.Score, h.score)
		s.Evidence = append(s.Evidence, h.evidence())
	}
	if fields > 1 {
		s.Score = min(1, s.Score+0.03*float64(fields-1))
	}
	// Strongest evidence first, so explanations lead with it.
	slices.SortStableFunc(s.Evidence, func(a, b domain.Evidence) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	return s
}
