package normalize

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// obfBits is the union of the obfuscation bits of the tokens of s.
func obfBits(s string) Obfuscation {
	var o Obfuscation
	for _, t := range Tokens(s) {
		o |= t.Obf
	}
	return o
}

// TestObfuscations checks real-world obfuscations of real brands: each must
// have the Key of the plain spelling, and carry exactly the listed bits.
func TestObfuscations(t *testing.T) {
	tests := []struct {
		name      string
		obf       string
		canonical string
		want      Obfuscation
	}{
		// Latin leetspeak.
		{"nike leet 1", "N1ke", "Nike", Leet},
		{"nike leet caps", "N1KE", "NIKE", Leet},
		{"nike leet 3", "NIK3", "Nike", Leet},
		{"versace many digits", "V3RS4C3", "Versace", Leet},
		{"moncler double zero", "M00NCLER", "Moon Cler", Leet},
		{"gucci trailing 1", "Gucc1", "Gucci", Leet},
		{"adidas 1", "Ad1das", "Adidas", Leet},
		{"adidas at", "@didas", "Adidas", Leet},
		{"adidas dollar", "Ad1da$", "Adidas", Leet},
		{"adidas 4", "4did4s", "adidas", Leet},
		{"supreme 5", "5upreme", "Supreme", Leet},
		{"supreme dollar", "$upreme", "Supreme", Leet},
		{"supreme 3", "SUPR3M3", "Supreme", Leet},
		{"prada 4", "Pr4d4", "Prada", Leet},
		{"prada at", "Pr@da", "Prada", Leet},
		{"chanel trailing 1", "Chane1", "Chanel", Leet},
		{"chanel pipe", "Chane|", "Chanel", Leet},
		{"rolex 1", "Ro1ex", "Rolex", Leet},
		{"rolex 0", "R0LEX", "Rolex", Leet},
		{"louis vuitton", "L0uis Vu1tton", "Louis Vuitton", Leet},
		{"hermes 3", "H3rm3s", "Hermès", Leet},
		{"dior 1", "D1or", "Dior", Leet},
		{"balenciaga 1", "Ba1enciaga", "Balenciaga", Leet},
		{"versace 3", "V3rsace", "Versace", Leet},
		{"fendi 1", "Fend1", "Fendi", Leet},
		{"moncler 0", "M0ncler", "Moncler", Leet},
		{"cartier 1", "Cart1er", "Cartier", Leet},
		{"apple 1", "App1e", "Apple", Leet},
		{"nike bang", "N!ke", "Nike", Leet},
		{"balenciaga 4", "B4lenci4g4", "Balenciaga", Leet},
		// Case look-alikes within Latin: l for I, I for l.
		{"nike l for I", "NlKE", "Nike", Confusable},
		{"apple I for l", "appIe", "apple", Confusable},
		{"gucci l for I", "GUCCl", "Gucci", Confusable},
		// Cyrillic homoglyphs.
		{"nike cyrillic i", "Nіke", "Nike", Confusable},
		{"adidas cyrillic a", "Аdidas", "Adidas", Confusable},
		{"chanel cyrillic es", "Сhanel", "Chanel", Confusable},
		{"rolex cyrillic o ha", "Rоlех", "Rolex", Confusable},
		{"gucci cyrillic es", "Gucсi", "Gucci", Confusable},
		{"prada cyrillic a", "Prаdа", "Prada", Confusable},
		{"supreme cyrillic dze", "Ѕupreme", "Supreme", Confusable},
		{"apple all cyrillic", "АРРLЕ", "Apple", Confusable},
		{"dior cyrillic i o", "Dіоr", "Dior", Confusable},
		{"cartier cyrillic caps", "САRТIЕR", "Cartier", Confusable},
		// Greek homoglyphs.
		{"nike greek caps", "ΝΙΚΕ", "Nike", Confusable},
		{"vuitton greek omicron", "Louis Vuittοn", "Louis Vuitton", Confusable},
		{"adidas greek alpha", "ΑDIDΑS", "Adidas", Confusable},
		{"hermes greek", "ΗΕRΜΕS", "Hermes", Confusable},
		{"vuitton greek nu", "Louis νuitton", "Louis Vuitton", Confusable},
		{"chanel greek", "CΗΑΝΕL", "Chanel", Confusable},
		// Fullwidth, math alphanumerics, enclosed and small letters.
		{"nike fullwidth", "ＮＩＫＥ", "Nike", Fullwidth},
		{"gucci fullwidth", "ＧＵＣＣＩ", "Gucci", Fullwidth},
		{"chanel fullwidth lower", "ｃｈａｎｅｌ", "Chanel", Fullwidth},
		{"nike math bold", "𝐍𝐈𝐊𝐄", "Nike", Fullwidth},
		{"gucci math script", "𝓖𝓾𝓬𝓬𝓲", "Gucci", Fullwidth},
		{"dior fraktur", "𝕯𝖎𝖔𝖗", "Dior", Fullwidth},
		{"prada monospace", "𝙿𝚛𝚊𝚍𝚊", "Prada", Fullwidth},
		{"apple sans bold", "𝗔𝗽𝗽𝗹𝗲", "Apple", Fullwidth},
		{"fendi double struck", "𝔽𝕖𝕟𝕕𝕚", "Fendi", Fullwidth},
		{"nike circled", "ⓝⓘⓚⓔ", "Nike", Fullwidth},
		{"nike negative squared", "🅽🅸🅺🅴", "Nike", Fullwidth},
		{"gucci squared", "🄶🅄🄲🄲🄸", "Gucci", Fullwidth},
		{"chanel circled", "Ⓒⓗⓐⓝⓔⓛ", "Chanel", Fullwidth},
		{"nike superscript", "ᴺᴵᴷᴱ", "Nike", Fullwidth},
		{"gucci small caps", "ɢᴜᴄᴄɪ", "Gucci", Confusable},
		{"dior small caps", "ᴅɪᴏʀ", "Dior", Confusable},
		// Diacritics.
		{"nike accents", "Nïké", "Nike", Diacritic},
		{"gucci accents", "Gùccì", "Gucci", Diacritic},
		{"hermes stroke", "Ħërmës", "Hermès", Diacritic},
		{"rolex accents", "Rôlèx", "Rolex", Diacritic},
		{"adidas accents", "Ádidâs", "Adidas", Diacritic},
		{"moncler accents", "Mönclër", "Moncler", Diacritic},
		{"nike combining underline", "N̲i̲k̲e̲", "Nike", Diacritic},
		{"nike dotless i", "Nıke", "Nike", Diacritic},
		// Invisible characters.
		{"nike zwsp", "N\u200bike", "Nike", Invisible},
		{"gucci soft hyphen", "Gu\u00adcci", "Gucci", Invisible},
		{"chanel zwj", "Cha\u200dnel", "Chanel", Invisible},
		{"rolex word joiner", "Ro\u2060lex", "Rolex", Invisible},
		{"prada bom", "Pra\ufeffda", "Prada", Invisible},
		{"dior bidi override", "Di\u202eor\u202c", "Dior", Invisible},
		{"versace zwnj twice", "Ver\u200c\u200csace", "Versace", Invisible},
		// Split letters.
		{"gucci spaced", "G U C C I", "Gucci", Split},
		{"nike dotted", "N.I.K.E", "Nike", Split},
		{"adidas hyphens", "a-d-i-d-a-s", "Adidas", Split},
		{"gucci stars", "G*U*C*C*I", "Gucci", Split},
		{"chanel underscores", "C_H_A_N_E_L", "Chanel", Split},
		{"prada middle dots", "P·R·A·D·A", "Prada", Split},
		{"dior slashes", "D/I/O/R", "Dior", Split},
		{"rolex pipes", "R|O|L|E|X", "Rolex", Split},
		{"fendi wide spaces", "F  E  N  D  I", "Fendi", Split},
		{"louis vuitton spaced", "L O U I S V U I T T O N", "Louis Vuitton", Split},
		{"nike split leet", "N.1.K.E", "Nike", Split | Leet},
		// Squashed and re-spaced forms.
		{"louis vuitton squashed", "louisvuitton", "Louis Vuitton", 0},
		{"louis vuitton caps", "LOUISVUITTON", "Louis Vuitton", 0},
		{"louis vuitton hyphen", "Louis-Vuitton", "Louis Vuitton", 0},
		{"ysl squashed", "YvesSaintLaurent", "Yves Saint Laurent", 0},
		{"off-white", "OFF WHITE", "Off-White", 0},
		{"dolce gabbana", "Dolce&Gabbana", "Dolce & Gabbana", 0},
		{"levis apostrophe", "LEVI’S", "Levi's", 0},
		// Combinations.
		{"nike fullwidth leet", "Ｎ1ＫＥ", "Nike", Fullwidth | Leet},
		{"chanel at cyrillic", "Ch@nеl", "Chanel", Leet | Confusable},
		{"gucci small cap and cyrillic", "ɢuccі", "Gucci", Confusable},
		{"adidas invisible leet", "Ad\u200b1das", "Adidas", Invisible | Leet},
		// CJK: a mark's transliteration against the text found in a listing.
		{"nike chinese", "耐 克", "耐克", 0},
		{"gucci chinese invisible", "古\u200b驰", "古驰", 0},
		{"adidas chinese", "阿迪达斯", "阿迪达斯", 0},
		{"chanel chinese", "香奈儿", "香奈儿", 0},
		{"rolex chinese", "劳力士", "劳力士", 0},
		{"lv chinese", "路易 威登", "路易威登", 0},
		{"nike katakana halfwidth", "ﾅｲｷ", "ナイキ", Fullwidth},
		{"gucci katakana halfwidth voiced", "ｸﾞｯﾁ", "グッチ", Fullwidth},
		{"nike hangul", "나이키", "나이키", 0},
		{"nike hangul jamo", "\u1102\u1161\u110b\u1175\u110f\u1175", "나이키", 0},
		{"nike chinese with latin", "耐克NIKE", "耐克 Nike", 0},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d cases", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := Key(tt.obf), Key(tt.canonical); got != want {
				t.Errorf("Key(%q) = %q, want %q (Key of %q)", tt.obf, got, want, tt.canonical)
			}
			if got := obfBits(tt.obf); got != tt.want {
				t.Errorf("bits of %q = %q, want %q", tt.obf, got, tt.want)
			}
		})
	}
}

