package normalize

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold is the light normalization for cue words: NFKC, case folding,
// invisible characters and accents removed, whitespace collapsed to single
// spaces and trimmed. It keeps digits and punctuation, so "1:1", "AAA+",
// "réplica" -> "replica", "КОПИЯ" -> "копия" and "高仿" stay matchable.
// It applies no skeleton and no leet: cue words are not obfuscated the way
// brand names are, and "1:1" must not become "i:i".
func Fold(s string) string {
	// Fast path: ASCII without capitals, controls or runs of spaces.
	plain := true
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf || b >= 'A' && b <= 'Z' || b < ' ' ||
			b == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ') || b == 0x7F {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var buf [128]byte
	out := buf[:0]
	space := false // a space is pending
	ascii := true
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			switch {
			case asciiClass[b]&clSpace != 0:
				space = true
				continue
			case b < ' ' || b == 0x7F:
				continue
			case b >= 'A' && b <= 'Z':
				b += 'a' - 'A'
			}
			if space && len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
			out = append(out, b)
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		p := norm.NFKD.PropertiesString(s[i:])
		i += w
		switch {
		case isInvisible(r), unicode.IsControl(r), isDiacritic(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		ascii = false
		d := p.Decomposition()
		if d == nil {
			out, space = appendFolded(out, space, r)
			continue
		}
		for len(d) > 0 {
			c, cw := utf8.DecodeRune(d)
			d = d[cw:]
			switch {
			case isDiacritic(c):
			case unicode.IsSpace(c):
				// NFKC spells some symbols with a space (´ is " ́").
				space = true
			default:
				out, space = appendFolded(out, space, c)
			}
		}
	}
	res := string(out)
	if !ascii && !norm.NFC.IsNormalString(res) {
		// Decomposition split kana from their voicing marks (ガ) and
		// similar pairs; compose them again.
		res = norm.NFC.String(res)
	}
	return res
}

// appendFolded appends the case folding of r to out, after a space if one
// is pending and out is not empty.
func appendFolded(out []byte, space bool, r rune) ([]byte, bool) {
	if space && len(out) > 0 {
		out = append(out, ' ')
	}
	return foldRune(out, r), false
}
