package normalize

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

var update = flag.Bool("update", false, "rewrite table.go from the Unicode data of the confusables and norm packages")

// tableEntry is the derived normalization of one rune.
type tableEntry struct {
	r     rune
	out   string
	flags uint8
}

// smallCaps maps the non-ASCII prototypes that UTS #39 keeps for small
// capitals (and the Cyrillic letters that look like them: в -> ʙ, н -> ʜ,
// т -> ᴛ, м -> ʍ) to the ASCII letters they imitate in "fancy text".
var smallCaps = map[rune]rune{
	0x1D00: 'a', 0x299: 'b', 0x1D04: 'c', 0x1D05: 'd', 0x1D07: 'e', 0xA730: 'f', 0x262: 'g',
	0x29C: 'h', 0x26A: 'i', 0x1D0A: 'j', 0x1D0B: 'k', 0x138: 'k', 0x29F: 'l', 0x1D0D: 'm', 0x28D: 'm',
	0x274: 'n', 0x1D0F: 'o', 0x1D18: 'p', 0x1EB: 'q', 0x280: 'r', 0xA731: 's', 0x1D1B: 't',
	0x1D1C: 'u', 0x1D20: 'v', 0x1D21: 'w', 0x28F: 'y', 0x1D22: 'z',
}

// letterSymbol reports the enclosed-letter symbols (category So) that
// spell words in "fancy text": circled, parenthesized, squared and negative
// letters. Other symbols (™, ℠, №) stay separators even though NFKC spells
// them with letters.
func letterSymbol(r rune) bool {
	return r >= 0x249C && r <= 0x24E9 ||
		r >= 0x1F110 && r <= 0x1F129 || r >= 0x1F130 && r <= 0x1F149 ||
		r >= 0x1F150 && r <= 0x1F169 || r >= 0x1F170 && r <= 0x1F189
}

// negativeLetter returns the capital letter of a negative circled or
// negative squared letter, which have no compatibility decomposition.
func negativeLetter(r rune) (rune, bool) {
	switch {
	case r >= 0x1F150 && r <= 0x1F169:
		return 'A' + r - 0x1F150, true
	case r >= 0x1F170 && r <= 0x1F189:
		return 'A' + r - 0x1F170, true
	}
	return 0, false
}

func isAlnumString(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// derivedWord is isWordRune without the table: the definition the table
// is built from.
func derivedWord(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	if isInvisible(r) || isApostrophe(r) || isCJK(r) || isKanaMark(r) {
		return false
	}
	if unicode.IsLetter(r) || unicode.Is(unicode.Nd, r) || unicode.IsMark(r) || letterSymbol(r) {
		return true
	}
	if unicode.In(r, unicode.Nl, unicode.No) {
		d := norm.NFKD.String(string(r))
		return d != string(r) && isAlnumString(d)
	}
	return false
}

// lookalikeBlock reports Latin blocks whose letters are look-alikes (IPA,
// phonetic, small capitals, African and click letters) rather than the
// accented letters of a language.
func lookalikeBlock(r rune) bool {
	return r >= 0x180 && r <= 0x2AF || r >= 0x1D00 && r <= 0x1DBF ||
		r >= 0xA720 && r <= 0xA7FF || r >= 0xAB30 && r <= 0xAB6F
}

// asciiPiece writes an ASCII letter or digit into pre-text form.
func asciiPiece(b []byte, c rune) []byte {
	switch {
	case c == 'I':
		return append(b, phUpperI)
	case c == 'l':
		return append(b, phLowerL)
	case c >= 'A' && c <= 'Z':
		return append(b, byte(c+'a'-'A'))
	}
	return append(b, byte(c))
}

// homoglyph maps c to the ASCII letters (or digits) its UTS #39 skeleton
// prototype is made of. It tries c itself, then the other cases of c, so
// that both cases of a letter map alike when only one case has a Latin
// look-alike (Cyrillic Т/т both become t).
func homoglyph(c rune) (string, bool) {
	qs := []rune{c}
	for q := unicode.SimpleFold(c); q != c; q = unicode.SimpleFold(q) {
		qs = append(qs, q)
	}
	for i, q := range qs {
		p := norm.NFD.String(confusables.Skeleton(string(q)))
		var sb strings.Builder
		stripped := false
		for _, x := range p {
			if isDiacritic(x) {
				stripped = true
				continue
			}
			if a, ok := smallCaps[x]; ok {
				x = a
			}
			sb.WriteRune(x)
		}
		p = sb.String()
		if p == string(q) || p == "" {
			continue
		}
		ascii := true
		for j := 0; j < len(p); j++ {
			b := p[j]
			if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9') {
				ascii = false
			}
		}
		if !ascii {
			continue
		}
		p = strings.ToLower(p)
		if p == "rn" {
			// ASCII m is not skeletonized (see the package doc); keep
			// the classes aligned by folding rn back to m.
			p = "m"
		}
		if p == "l" && !stripped {
			// A bare vertical stroke: I if the source is a capital,
			// otherwise ambiguous between i and l.
			if i == 0 && unicode.IsUpper(c) {
				return string(rune(phUpperI)), true
			}
			return string(rune(phAmbig)), true
		}
		return p, true
	}
	return "", false
}

