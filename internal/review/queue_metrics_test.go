package review

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

func TestQueueCollector(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		e := newEnv(t, eng, Options{Quality: Quality{MinDecisions: 3, GoodFaithRate: 0.6, ThrottleMinDecisions: 2, ThrottleFloor: 0.5}})
		reg := prometheus.NewRegistry()
		if err := reg.Register(e.svc.QueueCollector(0)); err != nil {
			t.Fatal(err)
		}
		empty := `
# HELP markwatch_review_queue_oldest_seconds Age of the oldest open complaint, from its arrival in the store; 0 when none is open.
# TYPE markwatch_review_queue_oldest_seconds gauge
markwatch_review_queue_oldest_seconds 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(empty), "markwatch_review_queue_oldest_seconds"); err != nil {
			t.Error(err)
		}
		manual := func(id, holder string) *domain.Complaint {
			c := complaint(id, "s_1")
			c.Source, c.HolderID, c.MarkID, c.Evidence, c.Listing = domain.SourceRightsHolder, holder, "m_"+holder, nil, nil
			return c
		}
		for _, h := range []string{"h_good", "h_bad", "h_new"} {
			e.mark(t, h, "m_"+h, domain.MarkActive)
		}
		// h_good: 3 of 3 upheld; h_bad: 0 of 2; h_new: 1 open, none decided.
		for i := range 3 {
			e.ingest(t, manual(fmt.Sprintf("g_%d", i), "h_good"))
		}
		e.ingest(t, manual("b_0", "h_bad"), manual("b_1", "h_bad"))
		e.clock.Add(90 * time.Second)
		e.ingest(t, manual("n_0", "h_new"), complaint("a_0", "s_2"))
		for i := range 3 {
			if err := e.svc.Decide(t.Context(), fmt.Sprintf("g_%d", i), uphold("u_1")); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"b_0", "b_1"} {
			if err := e.svc.Decide(t.Context(), id, reject("u_1")); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Add(30 * time.Second)
		st, err := e.svc.Standings(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if wantSt := map[string]Standing{"h_good": StandingGoodFaith, "h_bad": StandingThrottled}; !maps.Equal(st, wantSt) {
			t.Errorf("standings = %v, want %v", st, wantSt)
		}
		for h, want := range map[string]Standing{"h_good": StandingGoodFaith, "h_bad": StandingThrottled, "h_new": StandingNormal} {
			if got, err := e.svc.HolderStanding(t.Context(), h); err != nil || got != want {
				t.Errorf("HolderStanding(%s) = %v, %v; want %v, agreeing with Standings", h, got, err, want)
			}
		}
		want := `
# HELP markwatch_review_holders Rights holders by notifier standing (good_faith, throttled); holders of normal standing are not counted.
# TYPE markwatch_review_holders gauge
markwatch_review_holders{standing="good_faith"} 1
markwatch_review_holders{standing="throttled"} 1
# HELP markwatch_review_queue_depth Complaints in the review store, by status (open is the queue proper).
# TYPE markwatch_review_queue_depth gauge
markwatch_review_queue_depth{status="contested"} 0
markwatch_review_queue_depth{status="open"} 2
markwatch_review_queue_depth{status="reinstated"} 0
markwatch_review_queue_depth{status="rejected"} 2
markwatch_review_queue_depth{status="upheld"} 3
# HELP markwatch_review_queue_oldest_seconds Age of the oldest open complaint, from its arrival in the store; 0 when none is open.
# TYPE markwatch_review_queue_oldest_seconds gauge
markwatch_review_queue_oldest_seconds 30
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "markwatch_review_holders",
			"markwatch_review_queue_depth", "markwatch_review_queue_oldest_seconds"); err != nil {
			t.Error(err)
		}
		// The per-mark and per-holder views: the marks with open complaints
		// (m_acme, m_h_new); h_new has nothing decided and is not shown.
		top := `
# HELP markwatch_holder_decided_complaints Decided manual complaints of the rights holders with the most of them (at most 10 holders).
# TYPE markwatch_holder_decided_complaints gauge
markwatch_holder_decided_complaints{holder_id="h_bad"} 2
markwatch_holder_decided_complaints{holder_id="h_good"} 3
# HELP markwatch_holder_upheld_complaints Upheld manual complaints (contested and reinstated included) of the holders of markwatch_holder_decided_complaints.
# TYPE markwatch_holder_upheld_complaints gauge
markwatch_holder_upheld_complaints{holder_id="h_bad"} 0
markwatch_holder_upheld_complaints{holder_id="h_good"} 3
# HELP markwatch_mark_complaints Complaints by status for the marks with the most open complaints (at most 10 marks).
# TYPE markwatch_mark_complaints gauge
markwatch_mark_complaints{mark_id="m_acme",status="contested"} 0
markwatch_mark_complaints{mark_id="m_acme",status="open"} 1
markwatch_mark_complaints{mark_id="m_acme",status="reinstated"} 0
markwatch_mark_complaints{mark_id="m_acme",status="rejected"} 0
markwatch_mark_complaints{mark_id="m_acme",status="upheld"} 0
markwatch_mark_complaints{mark_id="m_h_new",status="contested"} 0
markwatch_mark_complaints{mark_id="m_h_new",status="open"} 1
markwatch_mark_complaints{mark_id="m_h_new",status="reinstated"} 0
markwatch_mark_complaints{mark_id="m_h_new",status="rejected"} 0
markwatch_mark_complaints{mark_id="m_h_new",status="upheld"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(top), "markwatch_mark_complaints",
			"markwatch_holder_decided_complaints", "markwatch_holder_upheld_complaints"); err != nil {
			t.Error(err)
		}
	})
}

// TestTopHoldersBounded checks that the per-holder gauges show at most
// TopN holders, the ones with the most decisions.
func TestTopHoldersBounded(t *testing.T) {
	e := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	reg := prometheus.NewRegistry()
	if err := reg.Register(e.svc.QueueCollector(0)); err != nil {
		t.Fatal(err)
	}
	// Holder i has i+1 decided complaints, for TopN+3 holders.
	for i := range TopN + 3 {
		for j := range i + 1 {
			c := complaint(fmt.Sprintf("c_%d_%d", i, j), "s_1")
			h := fmt.Sprintf("h_%02d", i)
			if j == 0 {
				e.mark(t, h, "m_"+h, domain.MarkActive)
			}
			c.Source, c.HolderID, c.MarkID, c.Evidence, c.Listing = domain.SourceRightsHolder, h, "m_"+h, nil, nil
			e.ingest(t, c)
			if err := e.svc.Decide(t.Context(), c.ComplaintID, reject("u_1")); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := testutil.GatherAndCount(reg, "markwatch_holder_decided_complaints"); err != nil || n != TopN {
		t.Fatalf("%d holders shown (%v), want %d", n, err, TopN)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP markwatch_holder_upheld_complaints Upheld manual complaints (contested and reinstated included) of the holders of markwatch_holder_decided_complaints.
# TYPE markwatch_holder_upheld_complaints gauge
`+func() string {
		var b strings.Builder
		for i := 3; i < TopN+3; i++ {
			fmt.Fprintf(&b, "markwatch_holder_upheld_complaints{holder_id=\"h_%02d\"} 0\n", i)
		}
		return b.String()
	}()), "markwatch_holder_upheld_complaints"); err != nil {
		t.Errorf("not the busiest holders: %v", err)
	}
}

func TestQueueCollectorFailsOnClosedStore(t *testing.T) {
	e := newEnv(t, storetest.Engine{Name: "sqlite", NewDSN: storetest.SQLiteDSN}, Options{})
	reg := prometheus.NewRegistry()
	if err := reg.Register(e.svc.QueueCollector(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err == nil {
		t.Error("gather over a closed store: no error")
	}
}
