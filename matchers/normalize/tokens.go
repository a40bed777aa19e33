package normalize

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Token is one normalized word.
type Token struct {
	// Text is the normalized word: NFKC, case folded, skeleton,
	// diacritics stripped, leet decoded, invisibles removed.
	Text string
	// Orig is the text of the token as it appeared in the input, so that
	// evidence can quote it ("title contains 'N1ke'").
	Orig string
	// Start and End are the byte offsets of Orig in the input.
	Start, End int
	// CJK is set for a token of one Han, kana or Hangul character; CJK
	// runs are split one character per token.
	CJK bool
	// Obf records the obfuscations undone to get Text.
	Obf Obfuscation
	// Alt is the other reading of a token with a letter that could be
	// an i or an l (N1KE, App1e, NlKE; see resolveIL): Text takes the
	// likelier letter at every such place, Alt the other one. It is ""
	// when the token had no such letter.
	Alt string
}

// Tokens splits s into normalized tokens. It is safe on any input (invalid
// UTF-8 reads as U+FFFD, a separator) and never panics.
func Tokens(s string) []Token {
	return AppendTokens(nil, s)
}

// AppendTokens is Tokens appending to dst, for reuse of one slice across
// calls in hot loops. Text and Alt of the new tokens share one allocation
// per 32 tokens (none when every token is plain lowercase ASCII); Orig is
// always a piece of s.
func AppendTokens(dst []Token, s string) []Token {
	return appendTokens(dst, s, maxChunk)
}

// maxChunk bounds the bytes tokenized at once, so that every offset into
// the input and the buffers derived from it (at most 11 bytes per input
// byte, for ﷺ) fits in an int32. Inputs are cut at whitespace; a split
// letter run crossing a cut of a 64 MiB input is not joined.
const maxChunk = 1 << 26

func appendTokens(dst []Token, s string, limit int) []Token {
	for base := 0; base < len(s); {
		n := chunkLen(s[base:], limit)
		dst = appendChunk(dst, s[base:base+n], base)
		base += n
	}
	return dst
}

