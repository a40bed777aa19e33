// Package seller is the dampening matcher: it says how strongly a listing
// should be spared for a mark, because the seller is authorized to sell the
// mark's goods or because the listing uses the mark only to name what its
// own product fits ("case compatible with Veltaro X2", "laces for Nike Air
// Force 1"), which trade-mark law allows as nominative use.
//
// Unlike the other matchers its Signal.Score is a suppression strength, not
// evidence of infringement; the scorer subtracts rather than adds it.
//
//   - Kind "authorized", score 1: the listing's seller id is in the mark's
//     authorized sellers (exact match).
//   - Kind "nominative": a mark name or variant comes right after a
//     nominative phrase ("compatible with", "for", "para", "pour", "für",
//     "для", "适用于", "متوافق مع", ...; Turkish "için" and "uyumlu" come
//     after it) in the title or description. Score Options.Accessory (0.8)
//     when the title names an accessory (case, strap, laces, charger, 表带,
//     чехол, ...), Options.Nominative (0.5) otherwise. No nominative
//     dampening when the listing's brand field names the mark: a seller who
//     declares the brand is not merely referring to it.
//
// Names are compared on normalize.Tokens, so "VELTARO", "Vel taro" and
// "veltaro" (squashed or split) are the same mark, and Chinese names match
// character by character.
//
// Prior strikes against a seller are not a dampener and are not handled
// here; the review flow owns them.
package seller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Name is the matcher's name in evidence and metrics.
const Name = "seller"

// Evidence kinds.
const (
	KindAuthorized = "authorized"
	KindNominative = "nominative"
	// KindPackaging: the listing sells only the brand's packaging (an
	// empty box, a dust bag, papers), which names the brand honestly.
	KindPackaging = "packaging"
)

// Default dampening strengths.
const (
	DefaultAccessory  = 0.8
	DefaultNominative = 0.5
)

// Options configure the seller matcher.
type Options struct {
	// Accessory is the score of nominative use when the title names an
	// accessory, in (0, 1]; 0 means DefaultAccessory.
	Accessory float64
	// Nominative is the score of other nominative use, in (0, 1]; 0 means
	// DefaultNominative.
	Nominative float64
}

// Matcher finds authorized sellers and nominative use. It is immutable after
// New and safe for concurrent use.
type Matcher struct {
	accessoryScore, nominativeScore float64
	before                          []phrase // triggers that precede the mark
	after                           []phrase // triggers that follow the mark
	fillers                         map[string]bool
	accessories                     []phrase
}

// phrase is a lexicon phrase as normalized token texts.
type phrase struct {
	text  string // as written, for evidence
	words []string
}

// New validates opts, applies defaults and returns a matcher.
func New(opts Options) (*Matcher, error) {
	if opts.Accessory == 0 {
		opts.Accessory = DefaultAccessory
	}
	if opts.Nominative == 0 {
		opts.Nominative = DefaultNominative
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"accessory", opts.Accessory}, {"nominative", opts.Nominative}} {
		if !(f.v > 0 && f.v <= 1) {
			return nil, fmt.Errorf("seller: new: %s score must be in (0, 1], got %v", f.name, f.v)
		}
	}
	m := &Matcher{accessoryScore: opts.Accessory, nominativeScore: opts.Nominative, fillers: map[string]bool{}}
	var err error
	if m.before, err = phrases(triggersBefore()); err != nil {
		return nil, err
	}
	if m.after, err = phrases(triggersAfter()); err != nil {
		return nil, err
	}
	if m.accessories, err = phrases(accessoryWords()); err != nil {
		return nil, err
	}
	for _, f := range fillerWords() {
		for _, t := range normalize.Tokens(f) {
			m.fillers[t.Text] = true
		}
	}
	return m, nil
}

// phrases normalizes a word list the way listing text is normalized.
func phrases(list []string) ([]phrase, error) {
	out := make([]phrase, 0, len(list))
	for _, s := range list {
		p := phrase{text: s, words: texts(normalize.Tokens(s))}
		if len(p.words) == 0 {
			return nil, fmt.Errorf("seller: new: phrase %q normalizes to nothing", s)
		}
		out = append(out, p)
	}
	// Longer phrases first, so that evidence quotes "fit for" rather than
	// "for" and "dust bag" rather than a shorter word.
	slices.SortStableFunc(out, func(a, b phrase) int { return len(b.words) - len(a.words) })
	return out, nil
}

