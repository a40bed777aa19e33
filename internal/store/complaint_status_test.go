package store

import (
	"slices"
	"testing"
)

// statusInSync fails t when, on PostgreSQL, complaint_status is not the
// copy of complaints it should be (migration 22): a row for each
// complaint, with its partition, status, queue key and arrival. SQLite has
// no complaint_status.
func statusInSync(t *testing.T, s *Store) {
	t.Helper()
	if s.dialect != dialectPostgres {
		return
	}
	var stale int
	if err := s.read().queryRow(t.Context(), `SELECT COUNT(*) FROM complaints c FULL JOIN complaint_status s ON s.id = c.id
		WHERE c.id IS NULL OR s.id IS NULL OR s.period <> c.period OR s.status <> c.status
			OR s.queue_key IS DISTINCT FROM c.queue_key OR s.created_at <> c.created_at`).Scan(&stale); err != nil || stale != 0 {
		t.Errorf("%d complaints differ from their complaint_status row (%v)", stale, err)
	}
}

// testHOTDecision checks the status lists and a decision after migration
// 22: the lists of one status and of several come in queue order, with
// cursors, as with any other filter; a decision's compare-and-set leaves
// the other statuses' lists and moves the complaint to its new status's.
// On PostgreSQL no index of complaints names the status, a decision's
// UPDATE is a HOT update (no index entry written), and complaint_status
// follows every change of the rows.
func testHOTDecision(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	ids := []string{"c_h1", "c_h2", "c_h3", "c_h4", "c_h5", "c_h6"}
	for i, id := range ids {
		c := testComplaint(id)
		c.Score = 0.9 - float64(i)/20
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	statusInSync(t, s)
	if s.dialect == dialectPostgres {
		var n int
		if err := s.read().queryRow(ctx, `SELECT COUNT(*) FROM pg_index x
			WHERE x.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST('complaints' AS regclass)
				UNION ALL SELECT CAST('complaints' AS regclass))
				AND pg_get_indexdef(x.indexrelid) LIKE '%status%'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("%d indexes of the complaints partitions name status (%v)", n, err)
		}
	}
	decide := func(id, to string) {
		t.Helper()
		err := s.WithTx(ctx, func(tx *Tx) error {
			// The connection's statistics not yet reported, before and
			// after: the UPDATE was one HOT update of a partition of
			// complaints.
			var upd, hot [2]int
			counts := func(i int) error {
				if s.dialect != dialectPostgres {
					return nil
				}
				return tx.r.queryRow(ctx, `SELECT CAST(COALESCE(SUM(n_tup_upd), 0) AS BIGINT), CAST(COALESCE(SUM(n_tup_hot_upd), 0) AS BIGINT)
					FROM pg_stat_xact_user_tables WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST('complaints' AS regclass))`).Scan(&upd[i], &hot[i])
			}
			if err := counts(0); err != nil {
				return err
			}
			if err := tx.SetComplaintStatus(ctx, id, ComplaintOpen, to, "u_1"); err != nil {
				return err
			}
			if err := counts(1); err != nil {
				return err
			}
			if s.dialect == dialectPostgres && (upd[1]-upd[0] != 1 || hot[1]-hot[0] != 1) {
				t.Errorf("decision on %s: %d updates of complaints, %d HOT; want 1 and 1", id, upd[1]-upd[0], hot[1]-hot[0])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	decide("c_h2", ComplaintUpheld)
	decide("c_h4", ComplaintRejected)
	statusInSync(t, s)
	for _, tc := range []struct {
		status []string
		want   []string
	}{
		{[]string{ComplaintOpen}, []string{"c_h1", "c_h3", "c_h5", "c_h6"}},
		{[]string{ComplaintUpheld}, []string{"c_h2"}},
		{[]string{ComplaintRejected, ComplaintUpheld}, []string{"c_h2", "c_h4"}},
		{[]string{ComplaintUpheld, ComplaintOpen, ComplaintOpen}, []string{"c_h1", "c_h2", "c_h3", "c_h5", "c_h6"}},
		{[]string{ComplaintContested}, nil},
	} {
		f := QueueFilter{Status: tc.status}
		if got := queueIDs(t, s, f, 2); !slices.Equal(got, tc.want) {
			t.Errorf("status %v, pages of 2: %v, want %v", tc.status, got, tc.want)
		}
		if n, capped, err := s.CountQueue(ctx, f); err != nil || capped || n != int64(len(tc.want)) {
			t.Errorf("count of status %v: %d (capped %v, %v), want %d", tc.status, n, capped, err, len(tc.want))
		}
	}
	// A score bound and an arrival bound beside the status.
	lo := 0.8
	if got := queueIDs(t, s, QueueFilter{Status: []string{ComplaintOpen}, MinScore: &lo}, 1); !slices.Equal(got, []string{"c_h1", "c_h3"}) {
		t.Errorf("open with score ≥ 0.8: %v", got)
	}
	if got := queueIDs(t, s, QueueFilter{Status: []string{ComplaintOpen}, CreatedBefore: testNow.Add(1)}, 10); !slices.Equal(got, []string{"c_h1", "c_h3", "c_h5", "c_h6"}) {
		t.Errorf("open before now: %v", got)
	}
	// A priority change re-keys the complaints and their status rows.
	if err := s.SetPriorityHolders(ctx, []string{testComplaint("c_h1").HolderID}); err != nil {
		t.Fatal(err)
	}
	statusInSync(t, s)
	if err := s.SetPriorityHolders(ctx, nil); err != nil {
		t.Fatal(err)
	}
	statusInSync(t, s)
	st, err := s.QueueStats(ctx)
	if err != nil || st.ByStatus[ComplaintOpen] != 4 || !st.OldestOpen.Equal(testNow.Truncate(1e6)) {
		t.Errorf("queue stats %+v, %v", st, err)
	}
}
