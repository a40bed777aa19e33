package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }

// fixture is a small queue: two holders, several statuses and sources, text
// in English and Chinese.
func fixture() []Doc {
	return []Doc{
		{ComplaintID: "c1", Status: "open", Source: domain.SourceAuto, MarkID: "m_nike", HolderID: "h_nike", SellerID: "s1", ListingID: "l1", Score: 0.95, CreatedAt: t0, Text: "Nike Air Max replica shoes, cheap"},
		{ComplaintID: "c2", Status: "open", Source: domain.SourceRightsHolder, MarkID: "m_nike", HolderID: "h_nike", SellerID: "s2", ListingID: "l2", Score: 0.70, CreatedAt: t0.Add(1 * time.Hour), Text: "耐克 高仿 运动鞋 正品质量"},
		{ComplaintID: "c3", Status: "upheld", Source: domain.SourceAuto, MarkID: "m_gucci", HolderID: "h_gucci", SellerID: "s1", ListingID: "l3", Score: 0.88, CreatedAt: t0.Add(2 * time.Hour), Text: "Gucci bag replica leather"},
		{ComplaintID: "c4", Status: "rejected", Source: domain.SourceAuto, MarkID: "m_gucci", HolderID: "h_gucci", SellerID: "s3", ListingID: "l4", Score: 0.40, CreatedAt: t0.Add(3 * time.Hour), Text: "古驰高仿包包 原单"},
		{ComplaintID: "c5", Status: "contested", Source: domain.SourceRightsHolder, MarkID: "m_nike", HolderID: "h_nike", SellerID: "s3", ListingID: "l5", Score: 0.88, CreatedAt: t0.Add(4 * time.Hour), Text: "running shoes compatible with Nike laces"},
		{ComplaintID: "c6", Status: "open", Source: domain.SourceAuto, MarkID: "m_gucci", HolderID: "h_gucci", SellerID: "s2", ListingID: "l6", Score: 0.88, CreatedAt: t0.Add(1 * time.Hour), Text: "Nike and Gucci replica bundle"},
	}
}

