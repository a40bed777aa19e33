package search

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

// TestMatches checks the early-stopping match set against Search: the same
// ids, at most max of them, and more set exactly when some were left out.
func TestMatches(t *testing.T) {
	ix, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	docs := bulk(3000, 7)
	if err := ix.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"text", Query{Text: "replica bag"}},
		{"text and filters", Query{Text: "leather", Status: []string{"open"}, HolderID: []string{"h3"}}},
		{"cjk", Query{Text: "高仿"}},
		{"filters alone", Query{Source: []string{"auto"}, MinScore: ptr(0.5)}},
		{"nothing matches", Query{Text: "zebra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Limit = MaxLimit
			want := pageAll(t, ix, q)
			slices.Sort(want)
			for _, max := range []int{0, 1, 10, len(want), len(want) + 1, 10_000} {
				got, more, err := ix.Matches(t.Context(), tc.q, max)
				if err != nil {
					t.Fatal(err)
				}
				if more != (len(want) > max) || len(got) != min(max, len(want)) {
					t.Fatalf("max %d: %d ids, more %v; %d match", max, len(got), more, len(want))
				}
				for _, id := range got {
					if _, ok := slices.BinarySearch(want, id); !ok {
						t.Fatalf("max %d: %s does not match", max, id)
					}
				}
				if n, cmore, err := ix.CountMatches(t.Context(), tc.q, max); err != nil || cmore != more || n != len(got) {
					t.Fatalf("max %d: count %d more %v (%v), want %d %v", max, n, cmore, err, len(got), more)
				}
				if !more {
					slices.Sort(got)
					if !slices.Equal(got, want) {
						t.Fatalf("max %d: %v, want %v", max, got, want)
					}
				}
			}
		})
	}
}

// TestMatching checks the batch test of candidates against the text alone.
func TestMatching(t *testing.T) {
	ix := openFixture(t)
	got, err := ix.Matching(t.Context(), "replica", []string{"c1", "c2", "c3", "c4", "c6", "c_gone"})
	if err != nil {
		t.Fatal(err)
	}
	// c3 is upheld and c6 another holder's: Matching applies no filter.
	if want := map[string]bool{"c1": true, "c3": true, "c6": true}; !maps.Equal(got, want) {
		t.Errorf("replica among the candidates: %v, want %v", got, want)
	}
	if got, err := ix.Matching(t.Context(), "高仿", []string{"c2", "c4", "c1"}); err != nil || !maps.Equal(got, map[string]bool{"c2": true, "c4": true}) {
		t.Errorf("高仿: %v, %v", got, err)
	}
	if got, err := ix.Matching(t.Context(), "replica", nil); err != nil || len(got) != 0 {
		t.Errorf("no candidates: %v, %v", got, err)
	}
	if _, err := ix.Search(t.Context(), Query{Matcher: []string{"text"}}); !errors.Is(err, ErrBadQuery) {
		t.Errorf("search with a matcher: %v, want ErrBadQuery", err)
	}
}
