package text

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Listing fields the matcher reads, in the order they are scanned.
const (
	fieldTitle = iota
	fieldBrand
	fieldDescription
	numFields
)

var fieldNames = [numFields]string{"title", "brand", "description"}

// hit is one occurrence of a mark phrase in a listing field.
type hit struct {
	mark       int32
	field      int
	tokA, tokB int    // token span [tokA, tokB]
	orig       string // the listing's text of the span
	phrase     string // the registered name or variant
	markName   string
	kind       string
	obf        normalize.Obfuscation
	dist       int
	score      float64
}

// Strength of a hit by kind, before the field factor: how sure the hit is
// a use of the mark. Plain names are near-certain; spellings that need
// undoing are slightly less so (the undoing can collide with honest words);
// spaced and fuzzy forms least of all.
var kindStrength = map[string]float64{
	KindExact:           0.95,
	KindVariant:         0.92,
	KindTransliteration: 0.92,
	KindLeet:            0.9,
	KindHomoglyph:       0.9,
	KindFullwidth:       0.9,
	KindInvisible:       0.9,
	KindSplit:           0.9,
	KindDiacritics:      0.88,
	KindSquashed:        0.85,
	KindSpaced:          0.7,
}

// fieldFactor scales a hit by where it is: a brand name in the
// description is weaker evidence of use than one in the title.
var fieldFactor = [numFields]float64{1, 1, 0.85}

func (h *hit) evidence() domain.Evidence {
	return domain.Evidence{
		Matcher: Name,
		Score:   h.score,
		Field:   fieldNames[h.field],
		Match:   h.orig,
		Kind:    h.kind,
		Detail:  h.detail(),
	}
}

func (h *hit) detail() string {
	what := fmt.Sprintf("%s contains '%s'", fieldNames[h.field], h.orig)
	switch h.kind {
	case KindExact:
		if strings.EqualFold(h.orig, h.markName) {
			return what
		}
		return fmt.Sprintf("%s (%s)", what, h.markName)
	case KindVariant:
		return fmt.Sprintf("%s (variant of %s)", what, h.markName)
	case KindTransliteration:
		return fmt.Sprintf("%s (transliteration of %s)", what, h.markName)
	case KindSquashed:
		return fmt.Sprintf("%s (%s written without spaces)", what, h.markName)
	case KindSpaced:
		return fmt.Sprintf("%s (%s with spaces inserted)", what, h.markName)
	case KindFuzzy:
		edits := "edits"
		if h.dist == 1 {
			edits = "edit"
		}
		return fmt.Sprintf("%s (%d %s from %s)", what, h.dist, edits, h.markName)
	}
	return fmt.Sprintf("%s (%s for %s)", what, h.obf.Describe(), h.markName)
}

// obfKind names the main evasion of a set of obfuscation bits.
func obfKind(o normalize.Obfuscation) string {
	switch {
	case o&normalize.Split != 0:
		return KindSplit
	case o&normalize.Leet != 0:
		return KindLeet
	case o&normalize.Confusable != 0:
		return KindHomoglyph
	case o&normalize.Fullwidth != 0:
		return KindFullwidth
	case o&normalize.Invisible != 0:
		return KindInvisible
	case o&normalize.Diacritic != 0:
		return KindDiacritics
	}
	return ""
}

// span is a distinct_from name found in a field: hits of its marks inside
// it are not uses of the mark.
type span struct {
	a, b  int
	marks []int32
}

