package score

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
)

// fake is a matcher and presearcher whose signals are given per mark id.
type fake struct {
	name  string
	sigs  map[string]matchers.Signal
	cands []string
	err   error
}

func (f *fake) Name() string { return f.name }

func (f *fake) Match(_ context.Context, _ *matchers.Listing, marks []*matchers.Mark) ([]matchers.Signal, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := make([]matchers.Signal, len(marks))
	for i, m := range marks {
		out[i] = f.sigs[m.MarkID]
	}
	return out, nil
}

func (f *fake) Candidates(context.Context, *matchers.Listing) ([]string, error) {
	return f.cands, f.err
}

func sig(matcher string, score float64, kind, detail string) matchers.Signal {
	return matchers.Signal{Score: score, Evidence: []domain.Evidence{{Matcher: matcher, Score: score, Kind: kind, Detail: detail}}}
}

func mk(id string, threshold *float64) *matchers.Mark {
	return &matchers.Mark{Mark: &domain.Mark{SchemaVersion: 1, MarkID: id, HolderID: "h", Name: id, Status: domain.MarkActive, Threshold: threshold}}
}

var testListing = matchers.NewListing(&domain.Listing{SchemaVersion: 1, ListingID: "l1", Version: 3, SellerID: "s", Title: "t"})

func TestCombine(t *testing.T) {
	exact := sig("text", 0.95, "exact", "title contains 'Veltaro'")
	leet := sig("text", 0.9, "leet", "title contains 'V3ltaro' (leetspeak for Veltaro)")
	cases := []struct {
		name        string
		text, image matchers.Signal
		cue, price  matchers.Signal
		seller      matchers.Signal
		flagged     bool
		explain     []string
	}{
		{name: "use alone is not infringing", text: exact},
		{name: "use and cue", text: exact, cue: sig("cue", 0.9, "cue", "cue 'replica' (en)"), flagged: true,
			explain: []string{"title contains 'Veltaro'", "cue 'replica' (en)"}},
		{name: "use and low price", text: exact, price: sig("price", 0.8, "below_floor", "price 12% of reference"), flagged: true,
			explain: []string{"price 12% of reference"}},
		{name: "evasive spelling", text: leet, flagged: true, explain: []string{"leetspeak"}},
		{name: "official photo reuse", image: sig("image", 0.9, "official_photo", "images[0] matches official photo"), flagged: true},
		{name: "authorized seller", text: exact, cue: sig("cue", 0.9, "cue", "cue 'replica'"), seller: sig("seller", 1, "authorized", "seller is authorized"),
			explain: []string{"dampened: seller is authorized"}},
		{name: "nominative use", text: exact, price: sig("price", 0.8, "below_floor", "price 5% of reference"), seller: sig("seller", 0.8, "nominative", "nominative use 'compatible with'")},
		{name: "weak cue only", text: exact, cue: sig("cue", 0.2, "cue", "cue 'oem'")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms := []matchers.Matcher{
				&fake{name: "text", sigs: map[string]matchers.Signal{"m": tc.text}},
				&fake{name: "image", sigs: map[string]matchers.Signal{"m": tc.image}},
				&fake{name: "cue", sigs: map[string]matchers.Signal{"m": tc.cue}},
				&fake{name: "price", sigs: map[string]matchers.Signal{"m": tc.price}},
				&fake{name: "seller", sigs: map[string]matchers.Signal{"m": tc.seller}},
			}
			s, err := New([]*matchers.Mark{mk("m", nil)}, []matchers.Presearcher{&fake{cands: []string{"m"}}}, ms, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Score(context.Background(), testListing)
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 {
				t.Fatalf("%d results", len(res))
			}
			r := res[0]
			if r.Flagged != tc.flagged {
				t.Errorf("flagged = %v (score %.3f), want %v", r.Flagged, r.Score, tc.flagged)
			}
			if r.Score < 0 || r.Score > 1 {
				t.Errorf("score %v outside [0,1]", r.Score)
			}
			for _, want := range tc.explain {
				if !strings.Contains(r.Explanation, want) {
					t.Errorf("explanation %q lacks %q", r.Explanation, want)
				}
			}
			if want := domain.ComplaintID("l1", 3, "m", "r1"); r.ComplaintID != want {
				t.Errorf("complaint id %s, want %s", r.ComplaintID, want)
			}
		})
	}
}