// texts returns the Text of each token.
func texts(toks []normalize.Token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out
}

// Name returns "seller".
func (m *Matcher) Name() string { return Name }

// field is one tokenized listing field.
type field struct {
	name string
	text string
	toks []normalize.Token
}

// Match returns, for each mark, how strongly the listing should be spared.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs := make([]matchers.Signal, len(marks))
	if len(marks) == 0 || l == nil || l.Listing == nil {
		return sigs, nil
	}
	// Tokenize once per listing; every mark reads the same tokens.
	fields := []field{
		{name: "title", text: l.Title, toks: normalize.Tokens(l.Title)},
		{name: "description", text: l.Description, toks: normalize.Tokens(l.Description)},
	}
	brand := normalize.Tokens(l.Brand)
	accessory := m.accessoryIn(fields[0].toks)
	packaging := packagingOnly(l.Title)
	for i, mk := range marks {
		if mk == nil || mk.Mark == nil {
			continue
		}
		if i%16 == 15 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sigs[i] = m.signal(l, mk, fields, brand, accessory)
		if packaging != "" {
			e := domain.Evidence{
				Matcher: Name, Score: packagingScore, Kind: KindPackaging, Field: "title", Match: packaging,
				Detail: fmt.Sprintf("the listing offers packaging only ('%s')", packaging),
			}
			sigs[i].Evidence = append(sigs[i].Evidence, e)
			sigs[i].Score = max(sigs[i].Score, packagingScore)
		}
	}
	return sigs, nil
}

// packagingScore dampens a listing of packaging only.
const packagingScore = 0.8

// packagingWords are what a brand's packaging is called; packagingMarks
// say that nothing else is sold. Both are matched on normalize.Fold text as
// whole words (CJK anywhere).
var (
	packagingWords = []string{
		"box", "boxes", "papers", "dust bag", "dustbag", "shopping bag", "paper bag", "packaging", "tags", "receipt",
		"caja", "bolsa", "boite", "boîte", "karton", "verpackung", "coffret", "kutu", "коробка", "пакет", "علبة",
		"盒子", "盒", "包装", "防尘袋", "手提袋",
	}
	packagingMarks = []string{
		"only", "empty", "no watch", "without watch", "no bag", "without bag", "no shoes", "box only",
		"solo", "vacia", "vacio", "vide", "seulement", "nur", "leer", "ohne uhr", "sadece", "bos",
		"только", "пустая", "пустой", "без часов", "فقط", "فارغة",
		"仅", "空盒", "不含",
	}
)

// packagingOnly returns the words of a title that offer only packaging
// ("box and papers only", "empty shopping bag"), or "".
func packagingOnly(title string) string {
	f := " " + normalize.Fold(title) + " "
	for _, w := range packagingWords {
		at := wordAt(f, w)
		if at < 0 {
			continue
		}
		// The mark must be near the packaging word ("box and papers only",
		// "empty box"), not anywhere ("replica with box, only 2 left").
		lo, hi := max(0, at-28), min(len(f), at+len(w)+24)
		for lo > 0 && !utf8.RuneStart(f[lo]) {
			lo--
		}
		for hi < len(f) && !utf8.RuneStart(f[hi]) {
			hi++
		}
		near := " " + f[lo:hi] + " "
		for _, mk := range packagingMarks {
			if wordAt(near, mk) >= 0 && !strings.Contains(near, mk+" 1 ") && !strings.Contains(near, mk+" 2 ") && !strings.Contains(near, mk+" few") {
				return strings.TrimSpace(f[lo:hi])
			}
		}
	}
	return ""
}

