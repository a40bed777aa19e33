package api

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store/storetest"
)

// TestSearchResumesFromDisk stops a replica whose search index is on disk,
// changes the store while it is down, and starts it again on the same
// index: it reports ready and serves text search from the index at once,
// without a rebuild, reports the time since its last catch-up as its lag,
// and its first catch-up brings in what changed while it was down.
//
// On PostgreSQL the store answers text search (migration 20): the index on
// disk is not used, the replica is ready with no lag, and the complaint
// stored while it was down is found at once.
func TestSearchResumesFromDisk(t *testing.T) {
	storetest.Run(t, func(t *testing.T, eng storetest.Engine) {
		dsn := eng.NewDSN(t)
		if e := newEnv(t, dsn, Options{}); e.store.TextSearch() {
			testStoreSearchNeedsNoIndex(t, dsn)
			return
		}
		path := filepath.Join(t.TempDir(), "search")
		ix, err := search.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, dsn, Options{Search: ix})
		e.ingestFixture(t, listFixture{"c_1", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME bag", 0.9})
		e.ingestFixture(t, listFixture{"c_2", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME shoe", 0.8})
		if err := e.api.RebuildSearch(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
		// While the replica is down, another one stores a complaint.
		e.ingestFixture(t, listFixture{"c_3", ownHolder, domain.SourceAuto, "m_acme", "s_3", "ACME hat", 0.7})

		ix2, err := search.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix2.Close() })
		reg := prometheus.NewRegistry()
		e2 := newEnv(t, dsn, Options{Search: ix2, Registerer: reg})
		e2.api.index.running.Store(true) // as under RunSearch: requests do not catch up
		if got := testutil.ToFloat64(e2.api.metrics.searchReady); got != 1 {
			t.Errorf("ready on a resumed index = %v, want 1", got)
		}
		if lag := testutil.ToFloat64(e2.api.metrics.searchLag); lag <= 0 || lag > 60 {
			t.Errorf("lag on a resumed index = %vs, want the time since its last catch-up", lag)
		}
		text := func() []string {
			got := ids(e2.list(t, "/v1/complaints?q=acme", identity.RoleReviewer))
			slices.Sort(got)
			return got
		}
		if got := text(); !slices.Equal(got, []string{"c_1", "c_2"}) {
			t.Errorf("text search before the first catch-up = %v, want the complaints indexed before the stop", got)
		}
		if err := e2.api.index.catchUp(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := text(); !slices.Equal(got, []string{"c_1", "c_2", "c_3"}) {
			t.Errorf("text search after the first catch-up = %v, want all three", got)
		}
	})
}

// testStoreSearchNeedsNoIndex is TestSearchResumesFromDisk where the store
// answers text search: a replica that starts on the store, with an index
// on disk or not, reports ready with no lag and finds every complaint by
// text at once, the one stored while it was down included.
func testStoreSearchNeedsNoIndex(t *testing.T, dsn string) {
	e := newEnv(t, dsn, Options{})
	e.ingestFixture(t, listFixture{"c_1", ownHolder, domain.SourceAuto, "m_acme", "s_1", "ACME bag", 0.9})
	e.ingestFixture(t, listFixture{"c_2", ownHolder, domain.SourceAuto, "m_acme", "s_2", "ACME shoe", 0.8})
	ix, err := search.Open(filepath.Join(t.TempDir(), "search"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	reg := prometheus.NewRegistry()
	e2 := newEnv(t, dsn, Options{Search: ix, Registerer: reg})
	e2.api.index.running.Store(true) // as under RunSearch: requests do not catch up
	e.ingestFixture(t, listFixture{"c_3", ownHolder, domain.SourceAuto, "m_acme", "s_3", "ACME hat", 0.7})
	if got := testutil.ToFloat64(e2.api.metrics.searchReady); got != 1 {
		t.Errorf("ready = %v, want 1", got)
	}
	if lag := testutil.ToFloat64(e2.api.metrics.searchLag); lag != 0 {
		t.Errorf("lag = %vs, want 0", lag)
	}
	got := ids(e2.list(t, "/v1/complaints?q=acme", identity.RoleReviewer))
	slices.Sort(got)
	if !slices.Equal(got, []string{"c_1", "c_2", "c_3"}) {
		t.Errorf("text search = %v, want all three", got)
	}
	if n, err := ix.Count(); err != nil || n != 0 {
		t.Errorf("index on disk holds %d documents (%v), want none", n, err)
	}
}
