package text

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	common     bool // the name is also an ordinary word, and was weighed down
}

// commonWordFactor weighs down a plain use of a one-word mark that is also
// an English word, outside the brand field.
const commonWordFactor = 0.8

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
	KindMasked:          0.88,
	KindShortLeet:       0.85,
	KindShortTypo:       0.75,
}

// fieldFactor scales a hit by where it is: a brand name in the
// description is weaker evidence of use than one in the title.
var fieldFactor = [numFields]float64{1, 1, 0.9}

func (h *hit) evidence() domain.Evidence {
	return domain.Evidence{
		Matcher: Name,
		Score:   h.score,
		Field:   fieldNames[h.field],
		Match:   h.orig,
		Kind:    h.kind,
		Detail:  h.detail(),
		// The registered name or variant that matched, so that a
		// quarantine of one variant can tell its matches apart.
		Reference: h.phrase,
	}
}

func (h *hit) detail() string {
	what := fmt.Sprintf("%s contains '%s'", fieldNames[h.field], h.orig)
	switch h.kind {
	case KindCommonWord:
		return fmt.Sprintf("%s (%s, also an ordinary word)", what, h.markName)
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
	case KindMasked:
		return fmt.Sprintf("%s (%s with a letter masked)", what, h.markName)
	case KindShortTypo:
		return fmt.Sprintf("%s (%s with letters swapped, doubled or dropped)", what, h.markName)
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
		var h uint64 // polynomial hash of buf, for m.prefixes
		var obf normalize.Obfuscation
		singles := true // every token so far is one letter: "K . A . L . V . O . R . A"
		for j := i; j < len(toks); j++ {
			t := &toks[j]
			if t.CJK != toks[i].CJK {
				break // never join CJK and other scripts into one key
			}
			// CJK tokens are single characters too: 奥克塔维娅布伦 is seven.
			singles = singles && utf8.RuneCountInString(t.Text) == 1
			if j >= i+m.opts.MaxWindow && !singles {
				break
			}
			buf = append(buf, t.Text...)
			if len(buf) > m.maxKey+1 {
				break
			}
			for k := len(buf) - len(t.Text); k < len(buf); k++ {
				h = h*hashBase + uint64(buf[k])
			}
			obf |= t.Obf
			// A window that begins no key is no key, and no wider
			// window is either: stop widening after this one.
			begins := m.prefixes.has(finish(h, len(buf)))
			var ps []phrase
			ok := false
			if begins {
				if ms, other := m.others[string(buf)]; other {
					spans = append(spans, span{a: i, b: j, marks: ms})
				}
				ps, ok = m.keys[string(buf)]
			}
			if !ok && j == i && len(buf) > 4 && buf[len(buf)-1] == 's' && !t.CJK {
				// "Veltaros", "Veltaro's": a plural or possessive is the name.
				ps, ok = m.keys[string(buf[:len(buf)-1])]
			}
			if !ok && j == i && t.Alt != "" {
				// The other reading of a 1 or | (KV1 is kvi or kvl).
				ps = m.keys[t.Alt]
			}
			for _, p := range ps {
				kind := classify(p, j-i+1, obf, toks[i:j+1])
				if kind == "" {
					continue
				}
				if (kind == KindLeet || kind == KindHomoglyph) && utf8.RuneCount(buf) <= 3 {
					kind = KindShortLeet
				}
				hits = append(hits, m.newHit(p, field, text, toks, i, j, kind, obf, 0))
				for k := i; k <= j; k++ {
					matched[k] = true
				}
			}
			if !begins {
				break
			}
		}
	}
	hits = m.findSquashed(hits, field, text, toks, matched)
	hits = m.findLeet(hits, first, field, text)
	hits = m.findShortTypo(hits, first, field, text, toks, matched)
	if m.fuzzyCache != nil {
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
	case n > 1 && n > p.tokens && allSingle(toks):
		return KindSplit
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

func allSingle(toks []normalize.Token) bool {
	for _, t := range toks {
		if utf8.RuneCountInString(t.Text) != 1 {
			return false
		}
	}
	return true
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
		strength = 0.8 - 0.1*float64(dist-1) // fuzzy: 0.8 at one edit, 0.7 at two
	}
	common := false
	if p.common && field != fieldBrand && !evasive(kind) && m.englishContext(toks) {
		strength *= commonWordFactor
		common = true
		kind = KindCommonWord
	}
	mk := m.marks[p.mark]
	return hit{
		common: common,
		mark:   p.mark, field: field, tokA: i, tokB: j,
		orig: orig, phrase: p.text, markName: mk.Name,
		kind: kind, obf: obf, dist: dist,
		score: strength * fieldFactor[field],
	}
}

// findFuzzy looks up, in the typo index, the tokens and adjacent token
// pairs that the exact pass did not match.
func (m *Matcher) findFuzzy(hits []hit, field int, text string, toks []normalize.Token, matched []bool) ([]hit, error) {
	buf := make([]byte, 0, 64)
	// multi[i] says whether token i belongs to a multi-word name: each
	// token is looked up once, not once per pair it is in.
	var multiA [64]bool
	multi := multiA[:0]
	for i := range toks {
		_, ok := m.multi[toks[i].Text]
		multi = append(multi, ok)
	}
	for i := range toks {
		if toks[i].CJK {
			continue
		}
		buf = append(buf[:0], toks[i].Text...)
		for j := i; j <= i+1 && j < len(toks); j++ {
			if toks[j].CJK || (j == i && matched[i]) || (j > i && matched[i] && matched[j]) {
				// A single token already matched needs no typo reading; a
				// pair may still spell a longer name with a typo
				// ("Nordvale Outfitter" beside the variant "Nordvale").
				continue
			}
			if j > i {
				if utf8.RuneCountInString(toks[j].Text) < 2 || !(multi[i] || multi[j]) {
					break
				}
				buf = append(buf, toks[j].Text...)
			}
			term := string(buf)
			// A term one letter shorter than the shortest fuzzy key can
			// still be that key with a letter dropped ("Rolx"); the index
			// holds no key under FuzzyMinRunes, so short names stay exact.
			if !fuzzyCandidate(term, m.opts.FuzzyMinRunes-1, m.maxKey) {
				continue
			}
			if m.deletes != nil && m.deletes.foreign(term) > m.fuzziness(term) {
				// More characters no key has (digits of a model code,
				// another script) than edits allowed: no typo of a mark.
				continue
			}
			if j == i && m.dict.has(term) {
				continue // an English word is not a typo of a mark
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

// fuzziness is the edit distance allowed for term.
func (m *Matcher) fuzziness(term string) int {
	if utf8.RuneCountInString(term) >= m.opts.Fuzzy2MinRunes {
		return 2
	}
	return 1
}

// fuzzyTerms returns the mark keys within the allowed edit distance of
// term, through the LRU cache.
func (m *Matcher) fuzzyTerms(term string) ([]fuzzyTerm, error) {
	if v, ok := m.fuzzyCache.Get(term); ok {
		return v, nil
	}
	fz := m.fuzziness(term)
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
	var out []fuzzyTerm
	if m.deletes != nil {
		out = m.deletes.lookup(term, fz, prefix)
	} else {
		var err error
		if out, err = m.bleve.lookup(term, fz, prefix); err != nil {
			return nil, err
		}
	}
	m.fuzzyCache.Add(term, out)
	return out, nil
}

// englishContext reports whether a field reads as English, where a mark
// that is also an English word may be just the word. In other languages
// ("正品Harbor卡包", "Willow cinturón de cuero") the English word is the
// brand.
func (m *Matcher) englishContext(toks []normalize.Token) bool {
	words, english := 0, 0
	for _, t := range toks {
		if t.CJK {
			return false
		}
		if utf8.RuneCountInString(t.Text) < 2 {
			continue
		}
		words++
		if _, ok := m.dict.words[t.Text]; ok {
			english++
		}
	}
	return words > 0 && english*3 >= words*2
}

// findSquashed finds a mark key glued to a product word in one token
// ("grellonitote", "#harborwallet", "QuorvelWatch").
func (m *Matcher) findSquashed(hits []hit, field int, text string, toks []normalize.Token, matched []bool) []hit {
	for i := range toks {
		t := toks[i].Text
		if matched[i] || toks[i].CJK || len(t) < 7 {
			continue
		}
		for cut := 4; cut <= len(t)-3 && cut <= m.maxKey; cut++ {
			if _, ok := productWords[t[cut:]]; !ok {
				continue
			}
			for _, p := range m.keys[t[:cut]] {
				if p.cjk {
					continue
				}
				hits = append(hits, m.newHit(p, field, text, toks, i, i, KindSquashed, toks[i].Obf, 0))
				matched[i] = true
			}
		}
	}
	return hits
}

// findLeet is a second, more aggressive reading of leetspeak for what
// normalization leaves alone on purpose (it must not turn "2024" or
// "RTX4090" into letters): whitespace-separated chunks that mix letters
// with leet characters are decoded digit by digit ("73ssel", "7avr0$$3",
// "W111ow") and looked up with i and l treated as one letter, since a 1
// may be either. Only whole keys count, so model numbers stay harmless.
func (m *Matcher) findLeet(hits []hit, first, field int, text string) []hit {
	if len(m.keysIL) == 0 {
		return hits
	}
	// Only a field holding a leet or mask character, or a letter of
	// another script, can hold what this pass reads: most have none.
	if !hasLeetByte(text) {
		return hits
	}
	type chunk struct {
		start, end int
		decoded    string
		leet       bool
		masked     bool
		letters    int
	}
	var chunks []chunk
	for start := 0; start < len(text); {
		for start < len(text) {
			r, w := utf8.DecodeRuneInString(text[start:])
			if !chunkBreak(r) {
				break
			}
			start += w
		}
		end := start
		for end < len(text) {
			r, w := utf8.DecodeRuneInString(text[end:])
			if chunkBreak(r) {
				break
			}
			end += w
		}
		if end > start {
			d, leet, masked, letters, ok := deleet(text[start:end])
			if ok {
				chunks = append(chunks, chunk{start, end, d, leet, masked, letters})
			} else {
				chunks = append(chunks, chunk{start: start, end: end})
			}
		}
		start = end
		if len(chunks) > 256 {
			break
		}
	}
	var buf []byte
	for i := range chunks {
		buf = buf[:0]
		leet, masks, letters := false, 0, 0
		for j := i; j < len(chunks) && j < i+3 && chunks[j].decoded != ""; j++ {
			buf = append(buf, chunks[j].decoded...)
			leet = leet || chunks[j].leet
			letters += chunks[j].letters
			if chunks[j].masked {
				masks++
			}
			// A three-letter key needs two plain letters (KV1, not 1V1);
			// a masked one hides exactly one letter.
			if masks > 1 || masks == 0 && !leet || len(buf) < 3 || len(buf) == 3 && letters < 2 {
				continue
			}
			index, kind := m.keysIL, KindLeet
			if masks == 1 {
				index, kind = m.maskIL, KindMasked
			} else if len(buf) == 3 {
				kind = KindShortLeet
			}
			for _, p := range index[string(buf)] {
				if m.hasHit(hits[first:], p.mark, field) {
					continue
				}
				orig := strings.ToValidUTF8(text[chunks[i].start:chunks[j].end], "\uFFFD")
				mk := m.marks[p.mark]
				hits = append(hits, hit{
					mark: p.mark, field: field, tokA: -1, tokB: -1, orig: orig, phrase: p.text, markName: mk.Name,
					kind: kind, obf: normalize.Leet, score: kindStrength[kind] * fieldFactor[field],
				})
			}
		}
	}
	return hits
}

func (m *Matcher) hasHit(hits []hit, mark int32, field int) bool {
	for _, h := range hits {
		if h.mark == mark && h.field == field {
			return true
		}
	}
	return false
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// chunkBreak reports whether r ends a findLeet chunk: a space, or a CJK
// character, since Chinese and Japanese titles glue Latin names to their
// words ("正品A*ET斜挎包").
func chunkBreak(r rune) bool {
	if r < utf8.RuneSelf {
		return isSpace(byte(r))
	}
	return r >= 0x2E80 && (r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFF0F ||
		unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

// leetLetters decodes the characters leetspeak uses for letters; i and l
// are folded together (see ilFold).
var leetLetters = [256]byte{
	'0': 'o', '1': 'l', '2': 'z', '3': 'e', '4': 'a', '5': 's', '6': 'g', '7': 't', '8': 'b', '9': 'g',
	'@': 'a', '$': 's', '!': 'l', '|': 'l',
}

// deleet decodes one chunk: ASCII letters, leet characters and letters of
// other scripts that look like ASCII ones, with surrounding punctuation
// ignored. One mask character (* # _ .) between letters, the only one in
// the chunk, reads as '?' (VELT*RO, Qu#llora). ok is false when the chunk
// has other characters or no letter; leet reports whether any leet or
// look-alike character was decoded, masked whether a mask was read, and
// letters counts the plain ASCII letters.
func deleet(s string) (decoded string, leet, masked bool, letters int, ok bool) {
	s = strings.Trim(s, "()[]{}<>\"'.,:;?#*-_~")
	if len(s) < 3 || len(s) > 40 {
		return "", false, false, 0, false
	}
	if !isASCIIString(s) && !strings.ContainsAny(s, "0123456789@$!|*#_.") {
		// Look-alike letters alone are normalize's to undo; reading
		// them here is only for chunks that also carry leet or a mask
		// (VЕL7АR0), which keeps words of other scripts off the slow path.
		return "", false, false, 0, false
	}
	mask := -1
	if strings.Count(s, "*")+strings.Count(s, "#")+strings.Count(s, "_")+strings.Count(s, ".") == 1 {
		mask = strings.IndexAny(s, "*#_.")
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' || c == '`' {
			continue // F3NW_N'S: an apostrophe inside the name
		}
		if c >= utf8.RuneSelf {
			// A look-alike from another script (Cyrillic а, Greek Ο).
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == 0x2019 || r == 0xB4 || r == 0x2BC {
				i += w - 1
				continue // a typographic apostrophe
			}
			k := normalize.Key(string(r))
			if len(k) != 1 || k[0] < 'a' || k[0] > 'z' {
				return "", false, false, 0, false
			}
			c, leet = k[0], true
			i += w - 1
			if c == 'i' {
				c = 'l'
			}
			out = append(out, c)
			continue
		}
		if i == mask {
			out = append(out, '?')
			masked = true
			continue
		}
		switch {
		case c >= 'a' && c <= 'z':
			letters++
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
			letters++
		case leetLetters[c] != 0:
			c = leetLetters[c]
			leet = true
		case c == '.' || c == '-' || c == '_':
			continue
		default:
			return "", false, false, 0, false
		}
		if c == 'i' {
			c = 'l'
		}
		out = append(out, c)
	}
	if letters == 0 {
		return "", false, false, 0, false
	}
	return string(out), leet, masked, letters, true
}

// shortEdits returns the misspellings of a one-word key of three to five
// letters that shops use to slip past exact filters while the name stays
// readable: an inner letter doubled, two inner neighbours swapped (four or
// five letters) and, for five letters, one letter after the first
// dropped. The first letter is always kept; a doubled last letter is left
// out because it reads as another word ("Avett" is not "Avet").
func shortEdits(key string) []string {
	n := len(key)
	if n < 3 || n > 5 {
		return nil
	}
	var out []string
	add := func(e string) {
		if e != key && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	for p := 1; p < n-1; p++ {
		add(key[:p+1] + key[p:])
		if n >= 4 && p+1 < n {
			add(key[:p] + string(key[p+1]) + string(key[p]) + key[p+2:])
		}
	}
	if n == 5 {
		for p := 1; p < n; p++ {
			add(key[:p] + key[p+1:])
		}
	}
	return out
}

// findShortTypo finds short names misspelled by one of shortEdits in a
// token of its own, unless the token is an English word or a name the
// matcher knows. The scorer decides with the listing's context whether
// the hit counts.
func (m *Matcher) findShortTypo(hits []hit, first, field int, text string, toks []normalize.Token, matched []bool) []hit {
	if len(m.shortTypos) == 0 {
		return hits
	}
	for i := range toks {
		t := toks[i].Text
		if matched[i] || toks[i].CJK || len(t) < 3 || len(t) > 6 {
			continue
		}
		ps, ok := m.shortTypos[t]
		if !ok {
			continue
		}
		if _, word := m.dict.words[t]; word {
			continue
		}
		if _, known := m.keys[t]; known {
			continue
		}
		if _, other := m.others[t]; other {
			continue
		}
		for _, p := range ps {
			if m.hasHit(hits[first:], p.mark, field) {
				continue
			}
			h := m.newHit(p, field, text, toks, i, i, KindShortTypo, toks[i].Obf, 1)
			hits = append(hits, h)
		}
	}
	return hits
}

func isASCIIString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasLeetByte reports whether text has a character findLeet decodes
// beyond plain ASCII letters: a leet character, a mask (* # _ .) or a byte
// of a non-ASCII letter (a look-alike of another script).
func hasLeetByte(text string) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if leetLetters[c] != 0 || c >= utf8.RuneSelf || c == '*' || c == '#' || c == '_' || c == '.' {
			return true
		}
	}
	return false
}

// ilFold folds i into l, the key space of findLeet.
func ilFold(key string) string { return strings.ReplaceAll(key, "i", "l") }