// chunkLen returns the length of the first chunk of s: all of s if it fits
// in limit bytes, else up to its last whitespace in the second half of the
// limit, else up to a rune boundary.
func chunkLen(s string, limit int) int {
	if len(s) <= limit {
		return len(s)
	}
	for i := limit; i > limit/2; i-- {
		if s[i-1] == ' ' || s[i-1] == '\n' {
			return i
		}
	}
	i := limit
	for i > 1 && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// batchSize is the number of tokens normalized together: enough to share
// one allocation for their Text among many, few enough that the raw
// tokens stay on the stack.
const batchSize = 32

func appendChunk(dst []Token, s string, base int) []Token {
	// The buffers live on the stack for short inputs; the scanner is
	// passed by value so that escape analysis can see they do not leak.
	var preBuf, arenaBuf [256]byte
	var rawBuf [batchSize]raw
	sc := scanner{pre: preBuf[:0], arena: arenaBuf[:0], raws: rawBuf[:0]}
	for from := 0; from < len(s); {
		sc.pre, sc.arena, sc.raws = sc.pre[:0], sc.arena[:0], sc.raws[:0]
		sc, from = sc.scan(s, from)
		sc = sc.mergeSplits(s).finishAll(s)
		arena := string(sc.arena)
		dst = slices.Grow(dst, len(sc.raws))
		for i := range sc.raws {
			rt := &sc.raws[i]
			t := Token{Orig: s[rt.start:rt.end], Start: base + int(rt.start), End: base + int(rt.end), CJK: rt.cjk, Obf: rt.obf}
			if rt.tOff < 0 {
				t.Text = t.Orig
			} else {
				t.Text = arena[rt.tOff:rt.tEnd]
			}
			if rt.aEnd > rt.aOff {
				t.Alt = arena[rt.aOff:rt.aEnd]
			}
			dst = append(dst, t)
		}
	}
	return dst
}

// Key is the squashed normalized form of a phrase: the concatenation of
// its tokens' Text ("Louis Vuitton" -> "louisvuitton", "耐克" -> "耐克",
// "L.O.U.I.S V.U.I.T.T.O.N" -> "louisvuitton"). It is the lookup key of
// mark names and variants.
func Key(s string) string {
	if len(s) > maxChunk {
		var b strings.Builder
		for _, t := range Tokens(s) {
			b.WriteString(t.Text)
		}
		return b.String()
	}
	var preBuf, arenaBuf, keyBuf [256]byte
	var rawBuf [batchSize]raw
	sc := scanner{pre: preBuf[:0], arena: arenaBuf[:0], raws: rawBuf[:0]}
	key := keyBuf[:0]
	for from := 0; from < len(s); {
		sc.pre, sc.arena, sc.raws = sc.pre[:0], sc.arena[:0], sc.raws[:0]
		sc, from = sc.scan(s, from)
		sc = sc.mergeSplits(s).finishAll(s)
		if from == len(s) && len(key) == 0 && len(sc.raws) == 1 && sc.raws[0].tOff < 0 {
			// One plain token: its text is a piece of s.
			return s[sc.raws[0].start:sc.raws[0].end]
		}
		for i := range sc.raws {
			rt := &sc.raws[i]
			if rt.tOff < 0 {
				key = append(key, s[rt.start:rt.end]...)
			} else {
				key = append(key, sc.arena[rt.tOff:rt.tEnd]...)
			}
		}
	}
	return string(key)
}

// raw is a token while the scanner works on it.
//
// Offsets are int32 to halve the size of the slice of raws, the largest
// allocation for long inputs; AppendTokens cuts inputs into chunks of at
// most maxChunk bytes so that they fit.
type raw struct {
	start, end int32 // byte span of Orig in the input
	pOff, pEnd int32 // pre-text span in scanner.pre
	// tOff/tEnd and aOff/aEnd are the spans of Text and Alt in the arena;
	// tOff < 0 means Text equals Orig.
	tOff, tEnd, aOff, aEnd int32
	upper, lower           int32 // cased letters seen, I and l not counted
	lowerL                 bool  // an ASCII l was seen (an I among capitals?)
	obf                    Obfuscation
	conf                   bool // a rune was mapped by a homoglyph
	cjk                    bool
	single                 bool // one letter or leet digit: a split-letter candidate
}

// scanner turns a string into raw tokens. The pre-text of a token is its
// text after per-character normalization (NFKD, accents, case, skeleton)
// but before the decisions that need the whole token (leet, i/l, split
// letters); the small buffers keep short inputs off the heap.
//
// Methods take and return the scanner by value, and the input separately:
// a store through a pointer, or the input leaking from the same struct,
// would make escape analysis move the caller's stack buffers to the heap.
type scanner struct {
	pre   []byte
	arena []byte
	raws  []raw
}

// ASCII character classes.
const (
	clLower = 1 << iota
	clUpper
	clDigit
	clSpace
)

var asciiClass = func() (t [128]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clLower
		t[c-'a'+'A'] = clUpper
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clDigit
	}
	for _, c := range " \t\n\v\f\r" {
		t[c] = clSpace
	}
	return t
}()

const clWord = clLower | clUpper | clDigit

