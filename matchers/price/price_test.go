package price

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/matchertest"
)

// mark builds a prepared mark with the given reference prices.
func mark(id string, refs ...domain.ReferencePrice) *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{MarkID: id, Name: "Veltaro", Status: domain.MarkActive, ReferencePrices: refs}}
}

// listing builds a prepared listing; amount "" means no price.
func listing(amount, currency, category string) *matchers.Listing {
	d := &domain.Listing{ListingID: "l1", SellerID: "s1", Title: "Veltaro tote", Category: category}
	if amount != "" {
		d.Price = &domain.Money{Amount: amount, Currency: currency}
	}
	return matchers.NewListing(d)
}

func ref(cat, amount, cur string) domain.ReferencePrice {
	return domain.ReferencePrice{Category: cat, Amount: amount, Currency: cur}
}

var testRates = map[string]float64{"EUR": 0.92, "CNY": 7.2, "JPY": 150}

func TestConformance(t *testing.T) {
	m, err := New(Options{Rates: testRates})
	if err != nil {
		t.Fatal(err)
	}
	matchertest.Run(t, m, matchertest.Fixture{
		Marks: []*matchers.Mark{mark("m1", ref("", "1000.00", "USD")), mark("m2")},
		Hit:   listing("49.99", "USD", "bags"),
		Miss:  listing("899.00", "USD", "bags"),
	})
}

func TestMatch(t *testing.T) {
	m, err := New(Options{Rates: testRates})
	if err != nil {
		t.Fatal(err)
	}
	bags := []domain.ReferencePrice{ref("", "100.00", "USD"), ref("Bags", "1000.00", "USD"), ref("watches", "5000", "EUR")}
	tests := []struct {
		name      string
		l         *matchers.Listing
		refs      []domain.ReferencePrice
		wantScore float64 // exact expected score; 0 means no signal
		match     string  // expected Evidence.Match
		detail    string  // expected Evidence.Detail
	}{
		{name: "at floor", l: listing("30.00", "USD", ""), refs: bags[:1]},
		{name: "above floor", l: listing("45.00", "USD", ""), refs: bags[:1]},
		{name: "full price", l: listing("100.00", "USD", ""), refs: bags[:1]},
		{name: "just below floor", l: listing("29.97", "USD", ""), refs: bags[:1], wantScore: 0.6 + 0.4*(1-0.2997/0.3), match: "29.97 USD", detail: "price 30% of reference (100.00 USD)"},
		{name: "twelve percent", l: listing("12.00", "USD", ""), refs: bags[:1], wantScore: 0.6 + 0.4*(1-0.12/0.3), match: "12.00 USD", detail: "price 12% of reference (100.00 USD)"},
		{name: "tiny price", l: listing("0.01", "USD", ""), refs: bags[:1], wantScore: 0.6 + 0.4*(1-0.0001/0.3), match: "0.01 USD", detail: "price <0.1% of reference (100.00 USD)"},
		{name: "single digit percent", l: listing("4.50", "USD", ""), refs: bags[:1], wantScore: 0.6 + 0.4*(1-0.045/0.3), detail: "price 4.5% of reference (100.00 USD)"},
		{name: "zero price is a placeholder", l: listing("0", "USD", ""), refs: bags[:1]},
		{name: "huge price", l: listing("99999999999999999999", "USD", ""), refs: bags[:1]},
		{name: "no price", l: listing("", "", ""), refs: bags[:1]},
		{name: "no reference", l: listing("1.00", "USD", "")},
		{name: "category reference case-insensitive", l: listing("200.00", "USD", "BAGS"), refs: bags, wantScore: 0.6 + 0.4*(1-0.2/0.3), detail: "price 20% of reference (1000.00 USD)"},
		{name: "category reference not below floor", l: listing("350.00", "USD", "bags"), refs: bags},
		{name: "uncategorized fallback", l: listing("20.00", "USD", "shoes"), refs: bags, wantScore: 0.6 + 0.4*(1-0.2/0.3), detail: "price 20% of reference (100.00 USD)"},
		{name: "category only and other category", l: listing("1.00", "USD", "shoes"), refs: bags[1:]},
		{name: "converted from EUR", l: listing("92.00", "EUR", "bags"), refs: bags, wantScore: 0.6 + 0.4*(1-0.1/0.3), match: "92.00 EUR", detail: "price 10% of reference (1000.00 USD), converted from EUR"},
		{name: "CNY against EUR reference", l: listing("3600", "CNY", "watches"), refs: bags, wantScore: 0.6 + 0.4*(1-(500/(5000/0.92))/0.3), detail: "price 9.2% of reference (5000.00 EUR), converted from CNY"},
		{name: "conversion lifts above floor", l: listing("72000", "JPY", "Bags"), refs: bags},
		{name: "unknown listing currency", l: listing("1.00", "GBP", ""), refs: bags[:1]},
		{name: "unknown reference currency", l: listing("1.00", "USD", ""), refs: []domain.ReferencePrice{ref("", "100", "GBP")}},
		{name: "same unknown currency needs no rate", l: listing("10.00", "GBP", ""), refs: []domain.ReferencePrice{ref("", "100", "GBP")}, wantScore: 0.6 + 0.4*(1-0.1/0.3), detail: "price 10% of reference (100.00 GBP)"},
		{name: "unparsable reference", l: listing("1.00", "USD", ""), refs: []domain.ReferencePrice{ref("", "abc", "USD")}},
		{name: "zero reference", l: listing("1.00", "USD", ""), refs: []domain.ReferencePrice{ref("", "0", "USD")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sigs, err := m.Match(context.Background(), tc.l, []*matchers.Mark{mark("m1", tc.refs...)})
			if err != nil {
				t.Fatal(err)
			}
			s := sigs[0]
			if math.Abs(s.Score-tc.wantScore) > 1e-9 {
				t.Fatalf("score = %v, want %v (evidence %+v)", s.Score, tc.wantScore, s.Evidence)
			}
			if tc.wantScore == 0 {
				if len(s.Evidence) != 0 {
					t.Fatalf("evidence without score: %+v", s.Evidence)
				}
				return
			}
			if len(s.Evidence) != 1 {
				t.Fatalf("want 1 evidence, got %+v", s.Evidence)
			}
			e := s.Evidence[0]
			if e.Matcher != Name || e.Kind != KindBelowFloor || e.Field != "price" || e.Score != s.Score {
				t.Errorf("evidence = %+v", e)
			}
			if tc.match != "" && e.Match != tc.match {
				t.Errorf("Match = %q, want %q", e.Match, tc.match)
			}
			if tc.detail != "" && e.Detail != tc.detail {
				t.Errorf("Detail = %q, want %q", e.Detail, tc.detail)
			}
		})
	}
}

