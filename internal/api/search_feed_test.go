package api

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// runSearch starts RunSearch on e's API until the test ends.
func runSearch(t *testing.T, e *env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.api.RunSearch(ctx); err != nil {
			t.Errorf("RunSearch: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSearchFeed runs the index under RunSearch: complaints stored by
// another writer (the consumer) reach it through the store's change stream
// within the interval, without a request catching up; a decision through
// the API is in the very next list, however long the interval, because the
// API re-indexes what it decided; the lag and ready gauges report the
// index's state (ready at once where the store answers text search).
func TestSearchFeed(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, storetest.SQLiteDSN(t), Options{Registerer: reg, SearchInterval: 50 * time.Millisecond})
	// The store answers text search (complaint_term_keys on SQLite,
	// migration 24): ready from the start, no index to build.
	if got := testutil.ToFloat64(e.api.metrics.searchReady); got != 1 {
		t.Errorf("ready before the first catch-up = %v, want 1", got)
	}
	e.ingestFixture(t, listFixture{"c_before", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME bag", 0.9})
	runSearch(t, e)
	has := func(id string) func() bool {
		return func() bool { return slices.Contains(ids(e.list(t, "/v1/complaints", identity.RoleReviewer)), id) }
	}
	waitFor(t, "the complaint stored before start is listed", 5*time.Second, has("c_before"))
	waitFor(t, "the index reports ready", 5*time.Second, func() bool { return testutil.ToFloat64(e.api.metrics.searchReady) == 1 })
	if lag := testutil.ToFloat64(e.api.metrics.searchLag); lag < 0 || lag > 5 {
		t.Errorf("lag after a catch-up = %vs, want between 0 and 5", lag)
	}
	e.ingestFixture(t, listFixture{"c_after", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME shoe", 0.8})
	waitFor(t, "the complaint stored while running is listed", 5*time.Second, has("c_after"))
	// The store answers text search, found at once, and the loop's
	// catch-ups put nothing in the bleve index.
	if got := ids(e.list(t, "/v1/complaints?q=shoe", identity.RoleReviewer)); !slices.Equal(got, []string{"c_after"}) {
		t.Errorf("q=shoe = %v, want c_after", got)
	}
	if n, err := e.api.index.ix.Count(); err != nil || n != 0 {
		t.Errorf("bleve index holds %d documents (%v), want none", n, err)
	}
}

// TestSearchDecisionFeedsIndex checks that a decision is listed at once
// when the background catch-up is far away, and that lists without text
// come from the store.
func TestSearchDecisionFeedsIndex(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), Options{SearchInterval: time.Hour})
	e.ingestFixture(t, listFixture{"c_1", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME bag", 0.9})
	runSearch(t, e)
	waitFor(t, "the first build", 5*time.Second, func() bool { return e.api.index.caughtUp.Load() != 0 })
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleReviewer)); !slices.Equal(got, []string{"c_1"}) {
		t.Fatalf("open before the decision = %v", got)
	}
	w := e.do("POST", "/v1/complaints/c_1/decision", `{"decision":"reject","reason_code":"genuine"}`, identity.RoleReviewer)
	if w.Code != 200 {
		t.Fatalf("decision: %d %s", w.Code, w.Body)
	}
	if got := ids(e.list(t, "/v1/complaints?status=open", identity.RoleReviewer)); len(got) != 0 {
		t.Errorf("open after the decision = %v, want none", got)
	}
	if got := ids(e.list(t, "/v1/complaints?status=rejected", identity.RoleReviewer)); !slices.Equal(got, []string{"c_1"}) {
		t.Errorf("rejected after the decision = %v, want c_1", got)
	}
	// A list without text reads the store: a complaint stored by the
	// consumer is in it at once, an hour before the next catch-up.
	e.ingestFixture(t, listFixture{"c_2", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME shoe", 0.5})
	resp := e.list(t, "/v1/complaints?status=open", identity.RoleReviewer)
	if got := ids(resp); !slices.Equal(got, []string{"c_2"}) || resp.Total != 1 || resp.TotalEstimated {
		t.Errorf("open after a new complaint = %v (total %d, estimated %v), want c_2, 1 exact", got, resp.Total, resp.TotalEstimated)
	}
}
