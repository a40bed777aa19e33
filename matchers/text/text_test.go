package text

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
)

func mark(id, name string, variants []string, distinct ...string) *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{
		SchemaVersion: 1, MarkID: id, HolderID: "h-" + id, Name: name,
		Variants: variants, DistinctFrom: distinct, Status: domain.MarkActive,
	}}
}

func listing(title, brand, desc string) *matchers.Listing {
	return matchers.NewListing(&domain.Listing{
		SchemaVersion: 1, ListingID: "l1", SellerID: "s1", Title: title, Brand: brand, Description: desc,
	})
}

func testMarks() []*matchers.Mark {
	return []*matchers.Mark{
		mark("nike", "Nike", []string{"耐克", "Найк", "ナイキ"}),
		mark("gucci", "Gucci", []string{"古驰"}),
		mark("lv", "Louis Vuitton", []string{"LV", "路易威登"}, "Louis Philippe"),
		mark("dior", "Dior", nil),
		mark("adidas", "Adidas", []string{"阿迪达斯"}),
		mark("polo", "Polo Ralph Lauren", []string{"Polo", "Ralph Lauren"}, "U.S. Polo Assn.", "US Polo Association"),
		mark("veltaro", "Veltaro", nil),
		mark("hermes", "Hermès", nil),
		mark("chanel", "Chanel", []string{"香奈儿"}),
		mark("ugg", "UGG", nil),
		mark("levis", "Levi's", nil),
		{Mark: &domain.Mark{SchemaVersion: 1, MarkID: "gone", HolderID: "h", Name: "Zorblax", Status: domain.MarkSuspended}},
	}
}

