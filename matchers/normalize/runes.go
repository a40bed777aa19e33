package normalize

import (
	"unicode"
	"unicode/utf8"
)

// Placeholder bytes in the pre-text of a token (see scanner). They stand for
// letters whose reading depends on the whole token and are resolved by
// finish; they never reach Token.Text, because control characters are never
// word characters.
const (
	phAmbig  = 0x01 // a vertical-stroke glyph from another script: i or l
	phLowerL = 0x02 // an ASCII-like lowercase l: l, unless the token is otherwise all capitals
	phUpperI = 0x03 // an ASCII-like capital I: i, unless the token is otherwise all lowercase
	// phApos marks a dropped apostrophe next to a digit, so that the digit
	// runs on either side are decided apart ("M4rl0'5" is m4rl0 and 5, not
	// the model-number-like run 05); finish drops it.
	phApos = 0x04
)

// isInvisible reports default-ignorable characters that render as nothing:
// zero-width spaces and joiners, soft hyphen, bidi controls, variation
// selectors, tags and the Hangul fillers that spammers use as blanks.
func isInvisible(r rune) bool {
	switch {
	case r < 0xAD:
		return false
	case r == 0xAD, r == 0x34F, r == 0x61C, r == 0x115F, r == 0x1160,
		r == 0x17B4, r == 0x17B5, r == 0x3164, r == 0xFEFF, r == 0xFFA0:
		return true
	case r >= 0x180B && r <= 0x180F,
		r >= 0x200B && r <= 0x200F,
		r >= 0x202A && r <= 0x202E,
		r >= 0x2060 && r <= 0x206F,
		r >= 0xFE00 && r <= 0xFE0F,
		r >= 0x1BCA0 && r <= 0x1BCA3,
		r >= 0x1D173 && r <= 0x1D17A,
		r >= 0xE0000 && r <= 0xE0FFF:
		return true
	}
	return false
}

// isApostrophe reports the apostrophe look-alikes that are dropped inside a
// word ("Levi's" -> "levis", "L’Oréal" -> "loreal") instead of splitting it.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '`', 0xB4, 0x2018, 0x2019, 0x201B, 0x2032, 0x2BC, 0x2BB, 0x2BD, 0xFF07:
		return true
	}
	return false
}

// isDiacritic reports the combining marks that are accents on Latin, Greek
// and Cyrillic letters. Only these are removed: the combining marks of other
// scripts (Devanagari vowel signs, the kana voicing marks that turn カ into
// ガ) carry meaning and stay.
func isDiacritic(r rune) bool {
	return r >= 0x300 && r <= 0x36F ||
		r >= 0x483 && r <= 0x489 ||
		r >= 0x1AB0 && r <= 0x1AFF ||
		r >= 0x1DC0 && r <= 0x1DFF ||
		r >= 0x20D0 && r <= 0x20FF ||
		r >= 0xFE20 && r <= 0xFE2F
}

// isCJK reports characters that form one token each: Han, kana, Hangul and
// Bopomofo, plus the prolonged sound mark and iteration marks that appear
// inside Japanese words.
func isCJK(r rune) bool {
	switch {
	case r < 0x1100:
		return false
	case r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0x3040 && r <= 0x30FF, // hiragana, katakana
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0x3400 && r <= 0x4DBF, // extension A
		r == 0xFF70, r >= 0x3005 && r <= 0x3007, r == 0x303B:
		return !isInvisible(r) && !isCJKCont(r) && r != 0x30FB && r != 0x30A0
	}
	return !isInvisible(r) && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) ||
		unicode.Is(unicode.Bopomofo, r)) && unicode.IsLetter(r)
}

// isKanaMark reports the kana voicing marks (full and halfwidth) that
// NFKC composes with the kana before them (ｸﾞ -> グ).
func isKanaMark(r rune) bool {
	return r == 0x3099 || r == 0x309A || r == 0xFF9E || r == 0xFF9F
}

// isJamoCont reports the Hangul vowel and final jamo that NFKC composes
// with the jamo or syllable before them into a syllable.
func isJamoCont(r rune) bool {
	return r >= 0x1160 && r <= 0x11FF || r >= 0xD7B0 && r <= 0xD7FF
}

// isCJKCont reports characters that belong to the CJK character before
// them when they follow the right kind of character.
func isCJKCont(r rune) bool {
	return isKanaMark(r) || isJamoCont(r)
}

// isKana reports hiragana and katakana, full and halfwidth.
func isKana(r rune) bool {
	return r >= 0x3040 && r <= 0x30FF || r >= 0xFF66 && r <= 0xFF9D || r >= 0x31F0 && r <= 0x31FF
}

// isHangulBase reports Hangul that a vowel or final jamo can extend.
func isHangulBase(r rune) bool {
	return r >= 0x1100 && r <= 0x11FF || r >= 0xAC00 && r <= 0xD7A3 || r >= 0xA960 && r <= 0xA97F || r >= 0xD7B0 && r <= 0xD7FF
}

// splitClass maps the punctuation that may separate split letters
// ("N.I.K.E", "a-d-i-d-a-s", "G*U*C*C*I") to one class per look, so that
// fullwidth and typographic variants count as the same separator. It
// returns 0 for anything else.
func splitClass(r rune) byte {
	switch r {
	case '.', 0xFF0E, 0x2024:
		return '.'
	case '-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0xFF0D, 0xFE63:
		return '-'
	case '_', 0xFF3F:
		return '_'
	case '*', 0xFF0A, 0x2217, 0x204E, 0x2731:
		return '*'
	case 0xB7, 0x2022, 0x2219, 0x22C5, 0x30FB, 0xFF65, 0x2027:
		return 0xB7
	case '|', 0xFF5C, 0xA6, 0x2223:
		return '|'
	case '/', 0xFF0F, 0x2215, 0x2044:
		return '/'
	}
	return 0
}

// foldRune is simple case folding plus the two full foldings that matter
// for matching: ß -> ss and final sigma -> sigma. It appends to dst.
func foldRune(dst []byte, r rune) []byte {
	switch r {
	case 0xDF, 0x1E9E:
		return append(dst, 's', 's')
	case 0x3C2:
		r = 0x3C3
	default:
		r = unicode.ToLower(r)
	}
	return utf8.AppendRune(dst, r)
}

// lookup returns the table entry of a non-ASCII, non-CJK rune: its
// normalized text and flags. ok is false when the rune is not in the table,
// which means it is either not a word character or normalizes to itself.
func lookup(r rune) (out string, flags uint8, ok bool) {
	lo, hi := 0, len(tableKeys)
	key := uint32(r)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if tableKeys[m] < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(tableKeys) || tableKeys[lo] != key {
		return "", 0, false
	}
	v := tableVals[lo]
	off, n := v>>12, (v>>4)&0xFF
	return tableText[off : off+n], uint8(v & 0xF), true
}

// Table flags.
const (
	tfFullwidth  = 1 << 0 // compatibility form (fullwidth, math, circled, superscript, ligature)
	tfDiacritic  = 1 << 1 // accents removed, or a Latin letter with a stroke/dotless form folded
	tfConfusable = 1 << 2 // homoglyph mapped to ASCII by the UTS #39 skeleton
)

// isWordRune reports whether a non-ASCII rune belongs to a word.
func isWordRune(r rune) bool {
	if isInvisible(r) || isApostrophe(r) || isCJK(r) || isKanaMark(r) {
		return false
	}
	if _, _, ok := lookup(r); ok {
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