func TestScoreMonotonic(t *testing.T) {
	m, err := New(Options{Floor: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	marks := []*matchers.Mark{mark("m1", ref("", "100", "USD"))}
	prev := 2.0
	for _, amt := range []string{"0.01", "5", "10", "25", "40", "49.99"} {
		sigs, err := m.Match(context.Background(), listing(amt, "USD", ""), marks)
		if err != nil {
			t.Fatal(err)
		}
		s := sigs[0].Score
		if s >= prev || s < scoreAtFloor {
			t.Fatalf("price %s: score %v, previous %v: want decreasing and >= %v", amt, s, prev, scoreAtFloor)
		}
		prev = s
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // substring; "" means valid
	}{
		{name: "defaults", opts: Options{}},
		{name: "floor and base", opts: Options{Floor: 0.4, Base: "EUR", Rates: map[string]float64{"USD": 1.09}}},
		{name: "base in rates at 1", opts: Options{Rates: map[string]float64{"USD": 1, "EUR": 0.9}}},
		{name: "negative floor", opts: Options{Floor: -0.1}, wantErr: "floor"},
		{name: "floor one", opts: Options{Floor: 1}, wantErr: "floor"},
		{name: "NaN floor", opts: Options{Floor: math.NaN()}, wantErr: "floor"},
		{name: "bad base", opts: Options{Base: "usd"}, wantErr: "base"},
		{name: "zero rate", opts: Options{Rates: map[string]float64{"EUR": 0}}, wantErr: "EUR"},
		{name: "infinite rate", opts: Options{Rates: map[string]float64{"CNY": math.Inf(1)}}, wantErr: "CNY"},
		{name: "bad code", opts: Options{Rates: map[string]float64{"euro": 1}}, wantErr: "euro"},
		{name: "base rate not one", opts: Options{Rates: map[string]float64{"USD": 2}}, wantErr: "base"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.opts)
			if tc.wantErr == "" {
				if err != nil || m == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

// TestOptionsRatesCopied checks that New copies the rate table, so a caller
// changing its map later cannot change (or race with) matching.
func TestOptionsRatesCopied(t *testing.T) {
	rates := map[string]float64{"EUR": 0.92}
	m, err := New(Options{Rates: rates})
	if err != nil {
		t.Fatal(err)
	}
	rates["EUR"] = 0.0001
	sigs, err := m.Match(context.Background(), listing("9.20", "EUR", ""), []*matchers.Mark{mark("m1", ref("", "100", "USD"))})
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.6 + 0.4*(1-0.1/0.3); math.Abs(sigs[0].Score-want) > 1e-9 {
		t.Fatalf("score %v, want %v", sigs[0].Score, want)
	}
}

func BenchmarkMatch(b *testing.B) {
	m, err := New(Options{Rates: testRates})
	if err != nil {
		b.Fatal(err)
	}
	marks := []*matchers.Mark{
		mark("m1", ref("shoes", "180", "USD"), ref("", "1000.00", "USD")),
		mark("m2", ref("", "500", "EUR")),
		mark("m3"),
	}
	l := listing("320", "CNY", "bags")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Match(ctx, l, marks); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUsedItemWeighedDown(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk := &matchers.Mark{Mark: &domain.Mark{SchemaVersion: 1, MarkID: "m", HolderID: "h", Name: "Veltaro", Status: domain.MarkActive,
		ReferencePrices: []domain.ReferencePrice{{Amount: "100", Currency: "USD"}}}}
	score := func(title string) (float64, string) {
		l := matchers.NewListing(&domain.Listing{SchemaVersion: 1, ListingID: "l", SellerID: "s", Title: title,
			Price: &domain.Money{Amount: "10", Currency: "USD"}})
		sigs, err := m.Match(context.Background(), l, []*matchers.Mark{mk})
		if err != nil || len(sigs[0].Evidence) == 0 {
			t.Fatalf("%q: %v %+v", title, err, sigs)
		}
		return sigs[0].Score, sigs[0].Evidence[0].Detail
	}
	newScore, _ := score("Veltaro sneakers")
	for _, title := range []string{"Veltaro sneakers, used", "Veltaro sneakers worn twice", "Veltaro Turnschuhe gebraucht", "二手 Veltaro 运动鞋", "Veltaro кроссовки б/у"} {
		got, detail := score(title)
		if got != newScore*usedFactor || !strings.Contains(detail, "used") {
			t.Errorf("%q: score %v (%s), want %v", title, got, detail, newScore*usedFactor)
		}
	}
	for _, title := range []string{"Veltaro sneakers unused", "Veltaro porte-monnaie", "Veltaro useful bag"} {
		if got, _ := score(title); got != newScore {
			t.Errorf("%q: score %v, want %v (not second-hand)", title, got, newScore)
		}
	}
}
