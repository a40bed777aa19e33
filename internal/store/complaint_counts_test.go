package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// countsByKey reads complaint_counts without its zero rows.
func countsByKey(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	return readCounts(t, s, `SELECT holder_id, source, status, n FROM complaint_counts WHERE n <> 0`)
}

// countsOfTable counts the complaints table itself, the truth
// complaint_counts must equal.
func countsOfTable(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	return readCounts(t, s, `SELECT holder_id, source, status, COUNT(*) FROM complaints GROUP BY holder_id, source, status`)
}

func readCounts(t *testing.T, s *Store, q string) map[string]int64 {
	t.Helper()
	rows, err := s.read().query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var h, src, st string
		var n int64
		if err := rows.Scan(&h, &src, &st, &n); err != nil {
			t.Fatal(err)
		}
		out[h+"/"+src+"/"+st] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testComplaintCounts checks that complaint_counts follows every kind of row
// change in the same transaction (a rolled-back change leaves it alone), and
// that the stats read from it match a count of the table.
func testComplaintCounts(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	put := func(id, holder, source string) {
		c := testComplaint(id)
		c.HolderID, c.Source = holder, source
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	set := func(id, from, to string) {
		if err := s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, id, from, to, "u_1") }); err != nil {
			t.Fatal(err)
		}
	}
	put("c_1", "h_1", domain.SourceRightsHolder)
	put("c_2", "h_1", domain.SourceRightsHolder)
	put("c_3", "h_1", domain.SourceAuto)
	put("c_4", "h_2", domain.SourceRightsHolder)
	put("c_1", "h_1", domain.SourceRightsHolder) // a redelivery counts nothing
	set("c_1", ComplaintOpen, ComplaintUpheld)
	set("c_1", ComplaintUpheld, ComplaintContested)
	set("c_2", ComplaintOpen, ComplaintRejected)
	// A decision that loses the compare-and-set changes no count.
	if err := s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, "c_2", ComplaintOpen, ComplaintUpheld, "u_2") }); err == nil {
		t.Fatal("second decision on c_2 succeeded")
	}
	// A rolled-back change leaves the counts as they were.
	rollback := fmt.Errorf("roll back")
	if err := s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.SetComplaintStatus(ctx, "c_4", ComplaintOpen, ComplaintUpheld, "u_1"); err != nil {
			return err
		}
		return rollback
	}); err != rollback {
		t.Fatalf("rolled-back tx: %v", err)
	}
	want := map[string]int64{
		"h_1/rights_holder/contested": 1,
		"h_1/rights_holder/rejected":  1,
		"h_1/auto/open":               1,
		"h_2/rights_holder/open":      1,
	}
	if got := countsByKey(t, s); !maps.Equal(got, want) {
		t.Errorf("complaint_counts = %v, want %v", got, want)
	}
	if got, table := countsByKey(t, s), countsOfTable(t, s); !maps.Equal(got, table) {
		t.Errorf("complaint_counts = %v, table counts %v", got, table)
	}
	checkMarkCountsAndPeriods(t, s, "after inserts, decisions and a rollback")
	st, err := s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := map[string]int{ComplaintOpen: 2, ComplaintUpheld: 0, ComplaintRejected: 1, ComplaintContested: 1, ComplaintReinstated: 0}
	if !maps.Equal(st.ByStatus, wantStatus) {
		t.Errorf("queue stats by status = %v, want %v", st.ByStatus, wantStatus)
	}
	hs, err := s.AllHolderStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0] != (HolderDecisions{HolderID: "h_1", Decided: 2, Upheld: 1}) {
		t.Errorf("all holder stats = %+v, want h_1 2 decided 1 upheld", hs)
	}
	if d, u, err := s.HolderStats(ctx, "h_1"); err != nil || d != 2 || u != 1 {
		t.Errorf("holder stats h_1 = %d, %d, %v; want 2, 1", d, u, err)
	}
	if d, u, err := s.HolderStats(ctx, "h_2"); err != nil || d != 0 || u != 0 {
		t.Errorf("holder stats h_2 = %d, %d, %v; want 0, 0", d, u, err)
	}
}

// testComplaintCountsMigration opens a database that holds complaints at the
// schema before complaint_counts and checks that the migration fills the
// counts and the queue keys from the rows already there.
func testComplaintCountsMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, "CREATE TABLE complaint_counts") {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no migration creates complaint_counts")
	}
	all := migrations
	migrations = all[:before]
	old, err := OpenOptions(ctx, Options{DSN: dsn, Now: func() time.Time { return testNow }})
	migrations = all
	if err != nil {
		t.Fatalf("open at schema %d: %v", before, err)
	}
	for i, h := range []string{"h_1", "h_1", "h_2"} {
		c := testComplaint(fmt.Sprintf("c_%d", i))
		c.HolderID = h
		if err := insertComplaintBefore9(ctx, old, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn)
	if got, table := countsByKey(t, s), countsOfTable(t, s); len(got) != 2 || !maps.Equal(got, table) {
		t.Errorf("complaint_counts after the migration = %v, table counts %v", got, table)
	}
	// The migration's queue keys are the ones InsertComplaint writes.
	rows, err := s.read().query(ctx, `SELECT id, score, created_at, queue_key FROM complaints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, key string
		var score float64
		var created int64
		if err := rows.Scan(&id, &score, &created, &key); err != nil {
			t.Fatal(err)
		}
		if want := "1" + queueKeyRest(score, created, id); key != want {
			t.Errorf("%s: migrated queue key %q, want %q", id, key, want)
		}
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Fatalf("read %d keys: %v", n, err)
	}
}

// insertComplaintBefore9 stores c as InsertComplaint did before migration
// 9 added queue_key, for the tests that upgrade an older schema.
func insertComplaintBefore9(ctx context.Context, s *Store, c *domain.Complaint) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	now := millis(testNow)
	return s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.r.exec(ctx, `INSERT INTO complaints
			(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
			ComplaintOpen, string(body), now, now)
		return err
	})
}

// checkMarkCountsAndPeriods checks what migration 19 keeps beside the
// complaints: complaint_mark_counts, without its zero rows, equals a count
// of the table by mark and status, and on PostgreSQL every complaint's
// complaint_ids row names the period (partition) the complaint is in.
func checkMarkCountsAndPeriods(t *testing.T, s *Store, when string) {
	t.Helper()
	got := readCounts(t, s, `SELECT mark_id, '', status, n FROM complaint_mark_counts WHERE n <> 0`)
	table := readCounts(t, s, `SELECT mark_id, '', status, COUNT(*) FROM complaints GROUP BY mark_id, status`)
	if !maps.Equal(got, table) {
		t.Errorf("complaint_mark_counts %s = %v, table %v", when, got, table)
	}
	if s.dialect != dialectPostgres {
		return
	}
	var wrong, missing int
	if err := s.read().queryRow(t.Context(), `SELECT
			COUNT(*) FILTER (WHERE i.period IS DISTINCT FROM c.period),
			COUNT(*) FILTER (WHERE i.id IS NULL)
		FROM complaints c LEFT JOIN complaint_ids i ON i.id = c.id`).Scan(&wrong, &missing); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || missing != 0 {
		t.Errorf("complaint_ids %s: %d complaints with another period, %d without a row", when, wrong, missing)
	}
}