// deriveOnce computes the table entry of one word rune.
func deriveOnce(r rune) (string, uint8) {
	var out []byte
	var flags uint8
	if l, ok := negativeLetter(r); ok {
		return string(asciiPiece(nil, l)), tfFullwidth
	}
	s := string(r)
	d := norm.NFKD.String(s)
	if d != norm.NFD.String(s) {
		flags |= tfFullwidth
	}
	for _, c := range d {
		switch {
		case isDiacritic(c):
			flags |= tfDiacritic
		case c < 0x80:
			if derivedWord(c) {
				out = asciiPiece(out, c)
			}
		case !derivedWord(c):
			// The parentheses of ⒩, the fraction slash of ½, spaces.
		case unicode.Is(unicode.Nd, c):
			z := c
			for unicode.Is(unicode.Nd, z-1) && c-z < 9 {
				z--
			}
			out = append(out, byte('0'+(c-z)%10))
		default:
			if h, ok := homoglyph(c); ok {
				if unicode.Is(unicode.Latin, c) && !lookalikeBlock(c) {
					flags |= tfDiacritic
				} else {
					flags |= tfConfusable
				}
				out = append(out, h...)
				continue
			}
			out = foldRune(out, c)
		}
	}
	return string(out), flags
}

// derive computes the table entry of r, iterated until the output is a
// fixed point so that normalizing normalized text changes nothing.
func derive(r rune) (tableEntry, bool) {
	if r < 0x80 || !derivedWord(r) {
		return tableEntry{}, false
	}
	out, flags := deriveOnce(r)
	for range 4 {
		var next []byte
		changed := false
		for _, c := range out {
			if c < 0x80 || !derivedWord(c) {
				next = utf8.AppendRune(next, c)
				continue
			}
			o, f := deriveOnce(c)
			if o != string(c) {
				changed = true
			}
			flags |= f
			next = append(next, o...)
		}
		if !changed {
			break
		}
		out = string(next)
	}
	if out == string(r) && flags == 0 {
		return tableEntry{}, false
	}
	return tableEntry{r: r, out: out, flags: flags}, true
}

func deriveTable() []tableEntry {
	var t []tableEntry
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r >= 0x30000 && r < 0xE0000 || r >= 0xF0000 {
			continue // surrogates, unassigned planes, private use
		}
		if e, ok := derive(r); ok {
			t = append(t, e)
		}
	}
	return t
}

func writeTable(path string, t []tableEntry) error {
	var b bytes.Buffer
	var text strings.Builder
	b.WriteString("// Code generated by TestTable -update; DO NOT EDIT.\n\n")
	b.WriteString("package normalize\n\n")
	b.WriteString("// The normalization of every non-ASCII, non-CJK word rune that changes,\n")
	b.WriteString("// derived from golang.org/x/text/unicode/norm (NFKD) and the UTS #39\n")
	b.WriteString("// confusables of github.com/mtibben/confusables; see table_test.go.\n")
	b.WriteString("// tableVals[i] is offset<<12 | length<<4 | flags into tableText.\n\n")
	b.WriteString("var tableKeys = [...]uint32{")
	for i, e := range t {
		if i%10 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "0x%04X, ", e.r)
	}
	b.WriteString("\n}\n\nvar tableVals = [...]uint32{")
	dedup := map[string]int{}
	for i, e := range t {
		off, ok := dedup[e.out]
		if !ok {
			off = strings.Index(text.String(), e.out)
			if off < 0 || e.out == "" {
				off = text.Len()
				text.WriteString(e.out)
			}
			dedup[e.out] = off
		}
		if len(e.out) > 0xFF || off >= 1<<20 {
			return fmt.Errorf("table entry %U: output %q does not fit", e.r, e.out)
		}
		if i%8 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "0x%08X, ", uint32(off)<<12|uint32(len(e.out))<<4|uint32(e.flags))
	}
	b.WriteString("\n}\n\nconst tableText = ")
	s := text.String()
	for len(s) > 0 {
		n := min(len(s), 96)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		fmt.Fprintf(&b, "%+q", s[:n])
		s = s[n:]
		if len(s) > 0 {
			b.WriteString(" +\n\t")
		}
	}
	b.WriteString("\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return fmt.Errorf("format table: %w", err)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// TestTable checks that the compiled table is what the Unicode data gives
// today; with -update it rewrites table.go. It fails after an upgrade of
// Go's unicode tables, x/text or the confusables package until the table is
// regenerated, so the two sides of every comparison never disagree about
// which version they use.
func TestTable(t *testing.T) {
	want := deriveTable()
	if *update {
		if err := writeTable("table.go", want); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d entries", len(want))
		return
	}
	if len(want) != len(tableKeys) {
		t.Errorf("table has %d entries, the Unicode data gives %d: run go test -run TestTable -update", len(tableKeys), len(want))
	}
	for _, e := range want {
		out, flags, ok := lookup(e.r)
		if !ok || out != e.out || flags != e.flags {
			t.Fatalf("%U %q: table has %q/%d, want %q/%d: run go test -run TestTable -update", e.r, string(e.r), out, flags, e.out, e.flags)
		}
	}
}
