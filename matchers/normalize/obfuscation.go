package normalize

import "strings"

// Obfuscation is a bit set of the transformations that changed a token
// beyond NFKC and case folding. Each bit is evidence that the text was
// written to look like something it does not spell plainly.
type Obfuscation uint16

// The obfuscations Tokens detects, in the order String lists them.
const (
	// Leet is leetspeak decoded: 0→o 1→i/l 3→e 4→a 5→s 7→t @→a $→s,
	// and | or ! inside a word → i/l.
	Leet Obfuscation = 1 << iota
	// Confusable is a homoglyph from another script (Cyrillic о, Greek ν,
	// small capitals ...) mapped to Latin by the UTS #39 skeleton, or an
	// l written for an I (or the reverse) against the case of the word.
	Confusable
	// Fullwidth is a compatibility form changed by NFKC: fullwidth letters
	// (ＮＩＫＥ), math alphanumerics (𝐍𝐈𝐊𝐄), circled, squared and
	// superscript letters, ligatures.
	Fullwidth
	// Diacritic is accents removed (Nïké), or a Latin letter with a
	// stroke or without its dot folded to its base (ø, ł, ı).
	Diacritic
	// Invisible is zero-width characters, soft hyphens or bidi controls
	// removed from inside the token.
	Invisible
	// Split is single letters joined into one token: "G U C C I",
	// "N.I.K.E", "a-d-i-d-a-s", "G*U*C*C*I".
	Split
)

var obfNames = [...]struct{ name, words string }{
	{"leet", "leetspeak"},
	{"confusable", "look-alike letters"},
	{"fullwidth", "fullwidth letters"},
	{"diacritic", "accents"},
	{"invisible", "hidden characters"},
	{"split", "split letters"},
}

// String names the bits joined by "+" in a stable order
// ("leet+confusable"); it is "" for none.
func (o Obfuscation) String() string { return o.join(false, "+") }

// Describe names the bits in words for explanations shown to people
// ("leetspeak, look-alike letters"); it is "" for none.
func (o Obfuscation) Describe() string { return o.join(true, ", ") }

func (o Obfuscation) join(words bool, sep string) string {
	if o == 0 {
		return ""
	}
	var b strings.Builder
	for i, n := range obfNames {
		if o&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		if words {
			b.WriteString(n.words)
		} else {
			b.WriteString(n.name)
		}
	}
	return b.String()
}
