package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// clockStore opens the store at dsn on a clock the test moves.
func clockStore(t *testing.T, dsn string, clock *time.Time) *Store {
	t.Helper()
	s, err := OpenOptions(t.Context(), Options{DSN: dsn, Now: func() time.Time { return *clock }})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// upholdBeforeSchema19 upholds the open complaint id as SetComplaintStatus
// did before migration 19, whose complaint_ids.period it now reads.
func upholdBeforeSchema19(ctx context.Context, tx *Tx, id, actor string) error {
	now := millis(tx.now)
	_, err := tx.r.exec(ctx, `UPDATE complaints SET status = ?, updated_at = ?, decided_at = ?, decided_by = ?
		WHERE id = ? AND status = ?`, ComplaintUpheld, now, now, actor, id, ComplaintOpen)
	return err
}

// insertComplaintAt12 stores c as InsertComplaint did at schema 12, before
// periods and complaint_ids, arriving at created.
func insertComplaintAt12(ctx context.Context, s *Store, c *domain.Complaint, created time.Time) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	at := millis(created)
	return s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.r.exec(ctx, `INSERT INTO complaints
			(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
			ComplaintOpen, string(body), at, at, "1"+queueKeyRest(c.Score, at, c.ComplaintID))
		return err
	})
}

// queueIDs pages through the whole queue of f, limit at a time, and
// returns the ids in the order the pages gave them.
func queueIDs(t *testing.T, s *Store, f QueueFilter, limit int) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		page, err := s.ListQueue(t.Context(), f, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Complaints {
			ids = append(ids, c.Body.ComplaintID)
		}
		if page.After == "" {
			return ids
		}
		after = page.After
	}
}

// months are arrival times in three months, for the tests that spread
// complaints over partitions.
var months = []time.Time{
	time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC),
	time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC),
	time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
}

// testPartitionMigration upgrades a schema-12 database holding complaints
// of three months, a decision, a strike, a counter-notice, a claim, a
// message and audit entries of two months: on PostgreSQL the rows land in
// the partitions of their months, everything reads as before (queue order,
// counts, audit ids), the foreign keys to complaint ids still hold, an id
// stored before the migration is still refused, and new audit ids carry on
// from the old ones. complaints_queue is gone on both.
func testPartitionMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, "complaint_ids") {
			before = i
			break
		}
	}
	if before < 0 {
		t.Fatal("no migration partitions complaints")
	}
	all := migrations
	migrations = all[:before]
	clock := months[0]
	old, err := OpenOptions(ctx, Options{DSN: dsn, Now: func() time.Time { return clock }})
	migrations = all
	if err != nil {
		t.Fatalf("open at schema %d: %v", before, err)
	}
	var ids []string
	for i := range 9 {
		c := testComplaint(fmt.Sprintf("c_m%d", i))
		c.Score = 0.5 + float64(i%4)/10
		c.HolderID = []string{"h_1", "h_2"}[i%2]
		if err := insertComplaintAt12(ctx, old, c, months[i%3].Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ComplaintID)
	}
	var auditBefore []AuditEntry
	for i, at := range []time.Time{months[0], months[2]} {
		clock = at
		err := old.WithTx(ctx, func(tx *Tx) error {
			if i == 0 {
				if err := upholdBeforeSchema19(ctx, tx, "c_m0", "u_1"); err != nil {
					return err
				}
				if _, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_9", ComplaintID: "c_m0", CreatedAt: at, ExpiresAt: at.AddDate(1, 0, 0)}); err != nil {
					return err
				}
				if _, err := tx.FileCounterNotice(ctx, CounterNotice{ComplaintID: "c_m0", Actor: "u_m", FiledAt: at, ReinstateAt: at.AddDate(0, 0, 14)}); err != nil {
					return err
				}
				if _, err := tx.ClaimComplaint(ctx, "c_m1", "u_1", at.Add(time.Hour)); err != nil {
					return err
				}
				if _, err := tx.AddMessage(ctx, Message{ComplaintID: "c_m1", Author: "holder", Actor: "u_h", Body: "hello"}); err != nil {
					return err
				}
			}
			e, err := tx.AppendAudit(ctx, AuditEntry{Actor: "u_1", Action: "test", ObjectType: "complaint", ObjectID: "c_m0"})
			auditBefore = append(auditBefore, e)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wantOrder := queueIDs(t, old, QueueFilter{}, 4)
	wantStats, err := old.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	clock = months[2]
	s := clockStore(t, dsn, &clock)
	if got := queueIDs(t, s, QueueFilter{}, 4); !slices.Equal(got, wantOrder) {
		t.Errorf("queue after the migration %v, before %v", got, wantOrder)
	}
	if got := queueIDs(t, s, QueueFilter{Status: []string{ComplaintOpen}}, 2); len(got) != 8 {
		t.Errorf("open queue after the migration has %d complaints, want 8", len(got))
	}
	if got, err := s.QueueStats(ctx); err != nil || !maps.Equal(got.ByStatus, wantStats.ByStatus) {
		t.Errorf("queue stats after the migration %v (%v), before %v", got.ByStatus, err, wantStats.ByStatus)
	}
	if got, table := countsByKey(t, s), countsOfTable(t, s); !maps.Equal(got, table) {
		t.Errorf("complaint_counts after the migration = %v, table counts %v", got, table)
	}
	checkMarkCountsAndPeriods(t, s, "after the migrations")
	for _, id := range ids {
		c, err := s.GetComplaint(ctx, id)
		if err != nil || c.Body.ComplaintID != id {
			t.Errorf("get %s after the migration: %+v, %v", id, c, err)
		}
	}
	if ok, err := insertComplaint(ctx, s, testComplaint("c_m4")); err != nil || ok {
		t.Errorf("re-insert of a migrated complaint: inserted %v, %v; want false", ok, err)
	}
	if strikes, err := s.SellerStrikes(ctx, "s_9"); err != nil || len(strikes) != 1 || strikes[0].ComplaintID != "c_m0" {
		t.Errorf("strikes after the migration: %+v, %v", strikes, err)
	}
	if cn, err := s.GetCounterNotice(ctx, "c_m0"); err != nil || cn.State != CounterNoticeWaiting {
		t.Errorf("counter-notice after the migration: %+v, %v", cn, err)
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		got, err := tx.AuditLog(ctx, AuditQuery{ObjectType: "complaint", ObjectID: "c_m0"})
		if err != nil {
			return err
		}
		if len(got) != 2 || got[0].ID != auditBefore[0].ID || got[1].ID != auditBefore[1].ID {
			t.Errorf("audit after the migration %+v, before %+v", got, auditBefore)
		}
		e, err := tx.AppendAudit(ctx, AuditEntry{Actor: "u_1", Action: "test", ObjectType: "complaint", ObjectID: "c_m1"})
		if err == nil && e.ID <= auditBefore[1].ID {
			t.Errorf("audit id after the migration %d, not above %d", e.ID, auditBefore[1].ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		_, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_x", ComplaintID: "c_missing", CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)})
		return err
	})
	if s.dialect == dialectPostgres && err == nil {
		t.Error("a strike for a missing complaint was stored")
	}
	if s.dialect == dialectPostgres {
		counts := map[string]int{}
		rows, err := s.read().query(ctx, `SELECT tableoid::regclass::text, COUNT(*) FROM complaints GROUP BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			counts[name[strings.LastIndex(name, ".")+1:]] = n
		}
		rows.Close()
		if want := map[string]int{"complaints_p202601": 3, "complaints_p202602": 3, "complaints_p202603": 3}; !maps.Equal(counts, want) {
			t.Errorf("complaints by partition %v, want %v", counts, want)
		}
	}
	if has := indexExists(t, s, "complaints_queue"); has {
		t.Error("complaints_queue is still there")
	}
}