// TestDistinct checks that different words stay different: normalization
// must not make look-alike brands or ordinary words collide.
func TestDistinct(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{"nikel is not nike", "Nikel", "Nike"},
		{"diorama is not dior", "Diorama", "Dior"},
		{"channel is not chanel", "Channel", "Chanel"},
		{"louis philippe is not louis vuitton", "Louis Philippe", "Louis Vuitton"},
		{"guccio is not gucci", "Guccio", "Gucci"},
		{"polo is not pole", "Polo", "Pole"},
		{"adidos is not adidas", "Adidos", "Adidas"},
		{"prado is not prada", "Prado", "Prada"},
		{"model number keeps digits", "iPhone15", "iPhoneis"},
		{"year is not a word", "2024", "zoza"},
		{"hermes is not herrnes", "Hermes", "Herrnes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ka, kb := Key(tt.a), Key(tt.b); ka == kb {
				t.Errorf("Key(%q) == Key(%q) == %q", tt.a, tt.b, ka)
			}
		})
	}
}

// TestKeyStable checks that plain words keep their spelling: Text is the
// lowercase word, whatever the skeleton would do with it.
func TestKeyStable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Louis Vuitton", "louisvuitton"},
		{"耐克", "耐克"},
		{"2024", "2024"},
		{"1", "1"},
		{"Nike 2024", "nike2024"},
		{"Air Jordan 1", "airjordan1"},
		{"Hermès", "hermes"},
		{"modern corner", "moderncorner"},
		{"Moncler", "moncler"},
		{"RTX4090", "rtx4090"},
		{"128GB", "128gb"},
		{"AirMax90", "airmax90"},
		{"iPhone15", "iphone15"},
		{"Straße", "strasse"},
		{"КОПИЯ", "koпия"}, // skeleton: к о look like k o
		{"", ""},
		{"   ", ""},
		{"¡!?", ""},
		{"Nike™ ®", "nike"},
		{"$100", "100"},
		{"seller@gucci-outlet.com", "sellerguccioutletcom"},
		{"Women's", "womens"},
		{"L'Oréal", "loreal"},
		{"Nike!", "nike"},
		{"Nike|Gucci", "nikegucci"},
		{"a b", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Key(tt.in); got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Token
	}{
		{"plain", "Nike air", []Token{
			{Text: "nike", Orig: "Nike", Start: 0, End: 4},
			{Text: "air", Orig: "air", Start: 5, End: 8},
		}},
		{"split run inside a sentence", "buy G U C C I bag", []Token{
			{Text: "buy", Orig: "buy", Start: 0, End: 3},
			{Text: "gucci", Orig: "G U C C I", Start: 4, End: 13, Obf: Split},
			{Text: "bag", Orig: "bag", Start: 14, End: 17},
		}},
		{"article before a split run", "a N I K E hoodie", []Token{
			{Text: "a", Orig: "a", Start: 0, End: 1},
			{Text: "nike", Orig: "N I K E", Start: 2, End: 9, Obf: Split},
			{Text: "hoodie", Orig: "hoodie", Start: 10, End: 16},
		}},
		{"two single letters stay apart", "a b", []Token{
			{Text: "a", Orig: "a", Start: 0, End: 1},
			{Text: "b", Orig: "b", Start: 2, End: 3},
		}},
		{"cjk next to latin", "耐克air", []Token{
			{Text: "耐", Orig: "耐", Start: 0, End: 3, CJK: true},
			{Text: "克", Orig: "克", Start: 3, End: 6, CJK: true},
			{Text: "air", Orig: "air", Start: 6, End: 9},
		}},
		{"cjk is never split-merged", "耐 克 耐", []Token{
			{Text: "耐", Orig: "耐", Start: 0, End: 3, CJK: true},
			{Text: "克", Orig: "克", Start: 4, End: 7, CJK: true},
			{Text: "耐", Orig: "耐", Start: 8, End: 11, CJK: true},
		}},
		{"invisible inside joins", "N\u200bike", []Token{
			{Text: "nike", Orig: "N\u200bike", Start: 0, End: 7, Obf: Invisible},
		}},
		// Outside the token's span, but evidence all the same: a name
		// hidden from filters by an invisible character at its edge.
		{"invisible at the edges is not part of the token", "\u200bNike\u200b", []Token{
			{Text: "nike", Orig: "Nike", Start: 3, End: 7, Obf: Invisible},
		}},
		{"invisible next to a space or a hyphen", "Louis\u2060 Vuitton\u00ad-bag", []Token{
			{Text: "louis", Orig: "Louis", Start: 0, End: 5, Obf: Invisible},
			{Text: "vuitton", Orig: "Vuitton", Start: 9, End: 16, Obf: Invisible},
			{Text: "bag", Orig: "bag", Start: 19, End: 22},
		}},
		{"byte-order mark at the start of the text is not evidence", "\ufeffNike", []Token{
			{Text: "nike", Orig: "Nike", Start: 3, End: 7},
		}},
		{"bidi marks beside a Latin word are not evidence", "\u200fNike\u200e", []Token{
			{Text: "nike", Orig: "Nike", Start: 3, End: 7},
		}},
		{"split letters with spaced separators, leet and a lone symbol", "V . 3 . L . T . @ . R . 0", []Token{
			{Text: "veltaro", Orig: "V . 3 . L . T . @ . R . 0", Start: 0, End: 25, Obf: Leet | Split},
		}},
		{"lone symbol opening a split run", "$*U*M*M*I*7 tee", []Token{
			{Text: "summit", Orig: "$*U*M*M*I*7", Start: 0, End: 11, Obf: Leet | Split},
			{Text: "tee", Orig: "tee", Start: 12, End: 15},
		}},
		{"split leet runs longer than inside a word", "0.5.T.R.3.L.L.3", []Token{
			{Text: "ostrelle", Orig: "0.5.T.R.3.L.L.3", Start: 0, End: 15, Obf: Leet | Split},
		}},
		{"split homoglyphs and leet", "К.4.L.V.О.R.А", []Token{
			{Text: "kalvora", Orig: "К.4.L.V.О.R.А", Start: 0, End: 16, Obf: Leet | Confusable | Split},
		}},
		{"leet on both sides of an apostrophe", "M4rl0'5 M4RL0’5", []Token{
			{Text: "marlos", Orig: "M4rl0'5", Start: 0, End: 7, Obf: Leet},
			{Text: "marlos", Orig: "M4RL0’5", Start: 8, End: 17, Obf: Leet},
		}},
		{"leet symbol after an apostrophe", "Marlo'$ D'@rvelle", []Token{
			{Text: "marlos", Orig: "Marlo'$", Start: 0, End: 7, Obf: Leet},
			{Text: "darvelle", Orig: "D'@rvelle", Start: 8, End: 17, Obf: Leet},
		}},
		{"decade with an apostrophe stays a number", "90's 1980's", []Token{
			{Text: "90s", Orig: "90's", Start: 0, End: 4},
			{Text: "1980s", Orig: "1980's", Start: 5, End: 11},
		}},
		{"a symbol among words is no split letter", "meet @ 17h, $ 20", []Token{
			{Text: "meet", Orig: "meet", Start: 0, End: 4},
			{Text: "17h", Orig: "17h", Start: 7, End: 10},
			{Text: "20", Orig: "20", Start: 14, End: 16},
		}},
		{"leet with alternative reading", "App1e", []Token{
			{Text: "apple", Orig: "App1e", Start: 0, End: 5, Obf: Leet, Alt: "appie"},
		}},
		{"digits stay digits", "2024 1", []Token{
			{Text: "2024", Orig: "2024", Start: 0, End: 4},
			{Text: "1", Orig: "1", Start: 5, End: 6},
		}},
		{"apostrophe is dropped", "Levi's jeans", []Token{
			{Text: "levis", Orig: "Levi's", Start: 0, End: 6},
			{Text: "jeans", Orig: "jeans", Start: 7, End: 12},
		}},
		{"exclamation ends a word", "Nike!", []Token{
			{Text: "nike", Orig: "Nike", Start: 0, End: 4},
		}},
		{"e-mail at is a separator", "me@gucci.com", []Token{
			{Text: "me", Orig: "me", Start: 0, End: 2},
			{Text: "gucci", Orig: "gucci", Start: 3, End: 8},
			{Text: "com", Orig: "com", Start: 9, End: 12},
		}},
		{"fullwidth", "ＮＩＫＥ", []Token{
			{Text: "nike", Orig: "ＮＩＫＥ", Start: 0, End: 12, Obf: Fullwidth},
		}},
		{"pure cyrillic word is not a confusable", "копия", []Token{
			{Text: "koпия", Orig: "копия", Start: 0, End: 10},
		}},
		{"invalid utf-8 separates", "Ni\xffke", []Token{
			{Text: "ni", Orig: "Ni", Start: 0, End: 2},
			{Text: "ke", Orig: "ke", Start: 3, End: 5},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Tokens(tt.in)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Tokens(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestAlt checks that the other reading of an i/l stroke is offered when
// the letter context guesses wrong.
func TestAlt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"N1ke", "nike"},
		{"Ca1vin", "calvin"},
		{"K1ein", "klein"},
		{"Bv1gari", "bvlgari"},
		{"Fi1a", "fila"},
		{"Ph1lipp", "philipp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			toks := Tokens(tt.in)
			if len(toks) != 1 {
				t.Fatalf("Tokens(%q) = %+v, want one token", tt.in, toks)
			}
			if tk := toks[0]; tk.Text != tt.want && tk.Alt != tt.want {
				t.Errorf("Tokens(%q): Text %q, Alt %q, want one of them %q", tt.in, tk.Text, tk.Alt, tt.want)
			}
			if toks[0].Alt == "" {
				t.Errorf("Tokens(%q): no Alt", tt.in)
			}
		})
	}
	if alt := Tokens("Nike")[0].Alt; alt != "" {
		t.Errorf("plain word has Alt %q", alt)
	}
}

