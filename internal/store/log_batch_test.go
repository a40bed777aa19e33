package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// testDeferLog checks DeferLog: the gathered audit entries and outbox
// events are written at commit in the order appended, in one statement on
// PostgreSQL and one per table on SQLite; the transaction's own reads see
// them; a duplicate event id fails the transaction and writes nothing.
func testDeferLog(t *testing.T, dsn string) {
	s, _ := openClockStore(t, dsn)
	ctx, sent := WithStatements(t.Context())
	appendAudit := func(tx *Tx, action, object string) error {
		_, err := tx.AppendAudit(ctx, AuditEntry{Actor: "u_1", Action: action, ObjectType: "seller", ObjectID: object, Detail: json.RawMessage(`{"n":1}`)})
		return err
	}
	enqueue := func(tx *Tx, id string) error {
		_, err := tx.EnqueueEvent(ctx, OutboxEvent{EventID: id, Topic: "takedowns", Key: "l_1", Payload: json.RawMessage(`{"id":"` + id + `"}`)})
		return err
	}
	err := s.WithTx(ctx, func(tx *Tx) error {
		tx.DeferLog()
		for _, step := range []func() error{
			func() error { return appendAudit(tx, "seller.educated", "s_1") },
			func() error { return enqueue(tx, "e_1") },
			func() error { return enqueue(tx, "e_2") },
			func() error { return appendAudit(tx, "strike.added", "s_1") },
			func() error { return enqueue(tx, "e_3") },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		// Read from what is gathered: no statement.
		if ok, err := tx.HasAudit(ctx, "seller", "s_1", "seller.educated"); err != nil || !ok {
			return fmt.Errorf("HasAudit of a gathered entry: %v, %v", ok, err)
		}
		if active, educated, err := tx.StrikeRecord(ctx, "s_1", testNow, "seller.educated"); err != nil || active != 0 || !educated {
			return fmt.Errorf("StrikeRecord with a gathered entry: %d, %v, %v", active, educated, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// BEGIN, StrikeRecord's read, the writes, COMMIT.
	want := 5
	if s.dialect == dialectPostgres {
		want = 4
	}
	if got := sent.List(); len(got) != want {
		t.Errorf("%d statements, want %d:\n%v", len(got), want, got)
	}
	entries, err := s.AuditLog(ctx, AuditQuery{ObjectType: "seller", ObjectID: "s_1"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if !e.At.Equal(fromMillis(millis(testNow))) || e.Actor != "u_1" || string(e.Detail) != `{"n":1}` {
			t.Errorf("audit entry %+v", e)
		}
	}
	if !slices.Equal(actions, []string{"seller.educated", "strike.added"}) {
		t.Errorf("audit actions %v, want the order appended", actions)
	}
	events, err := s.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.EventID)
		if string(e.Payload) != `{"id":"`+e.EventID+`"}` || e.Topic != "takedowns" || e.Key != "l_1" {
			t.Errorf("event %+v", e)
		}
	}
	if !slices.Equal(ids, []string{"e_1", "e_2", "e_3"}) {
		t.Errorf("events %v, want the order enqueued", ids)
	}

	// A duplicate event id fails the transaction at its end, as
	// ErrConflict, and its audit entry goes with it.
	err = s.WithTx(ctx, func(tx *Tx) error {
		tx.DeferLog()
		if err := appendAudit(tx, "seller.warned", "s_2"); err != nil {
			return err
		}
		return enqueue(tx, "e_2")
	})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate event id: %v, want ErrConflict", err)
	}
	if got, err := s.AuditLog(ctx, AuditQuery{ObjectID: "s_2"}); err != nil || len(got) != 0 {
		t.Errorf("audit of the failed transaction: %v, %v; want none", got, err)
	}

	// More rows than one INSERT takes, and AuditLog in the transaction
	// writes what is gathered before reading.
	n := logBatchRows + 7
	err = s.WithTx(ctx, func(tx *Tx) error {
		tx.DeferLog()
		for i := range n {
			if err := appendAudit(tx, fmt.Sprintf("a.%04d", i), "s_3"); err != nil {
				return err
			}
			if err := enqueue(tx, fmt.Sprintf("many_%04d", i)); err != nil {
				return err
			}
		}
		got, err := tx.AuditLog(ctx, AuditQuery{ObjectID: "s_3", Limit: 1000})
		if err != nil || len(got) != n {
			return fmt.Errorf("AuditLog in the transaction: %d entries, %v; want %d", len(got), err, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err = s.AuditLog(ctx, AuditQuery{ObjectID: "s_3", Limit: 1000})
	if err != nil || len(entries) != n {
		t.Fatalf("%d entries, %v; want %d", len(entries), err, n)
	}
	for i, e := range entries {
		if want := fmt.Sprintf("a.%04d", i); e.Action != want {
			t.Fatalf("entry %d is %s, want %s", i, e.Action, want)
		}
	}
	events, err = s.PendingEvents(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	events = events[3:] // e_1, e_2, e_3
	if len(events) != n {
		t.Fatalf("%d events, want %d", len(events), n)
	}
	for i, e := range events {
		if want := fmt.Sprintf("many_%04d", i); e.EventID != want {
			t.Fatalf("event %d is %s, want %s", i, e.EventID, want)
		}
	}
}

// testDecisionReads checks the reads and writes a decision combines: the
// complaint moved in place, the counter-notice decided in one statement,
// the seller's standing, its strike record, a strike with its rung and
// the mark with its holder.
func testDecisionReads(t *testing.T, dsn string) {
	s, _ := openClockStore(t, dsn)
	ctx := t.Context()
	if _, err := insertComplaint(ctx, s, testComplaint("c_1")); err != nil {
		t.Fatal(err)
	}
	run := func(fn func(tx *Tx) error) {
		t.Helper()
		if err := s.WithTx(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}

	// MoveComplaint leaves c as a fresh read finds it; a stale c is
	// ErrConflict and stays as it was.
	c, err := s.GetComplaint(ctx, "c_1")
	if err != nil {
		t.Fatal(err)
	}
	stale := c
	run(func(tx *Tx) error { return tx.MoveComplaint(ctx, &c, ComplaintUpheld, "u_rev") })
	if got, err := s.GetComplaint(ctx, "c_1"); err != nil || !complaintsEqual(got, c) {
		t.Errorf("moved %+v, stored %+v (%v)", c, got, err)
	}
	if c.Status != ComplaintUpheld || c.DecidedBy != "u_rev" || c.DecidedAt.IsZero() {
		t.Errorf("moved %+v", c)
	}
	before := stale
	err = s.WithTx(ctx, func(tx *Tx) error { return tx.MoveComplaint(ctx, &stale, ComplaintRejected, "u_rev") })
	if !errors.Is(err, ErrConflict) || !complaintsEqual(stale, before) {
		t.Errorf("stale move: %v, complaint %+v; want ErrConflict and no change", err, stale)
	}

	// DecideCounterNotice: none is ErrNotFound; waiting becomes decided.
	err = s.WithTx(ctx, func(tx *Tx) error { return tx.DecideCounterNotice(ctx, "c_1") })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("no counter-notice: %v, want ErrNotFound", err)
	}
	run(func(tx *Tx) error {
		_, err := tx.FileCounterNotice(ctx, CounterNotice{ComplaintID: "c_1", Actor: "u_m", Statement: "genuine", ReinstateAt: testNow.Add(time.Hour)})
		return err
	})
	run(func(tx *Tx) error { return tx.DecideCounterNotice(ctx, "c_1") })
	if cn, err := s.GetCounterNotice(ctx, "c_1"); err != nil || cn.State != CounterNoticeDecided {
		t.Errorf("counter-notice %+v, %v; want decided", cn, err)
	}

	// SellerStanding and StrikeRecord, before and after a strike.
	run(func(tx *Tx) error {
		status, active, err := tx.SellerStanding(ctx, "s_9", testNow)
		if err != nil || status != SellerActive || active != 0 {
			return fmt.Errorf("unknown seller: %s, %d, %v; want active, 0", status, active, err)
		}
		if active, audited, err := tx.StrikeRecord(ctx, "s_9", testNow, "seller.educated"); err != nil || active != 0 || audited {
			return fmt.Errorf("unknown seller's record: %d, %v, %v", active, audited, err)
		}
		if _, err := tx.SetSellerStatus(ctx, "s_9", SellerWarned); err != nil {
			return err
		}
		if _, _, err := tx.AddStrike(ctx, Strike{SellerID: "s_9", ComplaintID: "c_1", CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)}); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, AuditEntry{Actor: "u_rev", Action: "seller.educated", ObjectType: "seller", ObjectID: "s_9"})
		return err
	})
	run(func(tx *Tx) error {
		status, active, err := tx.SellerStanding(ctx, "s_9", testNow)
		if err != nil || status != SellerWarned || active != 1 {
			return fmt.Errorf("struck seller: %s, %d, %v; want warned, 1", status, active, err)
		}
		if _, active, _ := tx.SellerStanding(ctx, "s_9", testNow.Add(2*time.Hour)); active != 0 {
			return fmt.Errorf("after the strike expired: %d active, want 0", active)
		}
		if active, audited, err := tx.StrikeRecord(ctx, "s_9", testNow, "seller.educated"); err != nil || active != 1 || !audited {
			return fmt.Errorf("struck seller's record: %d, %v, %v; want 1, true", active, audited, err)
		}
		return nil
	})

	// AddStrikeStatus records the rung with the strike, and neither when
	// the complaint has its strike already.
	if _, err := insertComplaint(ctx, s, testComplaint("c_2")); err != nil {
		t.Fatal(err)
	}
	strike := Strike{SellerID: "s_7", ComplaintID: "c_2", CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)}
	for _, step := range []struct {
		status, want string
		added        bool
	}{
		{SellerSuspended, SellerSuspended, true},
		{SellerTerminated, SellerSuspended, false},
	} {
		run(func(tx *Tx) error {
			if _, err := tx.LockSeller(ctx, "s_7"); err != nil {
				return err
			}
			_, added, err := tx.AddStrikeStatus(ctx, strike, step.status)
			if err != nil || added != step.added {
				return fmt.Errorf("add strike with %s: added %v, %v; want %v", step.status, added, err, step.added)
			}
			return nil
		})
		if sl, err := s.GetSeller(ctx, "s_7"); err != nil || sl.Status != step.want {
			t.Errorf("after a strike with %s: %+v, %v; want %s", step.status, sl, err, step.want)
		}
	}
	err = s.WithTx(ctx, func(tx *Tx) error {
		_, _, err := tx.AddStrikeStatus(ctx, strike, "banned")
		return err
	})
	if err == nil {
		t.Error("a strike with an unknown status: no error")
	}

	// GetMarkHolder: the mark and its holder; an unknown mark is
	// ErrNotFound.
	run(func(tx *Tx) error {
		if _, err := tx.CreateHolder(ctx, Holder{ID: "h_1", Name: "Acme Corp"}); err != nil {
			return err
		}
		_, err := tx.CreateMark(ctx, testMark("m_acme", "h_1"))
		return err
	})
	run(func(tx *Tx) error {
		m, h, found, err := tx.GetMarkHolder(ctx, "m_acme")
		want, _ := tx.GetMark(ctx, "m_acme")
		if err != nil || !found || h.ID != "h_1" || h.Name != "Acme Corp" || h.CreatedAt.IsZero() || m.Version != want.Version || m.Body.Name != want.Body.Name {
			return fmt.Errorf("mark %+v, holder %+v, %v, %v", m, h, found, err)
		}
		if _, _, _, err := tx.GetMarkHolder(ctx, "m_nope"); !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("unknown mark: %v, want ErrNotFound", err)
		}
		return nil
	})
}

// complaintsEqual compares what a read of a complaint returns.
func complaintsEqual(a, b Complaint) bool {
	return a.Status == b.Status && a.Body.ComplaintID == b.Body.ComplaintID && a.CreatedAt.Equal(b.CreatedAt) &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.DecidedAt.Equal(b.DecidedAt) && a.DecidedBy == b.DecidedBy
}