func TestMonotone(t *testing.T) {
	// More aggravation never lowers the score; more dampening never raises it.
	base := func(cue, damp float64) float64 {
		ms := []matchers.Matcher{
			&fake{name: "text", sigs: map[string]matchers.Signal{"m": sig("text", 0.9, "exact", "x")}},
			&fake{name: "cue", sigs: map[string]matchers.Signal{"m": sig("cue", cue, "cue", "c")}},
			&fake{name: "seller", sigs: map[string]matchers.Signal{"m": sig("seller", damp, "nominative", "n")}},
		}
		s, err := New([]*matchers.Mark{mk("m", nil)}, []matchers.Presearcher{&fake{cands: []string{"m"}}}, ms, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Score(context.Background(), testListing)
		if err != nil || len(res) != 1 {
			t.Fatalf("%v %v", res, err)
		}
		return res[0].Score
	}
	prev := -1.0
	for _, c := range []float64{0, 0.1, 0.3, 0.5, 0.8, 1} {
		if s := base(c, 0); s < prev {
			t.Errorf("cue %v lowered the score to %v", c, s)
		} else {
			prev = s
		}
	}
	prev = 2
	for _, d := range []float64{0, 0.2, 0.5, 0.8, 1} {
		if s := base(1, d); s > prev {
			t.Errorf("dampener %v raised the score to %v", d, s)
		} else {
			prev = s
		}
	}
}

func TestMarkThresholdAndOrder(t *testing.T) {
	low := 0.2
	ms := []matchers.Matcher{&fake{name: "text", sigs: map[string]matchers.Signal{
		"a": sig("text", 0.9, "exact", "a"), "b": sig("text", 0.95, "exact", "b"),
	}}}
	s, err := New([]*matchers.Mark{mk("a", &low), mk("b", nil), mk("c", nil)},
		[]matchers.Presearcher{&fake{cands: []string{"b", "a", "b", "unknown"}}}, ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Score(context.Background(), testListing)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Mark.MarkID != "b" || res[1].Mark.MarkID != "a" {
		t.Fatalf("results %+v, want b then a", res)
	}
	if res[0].Flagged || !res[1].Flagged {
		t.Errorf("mark a has threshold 0.2 and should be flagged alone: %+v", res)
	}
}

func TestErrors(t *testing.T) {
	if _, err := New(nil, nil, []matchers.Matcher{&fake{name: "mystery"}}, Options{}); err == nil {
		t.Error("a matcher without a role was accepted")
	}
	if _, err := New(nil, nil, nil, Options{Threshold: 2}); err == nil {
		t.Error("threshold 2 accepted")
	}
	boom := errors.New("boom")
	s, err := New([]*matchers.Mark{mk("m", nil)}, []matchers.Presearcher{&fake{cands: []string{"m"}}},
		[]matchers.Matcher{&fake{name: "text", err: boom}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score(context.Background(), testListing); !errors.Is(err, boom) {
		t.Errorf("matcher error not returned: %v", err)
	}
	s, err = New([]*matchers.Mark{mk("m", nil)}, []matchers.Presearcher{&fake{err: boom}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score(context.Background(), testListing); !errors.Is(err, boom) {
		t.Errorf("presearch error not returned: %v", err)
	}
}

// TestShortSpellingsNeedContext checks that a misspelling or leet reading
// of a very short name counts as a use only where the listing is about the
// mark's goods or something else already points at a counterfeit.
func TestShortSpellingsNeedContext(t *testing.T) {
	short := sig("text", 0.75, "short_typo", "title contains 'Doir'")
	short.Evidence[0].Field = "title"
	inBrand := sig("text", 0.75, "short_typo", "brand contains 'Doir'")
	inBrand.Evidence[0].Field = "brand"
	cases := []struct {
		name     string
		category string
		text     matchers.Signal
		cue      matchers.Signal
		flagged  bool
		evidence bool // a result with evidence comes back at all
	}{
		{name: "in the mark's goods", category: "bags", text: short, flagged: true, evidence: true},
		{name: "other goods", category: "home", text: short, evidence: true}, // the other-goods dampener
		{name: "other goods even with a cue", category: "home", text: short, cue: sig("cue", 0.9, "cue", "cue 'replica'"), evidence: true},
		{name: "no category, nothing else", text: short},
		{name: "no category, a cue", text: short, cue: sig("cue", 0.9, "cue", "cue 'replica'"), flagged: true, evidence: true},
		{name: "no category, the brand field", text: inBrand, flagged: true, evidence: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mark := mk("m", nil)
			mark.Categories = []string{"bags"}
			ms := []matchers.Matcher{
				&fake{name: "text", sigs: map[string]matchers.Signal{"m": tc.text}},
				&fake{name: "cue", sigs: map[string]matchers.Signal{"m": tc.cue}},
			}
			res := scoreIn(t, []*matchers.Mark{mark}, ms, tc.category)
			flagged := len(res) == 1 && res[0].Flagged
			if flagged != tc.flagged || (len(res) == 1) != tc.evidence {
				t.Errorf("flagged %v with %d results, want flagged %v, result %v: %+v", flagged, len(res), tc.flagged, tc.evidence, res)
			}
		})
	}
}

// TestPartialLogoNeedsContext: part of a mark's logo seen in a seller's
// photo (logo_partial) counts as a use only in context, like a short
// spelling, and not at all when the listing plainly uses another mark —
// its name, official photo or whole logo — whose cue or price the partial
// logo would otherwise borrow; a whole logo of mark m is unaffected.
func TestPartialLogoNeedsContext(t *testing.T) {
	partial := sig("logo", 0.58, "logo_partial", "part of logo m.png found in the photo")
	whole := sig("logo", 0.75, "logo_in_photo", "logo m.png found in the photo")
	cue := sig("cue", 0.95, "cue", "cue 'replica'")
	price := sig("price", 0.9, "price", "price 8% of reference")
	other := sig("text", 1, "exact", "title contains 'Other'")
	otherWord := sig("text", 1, "common_word", "title contains 'Harbor'")
	otherPartial := sig("logo", 0.58, "logo_partial", "part of logo o.png found in the photo")
	cases := []struct {
		name       string
		category   string
		logo       matchers.Signal
		cue, price matchers.Signal
		text       matchers.Signal // of the other mark "o"
		oLogo      matchers.Signal // of the other mark "o"
		flagged    bool
	}{
		{name: "no context", logo: partial},
		{name: "the mark's goods, no aggravation", category: "bags", logo: partial},
		{name: "a cue and a low price", logo: partial, cue: cue, price: price, flagged: true},
		{name: "a cue, the mark's goods", category: "bags", logo: partial, cue: cue, price: price, flagged: true},
		{name: "other goods", category: "home", logo: partial, cue: cue, price: price},
		{name: "another mark named", logo: partial, cue: cue, price: price, text: other},
		{name: "another mark's name as an ordinary word", logo: partial, cue: cue, price: price, text: otherWord, flagged: true},
		{name: "another mark partly seen too", logo: partial, cue: cue, price: price, oLogo: otherPartial, flagged: true},
		{name: "whole logo, another mark named", logo: whole, cue: cue, price: price, text: other, flagged: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mark, o := mk("m", nil), mk("o", nil)
			mark.Categories, o.Categories = []string{"bags"}, []string{"shoes"}
			ms := []matchers.Matcher{
				&fake{name: "text", sigs: map[string]matchers.Signal{"o": tc.text}},
				&fake{name: "logo", sigs: map[string]matchers.Signal{"m": tc.logo, "o": tc.oLogo}},
				&fake{name: "cue", sigs: map[string]matchers.Signal{"m": tc.cue, "o": tc.cue}},
				&fake{name: "price", sigs: map[string]matchers.Signal{"m": tc.price}},
			}
			flagged := false
			res := scoreIn(t, []*matchers.Mark{mark, o}, ms, tc.category)
			for _, r := range res {
				if r.Mark.MarkID == "m" {
					flagged = r.Flagged
				}
			}
			if flagged != tc.flagged {
				t.Errorf("mark m flagged %v, want %v: %+v", flagged, tc.flagged, res)
			}
		})
	}
}

// scoreIn scores a listing in category against marks, every mark a
// candidate, with the matchers ms.
func scoreIn(t *testing.T, marks []*matchers.Mark, ms []matchers.Matcher, category string) []Result {
	t.Helper()
	var ids []string
	for _, m := range marks {
		ids = append(ids, m.MarkID)
	}
	s, err := New(marks, []matchers.Presearcher{&fake{cands: ids}}, ms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := matchers.NewListing(&domain.Listing{SchemaVersion: 1, ListingID: "l1", Version: 1, SellerID: "s", Title: "t", Category: category})
	res, err := s.Score(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
