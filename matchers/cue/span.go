package cue

import (
	"unicode"
	"unicode/utf8"

	"github.com/markwatch/markwatch/matchers/normalize"
)

// aligner maps byte ranges of normalize.Fold(orig) back to orig, so that
// evidence quotes the listing's own text ("RÉPLICA", "１：１") rather than
// its folded form. Fold gives no offsets, so the mapping is rebuilt on demand: fold
// collapses whitespace, hence folded words line up with the original's
// whitespace-separated chunks, and within a chunk runes are folded one by
// one. Whenever that reconstruction disagrees with the real folded text
// (compatibility forms that compose across runes), the span falls back to whole chunks, and
// at worst to the folded text itself.
type aligner struct {
	orig, folded string
}

// span returns the original text of folded bytes [s, e).
func (a *aligner) span(s, e int) string {
	pos := 0 // start of the current chunk in folded
	os, oe := -1, -1
	for i := 0; i < len(a.orig); {
		// Find the next chunk of a.orig between whitespace.
		r, n := utf8.DecodeRuneInString(a.orig[i:])
		if unicode.IsSpace(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(a.orig) {
			r, n := utf8.DecodeRuneInString(a.orig[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		chunk := a.orig[i:j]
		var fc string
		if isPlainASCII(chunk) {
			// Printable ASCII folds to its lower case: compare in place
			// rather than building the folded chunk.
			if pos+len(chunk) <= len(a.folded) && lowerEqual(chunk, a.folded[pos:pos+len(chunk)]) {
				fc = a.folded[pos : pos+len(chunk)]
			}
		} else if fc = normalize.Fold(chunk); fc == "" {
			i = j
			continue
		}
		end := pos + len(fc)
		if fc == "" || end > len(a.folded) || a.folded[pos:end] != fc || (end < len(a.folded) && a.folded[end] != ' ') {
			return a.folded[s:e] // out of step with fold: quote the folded text
		}
		if os < 0 && s < end {
			os = i + chunkOffset(chunk, fc, s-pos, false)
		}
		if e <= end {
			oe = i + chunkOffset(chunk, fc, e-pos, true)
			break
		}
		pos = end + 1
		i = j
	}
	if os < 0 || oe < os {
		return a.folded[s:e]
	}
	return a.orig[os:oe]
}

// foldChunk folds one whitespace-free chunk, skipping fold for the common
// case of ASCII text, which folding only lower-cases.
func foldChunk(chunk string) string {
	ascii, upper := true, false
	for i := range len(chunk) {
		c := chunk[i]
		if c >= utf8.RuneSelf || c < 0x20 || c == 0x7f {
			ascii = false
			break
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !ascii {
		return normalize.Fold(chunk)
	}
	if !upper {
		return chunk
	}
	b := []byte(chunk)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// chunkOffset maps byte k of fc, the fold of chunk, to a byte offset in
// chunk by folding rune by rune. For a start (end false) it returns the
// start of the rune producing byte k; for an end, the end of the rune
// producing byte k-1 together with the marks that follow it. When folding
// rune by rune does not add up to fc it returns the chunk's edge.
func chunkOffset(chunk, fc string, k int, end bool) int {
	edge := 0
	if end {
		edge = len(chunk)
		if k >= len(fc) {
			return edge
		}
	}
	if len(chunk) == len(fc) && isPlainASCII(chunk) {
		return k
	}
	// ends[i] is how many folded bytes the runes up to and including the
	// one starting at byte i produce; only rune starts are set.
	ends := make([]int, len(chunk))
	got := 0
	for i := 0; i < len(chunk); {
		_, n := utf8.DecodeRuneInString(chunk[i:])
		f := foldChunk(chunk[i : i+n])
		if got+len(f) > len(fc) || fc[got:got+len(f)] != f {
			return edge
		}
		got += len(f)
		ends[i] = got
		i += n
	}
	if got != len(fc) {
		return edge
	}
	for i := 0; i < len(chunk); {
		_, n := utf8.DecodeRuneInString(chunk[i:])
		switch {
		case !end && ends[i] > k:
			return i
		case end && ends[i] >= k:
			// Take along what folds to nothing (accents, joiners).
			j := i + n
			for j < len(chunk) && ends[j] == ends[i] {
				_, n2 := utf8.DecodeRuneInString(chunk[j:])
				j += n2
			}
			return j
		}
		i += n
	}
	return edge
}

// isPlainASCII reports whether s is printable ASCII.
func isPlainASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf || s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// lowerEqual reports whether ASCII a, lower-cased, equals b.
func lowerEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}