func TestAppendTokensReuses(t *testing.T) {
	buf := make([]Token, 0, 16)
	a := AppendTokens(buf, "Nike Air")
	b := AppendTokens(a, "G U C C I")
	if len(b) != 3 || b[0].Text != "nike" || b[2].Text != "gucci" || b[2].Start != 0 {
		t.Errorf("AppendTokens = %+v", b)
	}
	if &b[0] != &buf[:1][0] {
		t.Error("AppendTokens did not append into dst's array")
	}
}

func TestLongInput(t *testing.T) {
	s := strings.Repeat("N1ke Ａir 耐克 G.U.C.C.I \u200b ", 2000)
	toks := Tokens(s)
	if len(toks) != 2000*5 {
		t.Fatalf("got %d tokens, want %d", len(toks), 2000*5)
	}
	last := toks[len(toks)-1]
	if last.Text != "gucci" || s[last.Start:last.End] != "G.U.C.C.I" {
		t.Errorf("last token %+v", last)
	}
}

func TestObfuscationString(t *testing.T) {
	tests := []struct {
		o             Obfuscation
		str, describe string
	}{
		{0, "", ""},
		{Leet, "leet", "leetspeak"},
		{Confusable | Leet, "leet+confusable", "leetspeak, look-alike letters"},
		{Split | Fullwidth | Invisible | Diacritic, "fullwidth+diacritic+invisible+split", "fullwidth letters, accents, hidden characters, split letters"},
	}
	for _, tt := range tests {
		if got := tt.o.String(); got != tt.str {
			t.Errorf("%d.String() = %q, want %q", tt.o, got, tt.str)
		}
		if got := tt.o.Describe(); got != tt.describe {
			t.Errorf("%d.Describe() = %q, want %q", tt.o, got, tt.describe)
		}
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"replica", "replica"},
		{"Réplica", "replica"},
		{"1:1", "1:1"},
		{"AAA+", "aaa+"},
		{"ＡＡＡ＋ １：１", "aaa+ 1:1"},
		{"КОПИЯ", "копия"},
		{"高仿", "高仿"},
		{"复刻\u200b版", "复刻版"},
		{"  mirror \t\n quality  ", "mirror quality"},
		{"Inspired\u00a0by", "inspired by"},
		{"N1KE", "n1ke"},
		{"Straße", "strasse"},
		{"ｶﾞﾁ", "ガチ"},
		{"ΚΑΛΟΣ", "καλοσ"},
		{"", ""},
		{"\x00\x01", ""},
		{"bad\xffutf8", "bad\ufffdutf8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Fold(tt.in); got != tt.want {
				t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// checkTokens verifies the invariants every tokenization must keep.
func checkTokens(t *testing.T, s string, toks []Token) {
	t.Helper()
	prev := 0
	for i, tk := range toks {
		if tk.Start < prev || tk.End <= tk.Start || tk.End > len(s) {
			t.Fatalf("token %d %+v: span out of order or bounds (prev end %d, len %d)", i, tk, prev, len(s))
		}
		prev = tk.End
		if tk.Orig != s[tk.Start:tk.End] {
			t.Fatalf("token %d: Orig %q != input span %q", i, tk.Orig, s[tk.Start:tk.End])
		}
		if tk.Text == "" || !utf8.ValidString(tk.Text) || !utf8.ValidString(tk.Alt) {
			t.Fatalf("token %d %+v: empty or invalid Text/Alt", i, tk)
		}
		for j := 0; j < len(tk.Text); j++ {
			if tk.Text[j] < ' ' {
				t.Fatalf("token %d: control byte in Text %q", i, tk.Text)
			}
		}
		if tk.Alt != "" && len(tk.Alt) != len(tk.Text) {
			t.Fatalf("token %d: Alt %q and Text %q differ in length", i, tk.Alt, tk.Text)
		}
		if r, _ := utf8.DecodeRuneInString(tk.Orig); tk.CJK && (tk.Obf&^Fullwidth != 0 || !isCJK(r)) {
			t.Fatalf("token %d %+v: CJK token must start with a CJK character and have no obfuscation bit but Fullwidth", i, tk)
		}
	}
}

func FuzzTokens(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokens(s)
		checkTokens(t, s, toks)
		again := AppendTokens(make([]Token, 1, 4), s)[1:]
		if !reflect.DeepEqual(again, toks) && !(len(again) == 0 && len(toks) == 0) {
			t.Fatalf("AppendTokens differs from Tokens")
		}
	})
}

