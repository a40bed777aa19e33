package store

import (
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// testSweepSourceMigration upgrades a database that holds complaints and a
// strike pointing at one of them from the schema before source 'sweep' to
// the current one: the rows survive (on SQLite the table is rebuilt), the
// strike still points at its complaint, the foreign key still holds, and a
// sweep complaint can be stored; an unknown source is still refused.
func testSweepSourceMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	old := openBefore(t, dsn, "'sweep'")
	c := testComplaint("c_before_sweep")
	if err := insertComplaintBefore9(ctx, old, c); err != nil {
		t.Fatal(err)
	}
	// The strike as the schema of the time stored it (AddStrike now also
	// reads the seller networks of migration 14).
	if err := old.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.r.exec(ctx, `INSERT INTO strikes (seller_id, complaint_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			c.SellerID, c.ComplaintID, millis(testNow), millis(testNow.Add(time.Hour)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sw := testComplaint("c_sweep_refused")
	sw.Source = domain.SourceSweep
	if err := insertComplaintBefore9(ctx, old, sw); err == nil {
		t.Fatal("the old schema stored a sweep complaint; the test would prove nothing")
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := openStore(t, dsn)
	got, err := s.GetComplaint(ctx, c.ComplaintID)
	if err != nil || got.Body.ListingID != c.ListingID {
		t.Fatalf("complaint after the migration: %+v, %v", got, err)
	}
	strikes, err := s.SellerStrikes(ctx, c.SellerID)
	if err != nil || len(strikes) != 1 || strikes[0].ComplaintID != c.ComplaintID {
		t.Fatalf("strikes after the migration: %+v, %v", strikes, err)
	}
	sw.ComplaintID = "c_sweep"
	if ok, err := insertComplaint(ctx, s, sw); err != nil || !ok {
		t.Fatalf("insert a sweep complaint: %v %v", ok, err)
	}
	bad := testComplaint("c_robot")
	bad.Source = "robot"
	if _, err := insertComplaint(ctx, s, bad); err == nil {
		t.Error("stored a complaint of source robot")
	}
	// The indexes came back with the table.
	n := complaintIndexes(t, s)
	if n < 5 {
		t.Errorf("%d complaints indexes after the migration, want at least 5", n)
	}
	// A strike for a complaint that does not exist is still refused when
	// foreign keys are enforced (PostgreSQL always; SQLite when enabled).
	err = s.WithTx(ctx, func(tx *Tx) error {
		_, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_x", ComplaintID: "c_missing", CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)})
		return err
	})
	if s.dialect == dialectPostgres && err == nil {
		t.Error("a strike for a missing complaint was stored")
	}
}

// openBefore opens dsn at the schema just before the first migration that
// contains marker, for a test of that migration.
func openBefore(t *testing.T, dsn, marker string) *Store {
	t.Helper()
	before := -1
	for i, m := range migrations {
		if strings.Contains(m, marker) {
			before = i
			break
		}
	}
	if before < 0 {
		t.Fatalf("no migration contains %s", marker)
	}
	all := migrations
	migrations = all[:before]
	old, err := OpenOptions(t.Context(), Options{DSN: dsn, Now: func() time.Time { return testNow }})
	migrations = all
	if err != nil {
		t.Fatalf("open at schema %d: %v", before, err)
	}
	return old
}

// complaintIndexes counts the complaints table's indexes named
// complaints_*, the primary key's aside.
func complaintIndexes(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'complaints' AND name LIKE 'complaints_%'`
	if s.dialect == dialectPostgres {
		q = `SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'complaints' AND schemaname = current_schema() AND indexname LIKE 'complaints_%' AND indexname <> 'complaints_pkey'`
	}
	if err := s.reader.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
