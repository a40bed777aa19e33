package cue

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on the work one field can cause: raw automaton matches looked at,
// occurrences whose context is checked, and the segment searched at once.
const (
	maxRawMatches = 4096
	maxCandidates = 256
	scanSegment   = 2048
)

// hit is one accepted cue occurrence in folded text.
type hit struct {
	cue        int
	start, end int // byte offsets in the folded text
}

// scan returns the cue occurrences in folded text that pass the boundary
// and context checks, without overlaps (leftmost, then longest, wins), in
// text order.
func (m *Matcher) scan(folded string) []hit {
	// The text is searched in segments so that a pathological field
	// ("aaaaaaaa…" matches "aaa" at every byte) stops early instead of
	// materializing every overlapping match. Each segment is extended by
	// the longest pattern so that matches starting in it are found whole.
	// (IsMatch is not used as a pre-check: its start-byte prefilter
	// rescans the rest of the text for each of the lexicon's many first
	// bytes whenever the automaton returns to its start state, which made
	// a clean 1 KB description cost ~70 µs.)
	b := []byte(folded)
	var cands []hit
	raw, checked := 0, 0
scan:
	for a := 0; a < len(b); a += scanSegment {
		for _, am := range m.ac.FindAllOverlapping(b[a:min(len(b), a+scanSegment+m.maxPat-1)]) {
			st, en := a+am.Start, a+am.End
			if am.Start >= scanSegment {
				continue // the next segment's
			}
			if raw++; raw > maxRawMatches {
				break scan
			}
			p := m.pats[am.PatternID]
			if !bounded(folded, p, st, en) {
				continue
			}
			// Checking context is the costly part; text repeating cues
			// hundreds of times ("1:1 1:1 1:1 …") is spam whose first
			// cues say all there is to say.
			if checked++; checked > maxCandidates {
				break scan
			}
			if m.cues[p.cue].excluded(folded, st, en) {
				continue
			}
			cands = append(cands, hit{cue: p.cue, start: st, end: en})
		}
	}
	slices.SortFunc(cands, func(x, y hit) int {
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmp.Compare(y.end, x.end)
	})
	out := cands[:0]
	end := 0
	for _, h := range cands {
		if h.start < end {
			continue // inside or across a longer, earlier cue
		}
		out = append(out, h)
		end = h.end
	}
	return out
}

// bounded reports whether a match of p at [s, e) stands on word boundaries
// where p needs them.
func bounded(f string, p pattern, s, e int) bool {
	if p.start && s > 0 {
		if r, _ := utf8.DecodeLastRuneInString(f[:s]); isWord(r) && !(p.arabic && arabicClitic(f, s)) {
			return false
		}
	}
	if p.end && e < len(f) {
		if r, _ := utf8.DecodeRuneInString(f[e:]); isWord(r) {
			return false
		}
	}
	return true
}

// arabicClitic reports whether the Arabic letters right before s are an
// attached article or particle (ال "the", و "and", ب "with", ل "for", ...),
// which Arabic writes as part of the next word.
func arabicClitic(f string, s int) bool {
	w := s
	for n := 0; w > 0 && n < 4; n++ {
		r, size := utf8.DecodeLastRuneInString(f[:w])
		if !unicode.Is(unicode.Arabic, r) || !unicode.IsLetter(r) {
			break
		}
		w -= size
	}
	if w > 0 {
		if r, _ := utf8.DecodeLastRuneInString(f[:w]); isWord(r) {
			return false // a longer word, not a clitic
		}
	}
	switch f[w:s] {
	case "ال", "و", "ف", "ب", "ل", "ك", "وال", "فال", "بال", "كال", "لل", "وب", "فب", "ول", "فل", "وك":
		return true
	}
	return false
}