func openFixture(t testing.TB) *Index {
	t.Helper()
	ix, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if err := ix.Put(context.Background(), fixture()...); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestSearchFilters(t *testing.T) {
	ix := openFixture(t)
	cases := []struct {
		name string
		q    Query
		want []string // in order
	}{
		{"all, score desc then created asc then id", Query{}, []string{"c1", "c6", "c3", "c5", "c2", "c4"}},
		{"status", Query{Status: []string{"open"}}, []string{"c1", "c6", "c2"}},
		{"status any of", Query{Status: []string{"upheld", "rejected"}}, []string{"c3", "c4"}},
		{"unknown status", Query{Status: []string{"nope"}}, []string{}},
		{"source", Query{Source: []string{domain.SourceRightsHolder}}, []string{"c5", "c2"}},
		{"mark", Query{MarkID: []string{"m_gucci"}}, []string{"c6", "c3", "c4"}},
		{"holder", Query{HolderID: []string{"h_nike"}}, []string{"c1", "c5", "c2"}},
		{"seller", Query{SellerID: []string{"s1", "s3"}}, []string{"c1", "c3", "c5", "c4"}},
		{"min score inclusive", Query{MinScore: ptr(0.88)}, []string{"c1", "c6", "c3", "c5"}},
		{"max score inclusive", Query{MaxScore: ptr(0.70)}, []string{"c2", "c4"}},
		{"score range", Query{MinScore: ptr(0.5), MaxScore: ptr(0.9)}, []string{"c6", "c3", "c5", "c2"}},
		{"created after inclusive", Query{CreatedAfter: t0.Add(2 * time.Hour)}, []string{"c3", "c5", "c4"}},
		{"created before exclusive", Query{CreatedBefore: t0.Add(1 * time.Hour)}, []string{"c1"}},
		{"created window", Query{CreatedAfter: t0.Add(time.Hour), CreatedBefore: t0.Add(3 * time.Hour)}, []string{"c6", "c3", "c2"}},
		{"combination", Query{Status: []string{"open", "upheld"}, SellerID: []string{"s1", "s2"}, MinScore: ptr(0.8), CreatedAfter: t0.Add(time.Minute)}, []string{"c6", "c3"}},
		{"combination holder+source+status", Query{HolderID: []string{"h_nike"}, Source: []string{domain.SourceAuto}, Status: []string{"open"}}, []string{"c1"}},
		{"empty holder matches nothing", Query{HolderID: []string{""}}, []string{}},
		{"text english", Query{Text: "replica"}, nil},
		{"text english case-insensitive, all terms", Query{Text: "GUCCI Replica"}, nil},
		{"text chinese run", Query{Text: "高仿"}, nil},
		{"text chinese longer run", Query{Text: "高仿包包"}, []string{"c4"}},
		{"text chinese single char", Query{Text: "鞋"}, []string{"c2"}},
		{"text no match", Query{Text: "adidas"}, []string{}},
		{"text with filters", Query{Text: "replica", HolderID: []string{"h_gucci"}, MinScore: ptr(0.5)}, nil},
		{"query syntax is plain text", Query{Text: "holder_id:h_gucci"}, []string{}},
	}
	// Relevance-ordered cases are compared as sets.
	sets := map[string][]string{
		"text english": {"c1", "c3", "c6"},
		"text english case-insensitive, all terms": {"c3", "c6"},
		"text chinese run":                         {"c2", "c4"},
		"text with filters":                        {"c3", "c6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ix.Search(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			got := p.IDs
			want := tc.want
			if want == nil {
				want = sets[tc.name]
				got = slices.Sorted(slices.Values(got))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if p.Total != uint64(len(want)) {
				t.Errorf("total %d, want %d", p.Total, len(want))
			}
			if p.Next != "" {
				t.Errorf("next %q on a single page", p.Next)
			}
		})
	}
}

func TestSearchBadQuery(t *testing.T) {
	ix := openFixture(t)
	cases := []struct {
		name string
		q    Query
		want error
	}{
		{"inverted score", Query{MinScore: ptr(0.9), MaxScore: ptr(0.1)}, ErrBadQuery},
		{"empty created window", Query{CreatedAfter: t0, CreatedBefore: t0}, ErrBadQuery},
		{"negative limit", Query{Limit: -1}, ErrBadQuery},
		{"garbage cursor", Query{Cursor: "!!!"}, ErrBadCursor},
		{"base64 not json", Query{Cursor: "aGVsbG8"}, ErrBadCursor},
		{"json wrong shape", Query{Cursor: "eyJ2IjoxfQ"}, ErrBadCursor},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ix.Search(context.Background(), tc.q)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCursorBoundToQuery(t *testing.T) {
	ix := openFixture(t)
	ctx := context.Background()
	p, err := ix.Search(ctx, Query{HolderID: []string{"h_gucci"}, Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("page %+v, err %v", p, err)
	}
	// The same cursor on another tenant's query is refused, not honoured.
	_, err = ix.Search(ctx, Query{HolderID: []string{"h_nike"}, Limit: 1, Cursor: p.Next})
	if !errors.Is(err, ErrBadCursor) {
		t.Fatalf("cursor of another query: err %v, want ErrBadCursor", err)
	}
	// A text query's cursor does not fit a filter query either.
	pt, err := ix.Search(ctx, Query{Text: "replica", Limit: 1})
	if err != nil || pt.Next == "" {
		t.Fatalf("page %+v, err %v", pt, err)
	}
	if _, err := ix.Search(ctx, Query{Limit: 1, Cursor: pt.Next}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("text cursor on filter query: err %v", err)
	}
	// The page size may change between pages.
	p2, err := ix.Search(ctx, Query{HolderID: []string{"h_gucci"}, Limit: 5, Cursor: p.Next})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c3", "c4"}; !slices.Equal(p2.IDs, want) || p2.Next != "" {
		t.Fatalf("second page %+v, want %v and no next", p2, want)
	}
}

// bulk makes n documents with many score and time ties so that the id
// tie-break matters.
func bulk(n int, holders int) []Doc {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"replica", "original", "cheap", "bag", "shoes", "watch", "高仿", "正品", "leather", "sale"}
	docs := make([]Doc, n)
	for i := range docs {
		docs[i] = Doc{
			ComplaintID: fmt.Sprintf("c%06d", i),
			Status:      []string{"open", "upheld", "rejected", "contested"}[r.IntN(4)],
			Source:      []string{domain.SourceAuto, domain.SourceRightsHolder}[r.IntN(2)],
			MarkID:      fmt.Sprintf("m%d", r.IntN(20)),
			HolderID:    fmt.Sprintf("h%d", r.IntN(holders)),
			SellerID:    fmt.Sprintf("s%d", r.IntN(200)),
			ListingID:   fmt.Sprintf("l%d", i),
			Score:       float64(r.IntN(10)) / 10,
			CreatedAt:   t0.Add(time.Duration(r.IntN(50)) * time.Minute),
			Text:        words[r.IntN(len(words))] + " " + words[r.IntN(len(words))] + " " + words[r.IntN(len(words))],
		}
	}
	return docs
}

// pageAll follows cursors until the end.
func pageAll(t *testing.T, ix *Index, q Query) []string {
	t.Helper()
	var ids []string
	var total uint64
	for i := 0; ; i++ {
		if i > 10000 {
			t.Fatal("paging does not end")
		}
		p, err := ix.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.IDs) > q.Limit {
			t.Fatalf("page of %d over limit %d", len(p.IDs), q.Limit)
		}
		if i == 0 {
			total = p.Total
		} else if p.Total != total {
			t.Fatalf("page %d: total %d, first page said %d", i, p.Total, total)
		}
		ids = append(ids, p.IDs...)
		if p.Next == "" {
			if uint64(len(ids)) != total {
				t.Fatalf("%d ids paged, total %d", len(ids), total)
			}
			return ids
		}
		if len(p.IDs) == 0 {
			t.Fatal("empty page with a next cursor")
		}
		q.Cursor = p.Next
	}
}

func TestPagination(t *testing.T) {
	docs := bulk(1000, 3)
	ix, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	t.Run("filter order", func(t *testing.T) {
		got := pageAll(t, ix, Query{Limit: 37})
		want := slices.Clone(docs)
		sort.Slice(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if a.Score != b.Score {
				return a.Score > b.Score
			}
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.Before(b.CreatedAt)
			}
			return a.ComplaintID < b.ComplaintID
		})
		if len(got) != len(want) {
			t.Fatalf("%d ids, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i].ComplaintID {
				t.Fatalf("position %d: %s, want %s", i, got[i], want[i].ComplaintID)
			}
		}
	})
	t.Run("text order", func(t *testing.T) {
		got := pageAll(t, ix, Query{Text: "replica", Limit: 37})
		one, err := ix.Search(context.Background(), Query{Text: "replica", Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if one.Next != "" {
			t.Fatalf("want all %d text hits in one page", one.Total)
		}
		if !slices.Equal(got, one.IDs) {
			t.Fatalf("paged order differs from one page: %d vs %d ids", len(got), len(one.IDs))
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		n := 0
		for _, d := range docs {
			if containsWord(d.Text, "replica") {
				n++
			}
		}
		if len(got) != n || n == 0 {
			t.Fatalf("%d text hits, want %d", len(got), n)
		}
	})
	t.Run("filtered with limit default", func(t *testing.T) {
		p, err := ix.Search(context.Background(), Query{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.IDs) != DefaultLimit || p.Total != 1000 || p.Next == "" {
			t.Fatalf("%d ids, total %d, next %q", len(p.IDs), p.Total, p.Next)
		}
		p, err = ix.Search(context.Background(), Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.IDs) != MaxLimit {
			t.Fatalf("%d ids, want the cap %d", len(p.IDs), MaxLimit)
		}
	})
}

func containsWord(text, w string) bool {
	for _, f := range splitSpace(text) {
		if f == w {
			return true
		}
	}
	return false
}

func splitSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func TestTenantIsolation(t *testing.T) {
	docs := bulk(600, 5)
	ix, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	holderOf := map[string]string{}
	for _, d := range docs {
		holderOf[d.ComplaintID] = d.HolderID
	}
	texts := []string{"", "replica", "高仿", "h1", "holder_id:h2", "* OR h3", `+holder_id:h0 -holder_id:h1`, "replica OR original"}
	for _, h := range []string{"h0", "h1", "h4"} {
		for _, text := range texts {
			t.Run(h+"/"+text, func(t *testing.T) {
				ids := pageAll(t, ix, Query{HolderID: []string{h}, Text: text, Limit: 97})
				for _, id := range ids {
					if holderOf[id] != h {
						t.Fatalf("holder %s sees %s of %s", h, id, holderOf[id])
					}
				}
				if text == "" {
					n := 0
					for _, d := range docs {
						if d.HolderID == h {
							n++
						}
					}
					if len(ids) != n {
						t.Fatalf("%d of own %d complaints", len(ids), n)
					}
				}
			})
		}
	}
}

func TestUpsertAndDelete(t *testing.T) {
	ix := openFixture(t)
	ctx := context.Background()
	d := fixture()[0]
	d.Status = "upheld"
	d.Text = "now about adidas"
	if err := ix.Put(ctx, d); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		q    Query
		want []string
	}{
		{"new status", Query{Status: []string{"upheld"}}, []string{"c1", "c3"}},
		{"old status gone", Query{Status: []string{"open"}}, []string{"c6", "c2"}},
		{"new text", Query{Text: "adidas"}, []string{"c1"}},
		{"old text gone", Query{Text: "Air Max"}, []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ix.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.IDs, tc.want) {
				t.Fatalf("got %v, want %v", p.IDs, tc.want)
			}
		})
	}
	if n, err := ix.Count(); err != nil || n != 6 {
		t.Fatalf("count %d, err %v; an upsert must not add a document", n, err)
	}
	if err := ix.Delete(ctx, "c1", "c3", "nope"); err != nil {
		t.Fatal(err)
	}
	p, err := ix.Search(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"c6", "c5", "c2", "c4"}; !slices.Equal(p.IDs, want) {
		t.Fatalf("after delete %v, want %v", p.IDs, want)
	}
}

