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

// matcherCounts reads complaint_matcher_counts without its zero rows.
func matcherCounts(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	return readMatcherCounts(t, s, `SELECT matcher, holder_id, source, status, n FROM complaint_matcher_counts WHERE n <> 0`)
}

// matcherCountsOfTables counts the matcher rows joined to their
// complaints, the truth complaint_matcher_counts must equal.
func matcherCountsOfTables(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	return readMatcherCounts(t, s, `SELECT m.matcher, c.holder_id, c.source, c.status, COUNT(*)
		FROM complaint_matchers m JOIN complaints c ON c.id = m.complaint_id
		GROUP BY m.matcher, c.holder_id, c.source, c.status`)
}

func readMatcherCounts(t *testing.T, s *Store, q string) map[string]int64 {
	t.Helper()
	rows, err := s.read().query(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var m, h, src, st string
		var n int64
		if err := rows.Scan(&m, &h, &src, &st, &n); err != nil {
			t.Fatal(err)
		}
		out[m+"/"+h+"/"+src+"/"+st] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// withMatchers is a test complaint whose evidence names matchers.
func withMatchers(id, holder string, matchers ...string) *domain.Complaint {
	c := testComplaint(id)
	c.HolderID, c.Evidence = holder, nil
	for _, m := range matchers {
		c.Evidence = append(c.Evidence, domain.Evidence{Matcher: m, Score: 0.5})
	}
	return c
}

// testComplaintMatcherCounts checks that the matcher rows are written once
// with the complaint and that complaint_matcher_counts follows inserts,
// redeliveries, decisions and rolled-back changes in their transactions,
// and that CountQueue's exact matcher totals read it.
func testComplaintMatcherCounts(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	for _, c := range []*domain.Complaint{
		withMatchers("c_1", "h_1", "text", "cue", "text"),
		withMatchers("c_2", "h_1", "image"),
		withMatchers("c_3", "h_2", "text", "logo"),
		withMatchers("c_4", "h_2"),
		withMatchers("c_1", "h_1", "seller"), // a redelivery adds nothing
	} {
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	set := func(id, from, to string) error {
		return s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, id, from, to, "u_1") })
	}
	if err := set("c_1", ComplaintOpen, ComplaintUpheld); err != nil {
		t.Fatal(err)
	}
	if err := set("c_3", ComplaintOpen, ComplaintRejected); err != nil {
		t.Fatal(err)
	}
	rollback := fmt.Errorf("roll back")
	if err := s.WithTx(ctx, func(tx *Tx) error {
		if err := tx.SetComplaintStatus(ctx, "c_2", ComplaintOpen, ComplaintUpheld, "u_1"); err != nil {
			return err
		}
		return rollback
	}); err != rollback {
		t.Fatalf("rolled-back tx: %v", err)
	}
	want := map[string]int64{
		"text/h_1/auto/upheld":   1,
		"cue/h_1/auto/upheld":    1,
		"image/h_1/auto/open":    1,
		"text/h_2/auto/rejected": 1,
		"logo/h_2/auto/rejected": 1,
	}
	if got := matcherCounts(t, s); !maps.Equal(got, want) {
		t.Errorf("complaint_matcher_counts = %v, want %v", got, want)
	}
	if got, table := matcherCounts(t, s), matcherCountsOfTables(t, s); !maps.Equal(got, table) {
		t.Errorf("complaint_matcher_counts = %v, tables %v", got, table)
	}
	for _, tc := range []struct {
		f    QueueFilter
		want int64
	}{
		{QueueFilter{Matcher: []string{"text"}}, 2},
		{QueueFilter{Matcher: []string{"text"}, Status: []string{ComplaintUpheld}}, 1},
		{QueueFilter{Matcher: []string{"logo"}, HolderID: []string{"h_1"}}, 0},
		{QueueFilter{Matcher: []string{"seller"}}, 0},
	} {
		if n, capped, err := s.CountQueue(ctx, tc.f); err != nil || capped || n != tc.want {
			t.Errorf("count %+v = %d capped %v (%v), want %d", tc.f, n, capped, err, tc.want)
		}
	}
}

// testComplaintMatchersMigration opens a database holding complaints at
// the schema before complaint_matchers and checks that the migration
// fills the matcher rows (with the complaints' queue keys) and their
// counts from the stored bodies.
func testComplaintMatchersMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, "CREATE TABLE complaint_matchers") {
			before = i
		}
	}
	if before < 0 {
		t.Fatal("no migration creates complaint_matchers")
	}
	all := migrations
	migrations = all[:before]
	old, err := OpenOptions(ctx, Options{DSN: dsn, Now: func() time.Time { return testNow }})
	migrations = all
	if err != nil {
		t.Fatalf("open at schema %d: %v", before, err)
	}
	for _, c := range []*domain.Complaint{
		withMatchers("c_1", "h_1", "text", "cue", "text"),
		withMatchers("c_2", "h_2", "image"),
		withMatchers("c_3", "h_2"),
	} {
		if err := insertComplaintBeforeMatchers(ctx, old, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dsn)
	want := map[string]int64{"text/h_1/auto/open": 1, "cue/h_1/auto/open": 1, "image/h_2/auto/open": 1}
	if got, table := matcherCounts(t, s), matcherCountsOfTables(t, s); !maps.Equal(got, want) || !maps.Equal(table, want) {
		t.Errorf("after the migration: counts %v, tables %v, want %v", got, table, want)
	}
	var stale int
	if err := s.read().queryRow(ctx, `SELECT COUNT(*) FROM complaint_matchers m JOIN complaints c ON c.id = m.complaint_id
		WHERE m.queue_key <> c.queue_key`).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d matcher rows with another queue key than their complaint's (%v)", stale, err)
	}
	p, err := s.ListQueue(ctx, QueueFilter{Matcher: []string{"cue"}}, "", 10)
	if err != nil || len(p.Complaints) != 1 || p.Complaints[0].Body.ComplaintID != "c_1" {
		t.Errorf("cue complaints after the migration: %+v, %v", p.Complaints, err)
	}
}

// insertComplaintBeforeMatchers stores c as InsertComplaint did at the
// schema before complaint_matchers: its id claimed in complaint_ids on
// PostgreSQL, the queue key and period written, no matcher rows.
func insertComplaintBeforeMatchers(ctx context.Context, s *Store, c *domain.Complaint) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	now := millis(testNow)
	return s.WithTx(ctx, func(tx *Tx) error {
		if tx.r.dialect == dialectPostgres {
			if _, err := tx.r.exec(ctx, `INSERT INTO complaint_ids (id) VALUES (?)`, c.ComplaintID); err != nil {
				return err
			}
		}
		_, err := tx.r.exec(ctx, `INSERT INTO complaints
			(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key, period)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
			ComplaintOpen, string(body), now, now, "1"+queueKeyRest(c.Score, now, c.ComplaintID), periodOf(now))
		return err
	})
}
