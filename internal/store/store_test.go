package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/markwatch/markwatch/internal/domain"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testNow is the fake clock of every store the suite opens.
var testNow = time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

// TestSQLite runs the suite on a SQLite file per case.
func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "markwatch.db")
	})
}

// TestPostgres runs the suite on PostgreSQL, in a schema of its own per case
// that is dropped afterwards. It needs MARKWATCH_POSTGRES_URL (see
// scripts/postgres.sh).
func TestPostgres(t *testing.T) {
	base := os.Getenv("MARKWATCH_POSTGRES_URL")
	if base == "" {
		if os.Getenv("MARKWATCH_REQUIRE_INTEGRATION") != "" {
			t.Fatal("MARKWATCH_POSTGRES_URL is not set and MARKWATCH_REQUIRE_INTEGRATION is: " +
				"run scripts/postgres.sh start && eval \"$(scripts/postgres.sh env)\"")
		}
		t.Skip("MARKWATCH_POSTGRES_URL is not set; run scripts/postgres.sh start && eval \"$(scripts/postgres.sh env)\"")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", redact(base), err)
	}
	t.Cleanup(func() { admin.Close() })
	if err := admin.PingContext(t.Context()); err != nil {
		t.Fatalf("connect to %s: %v (is scripts/postgres.sh start running?)", redact(base), err)
	}
	runSuite(t, func(t *testing.T) string {
		schema := "markwatch_test_" + randomHex(t, 8)
		if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			// t.Context is done by now.
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse MARKWATCH_POSTGRES_URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
		u.RawQuery = q.Encode()
		return u.String()
	})
}

