package cue

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
	"github.com/markwatch/markwatch/matchers/normalize"
)

func newMatcher(t testing.TB, opts Options) *Matcher {
	t.Helper()
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// phrases returns the cue phrases named by evidence, in order.
func phrases(ev []domain.Evidence) []string {
	var out []string
	for _, e := range ev {
		p := strings.TrimPrefix(e.Detail, "cue '")
		out = append(out, p[:strings.LastIndex(p, "' (")])
	}
	return out
}

func TestFind(t *testing.T) {
	m := newMatcher(t, Options{})
	tests := []struct {
		name  string
		title string
		desc  string
		want  []string // cue phrases in evidence order; nil means none
	}{
		// English cues and their traps.
		{name: "replica", title: "Veltaro Monogram bag replica", want: []string{"replica"}},
		{name: "replicas plural", title: "best replicas of Veltaro watches", want: []string{"replica"}},
		{name: "replica of a monument fires", title: "Replica of the Eiffel tower, metal", want: []string{"replica"}},
		{name: "replica jersey is official", title: "Veltaro FC replica jersey 2024 home", want: nil},
		{name: "official replica", title: "Official replica Veltaro racing helmet", want: nil},
		{name: "not inside replicate", title: "easy to replicate the look", want: nil},
		{name: "1:1 and mirror quality", title: "Veltaro 1:1 mirror quality bag", want: []string{"1:1", "mirror quality"}},
		{name: "1:1 scale model", title: "1:1 scale model of Veltaro racing car", want: nil},
		{name: "scale 1:1", title: "Life size statue, scale 1:1", want: nil},
		{name: "1:1 not inside ratios", title: "Mixing ratio 11:1 and 1:10 for resin", want: nil},
		{name: "1:1 coaching", title: "1:1 coaching session with a stylist", want: nil},
		{name: "AAA grade", title: "Veltaro sneakers AAA", want: []string{"aaa"}},
		{name: "AAA batteries", title: "AAA batteries 24 pack", want: nil},
		{name: "AAA alkaline batteries", title: "Duracell AAA alkaline batteries", want: nil},
		{name: "two AAA", title: "Remote control, uses 2 AAA (not included)", want: nil},
		{name: "aaa not inside aaaa", title: "AAAA grade tote", want: []string{"aaaa"}},
		{name: "AAA+", title: "AAA+ Veltaro handbag", want: []string{"aaa+"}},
		{name: "mirror for bathroom", title: "Round mirror for bathroom with LED light", want: nil},
		{name: "bathroom mirror", title: "Bathroom mirror, round, 60 cm", want: nil},
		{name: "mirror quality finish", title: "Steel tray with mirror quality finish", want: nil},
		{name: "photo copy paper", title: "Photo copy paper A4, 500 sheets", want: nil},
		{name: "copy paper", title: "Copy paper for printers", want: nil},
		{name: "super copy not also copy", title: "super copy Veltaro watch", want: []string{"super copy"}},
		{name: "dupe", title: "Veltaro dupe perfume 100ml", want: []string{"dupe"}},
		{name: "duped is not dupe", title: "Never get duped again: wallet tracker", want: nil},
		{name: "inspired by nature", title: "Earrings inspired by nature, handmade", want: nil},
		{name: "inspired by a brand", title: "Inspired by Veltaro, crossbody bag", want: []string{"inspired by"}},
		{name: "knock-off", title: "knock-off Veltaro sunglasses", want: []string{"knockoff"}},
		{name: "not fake", title: "100% authentic, not fake", want: nil},
		{name: "fake fur", title: "Fake fur coat, warm", want: nil},
		{name: "fake", title: "fake Veltaro belt cheap", want: []string{"fake"}},
		{name: "no original box", title: "Veltaro watch, comes with no original box", want: nil},
		{name: "not original box", title: "Veltaro shoes, not original box", want: nil},
		{name: "not original and high copy", title: "Not original, high copy", want: []string{"not original", "high copy"}},
		{name: "oem weak", title: "OEM charger 65W", want: []string{"oem"}},
		{name: "fullwidth", title: "ＲＥＰＬＩＣＡ bag", want: []string{"replica"}},
		{name: "invisible inside", title: "rep\u200blica bag", want: []string{"replica"}},
		// Chinese, Japanese, Korean.
		{name: "gaofang", title: "高仿维尔塔罗包包", want: []string{"高仿"}},
		{name: "gaofangzhen is realistic", title: "高仿真仿真花 客厅装饰", want: nil},
		{name: "several zh", title: "复刻 维尔塔罗 A货 原单", want: []string{"复刻", "A货", "原单"}},
		{name: "official reissue", title: "官方复刻版跑鞋", want: nil},
		{name: "one to one and jingfang", title: "一比一精仿手表", want: []string{"一比一", "精仿"}},
		{name: "refuse fakes", title: "拒绝高仿，只卖正品", want: nil},
		{name: "mixed zh and latin", title: "高仿aaa级包", want: []string{"高仿", "aaa"}},
		{name: "japanese super copy", title: "スーパーコピー 時計", want: []string{"スーパーコピー"}},
		{name: "korean", title: "짝퉁 가방 팝니다", want: []string{"짝퉁"}},
		// Spanish, Portuguese.
		{name: "es replica", title: "Réplica exacta bolso Veltaro", want: []string{"replica"}},
		{name: "es backup copy", title: "Copia de seguridad del disco", want: nil},
		{name: "es copiar", title: "Fácil de copiar y pegar", want: nil},
		{name: "es imitation leather", title: "Bolso de imitación piel marrón", want: nil},
		{name: "es imitacion", title: "Bolso imitación Veltaro", want: []string{"imitación"}},
		{name: "pt replica primeira linha", title: "Réplica primeira linha Veltaro", want: []string{"replica", "primeira linha"}},
		{name: "pt copia fiel", title: "Bolsa Veltaro cópia fiel", want: []string{"copia fiel"}},
		// French, German.
		{name: "fr replique", title: "Réplique montre Veltaro", want: []string{"réplique"}},
		{name: "fr sans contrefacon", title: "Garantie sans contrefaçon", want: nil},
		{name: "fr contrefacon", title: "Sac Veltaro contrefaçon pas cher", want: []string{"contrefaçon"}},
		{name: "de keine Faelschung", title: "Keine Fälschung! Original Veltaro", want: nil},
		{name: "de Faelschung", title: "Veltaro Tasche Fälschung", want: []string{"Fälschung"}},
		{name: "de compound is not Kopie", title: "Sicherheitskopie der Daten", want: nil},
		{name: "de Nachbildung", title: "Nachbildung Veltaro Uhr", want: []string{"Nachbildung"}},
		// Russian, Turkish, Arabic.
		{name: "ru kopiya lyuks", title: "Сумка Veltaro копия люкс", want: []string{"люкс-копия"}},
		{name: "ru repliki", title: "Реплики часов Veltaro", want: []string{"реплика"}},
		{name: "ru not a fake", title: "Это не подделка", want: nil},
		{name: "ru poddelku", title: "Продам подделку Veltaro", want: []string{"подделка"}},
		{name: "ru coat is not slang", title: "Пальто женское", want: nil},
		{name: "tr replika suffix", title: "Veltaro çanta replikası", want: []string{"replika"}},
		{name: "tr cakma", title: "Çakma Veltaro saat", want: []string{"çakma"}},
		{name: "tr lighter", title: "Çakmak benzinli", want: nil},
		{name: "ar exact copy", title: "حقيبة فيلتارو نسخة طبق الأصل", want: []string{"نسخة طبق الأصل"}},
		{name: "ar master copy", title: "ساعة ماستر كوبي", want: []string{"ماستر كوبي"}},
		{name: "ar not imitated", title: "ساعة غير مقلد أصلية", want: nil},
		{name: "ar attached article", title: "ساعة بالتقليد", want: []string{"تقليد"}},
		// Fields.
		{name: "description only", title: "Veltaro handbag", desc: "Top quality, 1:1 with the original.", want: []string{"1:1"}},
		{name: "title and description count once", title: "replica bag", desc: "This replica is great", want: []string{"replica"}},
		{name: "nothing", title: "Veltaro leather handbag, used, good condition", desc: "Bought in the Paris store in 2019.", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := m.Find(tc.title, "", tc.desc)
			if got := phrases(ev); !slices.Equal(got, tc.want) {
				t.Fatalf("cues = %q, want %q (evidence %+v)", got, tc.want, ev)
			}
		})
	}
}

