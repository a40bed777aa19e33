package store

import (
	"maps"
	"slices"
	"testing"
)

// testLoadComplaints loads synthetic complaints and checks that they read
// back as stored, that the counts equal the table and that the queue pages
// them all in order.
func testLoadComplaints(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	cs := SyntheticComplaints(1, 0, 1200, testNow)
	if err := s.LoadComplaints(ctx, cs); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetComplaint(ctx, cs[7].Body.ComplaintID)
	if err != nil || got.Status != cs[7].Status || got.Body.Listing.Title != cs[7].Body.Listing.Title || !got.CreatedAt.Equal(cs[7].CreatedAt) {
		t.Errorf("loaded complaint %+v, %v; want %+v", got, err, cs[7])
	}
	if counts, table := countsByKey(t, s), countsOfTable(t, s); !maps.Equal(counts, table) {
		t.Errorf("complaint_counts after a load = %v, table %v", counts, table)
	}
	statusInSync(t, s)
	checkMarkCountsAndPeriods(t, s, "after a load")
	// A complaint inserted after the load is counted by the triggers again.
	c := testComplaint("c_after_load")
	if _, err := insertComplaint(ctx, s, c); err != nil {
		t.Fatal(err)
	}
	if counts, table := countsByKey(t, s), countsOfTable(t, s); !maps.Equal(counts, table) {
		t.Errorf("complaint_counts after an insert = %v, table %v", counts, table)
	}
	checkMarkCountsAndPeriods(t, s, "after an insert")
	n, after, prev := 0, "", ""
	for {
		p, err := s.ListQueue(ctx, QueueFilter{}, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Complaints {
			key := "1" + queueKeyRest(c.Body.Score, millis(c.CreatedAt), c.Body.ComplaintID)
			if key <= prev {
				t.Fatalf("%s out of order", c.Body.ComplaintID)
			}
			prev = key
		}
		n += len(p.Complaints)
		if p.After == "" {
			break
		}
		after = p.After
	}
	if n != len(cs)+1 {
		t.Errorf("queue pages %d complaints, want %d", n, len(cs)+1)
	}
	// 1,200 complaints of about a kilobyte take more than a megabyte.
	if size, err := s.ComplaintsDiskSize(ctx); err != nil || size < 1_000_000 {
		t.Errorf("complaints disk size %d, %v", size, err)
	}
}

// TestComplaintsDiskSize checks that the size grows with a load.
func TestComplaintsDiskSize(t *testing.T) {
	s := openStore(t, "sqlite:"+t.TempDir()+"/m.db")
	before, err := s.ComplaintsDiskSize(t.Context())
	if err != nil || before <= 0 {
		t.Fatalf("size before %d, %v", before, err)
	}
	if err := s.LoadComplaints(t.Context(), SyntheticComplaints(2, 0, 2000, testNow)); err != nil {
		t.Fatal(err)
	}
	if after, err := s.ComplaintsDiskSize(t.Context()); err != nil || after <= before {
		t.Errorf("size after a load %d (%v), before %d", after, err, before)
	}
}

// testLoadWithoutIndexes loads complaints with the complaints indexes
// dropped for the load: afterwards the same indexes are back and the queue
// reads as a load with them would.
func testLoadWithoutIndexes(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	names := func() []string {
		q := `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'complaints' ORDER BY name`
		if s.dialect == dialectPostgres {
			q = `SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'complaints' ORDER BY 1`
		}
		ids, err := s.read().column(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(ids))
		for i, v := range ids {
			out[i] = v.(string)
		}
		return out
	}
	before := names()
	cs := SyntheticComplaints(3, 0, 1500, testNow)
	err := s.WithoutComplaintIndexes(ctx, func() error {
		if s.dialect == dialectPostgres && len(names()) != 1 {
			t.Errorf("indexes during the load: %v, want only the primary key", names())
		}
		return s.LoadComplaints(ctx, cs)
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := names(); !slices.Equal(after, before) {
		t.Errorf("indexes after the load %v, before %v", after, before)
	}
	if s.dialect == dialectPostgres {
		// Every partition has every index again, and the parent's are
		// valid (an index made ON ONLY the parent is neither).
		var partitions, missing, invalid int
		err := s.read().queryRow(ctx, `SELECT
				(SELECT COUNT(*) FROM pg_inherits WHERE inhparent = to_regclass('complaints')),
				(SELECT COUNT(*) FROM pg_inherits p CROSS JOIN pg_indexes i
					WHERE p.inhparent = to_regclass('complaints') AND i.schemaname = current_schema() AND i.tablename = 'complaints'
					AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid
						WHERE x.indrelid = p.inhrelid AND ii.inhparent = to_regclass(i.indexname))),
				(SELECT COUNT(*) FROM pg_index WHERE indrelid = to_regclass('complaints') AND NOT indisvalid)`).Scan(&partitions, &missing, &invalid)
		if err != nil {
			t.Fatal(err)
		}
		if partitions == 0 || missing != 0 || invalid != 0 {
			t.Errorf("%d partitions, %d partition indexes missing, %d invalid parent indexes", partitions, missing, invalid)
		}
	}
	open := 0
	for _, c := range cs {
		if c.Status == ComplaintOpen {
			open++
		}
	}
	if got := queueIDs(t, s, QueueFilter{Status: []string{ComplaintOpen}}, 200); len(got) != open {
		t.Errorf("open queue after the load has %d complaints, want %d", len(got), open)
	}
	statusInSync(t, s)
}
