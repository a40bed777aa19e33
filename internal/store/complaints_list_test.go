package store

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// testComplaintList covers EachComplaint (order, paging past one page,
// since, early stop), QueueStats and AllHolderStats.
func testComplaintList(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	const n = eachComplaintPage + 30
	for i := range n {
		c := testComplaint(fmt.Sprintf("c_%04d", i))
		if i%2 == 0 {
			c.HolderID, c.Source = "h_2", domain.SourceRightsHolder
		}
		if err := s.WithTx(ctx, func(tx *Tx) error {
			_, err := tx.InsertComplaint(ctx, c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			clock.Add(time.Second)
		}
	}
	empty, err := s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty.ByStatus[ComplaintOpen] != n || empty.ByStatus[ComplaintUpheld] != 0 || !empty.OldestOpen.Equal(testNow) {
		t.Errorf("queue stats = %+v, want %d open, oldest %v", empty, n, testNow)
	}
	var ids []string
	if err := s.EachComplaint(ctx, time.Time{}, func(c Complaint) bool {
		ids = append(ids, c.Body.ComplaintID)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != n || ids[0] != "c_0000" || ids[n-1] != fmt.Sprintf("c_%04d", n-1) {
		t.Fatalf("each: %d ids from %v to %v, want %d in insertion order", len(ids), ids[0], ids[len(ids)-1], n)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("each: %s twice", id)
		}
		seen[id] = true
	}

	// Decide two; only they are updated after the clock moves.
	clock.Add(time.Hour)
	later := clock.Now()
	for id, to := range map[string]string{"c_0000": ComplaintUpheld, "c_0002": ComplaintRejected} {
		if err := s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, id, ComplaintOpen, to, "u_1") }); err != nil {
			t.Fatal(err)
		}
	}
	var recent []string
	if err := s.EachComplaint(ctx, later, func(c Complaint) bool {
		recent = append(recent, c.Body.ComplaintID+"="+c.Status)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"c_0000=upheld", "c_0002=rejected"}; !reflect.DeepEqual(recent, want) {
		t.Errorf("each since %v = %v, want %v", later, recent, want)
	}
	calls := 0
	if err := s.EachComplaint(ctx, time.Time{}, func(Complaint) bool { calls++; return calls < 3 }); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("each stopped after %d calls, want 3", calls)
	}

	st, err := s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ComplaintOpen: n - 2, ComplaintUpheld: 1, ComplaintRejected: 1, ComplaintContested: 0, ComplaintReinstated: 0}
	if !reflect.DeepEqual(st.ByStatus, want) {
		t.Errorf("by status = %v, want %v", st.ByStatus, want)
	}
	hs, err := s.AllHolderStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// c_0000 and c_0002 are h_2's manual complaints; h_1's are automatic.
	if wantH := []HolderDecisions{{HolderID: "h_2", Decided: 2, Upheld: 1}}; !reflect.DeepEqual(hs, wantH) {
		t.Errorf("all holder stats = %+v, want %+v", hs, wantH)
	}
}

// testBusiestMarks covers BusiestMarks: the n marks with the most open
// complaints, most first, ties by id, with their other statuses counted.
func testBusiestMarks(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if got, err := s.BusiestMarks(ctx, 3); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	// m_a: 3 open, 1 upheld; m_b: 3 open; m_c: 1 open; m_d: only decided.
	for i, mark := range []string{"m_a", "m_a", "m_a", "m_a", "m_b", "m_b", "m_b", "m_c", "m_d"} {
		c := testComplaint(fmt.Sprintf("c_%d", i))
		c.MarkID = mark
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"c_3", "c_8"} {
		if err := s.WithTx(ctx, func(tx *Tx) error {
			return tx.SetComplaintStatus(ctx, id, ComplaintOpen, ComplaintUpheld, "reviewer")
		}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.BusiestMarks(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MarkID != "m_a" || got[1].MarkID != "m_b" {
		t.Fatalf("busiest = %+v, want m_a then m_b", got)
	}
	if a := got[0].ByStatus; a[ComplaintOpen] != 3 || a[ComplaintUpheld] != 1 || a[ComplaintRejected] != 0 || len(a) != 5 {
		t.Errorf("m_a by status = %v, want 3 open, 1 upheld, every status present", a)
	}
	if b := got[1].ByStatus; b[ComplaintOpen] != 3 || b[ComplaintUpheld] != 0 {
		t.Errorf("m_b by status = %v", b)
	}
}
