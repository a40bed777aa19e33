package evaluation_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/text"
)

// TestFuzzyIndexUnchanged scores the real-world listings and every fixture
// listing (text only) with the shipped configuration twice: with the text
// matcher's delete index and with bleve's automaton, its first fuzzy
// implementation. The results (marks, scores, flags, evidence,
// explanations) must be identical: the faster index changes no decision.
// matchers/text's TestFuzzyHitsUnchanged compares the hits themselves on
// more data.
func TestFuzzyIndexUnchanged(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	build := func(path string, index string) *detection.Engine {
		t.Helper()
		marks, err := detection.ReadMarks(path, cfg.Limits)
		if err != nil {
			t.Fatal(err)
		}
		opts := detection.OptionsFrom(cfg.Detection)
		opts.Text.FuzzyIndex = index
		eng, err := detection.BuildDomain(marks, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		return eng
	}
	compare := func(t *testing.T, cur, ref *detection.Engine, listings []*matchers.Listing) {
		fuzzy := 0
		for _, l := range listings {
			got, err := cur.Score(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Score(ctx, l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("listing %s %q: delete index\n%+v\nbleve\n%+v", l.ListingID, l.Title, got, want)
			}
			for _, r := range got {
				for _, e := range r.Evidence {
					if e.Kind == text.KindFuzzy {
						fuzzy++
					}
				}
			}
		}
		if fuzzy == 0 {
			t.Error("no fuzzy evidence at all: the comparison proves nothing")
		}
		t.Logf("%d listings, %d fuzzy evidence items, identical", len(listings), fuzzy)
	}

	t.Run("real-world", func(t *testing.T) {
		path := filepath.Join("testdata", "real_marks.jsonl")
		var ls []*matchers.Listing
		for _, c := range realWorldCases {
			ls = append(ls, c.listing())
		}
		compare(t, build(path, text.FuzzyIndexDeletes), build(path, text.FuzzyIndexBleve), ls)
	})
	t.Run("fixtures", func(t *testing.T) {
		if testing.Short() {
			t.Skip("scores every fixture listing twice")
		}
		path := filepath.Join(fixtures.Dir(), fixtures.MarksFile)
		fl, err := fixtures.LoadListings()
		if err != nil {
			t.Fatal(err)
		}
		var ls []*matchers.Listing
		for _, l := range fl {
			l.Images = nil // text only: the fuzzy index is what differs
			ls = append(ls, matchers.NewListing(l))
		}
		compare(t, build(path, text.FuzzyIndexDeletes), build(path, text.FuzzyIndexBleve), ls)
	})
}
