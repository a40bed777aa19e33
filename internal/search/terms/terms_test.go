package terms

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/markwatch/markwatch/internal/domain"
)

func TestOfAndQuery(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		of, query  []string
	}{
		{"lower case, stop words dropped", "The REPLICA Handbag of Acme", []string{"acme", "handbag", "of", "replica", "the"}, []string{"acme", "handbag", "replica"}},
		{"punctuation splits", "bag,shoe; (watch)", []string{"bag", "shoe", "watch"}, []string{"bag", "shoe", "watch"}},
		{"CJK run: ideographs and bigrams", "高仿手袋", []string{"仿", "仿手", "手", "手袋", "袋", "高", "高仿"}, []string{"仿手", "手袋", "高仿"}},
		{"a lone ideograph", "袋", []string{"袋"}, []string{"袋"}},
		{"CJK beside words", "ACME 高仿", []string{"acme", "仿", "高", "高仿"}, []string{"acme", "高仿"}},
		{"only stop words", "the of and", []string{"and", "of", "the"}, nil},
		{"nothing", "  ", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Of(tc.text); !slices.Equal(got, tc.of) {
				t.Errorf("Of(%q) = %q, want %q", tc.text, got, tc.of)
			}
			if got := Query(tc.text); !slices.Equal(got, tc.query) {
				t.Errorf("Query(%q) = %q, want %q", tc.text, got, tc.query)
			}
		})
	}
}

func TestOfDropsLongTerms(t *testing.T) {
	long := strings.Repeat("a", maxTerm+1)
	if got := Of("bag " + long); !slices.Equal(got, []string{"bag"}) {
		t.Errorf("Of with a %d-byte word = %q, want only bag", len(long), got)
	}
}

func TestText(t *testing.T) {
	c := &domain.Complaint{
		Explanation: "title names ACME",
		Listing:     &domain.ListingSnapshot{Title: " Replica bag ", Description: "cheap", Brand: "Acme"},
		Evidence: []domain.Evidence{
			{Field: "title", Match: "ACME"},
			{Field: "images[0]", Match: "https://img.example/1.jpg"},
		},
	}
	if got, want := Text(c), "Replica bag\ncheap\nAcme\ntitle names ACME\nACME"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	if got := Text(&domain.Complaint{}); got != "" {
		t.Errorf("Text of an empty complaint = %q", got)
	}
}

// FuzzQuery: any query text yields valid, non-empty, distinct terms, and a
// complaint whose text is the query has every one of them that it can
// keep: a search always finds the text it was typed from.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"replica handbag", "高仿", "it's", `back\slash 'x' & !y | (z)`, "\xff\xfe", "ＡＣＭＥ 高仿手袋"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Query(s)
		of := Of(s)
		for i, term := range q {
			if term == "" || !utf8.ValidString(term) {
				t.Fatalf("Query(%q) term %q", s, term)
			}
			if i > 0 && q[i-1] >= term {
				t.Fatalf("Query(%q) = %q: not sorted and distinct", s, q)
			}
			if len(term) <= maxTerm {
				if _, found := slices.BinarySearch(of, term); !found {
					t.Fatalf("Query(%q) term %q not in Of = %q", s, term, of)
				}
			}
		}
	})
}
