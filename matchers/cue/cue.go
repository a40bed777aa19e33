// Package cue is the matcher for counterfeit cue words: phrases such as
// "replica", "1:1", "AAA", "mirror quality", "dupe", 高仿, réplica, подделка
// or نسخة طبق الأصل with which sellers say that goods are not genuine.
//
// The lexicon (lexicon.yaml, embedded) lists each cue with its languages, a
// weight in [0, 1] and context words that cancel it ("AAA batteries",
// "1:1 scale model", "not fake"). Options add to or override it from config.
//
// Matching folds the lexicon and the listing's title, brand and description
// with normalize.Fold and runs one Aho–Corasick automaton over the folded
// text. Latin, Cyrillic and Arabic phrases must stand as whole words ("aaa"
// does not fire inside "aaaa", "dupe" not inside "duped", "copia" not inside
// "copiar"); Arabic phrases may carry an attached article or particle
// (التقليد). Chinese, Japanese and Korean phrases match anywhere, as those
// scripts do not separate words. Where two cues overlap the longer wins, so
// "super copy" counts once and not also as "copy".
//
// The signal does not depend on the mark: every mark gets the same score,
// 1 − Π(1 − wᵢ) over the distinct cues found, with one Evidence per cue.
// The scorer requires a mark match besides, so a cue alone ("replica of the
// Eiffel tower") never files a complaint.
package cue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coregx/ahocorasick"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/normalize"
)

// Name is the matcher's name in evidence and metrics.
const Name = "cue"

// KindCue is the evidence kind of a counterfeit cue.
const KindCue = "cue"

// DefaultMaxScanBytes is how much of each listing field is scanned when
// Options.MaxScanBytes is 0; above the largest description the domain
// codec accepts by default.
const DefaultMaxScanBytes = 64 << 10

// Options configure the cue matcher.
type Options struct {
	// Entries add to the built-in lexicon. An entry whose folded phrase
	// equals a built-in phrase replaces that entry; with weight 0 it
	// removes it. Two entries here with the same folded phrase are an error.
	Entries []Entry
	// NoBuiltin drops the built-in lexicon, leaving only Entries.
	NoBuiltin bool
	// MaxScanBytes caps how many bytes of each field are scanned; 0 means
	// DefaultMaxScanBytes.
	MaxScanBytes int
}

// Matcher finds counterfeit cues in listings. It is immutable after New and
// safe for concurrent use.
type Matcher struct {
	ac      *ahocorasick.Automaton // nil when the lexicon is empty
	pats    []pattern              // by automaton pattern id
	maxPat  int                    // longest folded pattern, in bytes
	cues    []cue
	maxScan int
}

// cue is a compiled lexicon entry.
type cue struct {
	phrase   string // Entry.Phrase without a trailing "*"
	detail   string // "cue 'replica' (en, es)"
	weight   float64
	window   int
	followed []ctxTerm
	preceded []ctxTerm
}

// pattern is one folded form of a cue, as added to the automaton.
type pattern struct {
	cue int
	// start and end say whether a word boundary is required there: true
	// when the phrase begins (ends) with a letter or digit of a script
	// that separates words.
	start, end bool
	// arabic phrases may follow an attached clitic (ال, و, ب, ...).
	arabic bool
}

// ctxTerm is a compiled context word or phrase.
type ctxTerm struct {
	words  []string // folded words; "#" is any number
	prefix bool     // the last word is a prefix
}

// maxTermWords bounds the words of one context term.
const maxTermWords = 8

// New compiles the built-in lexicon and opts.Entries into a matcher.
func New(opts Options) (*Matcher, error) {
	if opts.MaxScanBytes < 0 {
		return nil, fmt.Errorf("cue: new: max scan bytes must not be negative, got %d", opts.MaxScanBytes)
	}
	if opts.MaxScanBytes == 0 {
		opts.MaxScanBytes = DefaultMaxScanBytes
	}
	var entries []Entry
	if !opts.NoBuiltin {
		b, err := Builtin()
		if err != nil {
			return nil, err
		}
		entries = b
	}
	entries, err := merge(entries, opts.Entries)
	if err != nil {
		return nil, err
	}
	m := &Matcher{maxScan: opts.MaxScanBytes}
	owner := map[string]int{} // folded form (with "*") -> cue index
	var forms []string
	for _, e := range entries {
		c, err := compile(e)
		if err != nil {
			return nil, err
		}
		ci := len(m.cues)
		m.cues = append(m.cues, c)
		for _, f := range append([]string{e.Phrase}, e.Forms...) {
			text, prefix := foldPhrase(f)
			if text == "" {
				return nil, fmt.Errorf("cue: new: %s: form %q folds to nothing", e.Phrase, f)
			}
			key := text
			if prefix {
				key += "*"
			}
			if o, dup := owner[key]; dup {
				if o == ci {
					continue // two spellings of one cue that fold alike
				}
				return nil, fmt.Errorf("cue: new: form %q of %q also belongs to %q", f, c.phrase, m.cues[o].phrase)
			}
			owner[key] = ci
			first, _ := utf8.DecodeRuneInString(text)
			last, _ := utf8.DecodeLastRuneInString(text)
			m.pats = append(m.pats, pattern{
				cue:    ci,
				start:  isWord(first),
				end:    !prefix && isWord(last),
				arabic: unicode.Is(unicode.Arabic, first),
			})
			forms = append(forms, text)
			m.maxPat = max(m.maxPat, len(text))
		}
	}
	if len(forms) == 0 {
		return m, nil
	}
	ac, err := ahocorasick.NewBuilder().AddStrings(forms).Build()
	if err != nil {
		return nil, fmt.Errorf("cue: new: build automaton: %w", err)
	}
	m.ac = ac
	return m, nil
}

