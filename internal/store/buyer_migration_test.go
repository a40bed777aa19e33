package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

// testBuyerSourceMigration upgrades a database at schema 14 that holds
// complaints (one of them first in the queue) and a strike to the current
// schema: the rows, their queue keys and counts survive (on SQLite the
// table is rebuilt), every index and the count triggers come back, a buyer
// complaint without a mark can be stored, and an unknown source is still
// refused.
func testBuyerSourceMigration(t *testing.T, dsn string) {
	ctx := t.Context()
	old := openBefore(t, dsn, "'buyer'")
	// Rows as schema 14 wrote them (today's InsertComplaint reads
	// listing_priority): c_1 first in the queue, c_2 upheld with a strike.
	for i, id := range []string{"c_1", "c_2"} {
		c := testComplaint(id)
		body, _ := json.Marshal(c)
		prefix := []string{"0", "1"}[i]
		if err := old.WithTx(ctx, func(tx *Tx) error {
			_, err := tx.r.exec(ctx, `INSERT INTO complaints
				(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				c.ComplaintID, c.Source, c.ListingID, c.ListingVersion, c.MarkID, c.HolderID, c.SellerID, c.Score,
				ComplaintOpen, string(body), millis(testNow), millis(testNow), prefix+queueKeyRest(c.Score, millis(testNow), id))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.WithTx(ctx, func(tx *Tx) error {
		if err := upholdBeforeSchema19(ctx, tx, "c_2", "u_rev"); err != nil {
			return err
		}
		_, err := tx.r.exec(ctx, `INSERT INTO strikes (seller_id, complaint_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			"s_9", "c_2", millis(testNow), millis(testNow.Add(time.Hour)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	buyer := testComplaint("c_buyer")
	buyer.Source, buyer.MarkID, buyer.HolderID = domain.SourceBuyer, "", ""
	if err := insertComplaintBefore9(ctx, old, buyer); err == nil {
		t.Fatal("the old schema stored a buyer complaint; the test would prove nothing")
	}
	keysBefore := queueKeys(t, old)
	countsBefore := countsByKey(t, old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := openStore(t, dsn)
	if got := queueKeys(t, s); got != keysBefore {
		t.Errorf("queue keys after the migration\n %s\nwant\n %s", got, keysBefore)
	}
	if strikes, err := s.SellerStrikes(ctx, "s_9"); err != nil || len(strikes) != 1 {
		t.Fatalf("strikes after the migration: %+v, %v", strikes, err)
	}
	if ok, err := insertComplaint(ctx, s, buyer); err != nil || !ok {
		t.Fatalf("insert a buyer complaint: %v %v", ok, err)
	}
	bad := testComplaint("c_robot")
	bad.Source = "robot"
	if _, err := insertComplaint(ctx, s, bad); err == nil {
		t.Error("stored a complaint of source robot")
	}
	// The counts came through once, and the triggers count the new row.
	got := countsByKey(t, s)
	for k, n := range countsBefore {
		if got[k] != n {
			t.Errorf("count %s = %d after the migration, want %d", k, got[k], n)
		}
	}
	if got["/buyer/open"] != 1 {
		t.Errorf("counts %v: the buyer complaint was not counted by the triggers", got)
	}
	if table := countsOfTable(t, s); fmt.Sprint(table) != fmt.Sprint(got) {
		t.Errorf("complaint_counts %v disagree with the rows %v", got, table)
	}
	// Buyer reports put a listing first; a holder's priority going does
	// not take it back.
	var raised bool
	if err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		raised, err = tx.SetListingPriority(ctx, "l_1")
		return err
	}); err != nil || !raised {
		t.Fatalf("listing priority: %v %v", raised, err)
	}
	if err := s.SetPriorityHolders(ctx, []string{"h_1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPriorityHolders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := queueKeys(t, s); got != "c_1=0 c_2=0 c_buyer=0 " {
		t.Errorf("queue keys with listing l_1 first: %s", got)
	}
	matcherKeysInSync(t, s)
	// 14 indexes came back with the table; the partitioning migration
	// after it drops the 3 that others cover (complaints_queue,
	// complaints_mark_id, complaints_seller_id) and the negative bank's
	// adds complaints_created_at. Migration 21 drops
	// complaints_source_holder_status, makes complaints_status_created_at
	// the partial complaints_open_created_at and, on PostgreSQL, drops
	// complaints_updated_at (text search reads complaint_terms). Migration
	// 22 moves complaints_status_queue and complaints_open_created_at to
	// complaint_status on PostgreSQL.
	want := 11
	if s.dialect == dialectPostgres {
		want = 8
	}
	if n := complaintIndexes(t, s); n != want {
		t.Errorf("%d complaints indexes after the migrations, want %d", n, want)
	}
}

// queueKeys lists every complaint's id and queue key.
func queueKeys(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.reader.QueryContext(t.Context(), `SELECT id, queue_key FROM complaints ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, key string
		if err := rows.Scan(&id, &key); err != nil {
			t.Fatal(err)
		}
		b.WriteString(id + "=" + key[:1] + " ")
	}
	return b.String()
}