// wordAt returns where w occurs in f as whole words (CJK words match
// anywhere), or -1.
func wordAt(f, w string) int {
	for i := 0; i <= len(f)-len(w); {
		j := strings.Index(f[i:], w)
		if j < 0 {
			return -1
		}
		j += i
		r, _ := utf8.DecodeRuneInString(w)
		if r >= 0x2E80 { // CJK: no word boundaries
			return j
		}
		before, _ := utf8.DecodeLastRuneInString(f[:j])
		after, _ := utf8.DecodeRuneInString(f[j+len(w):])
		if !unicode.IsLetter(before) && !unicode.IsDigit(before) && !unicode.IsLetter(after) && !unicode.IsDigit(after) {
			return j
		}
		i = j + 1
	}
	return -1
}

// signal gathers one mark's dampening evidence.
func (m *Matcher) signal(l *matchers.Listing, mk *matchers.Mark, fields []field, brand []normalize.Token, accessory string) matchers.Signal {
	var ev []domain.Evidence
	if l.SellerID != "" && slices.Contains(mk.AuthorizedSellers, l.SellerID) {
		ev = append(ev, domain.Evidence{
			Matcher: Name,
			Score:   1,
			Kind:    KindAuthorized,
			Field:   "seller",
			Match:   l.SellerID,
			Detail:  fmt.Sprintf("seller '%s' is authorized for %s", l.SellerID, mk.Name),
		})
	}
	names := markNames(mk)
	if len(names) > 0 && !mentions(brand, names) {
		for _, f := range fields {
			if e, ok := m.nominative(f, names, accessory, mk.Name); ok {
				ev = append(ev, e)
				break // one nominative use is enough to explain
			}
		}
	}
	var s matchers.Signal
	for _, e := range ev {
		s.Score = max(s.Score, e.Score)
	}
	s.Evidence = ev
	return s
}

