package seller

import (
	"context"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
)

func veltaro() *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{
		MarkID: "m-veltaro", HolderID: "h1", Name: "Veltaro", Status: domain.MarkActive,
		Variants:          []string{"维尔塔罗", "فيلتارو", "Вельтаро"},
		AuthorizedSellers: []string{"veltaro-official", "shop-42"},
	}}
}

func nike() *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{MarkID: "m-nike", HolderID: "h2", Name: "Nike", Status: domain.MarkActive}}
}

func orvanne() *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{MarkID: "m-orvanne", HolderID: "h3", Name: "Orvanne", Status: domain.MarkActive}}
}

func listing(seller, title, desc, brand string) *matchers.Listing {
	return matchers.NewListing(&domain.Listing{ListingID: "l1", SellerID: seller, Title: title, Description: desc, Brand: brand})
}

func TestMatch(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kinds string  // evidence kinds joined by ","; "" means none
		score float64 // signal score
		field string  // field of the nominative evidence, if any
		match string  // Match of the nominative evidence, if checked
	}
	tests := []struct {
		name   string
		seller string
		title  string
		desc   string
		brand  string
		mark   *matchers.Mark
		want   want
	}{
		{name: "case compatible with", title: "Case compatible with Veltaro X2 phone", want: want{kinds: "nominative", score: 0.8, field: "title", match: "compatible with Veltaro"}},
		{name: "brand then for women", title: "Veltaro bag for women", want: want{}},
		{name: "replacement strap for", title: "replacement strap for Veltaro watch", want: want{kinds: "nominative", score: 0.8, match: "for Veltaro"}},
		{name: "replica for sale", title: "Veltaro replica for sale", want: want{}},
		{name: "authorized seller", seller: "shop-42", title: "Veltaro tote bag", want: want{kinds: "authorized", score: 1}},
		{name: "chinese", title: "适用于维尔塔罗手表表带", want: want{kinds: "nominative", score: 0.8, match: "适用于维尔塔罗"}},
		{name: "laces for real brand", title: "Laces for Nike Air Force 1", mark: nike(), want: want{kinds: "nominative", score: 0.8, match: "for Nike"}},
		{name: "not an accessory", title: "Owner's guide for Veltaro cars", want: want{kinds: "nominative", score: 0.5}},
		{name: "fits", title: "Screen protector fits Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "fits Veltaro"}},
		{name: "works with upper case", title: "Charger works with VELTARO laptops", want: want{kinds: "nominative", score: 0.8, match: "works with VELTARO"}},
		{name: "filler word", title: "Case for the Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "Case for the Veltaro"}},
		{name: "spaced name", title: "Strap for VEL TARO watches", want: want{kinds: "nominative", score: 0.8, match: "for VEL TARO"}},
		{name: "spanish", title: "Funda compatible con Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "compatible con Veltaro"}},
		{name: "spanish para", title: "Correa para Veltaro 42mm", want: want{kinds: "nominative", score: 0.8}},
		{name: "french", title: "Coque pour Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "pour Veltaro"}},
		{name: "german", title: "Hülle für Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "für Veltaro"}},
		{name: "portuguese", title: "Capa compatível com Veltaro", want: want{kinds: "nominative", score: 0.8}},
		{name: "russian", title: "Чехол для Veltaro X2", want: want{kinds: "nominative", score: 0.8, match: "для Veltaro"}},
		{name: "russian variant", title: "Ремешок для Вельтаро", want: want{kinds: "nominative", score: 0.8, match: "для Вельтаро"}},
		{name: "turkish after the brand", title: "Veltaro için kılıf", want: want{kinds: "nominative", score: 0.8, match: "Veltaro için"}},
		{name: "turkish with model", title: "Veltaro X2 için kılıf", want: want{kinds: "nominative", score: 0.8, match: "Veltaro X2 için"}},
		{name: "arabic", title: "جراب متوافق مع فيلتارو", want: want{kinds: "nominative", score: 0.8, match: "متوافق مع فيلتارو"}},
		{name: "arabic attached for", title: "حزام لفيلتارو", want: want{kinds: "nominative", score: 0.8, match: "لفيلتارو"}},
		{name: "arabic for with tatweel", title: "حزام لـ Veltaro", want: want{kinds: "nominative", score: 0.8, match: "لـ Veltaro"}},
		{name: "arabic word starting with lam", title: "لفيلتارو", mark: orvanne(), want: want{}},
		{name: "french elision", title: "Coque pour l'Orvanne X2", mark: orvanne(), want: want{kinds: "nominative", score: 0.8, match: "pour l'Orvanne"}},
		{name: "french elision without trigger", title: "Sac de l'Orvanne", mark: orvanne(), want: want{}},
		{name: "brand field declares the mark", title: "Case for Veltaro X2", brand: "Veltaro", want: want{}},
		{name: "authorized and nominative", seller: "shop-42", title: "Strap for Veltaro", want: want{kinds: "authorized,nominative", score: 1}},
		{name: "seller id is exact", seller: "SHOP-42", title: "Veltaro tote", want: want{}},
		{name: "no seller", title: "Veltaro tote", want: want{}},
		{name: "description", title: "Leather strap 20mm", desc: "Fits Veltaro Classic watches.", want: want{kinds: "nominative", score: 0.8, field: "description", match: "Fits Veltaro"}},
		{name: "brand with case", title: "Veltaro X2 with case", want: want{}},
		{name: "other brand only", title: "Case for Orvanne phone", want: want{}},
		{name: "longer word", title: "Strap for Veltaroxx", want: want{}},
		{name: "for sale then brand", title: "For sale: Veltaro bag", want: want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mk := tc.mark
			if mk == nil {
				mk = veltaro()
			}
			sigs, err := m.Match(context.Background(), listing(tc.seller, tc.title, tc.desc, tc.brand), []*matchers.Mark{mk})
			if err != nil {
				t.Fatal(err)
			}
			s := sigs[0]
			var kinds []string
			for _, e := range s.Evidence {
				kinds = append(kinds, e.Kind)
				if e.Matcher != Name || e.Detail == "" {
					t.Errorf("evidence %+v", e)
				}
				if e.Kind != KindNominative {
					continue
				}
				if tc.want.field != "" && e.Field != tc.want.field {
					t.Errorf("field = %q, want %q", e.Field, tc.want.field)
				}
				if tc.want.match != "" && e.Match != tc.want.match {
					t.Errorf("match = %q, want %q", e.Match, tc.want.match)
				}
			}
			if got := strings.Join(kinds, ","); got != tc.want.kinds || s.Score != tc.want.score {
				t.Fatalf("kinds %q score %v, want %q %v (evidence %+v)", got, s.Score, tc.want.kinds, tc.want.score, s.Evidence)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "defaults", opts: Options{}},
		{name: "custom", opts: Options{Accessory: 0.9, Nominative: 0.4}},
		{name: "accessory above one", opts: Options{Accessory: 1.1}, wantErr: "accessory"},
		{name: "negative nominative", opts: Options{Nominative: -0.5}, wantErr: "nominative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestScoresFromOptions(t *testing.T) {
	m, err := New(Options{Accessory: 0.9, Nominative: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		title string
		want  float64
	}{{"Strap for Veltaro", 0.9}, {"Manual for Veltaro", 0.3}} {
		sigs, err := m.Match(context.Background(), listing("", tc.title, "", ""), []*matchers.Mark{veltaro()})
		if err != nil {
			t.Fatal(err)
		}
		if sigs[0].Score != tc.want {
			t.Errorf("%q: score %v, want %v", tc.title, sigs[0].Score, tc.want)
		}
	}
}

func TestConformance(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	matchertest.Run(t, m, matchertest.Fixture{
		Marks: []*matchers.Mark{veltaro(), nike()},
		Hit:   listing("s1", "Case compatible with Veltaro X2", "", ""),
		Miss:  listing("s1", "Veltaro bag for women", "Genuine Veltaro, bought in store.", ""),
	})
}

func BenchmarkMatch(b *testing.B) {
	m, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	desc := strings.Repeat("Soft silicone, precise cut-outs for buttons and ports, raised edges protect the screen. ", 12)
	l := listing("s1", "Case compatible with Veltaro X2 phone, black", desc, "")
	marks := []*matchers.Mark{veltaro(), nike()}
	ctx := context.Background()
	b.SetBytes(int64(len(l.Title) + len(desc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Match(ctx, l, marks); err != nil {
			b.Fatal(err)
		}
	}
}

func TestPackagingOnly(t *testing.T) {
	for title, want := range map[string]bool{
		"Rolex box and papers only, no watch":           true,
		"Empty Louis Vuitton box":                       true,
		"Gucci dust bag only":                           true,
		"Caja vacía Rolex original":                     true,
		"劳力士 空盒 原装":                                     true,
		"Rolex replica with box, only 2 left":           false,
		"Gucci bag with dust bag and box":               false,
		"Rolex Submariner full set box papers":          false,
		"Only the best Gucci replica, box":              false,
		"Veltaro sneakers, box only available in black": true,
	} {
		if got := packagingOnly(title) != ""; got != want {
			t.Errorf("%q: packaging only = %v, want %v (%q)", title, got, want, packagingOnly(title))
		}
	}
}