// runeAt decodes the rune at i; it returns (0, 0) at the end of s.
func runeAt(s string, i int) (rune, int) {
	if i >= len(s) {
		return 0, 0
	}
	if b := s[i]; b < utf8.RuneSelf {
		return rune(b), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// wordAt reports whether a word character (not CJK) starts at i.
// letter restricts it to letters (no digits).
func wordAt(s string, i int, letter bool) bool {
	r, w := runeAt(s, i)
	if w == 0 {
		return false
	}
	if r < utf8.RuneSelf {
		if letter {
			return asciiClass[r]&(clLower|clUpper) != 0
		}
		return asciiClass[r]&clWord != 0
	}
	if !isWordRune(r) {
		return false
	}
	return !letter || !unicode.IsDigit(r)
}

// wordBefore reports whether a word character ends at i.
func wordBefore(s string, i int) bool {
	r, w := utf8.DecodeLastRuneInString(s[:i])
	if w == 0 {
		return false
	}
	if r < utf8.RuneSelf {
		return asciiClass[r]&clWord != 0
	}
	return isWordRune(r)
}

// wordsAhead counts word characters from i on, up to max.
func wordsAhead(s string, i, max int) int {
	n := 0
	for n < max {
		r, w := runeAt(s, i)
		if w == 0 || !(r < utf8.RuneSelf && asciiClass[r]&clWord != 0 || r >= utf8.RuneSelf && isWordRune(r)) {
			break
		}
		n++
		i += w
	}
	return n
}

// emailAt reports whether the @ at i is followed by a domain name
// (name@gucci-outlet.com), which makes it a separator, not a leet a.
func emailAt(s string, i int) bool {
	j := i + 1
	for j < len(s) && (asciiClass[s[j]&0x7F]&clWord != 0 && s[j] < utf8.RuneSelf || s[j] == '-') {
		j++
	}
	if j == i+1 || j >= len(s) || s[j] != '.' {
		return false
	}
	k := j + 1
	for k < len(s) && s[k] < utf8.RuneSelf && asciiClass[s[k]]&(clLower|clUpper) != 0 {
		k++
	}
	return k-j-1 >= 2
}

// scan splits the input from from on into raw tokens, up to a batch, and
// returns where it stopped.
func (sc scanner) scan(s string, from int) (scanner, int) {
	for i := from; i < len(s); {
		if n := len(sc.raws); n >= batchSize && !sc.raws[n-1].single {
			// A full batch, and no split-letter run going on.
			return sc, i
		}
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case asciiClass[b]&clWord != 0,
				(b == '@' || b == '$') && wordAt(s, i+1, true),
				b == '|' && wordsAhead(s, i+1, 2) >= 2 && wordAt(s, i+1, true) && !wordBefore(s, i):
				sc, i = sc.word(s, i)
			case (b == '@' || b == '$') && loneSymbol(s, i):
				// "V.3.L.T.@.R.0": a leet letter spelled on its own
				// between split-letter separators.
				sc.raws = append(sc.raws, raw{start: int32(i), end: int32(i + 1), pOff: int32(len(sc.pre)), pEnd: int32(len(sc.pre) + 1), single: true})
				sc.pre = append(sc.pre, b)
				i++
			default:
				i++
			}
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case isCJK(r):
			sc, i = sc.cjk(s, i, w)
		case isWordRune(r):
			sc, i = sc.word(s, i)
		default:
			i += w
		}
	}
	return sc, len(s)
}

