package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
)

// replicaInterval is the search interval of the replicas under test; the
// bound a replica's text search may lag another's decision is a few of
// them (see TestReplicasSeeEachOther).
const replicaInterval = 200 * time.Millisecond

// newReplica is a second serve replica of first: its own connection pool
// on first's database, its own review service and search index, and the
// users (tokens) first created. RunSearch runs on it until the test ends.
func newReplica(t testing.TB, dsn string, first *env, opts Options) *env {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rv, err := review.New(review.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Review = st, rv
	if opts.RateLimit == 0 {
		opts.RateLimit = rate.Inf
	}
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: st, review: rv, api: a, h: a.Handler(), tokens: first.tokens}
}

// getComplaint gets one complaint through e's HTTP handler.
func (e *env) getComplaint(t *testing.T, id string) complaintResponse {
	t.Helper()
	w := e.do("GET", "/v1/complaints/"+id, "", identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /v1/complaints/%s: status %d: %s", id, w.Code, w.Body)
	}
	var c complaintResponse
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReplicasSeeEachOther runs two serve replicas on one PostgreSQL
// database, each with its own pool, review service and RunSearch loop. A
// decision through replica A is read at once through B, with or without
// text: on PostgreSQL text search reads the store's complaint_terms
// (migration 20) like every list reads the store, so the staleness bound
// between replicas is 0. So does a complaint ingested through A, and a
// decision the other way round. The lists are read right after the write
// commits, without waiting or retrying.
func TestReplicasSeeEachOther(t *testing.T) {
	base := testenv.PostgresURL(t)
	dsn := storetest.PostgresDSN(t, base)
	opts := func() Options {
		return Options{Registerer: prometheus.NewRegistry(), SearchInterval: replicaInterval}
	}
	a := newEnv(t, dsn, opts())
	b := newReplica(t, dsn, a, opts())
	for _, f := range []listFixture{
		{"c_bag", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME handbag replica", 0.9},
		{"c_shoe", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME sneakers", 0.8},
		{"c_wallet", otherHolder, domain.SourceAuto, "m_other", "s_3", "Other wallet", 0.7},
	} {
		a.ingestFixture(t, f)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*env{a, b} {
		wg.Go(func() {
			if err := e.api.RunSearch(ctx); err != nil {
				t.Errorf("RunSearch: %v", err)
			}
		})
	}
	// Stop both loops before the pools close (cleanups run last first).
	t.Cleanup(func() { cancel(); wg.Wait() })

	textIDs := func(e *env, path string) []string { return ids(e.list(t, path, identity.RoleReviewer)) }
	for _, e := range []*env{a, b} {
		waitFor(t, "the first build", 5*time.Second, func() bool { return e.api.index.caughtUp.Load() != 0 })
		if got := textIDs(e, "/v1/complaints?q=handbag&status=open"); !slices.Equal(got, []string{"c_bag"}) {
			t.Fatalf("open handbag before the decision = %v, want c_bag", got)
		}
	}

	w := a.do("POST", "/v1/complaints/c_bag/decision", `{"decision":"uphold","reason_code":"counterfeit"}`, identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("decision through A: %d %s", w.Code, w.Body)
	}
	decided := time.Now()

	// (a) and (c): B reads the store, so it sees the decision at once.
	if got := b.getComplaint(t, "c_bag").Status; got != store.ComplaintUpheld {
		t.Errorf("status through B right after the decision = %q, want %q", got, store.ComplaintUpheld)
	}
	if got := textIDs(b, "/v1/complaints?status=upheld"); !slices.Equal(got, []string{"c_bag"}) {
		t.Errorf("upheld through B without text = %v, want c_bag", got)
	}
	if got := textIDs(b, "/v1/complaints?status=open"); slices.Contains(got, "c_bag") {
		t.Errorf("open through B without text = %v, still has c_bag", got)
	}
	// A re-indexed its own decision: its text search has it at once.
	if got := textIDs(a, "/v1/complaints?q=handbag&status=upheld"); !slices.Equal(got, []string{"c_bag"}) {
		t.Errorf("upheld handbag through A = %v, want c_bag", got)
	}
	// (b): B's text search reads the store too: at once.
	if got := textIDs(b, "/v1/complaints?q=handbag&status=upheld"); !slices.Equal(got, []string{"c_bag"}) {
		t.Errorf("upheld handbag through B right after the decision = %v, want c_bag", got)
	}
	if got := textIDs(b, "/v1/complaints?q=handbag&status=open"); len(got) != 0 {
		t.Errorf("open handbag through B right after the decision = %v, want none", got)
	}
	t.Logf("decision through A read through B's text search %v after it", time.Since(decided).Round(time.Millisecond))

	// A complaint ingested through A's service: B lists it from the store
	// at once and finds it by text within the bound.
	a.ingestFixture(t, listFixture{"c_watch", ownHolder, domain.SourceAuto, "m_acme", "s_4", "ACME chronograph watch", 0.6})
	ingested := time.Now()
	if got := textIDs(b, "/v1/complaints?status=open&seller_id=s_4"); !slices.Equal(got, []string{"c_watch"}) {
		t.Errorf("new complaint through B without text = %v, want c_watch", got)
	}
	if got := b.getComplaint(t, "c_watch").Status; got != store.ComplaintOpen {
		t.Errorf("new complaint's status through B = %q, want %q", got, store.ComplaintOpen)
	}
	if got := textIDs(b, "/v1/complaints?q=chronograph"); !slices.Equal(got, []string{"c_watch"}) {
		t.Errorf("new complaint through B's text search = %v, want c_watch", got)
	}
	t.Logf("complaint ingested through A read through B's text search %v after it", time.Since(ingested).Round(time.Millisecond))

	// And the other way round: a decision through B reaches A.
	w = b.do("POST", "/v1/complaints/c_shoe/decision", `{"decision":"reject","reason_code":"genuine"}`, identity.RoleReviewer)
	if w.Code != http.StatusOK {
		t.Fatalf("decision through B: %d %s", w.Code, w.Body)
	}
	if got := textIDs(a, "/v1/complaints?q=sneakers&status=rejected"); !slices.Equal(got, []string{"c_shoe"}) {
		t.Errorf("rejected sneakers through A right after B's decision = %v, want c_shoe", got)
	}
	// Neither replica builds a search index on PostgreSQL, and each
	// reports no lag.
	for _, e := range []*env{a, b} {
		if n, err := e.api.index.ix.Count(); err != nil || n != 0 {
			t.Errorf("search index of a replica on PostgreSQL holds %d documents (%v), want none", n, err)
		}
		if lag := e.api.index.lag(time.Now()); lag != 0 {
			t.Errorf("search lag on PostgreSQL = %v, want 0", lag)
		}
	}
}

// BenchmarkReplicaPropagation measures how long a decision through replica
// A takes to reach replica B's text search on one PostgreSQL database, both
// under RunSearch with the interval of TestReplicasSeeEachOther: about half
// an interval on average plus one catch-up. Each op decides a complaint
// through A's handler and polls B every 5 ms until its text search lists
// the complaint as upheld; max-ms is the slowest op.
func BenchmarkReplicaPropagation(bm *testing.B) {
	dsn := storetest.PostgresDSNFor(bm, testenv.PostgresURL(bm))
	opts := func() Options {
		return Options{Registerer: prometheus.NewRegistry(), SearchInterval: replicaInterval}
	}
	a := newEnv(bm, dsn, opts())
	b := newReplica(bm, dsn, a, opts())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*env{a, b} {
		wg.Go(func() { _ = e.api.RunSearch(ctx) })
	}
	bm.Cleanup(func() { cancel(); wg.Wait() })
	// poll waits until path lists id through B, or fails after 10 s.
	poll := func(path, id string) {
		deadline := time.Now().Add(10 * time.Second)
		for !slices.Equal(ids(b.list(bm, path, identity.RoleReviewer)), []string{id}) {
			if time.Now().After(deadline) {
				bm.Fatalf("%s: %s not listed through B within 10s", path, id)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	var worst time.Duration
	for i := 0; bm.Loop(); i++ {
		bm.StopTimer()
		id, word := fmt.Sprintf("c_prop_%d", i), fmt.Sprintf("zq%d", i)
		a.ingestFixture(bm, listFixture{id, ownHolder, domain.SourceAuto, "m_acme", "s_" + id, "ACME " + word, 0.5})
		poll("/v1/complaints?q="+word+"&status=open", id)
		// The poll ends just after one of B's catch-ups; deciding at a
		// random point of B's interval measures the average, not the
		// worst case.
		time.Sleep(rand.N(replicaInterval))
		bm.StartTimer()
		start := time.Now()
		w := a.do("POST", "/v1/complaints/"+id+"/decision", `{"decision":"uphold","reason_code":"counterfeit"}`, identity.RoleReviewer)
		if w.Code != http.StatusOK {
			bm.Fatalf("decision through A: %d %s", w.Code, w.Body)
		}
		poll("/v1/complaints?q="+word+"&status=upheld", id)
		worst = max(worst, time.Since(start))
	}
	bm.ReportMetric(float64(worst.Milliseconds()), "max-ms")
}