// plainKey reports a key without digits: its tokens cannot change when it
// is tokenized again, because leetspeak needs digits or symbols, split
// letters need separators and the per-character table is a fixed point.
func plainKey(k string) bool {
	return !strings.ContainsAny(k, "0123456789")
}

func FuzzKey(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if !utf8.ValidString(k) {
			t.Fatalf("Key(%q) = %q: invalid UTF-8", s, k)
		}
		var b strings.Builder
		for _, tk := range Tokens(s) {
			b.WriteString(tk.Text)
		}
		if b.String() != k {
			t.Fatalf("Key(%q) = %q, tokens give %q", s, k, b.String())
		}
		if plainKey(k) {
			if k2 := Key(k); k2 != k {
				t.Fatalf("Key(Key(%q)) = %q, Key = %q", s, k2, k)
			}
		}
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Fold(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Fold(%q) = %q: invalid UTF-8", s, got)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Fold(%q) = %q: spaces not collapsed", s, got)
		}
		if again := Fold(got); again != got {
			t.Fatalf("Fold(Fold(%q)) = %q, Fold = %q", s, again, got)
		}
	})
}

var fuzzSeeds = []string{
	"", "Nike Air Max 90", "N1KE G00CCI Ad1da$ @didas 5upreme", "G U C C I", "N.I.K.E", "a-d-i-d-a-s",
	"ＮＩＫＥ 𝐍𝐈𝐊𝐄 ⓝⓘⓚⓔ 🅽🅸🅺🅴", "Nіke ΝΙΚΕ ɢᴜᴄᴄɪ", "N\u200bike Gu\u00adcci", "耐克air ナイキ 나이키 ｸﾞｯﾁ",
	"Levi's L’Oréal", "NlKE appIe", "Chane| N|ke Nike|Gucci", "me@gucci.com $100", "Ni\xffke", "\u0301\u0301",
	"高仿 1:1 AAA+ réplica КОПИЯ", "ǅ ǈ ϒϒl", "ﷺ ½ ™ ℠",
}