// TestSQLiteMemory checks that an in-memory database, with its single
// connection, works for writes and for reads inside and outside transactions.
func TestSQLiteMemory(t *testing.T) {
	s := openStore(t, "sqlite::memory:")
	ctx := t.Context()
	c := testComplaint("c_mem")
	if err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.InsertComplaint(ctx, c); err != nil {
			return err
		}
		_, err := tx.GetComplaint(ctx, c.ComplaintID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetComplaint(ctx, c.ComplaintID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body.ListingID != c.ListingID {
		t.Errorf("listing id %q, want %q", got.Body.ListingID, c.ListingID)
	}
}

func TestOpenBadDSN(t *testing.T) {
	for _, tc := range []struct{ name, dsn string }{
		{"empty", ""},
		{"unknown scheme", "mysql://x"},
		{"key value dsn", "host=db password=secret"},
		{"sqlite without path", "sqlite:"},
		{"sqlite path with query", "sqlite:/tmp/x.db?mode=ro"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(t.Context(), tc.dsn)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// runSuite is the store's conformance suite: every database runs it.
// newDSN returns the DSN of a fresh, empty database (or schema) for each call.
func runSuite(t *testing.T, newDSN func(t *testing.T) string) {
	cases := []struct {
		name string
		run  func(t *testing.T, dsn string)
	}{
		{"migrations are idempotent", testMigrationsIdempotent},
		{"newer schema is refused", testNewerSchema},
		{"holders", testHolders},
		{"users", testUsers},
		{"complaint insert or ignore", testComplaintInsertOrIgnore},
		{"not found", testNotFound},
		{"concurrent inserts of one complaint", testConcurrentInsert},
		{"concurrent decisions on one complaint", testConcurrentDecisions},
		{"audit and outbox roll back with the change", testAtomicity},
		{"panic in a transaction rolls back", testPanicRollsBack},
		{"outbox", testOutbox},
		{"sellers", testSellers},
		{"strikes", testStrikes},
		{"counter-notices", testCounterNotices},
		{"outbox claims and leases", testClaimEvents},
		{"concurrent claims take disjoint events", testConcurrentClaims},
		{"holder stats", testHolderStats},
		{"seller lock serializes strike counting", testLockSeller},
		{"marks", testMarks},
		{"complaint listing and queue stats", testComplaintList},
		{"console logins, sessions and claims", testConsole},
		{"busiest marks", testBusiestMarks},
		{"sweep source migration", testSweepSourceMigration},
		{"calibration complaints", testCalibrationComplaints},
		{"mark threshold", testMarkThreshold},
		{"buyer reports", testBuyerReports},
		{"complaint counts follow the rows", testComplaintCounts},
		{"complaint counts migration fills from the rows", testComplaintCountsMigration},
		{"review queue keyset pages", testListQueue},
		{"complaint matcher counts follow the rows", testComplaintMatcherCounts},
		{"complaint matchers migration fills from the rows", testComplaintMatchersMigration},
		{"bulk load of complaints", testLoadComplaints},
		{"partition migration keeps the data", testPartitionMigration},
		{"partitions are created ahead and on demand", testPartitionCreation},
		{"queue order across partitions", testQueueAcrossPartitions},
		{"retention", testRetention},
		{"bulk load without the complaints indexes", testLoadWithoutIndexes},
		{"negative bank", testNegativeBank},
		{"complaint rates and mark quarantines", testComplaintRatesAndQuarantines},
		{"seller networks", testSellerNetworks},
		{"concurrent seller links", testConcurrentLinks},
		{"buyer source migration", testBuyerSourceMigration},
		{"full-text search in the store", testTextSearch},
		{"audit and outbox written at commit (DeferLog)", testDeferLog},
		{"a decision's combined reads and writes", testDecisionReads},
		{"full-text search equals the search index's matches", testTextSearchEqualsIDs},
		{"terms migration fills from the rows", testTermsMigration},
		{"a decision is a HOT update, status lists read complaint_status", testHOTDecision},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newDSN(t)) })
	}
}

func openStore(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := OpenOptions(t.Context(), Options{DSN: dsn, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func testMigrationsIdempotent(t *testing.T, dsn string) {
	openStore(t, dsn)
	s := openStore(t, dsn) // a second Open finds nothing to do
	var rows, max int
	if err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&rows, &max); err != nil {
		t.Fatal(err)
	}
	if rows != SchemaVersion() || max != SchemaVersion() {
		t.Errorf("schema_version has %d rows up to %d, want %d up to %d", rows, max, SchemaVersion(), SchemaVersion())
	}
	for _, table := range []string{"holders", "users", "marks", "complaints", "audit_log", "outbox", "sellers", "strikes", "counter_notices"} {
		var n int
		if err := s.reader.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			t.Errorf("table %s: %v", table, err)
		}
	}
}

func testNewerSchema(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	if err := s.WithTx(t.Context(), func(tx *Tx) error {
		_, err := tx.r.exec(t.Context(), `INSERT INTO schema_version (version, applied_at) VALUES (?, 0)`, SchemaVersion()+1)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), dsn)
	if err == nil {
		s2.Close()
		t.Fatal("opened a database whose schema is newer than the build")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}

func testHolders(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	var generated, chosen Holder
	err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		if generated, err = tx.CreateHolder(ctx, Holder{Name: "Acme"}); err != nil {
			return err
		}
		chosen, err = tx.CreateHolder(ctx, Holder{ID: "h_acme2", Name: "Acme Two"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(generated.ID, "h_") || generated.ID == chosen.ID {
		t.Errorf("generated id %q", generated.ID)
	}
	for _, want := range []Holder{generated, chosen} {
		got, err := s.GetHolder(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if !got.CreatedAt.Equal(testNow) {
			t.Errorf("created at %v, want %v", got.CreatedAt, testNow)
		}
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.CreateHolder(ctx, Holder{ID: "h_acme2", Name: "again"})
		return err
	})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate holder: %v, want ErrConflict", err)
	}
}

func testUsers(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if err := s.WithTx(ctx, func(tx *Tx) error {
		_, err := tx.CreateHolder(ctx, Holder{ID: "h_1", Name: "Acme"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	create := func(u User, hash string) (User, error) {
		var out User
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			out, err = tx.CreateUser(ctx, u, hash)
			return err
		})
		return out, err
	}
	admin, err := create(User{Name: "root", Role: RoleAdmin}, "hash-admin")
	if err != nil {
		t.Fatal(err)
	}
	owner, err := create(User{ID: "u_owner", Name: "acme legal", Role: RoleBrandOwner, HolderID: "h_1"}, "hash-owner")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hash string
		want User
	}{
		{"hash-admin", admin},
		{"hash-owner", owner},
	} {
		got, err := s.UserByTokenHash(ctx, tc.hash)
		if err != nil {
			t.Fatalf("by token %s: %v", tc.hash, err)
		}
		if got != tc.want {
			t.Errorf("by token %s: got %+v, want %+v", tc.hash, got, tc.want)
		}
	}
	if got, err := s.GetUser(ctx, "u_owner"); err != nil || got != owner {
		t.Errorf("GetUser: %+v, %v; want %+v", got, err, owner)
	}

	for _, tc := range []struct {
		name    string
		user    User
		hash    string
		wantErr error // nil means any error
	}{
		{"unknown role", User{Name: "x", Role: "root"}, "h1", nil},
		{"admin with a holder", User{Name: "x", Role: RoleAdmin, HolderID: "h_1"}, "h2", nil},
		{"reviewer with a holder", User{Name: "x", Role: RoleReviewer, HolderID: "h_1"}, "h3", nil},
		{"brand owner without a holder", User{Name: "x", Role: RoleBrandOwner}, "h4", nil},
		{"brand owner of an unknown holder", User{Name: "x", Role: RoleBrandOwner, HolderID: "h_nope"}, "h5", ErrNotFound},
		{"empty token hash", User{Name: "x", Role: RoleReviewer}, "", nil},
		{"duplicate token hash", User{Name: "x", Role: RoleReviewer}, "hash-admin", ErrConflict},
		{"duplicate id", User{ID: "u_owner", Name: "x", Role: RoleMarketplace}, "h6", ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := create(tc.user, tc.hash)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d users (%v), want 2: a refused user was stored", n, err)
	}
}

func testComplaint(id string) *domain.Complaint {
	return &domain.Complaint{
		SchemaVersion:  domain.SchemaVersion,
		ComplaintID:    id,
		Source:         domain.SourceAuto,
		ListingID:      "l_1",
		ListingVersion: 3,
		MarkID:         "m_acme",
		HolderID:       "h_1",
		SellerID:       "s_9",
		Score:          0.91,
		Explanation:    "title contains ACME (leet)",
		Evidence:       []domain.Evidence{{Matcher: "text", Score: 0.91, Field: "title", Match: "4CME", Kind: "leet"}},
		RuleVersion:    "r1",
		CreatedAt:      time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Listing:        &domain.ListingSnapshot{Title: "4CME bag", Price: &domain.Money{Amount: "9.99", Currency: "EUR"}},
	}
}

func insertComplaint(ctx context.Context, s *Store, c *domain.Complaint) (bool, error) {
	var inserted bool
	err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		inserted, err = tx.InsertComplaint(ctx, c)
		return err
	})
	return inserted, err
}

func testComplaintInsertOrIgnore(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	first := testComplaint("c_1")
	inserted, err := insertComplaint(ctx, s, first)
	if err != nil || !inserted {
		t.Fatalf("first insert: inserted=%v err=%v", inserted, err)
	}
	// A redelivery with a different body must not overwrite the first.
	again := testComplaint("c_1")
	again.Score = 0.5
	inserted, err = insertComplaint(ctx, s, again)
	if err != nil || inserted {
		t.Fatalf("second insert: inserted=%v err=%v, want false, nil", inserted, err)
	}
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM complaints`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d complaints (%v), want 1", n, err)
	}
	got, err := s.GetComplaint(ctx, "c_1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got.Body, first) {
		t.Errorf("body\n got %+v\nwant %+v", got.Body, *first)
	}
	if got.Status != ComplaintOpen || !got.CreatedAt.Equal(testNow) || !got.UpdatedAt.Equal(testNow) ||
		!got.DecidedAt.IsZero() || got.DecidedBy != "" {
		t.Errorf("review state %+v", got)
	}
	var score float64
	if err := s.reader.QueryRowContext(ctx, `SELECT score FROM complaints WHERE id = 'c_1'`).Scan(&score); err != nil || score != 0.91 {
		t.Errorf("score column %v (%v), want 0.91", score, err)
	}
}

func testNotFound(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"complaint", func() error { _, err := s.GetComplaint(ctx, "c_nope"); return err }},
		{"holder", func() error { _, err := s.GetHolder(ctx, "h_nope"); return err }},
		{"user", func() error { _, err := s.GetUser(ctx, "u_nope"); return err }},
		{"user by token", func() error { _, err := s.UserByTokenHash(ctx, "nope"); return err }},
		{"status of a missing complaint", func() error {
			return s.WithTx(ctx, func(tx *Tx) error {
				return tx.SetComplaintStatus(ctx, "c_nope", ComplaintOpen, ComplaintUpheld, "u_1")
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, ErrNotFound) {
				t.Errorf("error %v, want ErrNotFound", err)
			}
		})
	}
}

// runConcurrently calls fn from n goroutines released at once and returns
// their results.
func runConcurrently[T any](n int, fn func() T) []T {
	out := make([]T, n)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			out[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return out
}

func testConcurrentInsert(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	type result struct {
		inserted bool
		err      error
	}
	results := runConcurrently(8, func() result {
		inserted, err := insertComplaint(ctx, s, testComplaint("c_race"))
		return result{inserted, err}
	})
	wins := 0
	for _, r := range results {
		if r.err != nil {
			t.Errorf("insert: %v", r.err)
		}
		if r.inserted {
			wins++
		}
	}
	if wins != 1 {
		t.Errorf("%d inserts reported inserted=true, want exactly 1", wins)
	}
}

func testConcurrentDecisions(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := insertComplaint(ctx, s, testComplaint("c_decide")); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		next   int
		winner string
	)
	errs := runConcurrently(8, func() error {
		mu.Lock()
		next++
		reviewer := "u_reviewer" + string(rune('0'+next))
		mu.Unlock()
		// Read, then write, as a decision handler does: on SQLite this is
		// what a deferred transaction cannot upgrade under contention.
		err := s.WithTx(ctx, func(tx *Tx) error {
			if _, err := tx.GetComplaint(ctx, "c_decide"); err != nil {
				return err
			}
			return tx.SetComplaintStatus(ctx, "c_decide", ComplaintOpen, ComplaintUpheld, reviewer)
		})
		if err == nil {
			mu.Lock()
			winner = reviewer
			mu.Unlock()
		}
		return err
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrConflict):
			t.Errorf("decision: %v, want nil or ErrConflict", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d decisions won, want exactly 1", wins)
	}
	got, err := s.GetComplaint(ctx, "c_decide")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ComplaintUpheld || got.DecidedBy != winner || !got.DecidedAt.Equal(testNow) {
		t.Errorf("after the decision: status %s by %q at %v; want upheld by %q at %v",
			got.Status, got.DecidedBy, got.DecidedAt, winner, testNow)
	}
}

// change inserts a complaint, decides it and records the audit entry and the
// outbox event of the decision, all in tx.
func change(ctx context.Context, tx *Tx, id string) error {
	if _, err := tx.InsertComplaint(ctx, testComplaint(id)); err != nil {
		return err
	}
	if err := tx.SetComplaintStatus(ctx, id, ComplaintOpen, ComplaintUpheld, "u_rev"); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, AuditEntry{
		Actor: "u_rev", Action: "complaint.uphold", ObjectType: "complaint", ObjectID: id,
		Detail: json.RawMessage(`{"reason":"counterfeit"}`),
	}); err != nil {
		return err
	}
	_, err := tx.EnqueueEvent(ctx, OutboxEvent{
		EventID: "takedown-" + id, Topic: "takedowns", Key: "l_1", Payload: json.RawMessage(`{"listing_id":"l_1"}`),
	})
	return err
}

func testAtomicity(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.WithTx(ctx, func(tx *Tx) error {
		if err := change(ctx, tx, "c_rolled_back"); err != nil {
			return err
		}
		// Inside the transaction the change and its entry are visible.
		entries, err := tx.AuditLog(ctx, AuditQuery{ObjectID: "c_rolled_back"})
		if err != nil || len(entries) != 1 {
			t.Errorf("inside the transaction: %d audit entries (%v), want 1", len(entries), err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithTx returned %v, want the function's error", err)
	}
	if _, err := s.GetComplaint(ctx, "c_rolled_back"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rolled-back complaint: %v, want ErrNotFound", err)
	}
	assertLog(t, s, nil)

	if err := s.WithTx(ctx, func(tx *Tx) error { return change(ctx, tx, "c_committed") }); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetComplaint(ctx, "c_committed")
	if err != nil || got.Status != ComplaintUpheld {
		t.Fatalf("committed complaint: %+v, %v", got, err)
	}
	assertLog(t, s, []string{"c_committed"})
}

// assertLog checks that the audit log and the outbox hold exactly the
// entries and events change writes for ids.
func assertLog(t *testing.T, s *Store, ids []string) {
	t.Helper()
	entries, err := s.AuditLog(t.Context(), AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.PendingEvents(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(ids) || len(events) != len(ids) {
		t.Fatalf("%d audit entries and %d events, want %d of each", len(entries), len(events), len(ids))
	}
	for i, id := range ids {
		e := entries[i]
		if e.ObjectID != id || e.Actor != "u_rev" || e.Action != "complaint.uphold" || !e.At.Equal(testNow) ||
			string(e.Detail) != `{"reason":"counterfeit"}` || e.ID <= 0 {
			t.Errorf("audit entry %+v", e)
		}
		if ev := events[i]; ev.EventID != "takedown-"+id || string(ev.Payload) != `{"listing_id":"l_1"}` {
			t.Errorf("event %+v", ev)
		}
	}
}

func testPanicRollsBack(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not propagate")
			}
		}()
		_ = s.WithTx(ctx, func(tx *Tx) error {
			if _, err := tx.InsertComplaint(ctx, testComplaint("c_panic")); err != nil {
				t.Error(err)
			}
			panic("handler bug")
		})
	}()
	if _, err := s.GetComplaint(ctx, "c_panic"); !errors.Is(err, ErrNotFound) {
		t.Errorf("complaint of the panicked transaction: %v, want ErrNotFound", err)
	}
	// The writer connection came back: a new transaction does not wait.
	if inserted, err := insertComplaint(ctx, s, testComplaint("c_panic")); err != nil || !inserted {
		t.Errorf("insert after the panic: %v, %v", inserted, err)
	}
}

func testOutbox(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	enqueue := func(e OutboxEvent) (OutboxEvent, error) {
		var out OutboxEvent
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			out, err = tx.EnqueueEvent(ctx, e)
			return err
		})
		return out, err
	}
	first, err := enqueue(OutboxEvent{EventID: "e1", Topic: "marks", Key: "m_1", Payload: json.RawMessage(`{"mark_id":"m_1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tomb, err := enqueue(OutboxEvent{EventID: "e2", Topic: "marks", Key: "m_1"})
	if err != nil {
		t.Fatal(err)
	}
	if tomb.ID <= first.ID {
		t.Errorf("ids %d then %d, want growing", first.ID, tomb.ID)
	}
	for _, tc := range []struct {
		name    string
		event   OutboxEvent
		wantErr error
	}{
		{"duplicate event id", OutboxEvent{EventID: "e1", Topic: "marks", Key: "m_2"}, ErrConflict},
		{"payload not JSON", OutboxEvent{EventID: "e3", Topic: "marks", Payload: json.RawMessage("\xff")}, nil},
		{"no topic", OutboxEvent{EventID: "e4"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := enqueue(tc.event)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
	events, err := s.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []OutboxEvent{first, tomb}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("pending\n got %+v\nwant %+v", events, want)
	}
	if events[1].Payload != nil {
		t.Errorf("tombstone payload %q, want nil", events[1].Payload)
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"none", `SELECT 1`, `SELECT 1`},
		{"several", `INSERT INTO t (a, b) VALUES (?, ?)`, `INSERT INTO t (a, b) VALUES ($1, $2)`},
		{"in a literal", `SELECT '?' , ? WHERE x = 'a''?'`, `SELECT '?' , $1 WHERE x = 'a''?'`},
		{"in an identifier", `SELECT "a?b" FROM t WHERE c = ?`, `SELECT "a?b" FROM t WHERE c = $1`},
		{"in a comment", "SELECT ? -- why?\nFROM t WHERE c = ?", "SELECT $1 -- why?\nFROM t WHERE c = $2"},
		{"unterminated literal", `SELECT ? 'abc?`, `SELECT $1 'abc?`},
		{"trailing comment", `SELECT ? -- end?`, `SELECT $1 -- end?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialectPostgres.rebind(tc.in); got != tc.want {
				t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := dialectSQLite.rebind(tc.in); got != tc.in {
				t.Errorf("sqlite rebind changed %q to %q", tc.in, got)
			}
		})
	}
}

// FuzzRebind checks that rebinding only ever replaces a ? by $n, numbering
// them 1, 2, ... in order, and keeps every other byte.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{`SELECT ?`, `'?' ? "?" ?`, "-- ?\n?", `'`, `"?`, `?1?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if strings.ContainsRune(in, '$') {
			return // a $ of the input would be indistinguishable from a placeholder
		}
		out := dialectPostgres.rebind(in)
		var back strings.Builder
		n := 0
		for i := 0; i < len(out); {
			if out[i] != '$' {
				back.WriteByte(out[i])
				i++
				continue
			}
			n++
			num := strconv.Itoa(n)
			if !strings.HasPrefix(out[i+1:], num) {
				t.Fatalf("rebind(%q) = %q: placeholder %d is not $%s", in, out, n, num)
			}
			back.WriteByte('?')
			i += 1 + len(num)
		}
		if back.String() != in {
			t.Errorf("rebind(%q) = %q, which does not map back", in, out)
		}
	})
}
