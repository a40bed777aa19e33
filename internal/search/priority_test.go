package search

import (
	"slices"
	"testing"
	"time"
)

// TestPriorityOrder: without text, a higher priority comes before any
// score, and paging one at a time keeps that order.
func TestPriorityOrder(t *testing.T) {
	ix, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := []Doc{
		{ComplaintID: "a", Score: 0.99, CreatedAt: at, Text: "bag"},
		{ComplaintID: "b", Score: 0.10, Priority: 1, CreatedAt: at.Add(time.Hour), Text: "bag"},
		{ComplaintID: "c", Score: 0.50, Priority: 1, CreatedAt: at, Text: "bag"},
		{ComplaintID: "d", Score: 0.50, CreatedAt: at, Text: "bag"},
		{ComplaintID: "e", Score: 0.10, Priority: 1, CreatedAt: at, Text: "bag"},
	}
	if err := ix.Put(t.Context(), docs...); err != nil {
		t.Fatal(err)
	}
	want := []string{"c", "e", "b", "a", "d"}
	for _, tc := range []struct {
		name  string
		limit int
	}{{"one page", 10}, {"pages of one", 1}, {"pages of two", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			q := Query{Limit: tc.limit}
			for range len(docs) + 1 {
				p, err := ix.Search(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.IDs...)
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
		})
	}
	// Re-putting with another priority moves the document.
	docs[0].Priority = 2
	if err := ix.Put(t.Context(), docs[0]); err != nil {
		t.Fatal(err)
	}
	p, err := ix.Search(t.Context(), Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.IDs, []string{"a"}) {
		t.Errorf("after raising a's priority, first is %v", p.IDs)
	}
}
