package retention

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestJobDeletesOldDecidedComplaints stores complaints a year and a half
// old and recent ones on each store, runs the job once with a year of
// retention, and checks what it deleted, what it kept and its metrics.
func TestJobDeletesOldDecidedComplaints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, e storetest.Engine) {
		ctx := t.Context()
		now := time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)
		clock := now.AddDate(-1, -6, 0)
		st, err := store.OpenOptions(ctx, store.Options{DSN: e.NewDSN(t), Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for i := range 6 {
			if i == 3 {
				clock = now.AddDate(0, -1, 0)
			}
			id := fmt.Sprintf("c_%d", i)
			err := st.WithTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.InsertComplaint(ctx, &domain.Complaint{
					SchemaVersion: domain.SchemaVersion, ComplaintID: id, Source: domain.SourceAuto,
					ListingID: "l_" + id, MarkID: "m_1", HolderID: "h_1", SellerID: "s_1", Score: 0.9,
				}); err != nil {
					return err
				}
				if i%3 == 2 { // one old and one recent stay open
					return nil
				}
				return tx.SetComplaintStatus(ctx, id, store.ComplaintOpen, store.ComplaintRejected, "u_1")
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		reg := prometheus.NewRegistry()
		j, err := New(Options{Store: st, DecidedComplaints: 365 * 24 * time.Hour, Now: func() time.Time { return now }, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		res, err := j.Once(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Complaints != 2 {
			t.Errorf("deleted %d complaints, want the 2 old decided ones", res.Complaints)
		}
		for i := range 6 {
			_, err := st.GetComplaint(ctx, fmt.Sprintf("c_%d", i))
			if gone := errors.Is(err, store.ErrNotFound); gone != (i < 2) {
				t.Errorf("c_%d: %v", i, err)
			}
		}
		if got := testutil.ToFloat64(j.metrics.deleted.WithLabelValues("complaints")); got != 2 {
			t.Errorf("markwatch_retention_deleted_total{kind=complaints} = %g, want 2", got)
		}
		if got := testutil.ToFloat64(j.metrics.runs.WithLabelValues("ok")); got != 1 {
			t.Errorf("ok runs = %g, want 1", got)
		}
		if testutil.ToFloat64(j.metrics.lastSuccess) == 0 {
			t.Error("no last success time")
		}
		pg := e.Name == "postgres"
		// March 2025's partition at least (and the empty ones opening
		// the store made after it).
		if got := testutil.ToFloat64(j.metrics.dropped); pg && got < 1 || !pg && got != 0 {
			t.Errorf("partitions dropped = %g on %s", got, e.Name)
		}
		// The job made the partitions of September to November 2026.
		if got := testutil.ToFloat64(j.metrics.created); pg && got < 1 || !pg && got != 0 {
			t.Errorf("partitions created = %g on %s", got, e.Name)
		}
	})
}

// failing is a store whose retention always fails.
type failing struct{ calls chan struct{} }

func (f failing) EnsurePartitions(context.Context, time.Time, int) (int, error) { return 0, nil }

func (f failing) ApplyRetention(context.Context, store.RetentionPolicy) (store.RetentionResult, error) {
	f.calls <- struct{}{}
	return store.RetentionResult{}, errors.New("disk on fire")
}

// TestRunRetriesAfterFailure checks that a failed run is counted and that
// Run tries again at the next tick, and stops with its context.
func TestRunRetriesAfterFailure(t *testing.T) {
	f := failing{calls: make(chan struct{}, 10)}
	j, err := New(Options{Store: f, Records: time.Hour, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- j.Run(ctx) }()
	<-f.calls
	<-f.calls
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if got := testutil.ToFloat64(j.metrics.runs.WithLabelValues("error")); got < 2 {
		t.Errorf("error runs = %g, want at least 2", got)
	}
}

// TestNewRefusesBadOptions names the options New refuses.
func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"no store":        {},
		"negative period": {Store: failing{}, Records: -time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(o); err == nil {
				t.Error("no error")
			}
		})
	}
}