// excluded reports whether the context around a hit at [s, e) cancels the
// cue.
func (c *cue) excluded(f string, s, e int) bool {
	if len(c.followed) > 0 {
		var buf [maxWindow + maxTermWords]string
		after := wordsAfter(f, e, buf[:0:c.window+maxTermWords])
		for _, t := range c.followed {
			for j := 0; j < c.window && j+len(t.words) <= len(after); j++ {
				if t.matches(after[j:j+len(t.words)], false) {
					return true
				}
			}
		}
	}
	if len(c.preceded) > 0 {
		var buf [maxWindow + maxTermWords]string
		before := wordsBefore(f, s, buf[:0:c.window+maxTermWords])
		for _, t := range c.preceded {
			for j := 0; j < c.window && j+len(t.words) <= len(before); j++ {
				if t.matches(before[j:j+len(t.words)], true) {
					return true
				}
			}
		}
	}
	return false
}

// matches compares the term with words, which are in text order, or
// nearest-first (reversed) when looking back from a hit.
func (t ctxTerm) matches(words []string, reversed bool) bool {
	n := len(t.words)
	for i, tw := range t.words {
		w := words[i]
		if reversed {
			w = words[n-1-i]
		}
		switch {
		case tw == "#":
			if !isNumber(w) {
				return false
			}
		case t.prefix && i == n-1:
			if !strings.HasPrefix(w, tw) {
				return false
			}
		case w != tw:
			return false
		}
	}
	return true
}

// wordsAfter appends to out the words of f from byte i on, until out is
// full or a sentence ends. A word is a run of letters and digits, or one
// CJK character. The rest of a word that i falls inside is skipped.
func wordsAfter(f string, i int, out []string) []string {
	if i > 0 && i < len(f) {
		prev, _ := utf8.DecodeLastRuneInString(f[:i])
		for i < len(f) && isWord(prev) {
			r, n := utf8.DecodeRuneInString(f[i:])
			if !isWord(r) {
				break
			}
			i += n
		}
	}
	for i < len(f) && len(out) < cap(out) {
		r, n := utf8.DecodeRuneInString(f[i:])
		switch {
		case isBreak(r):
			return out
		case isCJK(r):
			out = append(out, f[i:i+n])
			i += n
		case isWord(r):
			j := i + n
			for j < len(f) {
				r2, n2 := utf8.DecodeRuneInString(f[j:])
				if !isWord(r2) {
					break
				}
				j += n2
			}
			out = append(out, f[i:j])
			i = j
		default:
			i += n
		}
	}
	return out
}

// wordsBefore is wordsAfter looking back from byte i: out gets the words
// nearest-first.
func wordsBefore(f string, i int, out []string) []string {
	if i < len(f) && i > 0 {
		next, _ := utf8.DecodeRuneInString(f[i:])
		for i > 0 && isWord(next) {
			r, n := utf8.DecodeLastRuneInString(f[:i])
			if !isWord(r) {
				break
			}
			i -= n
		}
	}
	for i > 0 && len(out) < cap(out) {
		r, n := utf8.DecodeLastRuneInString(f[:i])
		switch {
		case isBreak(r):
			return out
		case isCJK(r):
			out = append(out, f[i-n:i])
			i -= n
		case isWord(r):
			j := i - n
			for j > 0 {
				r2, n2 := utf8.DecodeLastRuneInString(f[:j])
				if !isWord(r2) {
					break
				}
				j -= n2
			}
			out = append(out, f[j:i])
			i = j
		default:
			i -= n
		}
	}
	return out
}

// isWord reports whether r is part of a word in a script that separates
// words with spaces: letters, digits and marks outside CJK.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) && !isCJK(r)
}

// isCJK reports whether r belongs to a script written without spaces
// between words: Han, kana (with the prolonged sound mark) and Hangul.
func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r == 0x30FC || r == 0xFF70
}

// isBreak reports whether r ends a sentence; context does not reach across.
func isBreak(r rune) bool {
	switch r {
	case '.', '!', '?', ';', '|', '\n', '•', '。', '！', '？', '；', '؟', '؛':
		return true
	}
	return false
}

// isNumber reports whether w is all ASCII digits.
func isNumber(w string) bool {
	if w == "" {
		return false
	}
	for i := range len(w) {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}