// TestChunks checks that cutting a long input into chunks (done for inputs
// over 64 MiB) gives the same tokens as tokenizing it at once.
func TestChunks(t *testing.T) {
	s := strings.Repeat("N1ke Ａir 耐克 Gucc1 Nïké\u200bx ", 50)
	want := Tokens(s)
	for _, limit := range []int{24, 33, 100} { // twice the longest word or more
		got := appendTokens(nil, s, limit)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("limit %d: chunked tokens differ", limit)
		}
	}
	// A word longer than the limit is cut at a rune boundary, never
	// inside a character.
	long := strings.Repeat("ü", 40)
	toks := appendTokens(nil, long, 9)
	checkTokens(t, long, toks)
	if len(toks) < 2 {
		t.Errorf("got %d tokens, want the word cut in pieces", len(toks))
	}
}

func TestSplitCaseLookalike(t *testing.T) {
	if k := Key("N.l.K.E"); k != "nike" {
		t.Errorf(`Key("N.l.K.E") = %q, want "nike"`, k)
	}
}

// TestEveryRune runs the fuzz properties over every character of the
// first three planes, alone and between letters, where random fuzzing is
// unlikely to reach.
func TestEveryRune(t *testing.T) {
	var bad int
	for r := rune(0); r < 0x30000 && bad < 10; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		c := string(r)
		for _, s := range []string{c, "N" + c + "ke", "가" + c, c + c + " " + c, "A " + c + " B"} {
			toks := Tokens(s)
			checkTokens(t, s, toks)
			k := Key(s)
			if plainKey(k) {
				if k2 := Key(k); k2 != k {
					t.Errorf("%U: Key(Key(%q)) = %q, Key = %q", r, s, k2, k)
					bad++
				}
			}
			f := Fold(s)
			if f2 := Fold(f); f2 != f {
				t.Errorf("%U: Fold(Fold(%q)) = %q, Fold = %q", r, s, f2, f)
				bad++
			}
		}
	}
}