func TestEvidence(t *testing.T) {
	m := newMatcher(t, Options{})
	tests := []struct {
		name                 string
		title, brand, desc   string
		field, match, detail string
		score                float64
	}{
		{name: "original spelling kept", title: "Bolso RÉPLICA Veltaro", field: "title", match: "RÉPLICA", detail: "cue 'replica' (en, es, pt, it)", score: 0.8},
		{name: "fullwidth span", title: "ＶＥＬＴＡＲＯ　１：１　bag", field: "title", match: "１：１", detail: "cue '1:1' (en)", score: 0.8},
		{name: "brand field", title: "Handbag", brand: "Veltaro super copy", field: "brand", match: "super copy", detail: "cue 'super copy' (en)", score: 0.9},
		{name: "description span", title: "Bag", desc: "Brand new.  Mirror   Quality, ships fast", field: "description", match: "Mirror   Quality", detail: "cue 'mirror quality' (en)", score: 0.8},
		{name: "cjk span", title: "全新维尔塔罗高仿包包", field: "title", match: "高仿", detail: "cue '高仿' (zh)", score: 0.9},
		{name: "accent kept on the span", title: "Tasche Fa\u0308lschung", field: "title", match: "Fa\u0308lschung", detail: "cue 'Fälschung' (de)", score: 0.7},
		{name: "invisible inside the span", title: "super rep\u200blica", field: "title", match: "rep\u200blica", detail: "cue 'replica' (en, es, pt, it)", score: 0.8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := m.Find(tc.title, tc.brand, tc.desc)
			if len(ev) != 1 {
				t.Fatalf("want one evidence, got %+v", ev)
			}
			e := ev[0]
			if e.Matcher != Name || e.Kind != KindCue || e.Field != tc.field || e.Match != tc.match || e.Detail != tc.detail || e.Score != tc.score {
				t.Fatalf("evidence = %+v\nwant field %q match %q detail %q score %v", e, tc.field, tc.match, tc.detail, tc.score)
			}
		})
	}
}

