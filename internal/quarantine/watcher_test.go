package quarantine

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestWatcherStockPhoto is the case on both databases: a stock
// photo uploaded as an official image floods the queue with complaints on
// unrelated listings; the watcher quarantines that image alone, writes it
// on the mark with an audit entry, publishes the mark, and leaves a mark
// at its normal rate alone.
func TestWatcherStockPhoto(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		clock := now
		s, err := store.OpenOptions(t.Context(), store.Options{DSN: eng.NewDSN(t), Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ctx := t.Context()
		if err := s.WithTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.CreateHolder(ctx, store.Holder{ID: "h_1", Name: "Kavelo SA"}); err != nil {
				return err
			}
			for _, id := range []string{"m_kavelo", "m_quiet"} {
				if _, err := tx.CreateMark(ctx, &domain.Mark{
					SchemaVersion: 1, MarkID: id, HolderID: "h_1", Name: "Kavelo", Status: domain.MarkActive,
					OfficialImages: []string{"stock.jpg"},
					ImageHashes:    []domain.ImageHash{{Kind: "official", URL: "stock.jpg", Hashes: []string{"f0e1d2c3b4a59687"}}},
				}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		n := 0
		add := func(mark, matcher, ref string, at time.Time) {
			t.Helper()
			n++
			clock = at
			c := &domain.Complaint{
				SchemaVersion: 1, ComplaintID: fmt.Sprintf("c_%d", n), Source: domain.SourceSweep, ListingID: fmt.Sprintf("l_%d", n),
				MarkID: mark, HolderID: "h_1", SellerID: "s_1", Score: 0.8, RuleVersion: "r1", CreatedAt: at,
				Evidence: []domain.Evidence{{Matcher: matcher, Score: 0.8, Reference: ref}},
			}
			if err := s.WithTx(ctx, func(tx *store.Tx) error { _, err := tx.InsertComplaint(ctx, c); return err }); err != nil {
				t.Fatal(err)
			}
		}
		// A week of a normal trickle on both marks, then the flood.
		for d := range 7 {
			add("m_kavelo", "text", "Kavelo", now.Add(-time.Duration(d+1)*24*time.Hour))
			add("m_quiet", "text", "Kavelo", now.Add(-time.Duration(d+1)*24*time.Hour))
		}
		for i := range 60 {
			add("m_kavelo", "image", "stock.jpg", now.Add(-30*time.Minute+time.Duration(i)*time.Second))
		}
		for i := range 4 {
			add("m_kavelo", "text", "Kavelo", now.Add(-20*time.Minute+time.Duration(i)*time.Second))
			add("m_quiet", "text", "Kavelo", now.Add(-20*time.Minute+time.Duration(i)*time.Second))
		}
		clock = now
		reg := prometheus.NewRegistry()
		w, err := NewWatcher(s, WatcherOptions{Options: Options{MinCount: 20}, MarksTopic: "marks", Now: func() time.Time { return clock }, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.Check(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Key() != "image:stock.jpg" || got[0].Trigger != domain.TriggerFlood {
			t.Fatalf("imposed %+v, want the stock photo's image quarantine", got)
		}
		m, err := s.GetMark(ctx, "m_kavelo")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Body.Quarantined(domain.QuarantineImage, "stock.jpg"); !ok {
			t.Fatalf("the mark holds no quarantine: %+v", m.Body.Quarantines)
		}
		if q, _ := s.GetMark(ctx, "m_quiet"); len(q.Body.Quarantines) != 0 {
			t.Errorf("the quiet mark was quarantined: %+v", q.Body.Quarantines)
		}
		ev, err := s.GetEvent(ctx, fmt.Sprintf("mark:m_kavelo:%d", m.Version))
		if err != nil {
			t.Fatalf("the quarantined mark was not published: %v", err)
		}
		if pub, err := domain.DecodeMark(ev.Payload, domain.Limits{}); err != nil || len(pub.Quarantines) != 1 {
			t.Errorf("published mark %+v, %v", pub, err)
		}
		audit, err := s.AuditLog(ctx, store.AuditQuery{ObjectType: "mark", ObjectID: "m_kavelo"})
		if err != nil || len(audit) != 1 || audit[0].Action != "mark.quarantine" || audit[0].Actor != Actor {
			t.Errorf("audit %+v, %v", audit, err)
		}
		if v := testutil.ToFloat64(w.m.imposed.WithLabelValues(domain.QuarantineImage, domain.TriggerFlood)); v != 1 {
			t.Errorf("quarantines_total{image,flood} = %v, want 1", v)
		}
		if v := testutil.ToFloat64(w.m.active.WithLabelValues(domain.QuarantineImage)); v != 1 {
			t.Errorf("quarantines_active{image} = %v, want 1", v)
		}
		// The next check finds it held and imposes nothing more.
		if again, err := w.Check(ctx); err != nil || len(again) != 0 {
			t.Errorf("second check imposed %+v, %v", again, err)
		}
	})
}