// merge applies the override entries to the base lexicon: replace by folded
// phrase, remove at weight 0, append the rest.
func merge(base, extra []Entry) ([]Entry, error) {
	index := map[string]int{}
	for i, e := range base {
		index[phraseKey(e.Phrase)] = i
	}
	seen := map[string]bool{}
	drop := map[int]bool{}
	out := slices.Clone(base)
	for i, e := range extra {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("cue: new: entries[%d]: %w", i, err)
		}
		k := phraseKey(e.Phrase)
		if seen[k] {
			return nil, fmt.Errorf("cue: new: entries[%d]: phrase %q given twice", i, e.Phrase)
		}
		seen[k] = true
		if j, ok := index[k]; ok {
			out[j] = e
			drop[j] = e.Weight == 0
			continue
		}
		if e.Weight > 0 {
			out = append(out, e)
		}
	}
	kept := out[:0]
	for i, e := range out {
		if !drop[i] && e.Weight > 0 {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// phraseKey is how entries are identified for overrides: the folded phrase,
// keeping the prefix marker.
func phraseKey(p string) string {
	text, prefix := foldPhrase(p)
	if prefix {
		return text + "*"
	}
	return text
}

// foldPhrase folds a lexicon phrase, reporting and removing a trailing "*".
func foldPhrase(p string) (text string, prefix bool) {
	p = strings.TrimSpace(p)
	if s, ok := strings.CutSuffix(p, "*"); ok {
		p, prefix = s, true
	}
	return normalize.Fold(p), prefix
}

// compile turns a validated entry into its matching form.
func compile(e Entry) (cue, error) {
	phrase := strings.TrimSuffix(strings.TrimSpace(e.Phrase), "*")
	c := cue{
		phrase: phrase,
		detail: fmt.Sprintf("cue '%s' (%s)", phrase, strings.Join(e.Lang, ", ")),
		weight: e.Weight,
		window: e.Window,
	}
	if c.window == 0 {
		c.window = defaultWindow
	}
	var err error
	if c.followed, err = compileTerms(phrase, e.UnlessFollowedBy); err != nil {
		return cue{}, err
	}
	if c.preceded, err = compileTerms(phrase, e.UnlessPrecededBy); err != nil {
		return cue{}, err
	}
	return c, nil
}

// compileTerms folds and splits context terms into words the way listing
// text is split around a hit.
func compileTerms(phrase string, terms []string) ([]ctxTerm, error) {
	var out []ctxTerm
	for _, t := range terms {
		text, prefix := foldPhrase(t)
		var ct ctxTerm
		if text == "#" {
			ct = ctxTerm{words: []string{"#"}}
		} else {
			ct = ctxTerm{words: wordsAfter(text, 0, make([]string, 0, maxTermWords+1)), prefix: prefix}
		}
		if len(ct.words) == 0 || len(ct.words) > maxTermWords {
			return nil, fmt.Errorf("cue: new: %s: context %q: want 1..%d words", phrase, t, maxTermWords)
		}
		out = append(out, ct)
	}
	return out, nil
}

// Name returns "cue".
func (m *Matcher) Name() string { return Name }

// Match finds the listing's counterfeit cues and returns the same signal
// for every mark.
func (m *Matcher) Match(ctx context.Context, l *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs := make([]matchers.Signal, len(marks))
	if len(marks) == 0 || l == nil || l.Listing == nil {
		return sigs, nil
	}
	ev := m.Find(l.Title, l.Brand, l.Description)
	if len(ev) == 0 {
		return sigs, nil
	}
	score := Combine(ev)
	for i := range sigs {
		// Each mark gets its own slice so that no consumer can alter
		// another mark's evidence.
		sigs[i] = matchers.Signal{Score: score, Evidence: slices.Clone(ev)}
	}
	return sigs, nil
}

// Combine is the cue score of a set of cue evidence: 1 − Π(1 − wᵢ), in
// [0, 1].
func Combine(ev []domain.Evidence) float64 {
	miss := 1.0
	for _, e := range ev {
		miss *= 1 - min(1, max(0, e.Score))
	}
	return min(1, max(0, 1-miss))
}

// Find returns one Evidence per distinct cue in the given title, brand and
// description, in the order found (by field, then position).
func (m *Matcher) Find(title, brand, description string) []domain.Evidence {
	if m.ac == nil {
		return nil
	}
	var ev []domain.Evidence
	var found []bool // by cue index, allocated on the first hit
	// Fields are scanned in this order; evidence names the first field a
	// cue was found in.
	fields := [...]string{"title", "brand", "description"}
	for fi, text := range [...]string{title, brand, description} {
		if text == "" {
			continue
		}
		text = capBytes(text, m.maxScan)
		folded := normalize.Fold(text)
		hits := m.scan(folded)
		if len(hits) == 0 {
			continue
		}
		if found == nil {
			found = make([]bool, len(m.cues))
		}
		al := aligner{orig: text, folded: folded}
		for _, h := range hits {
			if found[h.cue] {
				continue
			}
			found[h.cue] = true
			c := &m.cues[h.cue]
			ev = append(ev, domain.Evidence{
				Matcher: Name,
				Score:   c.weight,
				Kind:    KindCue,
				Field:   fields[fi],
				Match:   al.span(h.start, h.end),
				Detail:  c.detail,
			})
		}
	}
	return ev
}

// capBytes cuts s to at most n bytes at a rune boundary.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