func TestMatchScore(t *testing.T) {
	m := newMatcher(t, Options{})
	l := matchers.NewListing(&domain.Listing{ListingID: "l1", SellerID: "s1", Title: "Veltaro replica bag", Description: "AAA quality, 1:1"})
	marks := []*matchers.Mark{
		{Mark: &domain.Mark{MarkID: "m1", Name: "Veltaro"}},
		{Mark: &domain.Mark{MarkID: "m2", Name: "Orvanne"}},
	}
	sigs, err := m.Match(context.Background(), l, marks)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 - (1-0.8)*(1-0.8)*(1-0.8) // replica, aaa quality, 1:1
	for i, s := range sigs {
		if math.Abs(s.Score-want) > 1e-12 {
			t.Errorf("mark %d: score %v, want %v", i, s.Score, want)
		}
		if got := phrases(s.Evidence); !slices.Equal(got, []string{"replica", "aaa quality", "1:1"}) {
			t.Errorf("mark %d: cues %q", i, got)
		}
	}
	sigs[0].Evidence[0].Detail = "changed"
	if sigs[1].Evidence[0].Detail == "changed" {
		t.Error("marks share one evidence slice")
	}
}

func TestCombine(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		want    float64
	}{
		{name: "none", want: 0},
		{name: "one", weights: []float64{0.8}, want: 0.8},
		{name: "two", weights: []float64{0.5, 0.5}, want: 0.75},
		{name: "certain", weights: []float64{1, 0.2}, want: 1},
		{name: "out of range clamped", weights: []float64{1.5, -1}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev []domain.Evidence
			for _, w := range tc.weights {
				ev = append(ev, domain.Evidence{Score: w})
			}
			if got := Combine(ev); math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("Combine = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		title   string
		want    []string
		wantErr string
	}{
		{name: "add a cue", opts: Options{Entries: []Entry{{Phrase: "reps", Lang: Langs{"en"}, Weight: 0.5}}}, title: "Veltaro reps replica", want: []string{"reps", "replica"}},
		{name: "override weight and context", opts: Options{Entries: []Entry{{Phrase: "Replica", Lang: Langs{"en"}, Weight: 0.3, UnlessFollowedBy: []string{"tower"}}}}, title: "replica tower replica jersey", want: []string{"Replica"}},
		{name: "remove a cue", opts: Options{Entries: []Entry{{Phrase: "replica", Lang: Langs{"en"}}}}, title: "replica bag", want: nil},
		{name: "no builtin", opts: Options{NoBuiltin: true, Entries: []Entry{{Phrase: "knockoff", Lang: Langs{"en"}, Weight: 1}}}, title: "replica knockoff", want: []string{"knockoff"}},
		{name: "empty lexicon", opts: Options{NoBuiltin: true}, title: "replica", want: nil},
		{name: "scan cap", opts: Options{MaxScanBytes: 10}, title: "nice bag, replica", want: nil},
		{name: "duplicate override", opts: Options{Entries: []Entry{{Phrase: "x1", Lang: Langs{"en"}, Weight: 1}, {Phrase: "X1", Lang: Langs{"en"}, Weight: 1}}}, wantErr: "twice"},
		{name: "form owned by another cue", opts: Options{Entries: []Entry{{Phrase: "repz", Forms: []string{"replicas"}, Lang: Langs{"en"}, Weight: 1}}}, wantErr: "also belongs"},
		{name: "bad weight", opts: Options{Entries: []Entry{{Phrase: "x", Lang: Langs{"en"}, Weight: 2}}}, wantErr: "weight"},
		{name: "missing lang", opts: Options{Entries: []Entry{{Phrase: "x", Weight: 1}}}, wantErr: "lang"},
		{name: "folds to nothing", opts: Options{Entries: []Entry{{Phrase: "\u200b", Lang: Langs{"en"}, Weight: 1}}}, wantErr: "nothing"},
		{name: "context without words", opts: Options{Entries: []Entry{{Phrase: "x", Lang: Langs{"en"}, Weight: 1, UnlessFollowedBy: []string{"!!"}}}}, wantErr: "context"},
		{name: "negative scan cap", opts: Options{MaxScanBytes: -1}, wantErr: "scan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New: err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := phrases(m.Find(tc.title, "", "")); !slices.Equal(got, tc.want) {
				t.Fatalf("cues = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConformance(t *testing.T) {
	m := newMatcher(t, Options{})
	mk := func(id, name string) *matchers.Mark {
		return &matchers.Mark{Mark: &domain.Mark{MarkID: id, Name: name, Status: domain.MarkActive}}
	}
	l := func(title, desc string) *matchers.Listing {
		return matchers.NewListing(&domain.Listing{ListingID: "l1", SellerID: "s1", Title: title, Description: desc,
			Price: &domain.Money{Amount: "20", Currency: "USD"}})
	}
	matchertest.Run(t, m, matchertest.Fixture{
		Marks: []*matchers.Mark{mk("m1", "Veltaro"), mk("m2", "Orvanne")},
		Hit:   l("Veltaro 1:1 replica tote", "高仿 mirror quality"),
		Miss:  l("Veltaro tote, AAA batteries not included", "Bathroom mirror; photo copy paper"),
	})
}

// FuzzFind checks the text path on arbitrary input: no panic, scores in
// range, and every quoted match is text of the listing (or, where fold
// cannot be followed back, of its folded form).
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"Veltaro replica 1:1 AAA+ mirror quality",
		"ＲＥＰＬＩＣＡ　１：１",
		"高仿真 高仿 A货 スーパーコピー",
		"Fa\u0308lschung rep\u200blica \xff\xfe",
		"ساعة بالتقليد نسخة طبق الأصل",
		"ﷺ ﷽ ﬀ replica",
		"İSTANBUL replikası çakma",
	} {
		f.Add(s, "")
	}
	m := newMatcher(f, Options{})
	f.Fuzz(func(t *testing.T, title, desc string) {
		ev := m.Find(title, "", desc)
		seen := map[string]bool{}
		for _, e := range ev {
			if e.Score <= 0 || e.Score > 1 || e.Matcher != Name || e.Kind != KindCue {
				t.Fatalf("bad evidence %+v", e)
			}
			if seen[e.Detail] {
				t.Fatalf("cue %s reported twice", e.Detail)
			}
			seen[e.Detail] = true
			src := title
			if e.Field == "description" {
				src = desc
			}
			if e.Match == "" || !strings.Contains(src, e.Match) && !strings.Contains(normalize.Fold(src), e.Match) {
				t.Fatalf("match %q is not text of %q", e.Match, src)
			}
		}
		if s := Combine(ev); s < 0 || s > 1 {
			t.Fatalf("score %v", s)
		}
	})
}

// benchDescription is about 1 KB of ordinary listing prose.
const benchDescription = `Veltaro leather tote in excellent condition. Bought at the Milan boutique in 2021 and carried a handful of times; the corners show light wear and there is a small mark inside the lining, shown in the last photo. Comes with the dust bag and the care booklet, no receipt. Measurements: 38 cm wide, 29 cm high, 16 cm deep, handle drop 22 cm. The leather is soft and the stitching is intact, zipper runs smoothly, all hardware is present and bright. Smoke-free and pet-free home. Shipping with tracking within two working days of payment; I pack carefully in a box with paper. Collection in person is possible in the city centre on weekends. Please ask any question before buying, I answer quickly. Returns accepted within 14 days if the item is not as described, buyer pays return shipping. See my other listings for more bags, shoes and scarves from the same wardrobe clearout, combined shipping on request. Thanks for looking and have a nice day!`

func BenchmarkFind(b *testing.B) {
	m := newMatcher(b, Options{})
	cases := []struct{ name, title, desc string }{
		{"clean_1KB", "Veltaro leather tote, used", benchDescription},
		{"two_cues_1KB", "Veltaro leather tote 1:1", benchDescription[:len(benchDescription)-40] + " mirror quality, super copy."},
		{"cjk", "全新维尔塔罗高仿包包 一比一 原单", "正品质量，支持验货，假一赔十"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.title) + len(c.desc)))
			b.ReportAllocs()
			for b.Loop() {
				m.Find(c.title, "", c.desc)
			}
		})
	}
}

