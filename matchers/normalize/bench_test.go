package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	benchASCIITitle = "Nike Air Max 90 Mens Running Shoes White Black Size 10 New"
	benchMixedTitle = "ＮＩＫＥ Аir Мах 90 耐克 男鞋 Nïké N1ke G U C C I 高仿 1:1 ナイキ"
)

// benchDescription is about 1 KB of listing description mixing English,
// Chinese, obfuscations and punctuation.
var benchDescription = cutRunes(strings.Repeat("Brand new authentic N1ke Air Jordan 1 Retro High OG, size US 10 / EU 44. "+
	"100% genuine leather, ships from Guangzhou 广州 in 3-5 days! Contact: seller@example.com — "+
	"G U C C I style belt included, 高仿 复刻 AAA+ quality, Louis Vuitton monogram. ", 5), 1024)

// cutRunes cuts s to at most n bytes at a rune boundary.
func cutRunes(s string, n int) string {
	for n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:min(n, len(s))]
}

func BenchmarkTokens(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii-title", benchASCIITitle},
		{"mixed-title", benchMixedTitle},
		{"description-1KB", benchDescription},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var toks []Token
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				toks = AppendTokens(toks[:0], bc.s)
			}
		})
	}
}

func BenchmarkKey(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"brand", "Louis Vuitton"},
		{"obfuscated", "L0uis Vu1tt0n"},
		{"cjk", "路易威登"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Key(bc.s)
			}
		})
	}
}

func BenchmarkFold(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"ascii-title", benchASCIITitle},
		{"description-1KB", benchDescription},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = Fold(bc.s)
			}
		})
	}
}