func TestPutRejects(t *testing.T) {
	ix := openFixture(t)
	cases := []struct {
		name string
		d    Doc
	}{
		{"empty id", Doc{Score: 1}},
		{"NaN score", Doc{ComplaintID: "x", Score: nan()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := ix.Put(context.Background(), tc.d); !errors.Is(err, ErrBadQuery) {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestContextCancelled(t *testing.T) {
	ix := openFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Query{Text: "replica"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("search: %v", err)
	}
	if err := ix.Put(ctx, fixture()...); !errors.Is(err, context.Canceled) {
		t.Fatalf("put: %v", err)
	}
}

func TestDocFrom(t *testing.T) {
	c := &domain.Complaint{
		ComplaintID: "c9", Source: domain.SourceAuto, ListingID: "l9", MarkID: "m", HolderID: "h", SellerID: "s", Score: 0.8,
		Explanation: "brand name in title",
		Evidence: []domain.Evidence{
			{Matcher: "text", Field: "title", Match: "N1ke"},
			{Matcher: "image", Field: "images[0]", Match: "https://img.example/x.jpg"},
		},
		Listing: &domain.ListingSnapshot{Title: "N1ke shoes", Description: "高仿", Brand: "nike"},
	}
	d := DocFrom(c, "open", t0)
	want := Doc{ComplaintID: "c9", Status: "open", Source: domain.SourceAuto, MarkID: "m", HolderID: "h", SellerID: "s", ListingID: "l9", Score: 0.8, CreatedAt: t0,
		Text: "N1ke shoes\n高仿\nnike\nbrand name in title\nN1ke"}
	if d != want {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
	if d := DocFrom(&domain.Complaint{ComplaintID: "x"}, "open", t0); d.Text != "" {
		t.Fatalf("no listing: text %q", d.Text)
	}
}

func TestRebuild(t *testing.T) {
	ix := openFixture(t)
	ctx := context.Background()
	docs := bulk(1234, 3)
	err := Rebuild(ctx, ix, func(yield func(Doc) bool) error {
		for _, d := range docs {
			if !yield(d) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ix.Count()
	if err != nil || n != uint64(len(docs)) {
		t.Fatalf("count %d, err %v; want %d (fixture docs removed)", n, err, len(docs))
	}
	p, err := ix.Search(ctx, Query{Text: "Nike"})
	if err != nil || len(p.IDs) != 0 {
		t.Fatalf("stale fixture docs still found: %v %v", p.IDs, err)
	}
	boom := errors.New("store down")
	if err := Rebuild(ctx, ix, func(func(Doc) bool) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if n, _ := ix.Count(); n != uint64(len(docs)) {
		t.Fatalf("failed rebuild changed the index: %d docs", n)
	}
	stopped := 0
	cctx, cancel := context.WithCancel(ctx)
	err = Rebuild(cctx, ix, func(yield func(Doc) bool) error {
		for _, d := range docs {
			if stopped == 10 {
				cancel()
			}
			if !yield(d) {
				return nil
			}
			stopped++
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || stopped != 10 {
		t.Fatalf("cancelled rebuild: err %v after %d", err, stopped)
	}
}

func TestOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "idx")
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Put(context.Background(), fixture()...); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	p, err := ix.Search(context.Background(), Query{Text: "高仿"})
	if err != nil || len(p.IDs) != 2 {
		t.Fatalf("reopened: %v %v", p.IDs, err)
	}
}

func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"", "replica", "高仿", "holder_id:h1", "+a -b", `"phrase`, "*", "a~2", "/re.*/", "\xff\xfe", "(((", "AND OR NOT", "鞋", "耐克高仿運動鞋"} {
		f.Add(s, "")
	}
	f.Add("replica", "eyJ2IjoxLCJxIjoiIiwicyI6W119")
	ix, err := Open("")
	if err != nil {
		f.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Put(context.Background(), fixture()...); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, cur string) {
		p, err := ix.Search(context.Background(), Query{Text: text, Cursor: cur, HolderID: []string{"h_nike"}, Limit: 2})
		if err != nil {
			if cur != "" && errors.Is(err, ErrBadCursor) {
				return
			}
			t.Fatalf("text %q cursor %q: %v", text, cur, err)
		}
		for _, id := range p.IDs {
			if id != "c1" && id != "c2" && id != "c5" {
				t.Fatalf("text %q leaked %s", text, id)
			}
		}
	})
}

// BenchmarkSearch measures searches of an in-memory index of
// MARKWATCH_BENCH_SEARCH_DOCS synthetic documents (100,000 when unset),
// put in batches of 10,000, and reports each search's p95 beside the mean.
func BenchmarkSearch(b *testing.B) {
	n := 100_000
	if s := os.Getenv("MARKWATCH_BENCH_SEARCH_DOCS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("MARKWATCH_BENCH_SEARCH_DOCS=%q: want a positive number", s)
		}
	}
	ix, err := Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	start := time.Now()
	docs := bulk(n, 50)
	for chunk := range slices.Chunk(docs, 10_000) {
		if err := ix.Put(context.Background(), chunk...); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d documents in %v", n, time.Since(start).Round(time.Second))
	cases := []struct {
		name string
		q    Query
	}{
		{"all", Query{}},
		{"holder+status", Query{HolderID: []string{"h7"}, Status: []string{"open"}}},
		{"text", Query{Text: "replica leather"}},
		{"text-cjk+holder", Query{Text: "高仿", HolderID: []string{"h7"}}},
		{"score+age", Query{MinScore: ptr(0.5), CreatedAfter: t0.Add(25 * time.Minute)}},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				t := time.Now()
				if _, err := ix.Search(context.Background(), bc.q); err != nil {
					b.Fatal(err)
				}
				ds = append(ds, time.Since(t))
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// TestConcurrentUse runs upserts, deletes and searches at once; run with
// -race it checks that Index needs no outside locking.
func TestConcurrentUse(t *testing.T) {
	ix := openFixture(t)
	ctx := context.Background()
	docs := bulk(400, 3)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(docs); i += 2 {
				if err := ix.Put(ctx, docs[i]); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if err := ix.Delete(ctx, docs[i].ComplaintID); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range 50 {
				p, err := ix.Search(ctx, Query{HolderID: []string{"h1"}, Text: "replica", Limit: 7})
				if err != nil {
					errs <- err
					return
				}
				for p.Next != "" {
					if p, err = ix.Search(ctx, Query{HolderID: []string{"h1"}, Text: "replica", Limit: 7, Cursor: p.Next}); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := ix.Count()
	if want := uint64(len(fixture()) + len(docs) - len(docs)/10); err != nil || n != want {
		t.Fatalf("count %d, want %d (err %v)", n, want, err)
	}
}
