package store

import (
	"slices"
	"testing"
	"time"
)

// testRetention builds a store with complaints in two old months and a
// recent one — decided, open, contested, kept by a strike, kept by a
// counter-notice, with a claim and a message — and applies retention: the
// same complaints go on both stores (whole months dropped on PostgreSQL,
// batches on SQLite), what a strike or counter-notice needs stays until the
// records' own retention lets it go, counts follow, and a second run finds
// nothing.
func testRetention(t *testing.T, dsn string) {
	ctx := t.Context()
	jan, feb, mar := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	clock := jan
	s := clockStore(t, dsn, &clock)
	type setup struct {
		id, status string
		at         time.Time
		then       func(tx *Tx) error
	}
	for _, c := range []setup{
		{"c_r1", ComplaintRejected, jan, nil},
		{"c_r2", ComplaintUpheld, jan, func(tx *Tx) error {
			_, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_9", ComplaintID: "c_r2", CreatedAt: jan, ExpiresAt: time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)})
			return err
		}},
		{"c_r3", ComplaintOpen, jan, nil},
		{"c_r4", ComplaintUpheld, jan, func(tx *Tx) error {
			_, err := tx.FileCounterNotice(ctx, CounterNotice{ComplaintID: "c_r4", Actor: "u_m", FiledAt: jan, ReinstateAt: feb})
			return err
		}},
		{"c_r5", ComplaintRejected, jan, func(tx *Tx) error {
			if _, err := tx.ClaimComplaint(ctx, "c_r5", "u_1", jan.Add(time.Hour)); err != nil {
				return err
			}
			_, err := tx.AddMessage(ctx, Message{ComplaintID: "c_r5", Author: "holder", Actor: "u_h", Body: "hello"})
			return err
		}},
		{"c_r6", ComplaintReinstated, feb, nil},
		{"c_r7", ComplaintContested, feb, nil},
		{"c_r8", ComplaintRejected, mar, nil},
	} {
		clock = c.at
		if ok, err := insertComplaint(ctx, s, testComplaint(c.id)); err != nil || !ok {
			t.Fatalf("insert %s: %v %v", c.id, ok, err)
		}
		err := s.WithTx(ctx, func(tx *Tx) error {
			if c.status != ComplaintOpen {
				if err := tx.SetComplaintStatus(ctx, c.id, ComplaintOpen, c.status, "u_1"); err != nil {
					return err
				}
			}
			if _, err := tx.AppendAudit(ctx, AuditEntry{Actor: "u_1", Action: "decide", ObjectType: "complaint", ObjectID: c.id}); err != nil {
				return err
			}
			if c.then != nil {
				return c.then(tx)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("set up %s: %v", c.id, err)
		}
	}
	clock = time.Date(2025, 2, 12, 0, 0, 0, 0, time.UTC)
	if err := s.WithTx(ctx, func(tx *Tx) error {
		return tx.SetCounterNoticeState(ctx, "c_r4", CounterNoticeWaiting, CounterNoticeDecided)
	}); err != nil {
		t.Fatal(err)
	}
	clock = mar

	remaining := func() []string {
		ids := queueIDs(t, s, QueueFilter{}, 100)
		slices.Sort(ids)
		checkMarkCountsAndPeriods(t, s, "after retention")
		if got, table := countsByKey(t, s), countsOfTable(t, s); len(got) != len(table) {
			t.Errorf("complaint_counts %v, table %v", got, table)
		} else {
			for k, n := range table {
				if got[k] != n {
					t.Errorf("complaint_counts %v, table %v", got, table)
					break
				}
			}
		}
		return ids
	}
	pg := s.dialect == dialectPostgres

	// A year of decided complaints: January and February 2025 go, except
	// what is open, contested, or needed by a strike or counter-notice.
	res, err := s.ApplyRetention(ctx, RetentionPolicy{DecidedBefore: mar.AddDate(-1, 0, 0), Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complaints != 3 || res.Strikes != 0 || res.Audit != 0 || pg && (res.Kept != 4 || res.PartitionsDropped != 2) {
		t.Errorf("first retention %+v; want 3 complaints (and on PostgreSQL 4 kept, 2 partitions)", res)
	}
	if got, want := remaining(), []string{"c_r2", "c_r3", "c_r4", "c_r7", "c_r8"}; !slices.Equal(got, want) {
		t.Errorf("after the first retention %v, want %v", got, want)
	}
	statusInSync(t, s)
	claims, err := s.Claims(ctx, []string{"c_r5"}, jan)
	if err != nil || len(claims) != 0 {
		t.Errorf("claims of a deleted complaint: %v, %v", claims, err)
	}
	if msgs, err := s.Messages(ctx, "c_r5", 0, 100); err != nil || len(msgs) != 0 {
		t.Errorf("messages of a deleted complaint: %v, %v", msgs, err)
	}
	if c, err := s.GetComplaint(ctx, "c_r2"); err != nil || c.Status != ComplaintUpheld {
		t.Errorf("kept complaint c_r2: %+v, %v", c, err)
	}
	// Every complaint left, kept ones included, is found by its id alone
	// (on PostgreSQL through the period complaint_ids names).
	for _, id := range remaining() {
		if c, err := s.GetComplaint(ctx, id); err != nil || c.Body.ComplaintID != id {
			t.Errorf("get %s after retention: %+v, %v", id, c, err)
		}
	}
	if res, err := s.ApplyRetention(ctx, RetentionPolicy{DecidedBefore: mar.AddDate(-1, 0, 0)}); err != nil || res != (RetentionResult{}) {
		t.Errorf("second retention %+v, %v; want nothing", res, err)
	}

	// The records' retention lets go of the expired strike, the closed
	// counter-notice and the audit of 2025; the complaints they kept go
	// with them.
	res, err = s.ApplyRetention(ctx, RetentionPolicy{DecidedBefore: mar.AddDate(-1, 0, 0), RecordsBefore: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complaints != 2 || res.Strikes != 1 || res.CounterNotices != 1 || res.Audit != 7 {
		t.Errorf("records retention %+v; want 2 complaints, 1 strike, 1 counter-notice, 7 audit entries", res)
	}
	if got, want := remaining(), []string{"c_r3", "c_r7", "c_r8"}; !slices.Equal(got, want) {
		t.Errorf("after the records retention %v, want %v", got, want)
	}
	statusInSync(t, s)
	err = s.WithTx(ctx, func(tx *Tx) error {
		left, err := tx.AuditLog(ctx, AuditQuery{ObjectType: "complaint"})
		if err != nil {
			return err
		}
		if len(left) != 1 || left[0].ObjectID != "c_r8" {
			t.Errorf("audit left %+v, want c_r8's", left)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A dropped id is a new complaint again (its month is gone).
	if ok, err := insertComplaint(ctx, s, testComplaint("c_r1")); err != nil || !ok {
		t.Errorf("insert of a deleted id: %v, %v", ok, err)
	}
}
