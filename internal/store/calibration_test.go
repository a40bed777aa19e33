package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
)

func testCalibrationComplaints(t *testing.T, dsn string) {
	s, clock := openClockStore(t, dsn)
	ctx := t.Context()
	add := func(id, mark, source string, score float64, matchers ...string) {
		t.Helper()
		c := testComplaint(id)
		c.MarkID, c.Source, c.Score = mark, source, score
		c.Evidence = nil
		for _, m := range matchers {
			c.Evidence = append(c.Evidence, domain.Evidence{Matcher: m, Score: score})
		}
		if _, err := insertComplaint(ctx, s, c); err != nil {
			t.Fatal(err)
		}
	}
	// An old complaint, outside the window.
	add("c_old", "m_a", domain.SourceAuto, 0.99, "text")
	clock.Add(48 * time.Hour)
	since := clock.Now().Add(-time.Hour)
	add("c_1", "m_a", domain.SourceAuto, 0.9, "text", "image")
	clock.Add(time.Minute)
	add("c_2", "m_a", domain.SourceSweep, 0.7, "price")
	clock.Add(time.Minute)
	add("c_3", "m_a", domain.SourceRightsHolder, 0.5) // manual: no threshold filed it
	add("c_4", "m_b", domain.SourceAuto, 0.8, "text") // another mark
	for id, to := range map[string]string{"c_1": ComplaintUpheld, "c_2": ComplaintRejected} {
		if err := s.WithTx(ctx, func(tx *Tx) error {
			return tx.SetComplaintStatus(ctx, id, ComplaintOpen, to, "reviewer")
		}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := s.CalibrationComplaints(ctx, "m_a", since, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []CalibrationComplaint{
		{Score: 0.7, Status: ComplaintRejected, Matchers: []string{"price"}, CreatedAt: testNow.Add(48*time.Hour + time.Minute).Truncate(time.Millisecond)},
		{Score: 0.9, Status: ComplaintUpheld, Matchers: []string{"text", "image"}, CreatedAt: testNow.Add(48 * time.Hour).Truncate(time.Millisecond)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calibration complaints\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.CalibrationComplaints(ctx, "m_a", since, 1); err != nil || len(got) != 1 || got[0].Score != 0.7 {
		t.Errorf("limit 1: %+v, %v, want the newest", got, err)
	}
	if got, err := s.CalibrationComplaints(ctx, "m_a", testNow.Add(-time.Hour), 100); err != nil || len(got) != 3 {
		t.Errorf("wider window: %d complaints (%v), want 3", len(got), err)
	}
	if got, err := s.CalibrationComplaints(ctx, "m_none", since, 100); err != nil || len(got) != 0 {
		t.Errorf("unknown mark: %+v, %v", got, err)
	}
}

func testMarkThreshold(t *testing.T, dsn string) {
	s := openStore(t, dsn)
	ctx := t.Context()
	if err := s.WithTx(ctx, func(tx *Tx) error {
		if _, err := tx.CreateHolder(ctx, Holder{ID: "h_1", Name: "h_1"}); err != nil {
			return err
		}
		_, err := tx.CreateMark(ctx, testMark("m_1", "h_1"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	set := func(version int64, th float64) (Mark, error) {
		var m Mark
		err := s.WithTx(ctx, func(tx *Tx) error {
			var err error
			m, err = tx.SetMarkThreshold(ctx, "m_1", version, th)
			return err
		})
		return m, err
	}
	m, err := set(1, 0.83)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 2 || m.Body.Threshold == nil || *m.Body.Threshold != 0.83 {
		t.Errorf("after set: version %d threshold %v", m.Version, m.Body.Threshold)
	}
	got, err := s.GetMark(ctx, "m_1")
	if err != nil || got.Version != 2 || *got.Body.Threshold != 0.83 || got.Body.Name != "Acme" {
		t.Errorf("stored: %+v, %v", got, err)
	}
	if _, err := set(1, 0.9); !errors.Is(err, ErrConflict) {
		t.Errorf("stale version: %v, want ErrConflict", err)
	}
	if err := s.WithTx(ctx, func(tx *Tx) error { _, err := tx.SetMarkThreshold(ctx, "m_x", 1, 0.9); return err }); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown mark: %v, want ErrNotFound", err)
	}
}
