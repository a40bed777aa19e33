package store

import (
	"errors"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

func testBankEntry(id, kind, mark string) *domain.BankEntry {
	e := &domain.BankEntry{
		SchemaVersion: domain.SchemaVersion, EntryID: id, Kind: kind, MarkID: mark, Reason: "generic",
		ComplaintID: "c_1", CreatedBy: "u_rev", CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	if kind == domain.BankImage {
		e.Hashes = []string{"f0e1d2c3b4a59687"}
	} else {
		e.Phrase = "Harbor"
	}
	return e
}

func testNegativeBank(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	add := func(e *domain.BankEntry) error {
		return s.WithTx(ctx, func(tx *Tx) error { return tx.AddBankEntry(ctx, e) })
	}
	for _, e := range []*domain.BankEntry{
		testBankEntry("nb_1", domain.BankImage, "m_a"),
		testBankEntry("nb_2", domain.BankPhrase, ""),
		testBankEntry("nb_3", domain.BankPhrase, "m_b"),
	} {
		e.CreatedAt = clock.Now()
		if err := add(e); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
	}
	if err := add(testBankEntry("nb_1", domain.BankPhrase, "")); !errors.Is(err, ErrConflict) {
		t.Errorf("duplicate entry: %v, want ErrConflict", err)
	}
	bad := testBankEntry("nb_9", domain.BankImage, "")
	bad.Hashes = nil
	if err := add(bad); err == nil {
		t.Error("an invalid entry was stored")
	}
	ids := func(q BankQuery) []string {
		t.Helper()
		es, err := s.BankEntries(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range es {
			out = append(out, e.Entry.EntryID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		q    BankQuery
		want string
	}{
		{"all", BankQuery{}, "[nb_3 nb_2 nb_1]"},
		{"one mark", BankQuery{MarkID: "m_a"}, "[nb_1]"},
		{"one mark and global", BankQuery{MarkID: "m_a", Global: true}, "[nb_2 nb_1]"},
		{"global", BankQuery{Global: true}, "[nb_2]"},
	} {
		if got := fmtIDs(ids(tc.q)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	var removed BankEntry
	if err := s.WithTx(ctx, func(tx *Tx) error {
		var err error
		removed, err = tx.RemoveBankEntry(ctx, "nb_2", "u_admin")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if removed.Live() || removed.RemovedBy != "u_admin" || !removed.RemovedAt.Equal(clock.Now().Truncate(time.Millisecond)) || removed.Entry.Phrase != "Harbor" {
		t.Errorf("removed entry %+v", removed)
	}
	if err := s.WithTx(ctx, func(tx *Tx) error { _, err := tx.RemoveBankEntry(ctx, "nb_2", "u_admin"); return err }); !errors.Is(err, ErrNotFound) {
		t.Errorf("undo twice: %v, want ErrNotFound", err)
	}
	if got := fmtIDs(ids(BankQuery{})); got != "[nb_3 nb_1]" {
		t.Errorf("live after undo: %s", got)
	}
	if got := fmtIDs(ids(BankQuery{Removed: true})); got != "[nb_3 nb_2 nb_1]" {
		t.Errorf("with removed: %s", got)
	}
	if e, err := s.BankEntry(ctx, "nb_1"); err != nil || !e.Live() || e.Entry.Hashes[0] != "f0e1d2c3b4a59687" {
		t.Errorf("get: %+v, %v", e, err)
	}
	if _, err := s.BankEntry(ctx, "nb_x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
}

func fmtIDs(ids []string) string {
	out := "["
	for i, id := range ids {
		if i > 0 {
			out += " "
		}
		out += id
	}
	return out + "]"
}

func testComplaintRatesAndQuarantines(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	add := func(id, mark, source, ref string) {
		t.Helper()
		c := testComplaint(id)
		c.MarkID, c.Source = mark, source
		c.Evidence = []domain.Evidence{{Matcher: "image", Score: 0.9, Field: "images[0]", Reference: ref}}
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	start := clock.Now()
	add("c_base", "m_a", domain.SourceAuto, "a.jpg") // baseline
	clock.Add(3 * time.Hour)
	recent := clock.Now()
	add("c_1", "m_a", domain.SourceAuto, "stock.jpg")
	add("c_2", "m_a", domain.SourceSweep, "stock.jpg")
	add("c_3", "m_a", domain.SourceRightsHolder, "stock.jpg") // manual: not counted
	add("c_4", "m_b", domain.SourceAuto, "b.jpg")
	for id, to := range map[string]string{"c_1": ComplaintRejected, "c_4": ComplaintUpheld} {
		if err := s.WithTx(ctx, func(tx *Tx) error { return tx.SetComplaintStatus(ctx, id, ComplaintOpen, to, "u_rev") }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ComplaintRates(ctx, RateWindows{Recent: recent, Baseline: start, Precision: start})
	if err != nil {
		t.Fatal(err)
	}
	want := []MarkComplaintRate{
		{MarkID: "m_a", Recent: 2, Baseline: 1, Decided: 1, Upheld: 0},
		{MarkID: "m_b", Recent: 1, Baseline: 0, Decided: 1, Upheld: 1},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rates\n got %+v\nwant %+v", got, want)
	}
	cs, err := s.CalibrationComplaints(ctx, "m_a", recent, 10)
	if err != nil || len(cs) != 2 || len(cs[0].References) != 1 || cs[0].References[0] != "image:stock.jpg" {
		t.Errorf("references of the recent complaints: %+v, %v", cs, err)
	}

	// A quarantine is written on the mark and published with it.
	if err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.CreateHolder(ctx, Holder{ID: "h_1", Name: "h_1"}); err != nil {
			return err
		}
		m := testMark("m_q", "h_1")
		m.Status = domain.MarkActive
		_, err := tx.CreateMark(ctx, m)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	q := domain.Quarantine{Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "flood", Since: clock.Now()}
	if err := s.WithTx(ctx, func(tx *Tx) error {
		m, err := tx.SetMarkQuarantines(ctx, "m_q", []domain.Quarantine{q})
		if err != nil {
			return err
		}
		return tx.EnqueueMark(ctx, "marks", &m)
	}); err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMark(ctx, "m_q")
	if err != nil || m.Version != 2 {
		t.Fatalf("mark %+v, %v", m, err)
	}
	if _, ok := m.Body.Quarantined(domain.QuarantineImage, "stock.jpg"); !ok {
		t.Errorf("stored mark has no quarantine: %+v", m.Body.Quarantines)
	}
	ev, err := s.GetEvent(ctx, "mark:m_q:2")
	if err != nil || ev.Topic != "marks" || ev.Key != "m_q" {
		t.Fatalf("outbox event %+v, %v", ev, err)
	}
	pub, err := domain.DecodeMark(ev.Payload, domain.Limits{})
	if err != nil || len(pub.Quarantines) != 1 || pub.Quarantines[0].Ref != "stock.jpg" {
		t.Errorf("published mark %+v, %v", pub, err)
	}
	bad := q
	bad.Kind = "logo"
	if err := s.WithTx(ctx, func(tx *Tx) error { _, err := tx.SetMarkQuarantines(ctx, "m_q", []domain.Quarantine{bad}); return err }); err == nil {
		t.Error("an invalid quarantine was stored")
	}
}