// word scans one word token starting at i and returns its end.
func (sc scanner) word(s string, i int) (scanner, int) {
	rt := raw{start: int32(i), pOff: int32(len(sc.pre))}
	if r, w := utf8.DecodeLastRuneInString(s[:i]); w > 0 && edgeInvisible(r, i-w) {
		rt.obf |= Invisible // "\u200bNike": hidden at the word's edge
	}
	n := 0              // word characters consumed
	lastLetter := false // the last consumed character was a letter
	j := i
loop:
	for j < len(s) {
		b := s[j]
		if b >= 'a' && b <= 'z' {
			// The common case: a run of lowercase ASCII letters.
			k := j
			from := len(sc.pre)
			for ; k < len(s) && s[k] >= 'a' && s[k] <= 'z'; k++ {
				if s[k] == 'l' {
					rt.lowerL = true // l is not counted as lowercase
				} else {
					rt.lower++
				}
			}
			sc.pre = append(sc.pre, s[j:k]...)
			if rt.lowerL {
				// Mark lowercase l apart from a folded capital L: only a
				// lowercase l among capitals may stand for an I.
				for q := from; q < len(sc.pre); q++ {
					if sc.pre[q] == 'l' {
						sc.pre[q] = phLowerL
					}
				}
			}
			n += k - j
			j = k
			lastLetter = true
			continue
		}
		if b < utf8.RuneSelf {
			c := asciiClass[b]
			switch {
			case c&clUpper != 0:
				if b == 'I' {
					sc.pre = append(sc.pre, phUpperI)
				} else {
					sc.pre = append(sc.pre, b+'a'-'A')
					rt.upper++
				}
				lastLetter = true
			case c&clDigit != 0:
				sc.pre = append(sc.pre, b)
				lastLetter = false
			case b == '@' || b == '$':
				switch {
				case wordAt(s, j+1, true) && !(b == '@' && emailAt(s, j)):
				case lastLetter && !wordAt(s, j+1, false) && (j+1 >= len(s) || s[j+1] != '.' || b == '$'):
					// Ad1da$: a trailing symbol after a letter.
				default:
					break loop
				}
				sc.pre = append(sc.pre, b)
				lastLetter = false
			case b == '|':
				right := wordsAhead(s, j+1, 3)
				switch {
				case right == 0 && n >= 2: // Chane|
				case right == 0, n <= 1 && right <= 1, n >= 3 && right >= 3:
					// G|U|C|C|I is split letters; Nike|Gucci is two words.
					break loop
				}
				sc.pre = append(sc.pre, b)
				lastLetter = false
			case b == '!':
				if !lastLetter || !wordAt(s, j+1, true) {
					break loop // an exclamation mark
				}
				sc.pre = append(sc.pre, b)
				lastLetter = false
			case b == '\'' || b == '`':
				if n == 0 || !afterApostrophe(s, j+1) {
					break loop
				}
				sc.pre = aposMark(sc.pre, s, j+1)
				j++ // dropped: Levi's -> levis
				continue
			default:
				break loop
			}
			j++
			n++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[j:])
		switch {
		case isInvisible(r):
			k := j + w
			for {
				r2, w2 := runeAt(s, k)
				if w2 == 0 || !isInvisible(r2) {
					break
				}
				k += w2
			}
			if !wordAt(s, k, false) {
				for _, r := range s[j:k] {
					if edgeInvisible(r, -1) {
						rt.obf |= Invisible // "Nike\u200b bag": hidden at the word's edge
						break
					}
				}
				break loop
			}
			rt.obf |= Invisible
			j = k
			continue
		case isApostrophe(r):
			if n == 0 || !afterApostrophe(s, j+w) {
				break loop
			}
			sc.pre = aposMark(sc.pre, s, j+w)
			j += w
			continue
		case isCJK(r):
			break loop
		}
		if out, fl, ok := lookup(r); ok {
			sc.pre = append(sc.pre, out...)
			if fl&tfFullwidth != 0 {
				rt.obf |= Fullwidth
			}
			if fl&tfDiacritic != 0 {
				rt.obf |= Diacritic
			}
			if fl&tfConfusable != 0 {
				rt.conf = true
			}
			if len(out) == 1 && out[0] <= phUpperI {
				// I/l look-alikes do not count towards the case of the word.
			} else if unicode.IsUpper(r) {
				rt.upper++
			} else if unicode.IsLower(r) {
				rt.lower++
			}
			if len(out) > 0 {
				lastLetter = !(out[0] >= '0' && out[0] <= '9')
			}
		} else if !isKanaMark(r) && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) {
			// A letter that normalizes to itself (isWordRune without
			// the checks made above).
			sc.pre = append(sc.pre, s[j:j+w]...)
			lastLetter = unicode.IsLetter(r)
			if unicode.IsLower(r) {
				rt.lower++
			}
		} else {
			break loop
		}
		j += w
		n++
	}
	rt.end = int32(j)
	rt.pEnd = int32(len(sc.pre))
	if rt.pEnd > rt.pOff {
		rt.single = isSingle(sc.pre[rt.pOff:rt.pEnd])
		sc.raws = append(sc.raws, rt)
	}
	if j == i {
		// An @ that turned out to start an e-mail domain: skip it.
		_, w := runeAt(s, i)
		return sc, i + max(w, 1)
	}
	return sc, j
}

// isSingle reports a pre-text of one letter or one leet digit.
func isSingle(p []byte) bool {
	if len(p) == 1 {
		b := p[0]
		return b <= phUpperI || b >= 'a' && b <= 'z' || isLeetDigit(b) || b == '@' || b == '$'
	}
	r, w := utf8.DecodeRune(p)
	return w == len(p) && r >= utf8.RuneSelf && unicode.IsLetter(r)
}