// indexExists tells whether the store has an index of that name.
func indexExists(t *testing.T, s *Store, name string) bool {
	t.Helper()
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?`
	if s.dialect == dialectPostgres {
		q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?`
	}
	var n int
	if err := s.read().queryRow(t.Context(), q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// testPartitionCreation checks that opening makes the coming months'
// partitions, that EnsurePartitions adds months ahead once, and that a
// write in a month nobody prepared makes its own (PostgreSQL); on SQLite
// there is nothing to make and the same writes work.
func testPartitionCreation(t *testing.T, dsn string) {
	ctx := t.Context()
	clock := months[2]
	s := clockStore(t, dsn, &clock)
	periodsOf := func(table string) []int {
		parts, err := s.Partitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []int
		for _, p := range parts {
			if p.Table == table {
				out = append(out, p.Period)
			}
		}
		return out
	}
	pg := s.dialect == dialectPostgres
	// The migration also made the month of the database's own clock.
	if got := periodsOf("complaints"); pg && !(slices.Contains(got, 0) && slices.Contains(got, 202603) &&
		slices.Contains(got, 202604) && slices.Contains(got, 202605) && !slices.Contains(got, 202606)) ||
		!pg && len(got) != 0 {
		t.Errorf("complaint partitions after open: %v", got)
	}
	n, err := s.EnsurePartitions(ctx, clock, 5)
	if err != nil || pg && n != 2 || !pg && n != 0 {
		t.Errorf("EnsurePartitions 5 months = %d, %v; want 2 on PostgreSQL, 0 on SQLite", n, err)
	}
	if n, err := s.EnsurePartitions(ctx, clock, 5); err != nil || n != 0 {
		t.Errorf("EnsurePartitions again = %d, %v; want 0", n, err)
	}
	clock = time.Date(2027, 11, 30, 23, 59, 0, 0, time.UTC)
	if ok, err := insertComplaint(ctx, s, testComplaint("c_later")); err != nil || !ok {
		t.Fatalf("insert in a month without partitions: %v, %v", ok, err)
	}
	if got := periodsOf("audit_log"); pg && !slices.Contains(got, 202711) {
		t.Errorf("audit partitions after a write in 2027-11: %v", got)
	}
	if c, err := s.GetComplaint(ctx, "c_later"); err != nil || c.CreatedAt.Month() != time.November {
		t.Errorf("complaint of 2027-11: %+v, %v", c, err)
	}
	if ok, err := insertComplaint(ctx, s, testComplaint("c_later")); err != nil || ok {
		t.Errorf("second insert of c_later: %v, %v; want false", ok, err)
	}
	// Another month, the same id: still one complaint, whatever partition
	// the second arrival would have gone to.
	clock = clock.AddDate(0, 2, 0)
	if ok, err := insertComplaint(ctx, s, testComplaint("c_later")); err != nil || ok {
		t.Errorf("insert of c_later two months on: %v, %v; want false", ok, err)
	}
}

// testQueueAcrossPartitions spreads complaints whose scores interleave over
// three months and checks that every page of the queue, with and without a
// filter, follows queue order across the partitions, as one sorted list of
// queue keys says it must.
func testQueueAcrossPartitions(t *testing.T, dsn string) {
	ctx := t.Context()
	clock := months[0]
	s := clockStore(t, dsn, &clock)
	type row struct{ id, key, status string }
	var rows []row
	for i := range 30 {
		clock = months[i%3].Add(time.Duration(i) * time.Second)
		c := testComplaint(fmt.Sprintf("c_q%02d", i))
		c.Score = 0.4 + float64((i*7)%10)/20
		if ok, err := insertComplaint(ctx, s, c); err != nil || !ok {
			t.Fatalf("insert %s: %v %v", c.ComplaintID, ok, err)
		}
		status := ComplaintOpen
		if i%4 == 0 {
			status = ComplaintRejected
			if err := s.WithTx(ctx, func(tx *Tx) error {
				return tx.SetComplaintStatus(ctx, c.ComplaintID, ComplaintOpen, status, "u_1")
			}); err != nil {
				t.Fatal(err)
			}
		}
		rows = append(rows, row{c.ComplaintID, "1" + queueKeyRest(c.Score, millis(clock), c.ComplaintID), status})
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
	var all, open []string
	for _, r := range rows {
		all = append(all, r.id)
		if r.status == ComplaintOpen {
			open = append(open, r.id)
		}
	}
	for _, limit := range []int{1, 4, 7, 50} {
		if got := queueIDs(t, s, QueueFilter{}, limit); !slices.Equal(got, all) {
			t.Errorf("queue in pages of %d: %v, want %v", limit, got, all)
		}
		if got := queueIDs(t, s, QueueFilter{Status: []string{ComplaintOpen}}, limit); !slices.Equal(got, open) {
			t.Errorf("open queue in pages of %d: %v, want %v", limit, got, open)
		}
	}
}