// markNames returns the normalized keys of a mark's name and variants,
// without duplicates.
func markNames(mk *matchers.Mark) []string {
	var out []string
	for _, n := range append([]string{mk.Name}, mk.Variants...) {
		if k := normalize.Key(n); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// occurrence returns the token index after a mark name that starts at
// token i, or -1. A name matches when consecutive token texts concatenate
// to its key, so "Vel Taro", "VELTARO" and 维尔塔罗 (one token per
// character) all match the key "veltaro" or "维尔塔罗".
func occurrence(toks []normalize.Token, i int, names []string) int {
	return occurrenceFrom(toks, i, names, toks[i].Text)
}

// occurrenceFrom is occurrence reading first in place of token i's text,
// for names glued to a particle ("l'Orvanne", Arabic "لفيلتارو").
func occurrenceFrom(toks []normalize.Token, i int, names []string, first string) int {
	for _, k := range names {
		rest := k
		for j := i; j < len(toks); j++ {
			t := toks[j].Text
			if j == i {
				t = first
			}
			if t == "" || !strings.HasPrefix(rest, t) {
				break
			}
			rest = rest[len(t):]
			if rest == "" {
				return j + 1
			}
		}
	}
	return -1
}

// mentions reports whether any mark name occurs in toks.
func mentions(toks []normalize.Token, names []string) bool {
	for i := range toks {
		if occurrence(toks, i, names) >= 0 {
			return true
		}
	}
	return false
}

// nominative looks for a mark name used nominatively in one field.
func (m *Matcher) nominative(f field, names []string, accessory, markName string) (domain.Evidence, bool) {
	toks := f.toks
	for i := range toks {
		start, end, trig, ok := m.nominativeAt(toks, i, names)
		if !ok {
			continue
		}
		score := m.nominativeScore
		detail := fmt.Sprintf("nominative use '%s' %s", trig, markName)
		if accessory != "" {
			score = m.accessoryScore
			detail += fmt.Sprintf(", accessory '%s'", accessory)
		}
		return domain.Evidence{
			Matcher: Name,
			Score:   score,
			Kind:    KindNominative,
			Field:   f.name,
			Match:   span(f.text, toks[start], toks[end-1]),
			Detail:  detail,
		}, true
	}
	return domain.Evidence{}, false
}

// arabicFor is the Arabic preposition "for" (li-), written attached to the
// next word.
const arabicFor = "ل"

// nominativeAt reports whether a mark name starting at token i is used
// nominatively, returning the token span [start, end) of trigger and name.
func (m *Matcher) nominativeAt(toks []normalize.Token, i int, names []string) (start, end int, trig string, ok bool) {
	if end = occurrence(toks, i, names); end >= 0 {
		if start, trig, ok = m.triggerBefore(toks, i); ok {
			return start, end, trig, true
		}
		if last, trig, ok := m.triggerAfter(toks, end); ok {
			return i, last, trig, true
		}
		return 0, 0, "", false
	}
	// Arabic attaches "for" to the name: لفيلتارو.
	if rest, cut := strings.CutPrefix(toks[i].Text, arabicFor); cut && rest != "" {
		if end = occurrenceFrom(toks, i, names, rest); end >= 0 {
			return i, end, "لـ", true
		}
	}
	// French elides the article: "pour l'Orvanne" reads "pour", "lorvanne".
	if t := toks[i].Text; isElided(toks[i].Orig) && len(t) > 1 && (t[0] == 'l' || t[0] == 'd') {
		if end = occurrenceFrom(toks, i, names, t[1:]); end >= 0 {
			if start, trig, ok = m.triggerBefore(toks, i); ok {
				return start, end, trig, true
			}
		}
	}
	return 0, 0, "", false
}

// isElided reports a French elided article or preposition glued to the
// word: l'..., d'... with any apostrophe.
func isElided(orig string) bool {
	if len(orig) < 3 || (orig[0] != 'l' && orig[0] != 'L' && orig[0] != 'd' && orig[0] != 'D') {
		return false
	}
	r, _ := utf8.DecodeRuneInString(orig[1:])
	return r == '\'' || r == '’'
}

// triggerBefore finds a nominative phrase ending right before token i,
// allowing one filler word ("for the Veltaro", "pour les Veltaro"). It
// returns the index of the phrase's first token.
func (m *Matcher) triggerBefore(toks []normalize.Token, i int) (int, string, bool) {
	for _, gap := range []int{0, 1} {
		end := i - gap
		if gap == 1 && (end < 1 || !m.fillers[toks[end].Text]) {
			break
		}
		for _, p := range m.before {
			start := end - len(p.words)
			if start >= 0 && equalWords(toks[start:end], p.words) {
				return start, p.text, true
			}
		}
	}
	return 0, "", false
}

// triggerAfter finds a phrase that marks nominative use from behind the
// mark ("Veltaro X2 için kılıf"), allowing up to two model designators in
// between. It returns the index after the phrase.
func (m *Matcher) triggerAfter(toks []normalize.Token, end int) (int, string, bool) {
	for gap := 0; gap <= 3 && end+gap <= len(toks); gap++ {
		if gap > 0 && !isModel(toks[end+gap-1]) {
			break
		}
		at := end + gap
		for _, p := range m.after {
			if at+len(p.words) <= len(toks) && equalWords(toks[at:at+len(p.words)], p.words) {
				return at + len(p.words), p.text, true
			}
		}
	}
	return 0, "", false
}

// isModel reports whether a token looks like a model designator next to a
// brand: it has a digit, is at most four characters ("x2", "pro", "max"),
// or is a capitalized product-line name ("Aviator", "Bloom").
func isModel(t normalize.Token) bool {
	if strings.ContainsAny(t.Text, "0123456789") || len([]rune(t.Text)) <= 4 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(t.Orig)
	return unicode.IsUpper(r)
}

// equalWords reports whether the token texts equal words.
func equalWords(toks []normalize.Token, words []string) bool {
	if len(toks) != len(words) {
		return false
	}
	for i, w := range words {
		if toks[i].Text != w {
			return false
		}
	}
	return true
}

// accessoryIn returns the first accessory word found in the title, or "".
func (m *Matcher) accessoryIn(toks []normalize.Token) string {
	for i := range toks {
		for _, p := range m.accessories {
			if i+len(p.words) <= len(toks) && equalWords(toks[i:i+len(p.words)], p.words) {
				return p.text
			}
		}
	}
	return ""
}

// span returns the text of field from token a to token b inclusive; the
// tokens' offsets point into the field's original text.
func span(text string, a, b normalize.Token) string {
	if a.Start < 0 || b.End > len(text) || a.Start > b.End {
		return a.Orig
	}
	return text[a.Start:b.End]
}