// TestSegmentBoundary checks that cues straddling the boundary between two
// search segments are found once, wherever they fall.
func TestSegmentBoundary(t *testing.T) {
	m := newMatcher(t, Options{})
	for pad := scanSegment - 12; pad <= scanSegment+2; pad++ {
		desc := strings.Repeat(".", pad-1) + " super copy 高仿"
		ev := m.Find("bag", "", desc)
		if got := phrases(ev); !slices.Equal(got, []string{"super copy", "高仿"}) {
			t.Fatalf("cue at %d: got %q", pad, got)
		}
		if ev[0].Match != "super copy" {
			t.Fatalf("cue at %d: match %q", pad, ev[0].Match)
		}
	}
}

// TestSpamBounded checks that a field repeating cues is cut short without
// losing the cues it starts with.
func TestSpamBounded(t *testing.T) {
	m := newMatcher(t, Options{})
	ev := m.Find(strings.Repeat("a", 20000), "", "replica "+strings.Repeat("1:1 ", 5000)+"knockoff")
	if got := phrases(ev); !slices.Equal(got, []string{"replica", "1:1"}) {
		t.Fatalf("got %q", got)
	}
}

func BenchmarkFindHostile(b *testing.B) {
	m := newMatcher(b, Options{})
	for _, c := range []struct{ name, text string }{
		{"aaaa_20KB", strings.Repeat("a", 20000)},
		{"1:1_20KB", strings.Repeat("1:1 ", 5000)},
		{"gaofang_18KB", strings.Repeat("高仿", 3000)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Find(c.text, "", c.text)
			}
		})
	}
}