// afterApostrophe reports whether an apostrophe whose next character is
// at i stays inside the word: a word character follows, or a leet symbol
// does ("Marlo'$", "D'@rvelle"), which the word loop then keeps or not.
func afterApostrophe(s string, i int) bool {
	if wordAt(s, i, false) {
		return true
	}
	return i < len(s) && (s[i] == '$' || s[i] == '@')
}

// aposMark appends phApos to pre when a digit stands on either side of a
// dropped apostrophe whose next character is at i.
func aposMark(pre []byte, s string, i int) []byte {
	if len(pre) > 0 && pre[len(pre)-1] >= '0' && pre[len(pre)-1] <= '9' || i < len(s) && s[i] >= '0' && s[i] <= '9' {
		return append(pre, phApos)
	}
	return pre
}

// loneSymbol reports an @ or $ at i standing alone between split-letter
// separators ("V.3.L.T.@.R.0", "$*U*M*M*I*7"): the nearest non-space
// character on one side is a separator, and on the other side a separator
// too, or the edge of the run.
func loneSymbol(s string, i int) bool {
	if wordAt(s, i+1, false) || i > 0 && wordBefore(s, i) {
		return false
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	k := i
	for k > 0 && s[k-1] == ' ' {
		k--
	}
	after, _ := runeAt(s, j)
	before, _ := utf8.DecodeLastRuneInString(s[:k])
	sepAfter, sepBefore := j < len(s) && splitClass(after) != 0, k > 0 && splitClass(before) != 0
	switch {
	case sepAfter && sepBefore:
		return true
	case sepAfter:
		// At the start of the run: "$*U*M*M*I*7".
		return k == 0 || k < i
	case sepBefore:
		// At its end: "V.E.L.T.R.@".
		return j >= len(s) || j > i+1
	case k < i && j > i+1 && k > 0 && j < len(s):
		// Between spaced single letters: "V 3 L T @ R 0".
		_, wa := runeAt(s, j)
		_, wb := utf8.DecodeLastRuneInString(s[:k])
		return wordAt(s, j, false) && !wordAt(s, j+wa, false) && wordBefore(s, k) && !wordBefore(s, k-wb)
	}
	return false
}

// edgeInvisible reports the invisible characters that hide a name when
// they touch its edge ("\u200bNike", "Nike\u00ad bag"): zero-width space,
// joiners, word joiner and invisible operators, soft hyphen, the Mongolian
// vowel separator, and a byte-order mark anywhere but at the start of the
// text (at is the rune's offset, -1 when unknown). Bidi controls are not
// among them (right-to-left text puts them beside Latin words honestly),
// nor are variation selectors (emoji).
func edgeInvisible(r rune, at int) bool {
	switch r {
	case 0xAD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064:
		return true
	case 0xFEFF:
		return at != 0
	}
	return false
}

func isLeetDigit(b byte) bool {
	switch b {
	case '0', '1', '3', '4', '5', '7':
		return true
	}
	return false
}

// cjk scans one CJK character (with its voicing marks, Hangul jamo and
// variation selectors) at i, w being the width of the first rune.
func (sc scanner) cjk(s string, i, w int) (scanner, int) {
	j := i + w
	base, _ := utf8.DecodeRuneInString(s[i:])
	simple := true
	for {
		r, w2 := runeAt(s, j)
		if w2 == 0 || !(isKanaMark(r) && isKana(base) || isJamoCont(r) && isHangulBase(base) ||
			r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF) {
			break
		}
		simple = false
		j += w2
	}
	rt := raw{start: int32(i), end: int32(j), pOff: int32(len(sc.pre)), cjk: true}
	seg := s[i:j]
	if simple && cjkStable(seg) {
		sc.pre = append(sc.pre, seg...)
	} else {
		var tmp [32]byte
		clean := tmp[:0]
		for _, r := range seg {
			if !isInvisible(r) {
				clean = utf8.AppendRune(clean, r)
			}
		}
		// Rare (halfwidth kana, decomposed Hangul): allocating here
		// keeps sc.pre from escaping through norm's append.
		nfkc := norm.NFKC.String(string(clean))
		if r, w := utf8.DecodeRuneInString(nfkc); w == len(nfkc) && r >= 0x1100 && r <= 0x11FF {
			// A lone jamo (ㄱ, ﾡ, ᄀ, ᅡ): as a conjoining jamo it
			// would compose with the Hangul around it once a Key
			// squashes the tokens. Use the standalone compatibility
			// letter instead.
			if c, ok := jamoCompat[r]; ok {
				nfkc = string(c)
			}
		}
		if nfkc != norm.NFC.String(string(clean)) {
			rt.obf |= Fullwidth
		}
		sc.pre = append(sc.pre, nfkc...)
	}
	rt.pEnd = int32(len(sc.pre))
	if rt.pEnd > rt.pOff {
		sc.raws = append(sc.raws, rt)
	}
	return sc, j
}

// jamoCompat maps conjoining jamo to the Hangul compatibility letters that
// NFKC maps to them. It is read-only.
var jamoCompat = func() map[rune]rune {
	m := make(map[rune]rune)
	for r := rune(0x3131); r <= 0x318E; r++ {
		c, w := utf8.DecodeRuneInString(norm.NFKC.String(string(r)))
		if _, dup := m[c]; w > 0 && c >= 0x1100 && c <= 0x11FF && !dup {
			m[c] = r
		}
	}
	// Simple finals share their compatibility letter with the initial of
	// the same name (ㄱ is NFKC ᄀ), so NFKC does not list them.
	finals := [...]struct{ final, letter rune }{
		{0x11A8, 0x3131}, {0x11A9, 0x3132}, {0x11AB, 0x3134}, {0x11AE, 0x3137},
		{0x11AF, 0x3139}, {0x11B7, 0x3141}, {0x11B8, 0x3142}, {0x11BA, 0x3145},
		{0x11BB, 0x3146}, {0x11BC, 0x3147}, {0x11BD, 0x3148}, {0x11BE, 0x314A},
		{0x11BF, 0x314B}, {0x11C0, 0x314C}, {0x11C1, 0x314D}, {0x11C2, 0x314E},
	}
	for _, f := range finals {
		if _, ok := m[f.final]; !ok {
			m[f.final] = f.letter
		}
	}
	return m
}()

// cjkStable reports a one-rune CJK segment that NFKC leaves alone: Han
// ideographs, Hangul syllables and kana other than the two digraphs ゟ and
// ヿ. Others (halfwidth kana, compatibility ideographs) take the slow path.
func cjkStable(seg string) bool {
	r, _ := utf8.DecodeRuneInString(seg)
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0xAC00 && r <= 0xD7A3 || r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x3041 && r <= 0x30FE && r != 0x309F
}

// Gap kinds between two tokens, for split letters.
const (
	gapNone  = 0
	gapSpace = ' '
)

// gap classifies the text between two tokens: gapSpace for whitespace only,
// the split class of a single separator, with or without whitespace around
// it ("N.I.K.E", "V . E . L"), or gapNone.
func gap(s string, a, b *raw) byte {
	g := s[a.end:b.start]
	if g == "" {
		return gapNone
	}
	kind := byte(gapNone)
	punct := false // a separator was seen
	for _, r := range g {
		switch {
		case isInvisible(r):
		case isApostrophe(r):
			// "D-'-A-R-V-E-L-L-E": the apostrophe of the name spelled
			// as a letter of the run.
			punct = false
		case unicode.IsSpace(r):
			if kind == gapNone {
				kind = gapSpace
			}
		default:
			c := splitClass(r)
			if c == 0 || kind != gapNone && kind != gapSpace && kind != c || punct {
				return gapNone
			}
			kind, punct = c, true
		}
	}
	return kind
}

// mergeSplits joins runs of single letters: at least three separated by
// whitespace ("G U C C I") or two separated by the same punctuation
// ("N.I.K.E", "U.S"), with at least two letters among them.
func (sc scanner) mergeSplits(s string) scanner {
	rs := sc.raws
	out := rs[:0]
	for i := 0; i < len(rs); {
		if !rs[i].single || i+1 == len(rs) || !rs[i+1].single {
			out = append(out, rs[i])
			i++
			continue
		}
		kind := gap(s, &rs[i], &rs[i+1])
		if kind == gapNone {
			out = append(out, rs[i])
			i++
			continue
		}
		j := i + 1
		for j+1 < len(rs) && rs[j+1].single && gap(s, &rs[j], &rs[j+1]) == kind {
			j++
		}
		first := i
		if kind == gapSpace && j-i+1 >= 4 && sc.caseOdd(rs[i], rs[i+1:j+1]) {
			// "a N I K E": the article is not part of the run.
			out = append(out, rs[i])
			first++
		}
		n := j - first + 1
		letters := 0
		for k := first; k <= j; k++ {
			if !isLeetDigit(sc.pre[rs[k].pOff]) {
				letters++
			}
		}
		if letters < 2 || kind == gapSpace && n < 3 || n < 2 {
			for k := first; k <= j; k++ {
				out = append(out, rs[k])
			}
			i = j + 1
			continue
		}
		m := rs[first]
		for k := first + 1; k <= j; k++ {
			m.end, m.pEnd = rs[k].end, rs[k].pEnd
			m.upper += rs[k].upper
			m.lower += rs[k].lower
			m.obf |= rs[k].obf
			m.conf = m.conf || rs[k].conf
			m.lowerL = m.lowerL || rs[k].lowerL
		}
		m.obf |= Split
		m.single = false
		out = append(out, m)
		i = j + 1
	}
	sc.raws = out
	return sc
}

// caseOdd reports whether the lone letter a is lowercase while the letters
// after it are all capitals.
func (sc scanner) caseOdd(a raw, rest []raw) bool {
	if a.lower == 0 {
		return false
	}
	for _, r := range rest {
		if r.lower > 0 || r.upper == 0 && sc.pre[r.pOff] != phUpperI {
			return false
		}
	}
	return true
}

// finishAll finishes every raw token.
func (sc scanner) finishAll(s string) scanner {
	for i := range sc.raws {
		sc = sc.finish(s, &sc.raws[i])
	}
	return sc
}

// ambiguity is a letter of the text that could be i or l.
type ambiguity struct {
	pos int // in the arena
	// plain is the letter the character is when read plainly (l for an
	// l among capitals, i for an I among lowercase); 0 for strokes that
	// have no plain reading (leet 1, |, !, a stroke from another script).
	plain byte
}

// finish decides leet, i/l and the Confusable bit of a raw token and
// writes its Text (and Alt) to the arena unless Text equals Orig.
func (sc scanner) finish(s string, rt *raw) scanner {
	p := sc.pre[rt.pOff:rt.pEnd]
	orig := s[rt.start:rt.end]
	rt.tOff, rt.aOff, rt.aEnd = -1, 0, 0
	if rt.cjk {
		if string(p) != orig {
			rt.tOff = int32(len(sc.arena))
			sc.arena = append(sc.arena, p...)
			rt.tEnd = int32(len(sc.arena))
		}
		return sc
	}
	capsCtx := rt.upper >= 2 && rt.lower == 0
	special := capsCtx && rt.lowerL
	for k := 0; k < len(p) && !special; k++ {
		switch b := p[k]; {
		case b <= phUpperI, b >= '0' && b <= '9', b == '@', b == '$', b == '|', b == '!':
			special = true
		}
	}
	start := len(sc.arena)
	var ambBuf [8]ambiguity
	amb := ambBuf[:0]
	if !special {
		if string(p) == orig {
			return sc
		}
		sc.arena = append(sc.arena, p...)
	} else {
		letters := 0
		for k := 0; k < len(p); k++ {
			switch b := p[k]; {
			case b >= 'a' && b <= 'z' || b <= phUpperI:
				letters++
			case b >= utf8.RuneSelf && utf8.RuneStart(b):
				if r, _ := utf8.DecodeRune(p[k:]); unicode.IsLetter(r) {
					letters++
				}
			}
		}
		lowerCtx := rt.lower >= 2 && rt.upper == 0
		split := rt.obf&Split != 0
		for k := 0; k < len(p); k++ {
			b := p[k]
			switch b {
			case phApos:
				continue
			case phLowerL:
				b = 'l'
				if capsCtx {
					amb = append(amb, ambiguity{len(sc.arena), 'l'})
				}
			case phUpperI:
				b = 'i'
				if lowerCtx && k > 0 {
					amb = append(amb, ambiguity{len(sc.arena), 'i'})
				}
			case phAmbig:
				b = 'l'
				amb = append(amb, ambiguity{len(sc.arena), 0})
			case '@':
				b = 'a'
				rt.obf |= Leet
			case '$':
				b = 's'
				rt.obf |= Leet
			case '|', '!':
				b = 'l'
				amb = append(amb, ambiguity{len(sc.arena), 0})
				rt.obf |= Leet
			}
			if b >= '0' && b <= '9' {
				e := k
				for e < len(p) && p[e] >= '0' && p[e] <= '9' {
					e++
				}
				run := p[k:e]
				if leetRun(run, k == 0, e == len(p), letters) || split && splitLeet(p, letters) {
					for _, d := range run {
						c := leetDigit[d-'0']
						if c == '1' {
							c = 'l'
							amb = append(amb, ambiguity{len(sc.arena), 0})
						}
						sc.arena = append(sc.arena, c)
					}
					rt.obf |= Leet
				} else {
					sc.arena = append(sc.arena, run...)
				}
				k = e - 1
				continue
			}
			sc.arena = append(sc.arena, b)
		}
	}
	text := sc.arena[start:]
	if len(amb) > 0 {
		for i, a := range amb {
			before, after := ctxBoundary, ctxBoundary
			if a.pos > start {
				before = ilContext(sc.arena[a.pos-1])
			}
			if a.pos+1 < len(sc.arena) {
				after = ilContext(sc.arena[a.pos+1])
				if i+1 < len(amb) && amb[i+1].pos == a.pos+1 {
					after = ctxUnknown // not decided yet
				}
			}
			c := resolveIL(before, after)
			if a.plain != 0 && c != a.plain {
				// An l read as I among capitals, or an I read as l
				// among lowercase: a look-alike letter.
				rt.obf |= Confusable
			}
			sc.arena[a.pos] = c
		}
		// Alt: the same text with every ambiguous letter flipped.
		rt.aOff = int32(len(sc.arena))
		sc.arena = append(sc.arena, sc.arena[start:rt.aOff]...)
		for _, a := range amb {
			sc.arena[a.pos-start+int(rt.aOff)] ^= 'i' ^ 'l'
		}
		rt.aEnd = int32(len(sc.arena))
		text = sc.arena[start:rt.aOff]
	}
	if rt.conf && isASCII(text) {
		rt.obf |= Confusable
	}
	if len(amb) == 0 && string(text) == orig {
		sc.arena = sc.arena[:start]
		return sc
	}
	rt.tOff, rt.tEnd = int32(start), int32(start+len(text))
	return sc
}

// leetDigit maps digits to the letters they stand for in leetspeak; '1' is
// resolved to i or l later, digits without a letter stay.
var leetDigit = [10]byte{'o', '1', '2', 'e', 'a', 's', '6', 't', '8', '9'}

// leetRun decides whether a run of digits inside a word is leetspeak. The
// word must have at least two letters; every digit must be a leet digit;
// a run may be two long inside the word (G00CCI) but only one long at
// either end (5upreme, Gucc1), so that model numbers (iPhone15, RTX4090,
// AirMax90, 128GB) keep their digits.
func leetRun(run []byte, leading, trailing bool, letters int) bool {
	if letters < 2 {
		return false
	}
	for _, d := range run {
		if !isLeetDigit(d) {
			return false
		}
	}
	if leading || trailing {
		return len(run) == 1
	}
	return len(run) <= 2
}

// splitLeet decides leet for a token joined from split letters, where every
// digit was written apart as a letter of the word ("0.5.T.R.3.L.L.3"):
// runs of any length are letters as long as the word has at least as many
// letters as leet digits and no other digit.
func splitLeet(p []byte, letters int) bool {
	digits := 0
	for _, b := range p {
		if b >= '0' && b <= '9' {
			if !isLeetDigit(b) {
				return false
			}
			digits++
		}
	}
	return digits <= letters
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