func TestMatch(t *testing.T) {
	m, err := New(testMarks(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cases := []struct {
		name               string
		title, brand, desc string
		want               string // mark id, "" for none
		kind, field        string
	}{
		{"exact", "Nike Air Max 90 running shoes", "", "", "nike", KindExact, "title"},
		{"leet", "N1ke air max", "", "", "nike", KindLeet, "title"},
		{"homoglyph cyrillic", "Nіkе trainers", "", "", "nike", KindHomoglyph, "title"},
		{"fullwidth", "ＮＩＫＥ hoodie", "", "", "nike", KindFullwidth, "title"},
		{"split letters", "G U C C I belt", "", "", "gucci", KindSplit, "title"},
		{"dotted", "N.I.K.E shoes", "", "", "nike", KindSplit, "title"},
		{"invisible", "Gu\u200bcci bag", "", "", "gucci", KindInvisible, "title"},
		{"multi word", "Louis Vuitton Neverfull", "", "", "lv", KindExact, "title"},
		{"squashed", "louisvuitton neverfull bag", "", "", "lv", KindSquashed, "title"},
		{"short variant", "LV monogram wallet", "", "", "lv", KindVariant, "title"},
		{"cjk transliteration", "耐克运动鞋 男款", "", "", "nike", KindTransliteration, "title"},
		{"cjk next to latin", "古驰gg腰带", "", "", "gucci", KindTransliteration, "title"},
		{"cyrillic transliteration", "Кроссовки Найк", "", "", "nike", KindTransliteration, "title"},
		{"katakana", "ナイキ スニーカー", "", "", "nike", KindTransliteration, "title"},
		{"fuzzy one edit", "Guccci marmont bag", "", "", "gucci", KindFuzzy, "title"},
		{"fuzzy multiword", "Louis Vuiton speedy", "", "", "lv", KindFuzzy, "title"},
		{"spaced", "Vel taro leather bag", "", "", "veltaro", KindSpaced, "title"},
		{"possessive", "Veltaro's new bag", "", "", "veltaro", KindExact, "title"},
		{"brand field", "leather handbag", "Gucci", "", "gucci", KindExact, "brand"},
		{"description only", "leather handbag", "", "Looks just like the Veltaro classic.", "veltaro", KindExact, "description"},
		{"accent in registered name", "Hermès Birkin 30", "", "", "hermes", KindExact, "title"},
		{"accent dropped", "Hermes Birkin 30", "", "", "hermes", KindExact, "title"},
		{"accent added", "Nïkë running", "", "", "nike", KindDiacritics, "title"},
		{"no boundary crossing", "Nikel plated hooks", "", "", "", "", ""},
		{"not inside a word", "Diorama building kit", "", "", "", "", ""},
		{"short names are not fuzzy", "Nuke the fridge", "", "", "", "", ""},
		{"short keys are never fuzzy", "Nikr shoes", "", "", "", "", ""},
		{"dropped letter", "Guci belt", "", "", "gucci", KindFuzzy, "title"},
		{"look-alike brand", "Louis Philippe formal shirt", "", "", "", "", ""},
		{"look-alike brand 2", "U.S. Polo Assn. shirt", "", "", "", "", ""},
		{"inactive mark", "Zorblax gadget", "", "", "", "", ""},
		{"nothing", "Plain white t-shirt cotton", "", "", "", "", ""},
		{"digits are not leet names", "Size 11 shoes 2024", "", "", "", "", ""},
		// Harder evasions (issue 11).
		{"masked star", "VELT*RO tote", "", "", "veltaro", KindMasked, "title"},
		{"masked hash", "Gu#ci belt", "", "", "gucci", KindMasked, "title"},
		{"masked with leet", "Ch@n_l flap", "", "", "chanel", KindMasked, "title"},
		{"masked next to CJK", "正品VEL.ARO斜挎包", "", "", "veltaro", KindMasked, "title"},
		{"split leet and a lone symbol", "V . 3 . L . T . @ . R . 0 bag", "", "", "veltaro", KindSplit, "title"},
		{"leet and look-alikes", "VЕL7АR0 bag", "", "", "veltaro", KindLeet, "title"},
		{"invisible at the edge", "\u200bGucci belt", "", "", "gucci", KindInvisible, "title"},
		{"invisible beside a space", "Louis\u2060 Vuitton bag", "", "", "lv", KindInvisible, "title"},
		{"short transposition", "Doir saddle bag", "", "", "dior", KindShortTypo, "title"},
		{"short doubled", "UGGG boots", "", "", "ugg", KindShortTypo, "title"},
		{"short leet", "UG6 boots", "", "", "ugg", KindShortLeet, "title"},
		{"short leet digit one", "U6G boots", "", "", "ugg", KindShortLeet, "title"},
		{"apostrophe leet", "L3vi'5 jeans", "", "", "levis", KindLeet, "title"},
		{"apostrophe symbol", "LEVI'$ jacket", "", "", "levis", KindLeet, "title"},
		{"doubled inner letter of a three-letter name", "Uggg", "", "", "ugg", KindShortTypo, "title"},
		{"mask in a file name", "file_name.txt", "", "", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := listing(tc.title, tc.brand, tc.desc)
			ids, err := m.Candidates(context.Background(), l)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(ids) != 0 {
					t.Fatalf("candidates %v, want none", ids)
				}
				return
			}
			if len(ids) == 0 || ids[0] != tc.want {
				t.Fatalf("candidates %v, want %s first", ids, tc.want)
			}
			sigs, err := m.Match(context.Background(), l, []*matchers.Mark{m.marks[m.byID[tc.want]]})
			if err != nil {
				t.Fatal(err)
			}
			s := sigs[0]
			if s.Score <= 0 || len(s.Evidence) == 0 {
				t.Fatalf("signal %+v", s)
			}
			e := s.Evidence[0]
			if e.Kind != tc.kind || e.Field != tc.field {
				t.Errorf("evidence kind %s field %s (%s), want %s in %s", e.Kind, e.Field, e.Detail, tc.kind, tc.field)
			}
			if !strings.Contains(e.Detail, e.Match) {
				t.Errorf("detail %q does not quote the match %q", e.Detail, e.Match)
			}
		})
	}
}