// find returns every hit of every mark in the listing.
func (m *Matcher) find(l *matchers.Listing) ([]hit, error) {
	if l == nil || l.Listing == nil || len(m.marks) == 0 {
		return nil, nil
	}
	desc := l.Description
	if len(desc) > m.opts.MaxDescriptionBytes {
		desc = desc[:m.opts.MaxDescriptionBytes]
	}
	texts := [numFields]string{l.Title, l.Brand, desc}
	var hits []hit
	toks := make([]normalize.Token, 0, 32)
	for f, text := range texts {
		if text == "" {
			continue
		}
		toks = normalize.AppendTokens(toks[:0], text)
		var err error
		if hits, err = m.findField(hits, f, text, toks); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

func (m *Matcher) findField(hits []hit, field int, text string, toks []normalize.Token) ([]hit, error) {
	first := len(hits)
	matched := make([]bool, len(toks))
	var spans []span
	buf := make([]byte, 0, 64)
	for i := range toks {
		buf = buf[:0]
		var obf normalize.Obfuscation
		for j := i; j < len(toks) && j < i+m.opts.MaxWindow; j++ {
			t := &toks[j]
			if t.CJK != toks[i].CJK {
				break // never join CJK and other scripts into one key
			}
			buf = append(buf, t.Text...)
			if len(buf) > m.maxKey+1 {
				break
			}
			obf |= t.Obf
			if ms, ok := m.others[string(buf)]; ok {
				spans = append(spans, span{a: i, b: j, marks: ms})
			}
			ps, ok := m.keys[string(buf)]
			if !ok && j == i && len(buf) > 4 && buf[len(buf)-1] == 's' && !t.CJK {
				// "Veltaros", "Veltaro's": a plural or possessive is the name.
				ps, ok = m.keys[string(buf[:len(buf)-1])]
			}
			if !ok {
				continue
			}
			for _, p := range ps {
				kind := classify(p, j-i+1, obf, toks[i:j+1])
				if kind == "" {
					continue
				}
				hits = append(hits, m.newHit(p, field, text, toks, i, j, kind, obf, 0))
				for k := i; k <= j; k++ {
					matched[k] = true
				}
			}
		}
	}
	if !m.opts.DisableFuzzy && m.fuzzyRead != nil {
		var err error
		if hits, err = m.findFuzzy(hits, field, text, toks, matched); err != nil {
			return nil, err
		}
	}
	if len(spans) == 0 {
		return hits, nil
	}
	// Drop hits of a mark that fall inside one of its distinct_from names.
	out := hits[:first]
	for _, h := range hits[first:] {
		if !insideOther(h, spans) {
			out = append(out, h)
		}
	}
	return out, nil
}

func insideOther(h hit, spans []span) bool {
	for _, s := range spans {
		if h.tokA <= s.b && s.a <= h.tokB {
			for _, mk := range s.marks {
				if mk == h.mark {
					return true
				}
			}
		}
	}
	return false
}

// classify names the kind of an exact-pass hit of phrase p over n listing
// tokens, or returns "" when the join is too weak to count.
func classify(p phrase, n int, obf normalize.Obfuscation, toks []normalize.Token) string {
	if p.cjk {
		if p.variant {
			return KindTransliteration
		}
		return KindExact
	}
	switch {
	case n > p.tokens:
		// A name broken by spaces ("Vel taro"). Honest text joins into
		// names too ("on deck" → "ondeck"), so demand pieces of at least
		// two letters and a key of at least five.
		runes := 0
		for _, t := range toks {
			r := utf8.RuneCountInString(t.Text)
			if r < 2 {
				return ""
			}
			runes += r
		}
		if runes < 5 {
			return ""
		}
		return KindSpaced
	case n < p.tokens:
		return KindSquashed
	}
	if k := obfKind(obf &^ p.obf); k != "" {
		return k
	}
	if p.variant {
		if nonLatin(p.text) {
			return KindTransliteration
		}
		return KindVariant
	}
	return KindExact
}

// nonLatin reports whether s is written mostly in a non-Latin script, as a
// transliteration of a Latin name is (Найк for Nike).
func nonLatin(s string) bool {
	latin, other := 0, 0
	for _, r := range s {
		switch {
		case r < 0x80 && unicode.IsLetter(r):
			latin++
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.IsLetter(r):
			other++
		}
	}
	return other > latin
}

func (m *Matcher) newHit(p phrase, field int, text string, toks []normalize.Token, i, j int, kind string, obf normalize.Obfuscation, dist int) hit {
	orig := text[toks[i].Start:toks[j].End]
	if len(orig) > 120 {
		orig = orig[:120]
	}
	orig = strings.ToValidUTF8(orig, "\uFFFD")
	strength, ok := kindStrength[kind]
	if !ok {
		strength = 0.7 - 0.1*float64(dist-1) // fuzzy: 0.7 at one edit, 0.6 at two
	}
	mk := m.marks[p.mark]
	return hit{
		mark: p.mark, field: field, tokA: i, tokB: j,
		orig: orig, phrase: p.text, markName: mk.Name,
		kind: kind, obf: obf, dist: dist,
		score: strength * fieldFactor[field],
	}
}

// findFuzzy looks up, with bleve's Levenshtein automaton, the tokens and
// adjacent token pairs that the exact pass did not match.
func (m *Matcher) findFuzzy(hits []hit, field int, text string, toks []normalize.Token, matched []bool) ([]hit, error) {
	buf := make([]byte, 0, 64)
	for i := range toks {
		if matched[i] || toks[i].CJK {
			continue
		}
		for j := i; j <= i+1 && j < len(toks); j++ {
			if matched[j] || toks[j].CJK {
				break
			}
			if j == i {
				buf = append(buf[:0], toks[i].Text...)
			} else {
				if utf8.RuneCountInString(toks[j].Text) < 2 || !m.inMulti(toks[i].Text, toks[j].Text) {
					break
				}
				buf = append(buf, toks[j].Text...)
			}
			term := string(buf)
			if !fuzzyCandidate(term, m.opts.FuzzyMinRunes, m.maxKey) {
				continue
			}
			if _, exact := m.others[term]; exact {
				continue // exactly a look-alike brand: not a typo of the mark
			}
			terms, err := m.fuzzyTerms(term)
			if err != nil {
				return nil, err
			}
			for _, ft := range terms {
				for _, p := range m.keys[ft.key] {
					hits = append(hits, m.newHit(p, field, text, toks, i, j, KindFuzzy, toks[i].Obf, int(ft.dist)))
				}
			}
		}
	}
	return hits, nil
}

// inMulti reports whether a or b is a token of a multi-word name.
func (m *Matcher) inMulti(a, b string) bool {
	_, okA := m.multi[a]
	_, okB := m.multi[b]
	return okA || okB
}

// fuzzyCandidate reports whether term is worth a fuzzy lookup: long
// enough, not longer than any key could be within two edits, and not a
// number.
func fuzzyCandidate(term string, minRunes, maxKey int) bool {
	if len(term) > maxKey+2 || utf8.RuneCountInString(term) < minRunes {
		return false
	}
	letters := 0
	for _, r := range term {
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters*2 > len(term)
}

// fuzzyTerms returns the mark keys within the allowed edit distance of
// term, through the LRU cache.
func (m *Matcher) fuzzyTerms(term string) ([]fuzzyTerm, error) {
	if v, ok := m.fuzzyCache.Get(term); ok {
		return v, nil
	}
	fz := 1
	if utf8.RuneCountInString(term) >= m.opts.Fuzzy2MinRunes {
		fz = 2
	}
	prefix := ""
	if m.opts.FuzzyPrefix > 0 {
		n := 0
		for i := range term {
			if n == m.opts.FuzzyPrefix {
				prefix = term[:i]
				break
			}
			n++
		}
	}
	fr, ok := m.fuzzyRead.(index.IndexReaderFuzzy)
	if !ok {
		return nil, fmt.Errorf("text: bleve reader %T has no fuzzy dictionary", m.fuzzyRead)
	}
	dict, auto, err := fr.FieldDictFuzzyAutomaton("k", term, fz, prefix)
	if err != nil {
		return nil, fmt.Errorf("text: fuzzy lookup %q: %w", term, err)
	}
	defer dict.Close()
	var out []fuzzyTerm
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, fmt.Errorf("text: fuzzy lookup %q: %w", term, err)
		}
		if e == nil {
			break
		}
		if e.Term == term {
			continue
		}
		ok, d := auto.MatchAndDistance(e.Term)
		if !ok || d == 0 {
			continue
		}
		out = append(out, fuzzyTerm{key: e.Term, dist: d})
	}
	m.fuzzyCache.Add(term, out)
	return out, nil
}