func TestDetailReadsWell(t *testing.T) {
	m, err := New(testMarks(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sigs, err := m.Match(context.Background(), listing("N1ke air max", "", ""), []*matchers.Mark{testMarks()[0]})
	if err != nil {
		t.Fatal(err)
	}
	got := sigs[0].Evidence[0].Detail
	if want := "title contains 'N1ke' (leetspeak for Nike)"; got != want {
		t.Errorf("detail %q, want %q", got, want)
	}
}

func TestDuplicateMarkID(t *testing.T) {
	if _, err := New([]*matchers.Mark{mark("a", "Alpha", nil), mark("a", "Beta", nil)}, Options{}); err == nil {
		t.Fatal("duplicate mark ids accepted")
	}
}

func TestConformance(t *testing.T) {
	marks := testMarks()
	m, err := New(marks, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	matchertest.Run(t, m, matchertest.Fixture{
		Marks: marks,
		Hit:   listing("N1KE air max replica", "", "copy of Gucci"),
		Miss:  listing("Plain white t-shirt", "", "cotton"),
	})
}

// syllables make pronounceable invented brand names for benchmarks.
var syllables = strings.Fields("ka ve lo ta ri no mi sa du ze pa ro qui len dor fa bri co nel ts ur am ex ol vi gra sto")

func inventedMarks(n int, rng *rand.Rand) []*matchers.Mark {
	out := make([]*matchers.Mark, 0, n)
	seen := map[string]bool{}
	for len(out) < n {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syllables[rng.IntN(len(syllables))])
		}
		name := b.String()
		if rng.IntN(4) == 0 {
			name += " " + syllables[rng.IntN(len(syllables))] + syllables[rng.IntN(len(syllables))]
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, mark(fmt.Sprintf("m%06d", len(out)), strings.ToUpper(name[:1])+name[1:], nil))
	}
	return out
}

var benchWords = strings.Fields("new women men leather bag shoes running size black white original sale free shipping gift box authentic classic vintage wallet watch steel strap cotton hoodie limited edition premium quality fast delivery")

func benchListings(marks []*matchers.Mark, n int, rng *rand.Rand) []*matchers.Listing {
	out := make([]*matchers.Listing, n)
	for i := range out {
		words := make([]string, 12)
		for j := range words {
			words[j] = benchWords[rng.IntN(len(benchWords))]
		}
		if i%5 == 0 { // one in five names a brand, some misspelled
			name := marks[rng.IntN(len(marks))].Name
			if i%10 == 0 && len(name) > 6 {
				name = name[:3] + name[4:]
			}
			words[rng.IntN(len(words))] = name
		}
		desc := strings.Join(words, " ") + ". " + strings.Repeat("Great item in perfect condition, ships from our store. ", 4)
		out[i] = listing(strings.Join(words, " "), "", desc)
	}
	return out
}

func benchmarkMatch(b *testing.B, nMarks int) {
	rng := rand.New(rand.NewPCG(1, 2))
	marks := inventedMarks(nMarks, rng)
	m, err := New(marks, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ls := benchListings(marks, 4096, rng)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		l := ls[i%len(ls)]
		if _, _, err := m.MatchCandidates(ctx, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch10kMarks(b *testing.B)  { benchmarkMatch(b, 10_000) }
func BenchmarkMatch100kMarks(b *testing.B) { benchmarkMatch(b, 100_000) }

func BenchmarkBuild10kMarks(b *testing.B) {
	marks := inventedMarks(10_000, rand.New(rand.NewPCG(1, 2)))
	for b.Loop() {
		m, err := New(marks, Options{})
		if err != nil {
			b.Fatal(err)
		}
		m.Close()
	}
}

func TestDictionary(t *testing.T) {
	d := english()
	if len(d.words) < 50000 || len(d.common) < 30000 {
		t.Fatalf("dictionary has %d words, %d common", len(d.words), len(d.common))
	}
	for w, common := range map[string]bool{"harbor": true, "submit": true, "montana": false, "hermes": false} {
		if _, ok := d.words[w]; !ok {
			t.Errorf("%s missing", w)
		}
		if _, ok := d.common[w]; ok != common {
			t.Errorf("%s common = %v, want %v", w, ok, common)
		}
	}
}
