package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/testenv"
)

// benchComplaints is the queue size the console's page times are measured
// at (the bar: ≤ 50 ms p95 at 100,000 complaints on PostgreSQL).
const benchComplaints = 100_000

// benchEnv is a console over PostgreSQL holding benchComplaints complaints
// of 50 holders, 400 marks and 20,000 sellers, every one with a listing
// snapshot and evidence; made once per benchmark process.
var benchEnv struct {
	e      *env
	ids    []string
	admin  *sql.DB
	schema string
}

// dropBenchSchema removes the benchmarks' database, if they made one; the
// package's TestMain calls it last.
func dropBenchSchema() {
	if benchEnv.admin == nil {
		return
	}
	if benchEnv.e != nil {
		benchEnv.e.srv.Close()
		benchEnv.e.store.Close()
	}
	_, _ = benchEnv.admin.Exec("DROP SCHEMA " + benchEnv.schema + " CASCADE")
	benchEnv.admin.Close()
}

func seededEnv(b *testing.B) (*env, []string) {
	if benchEnv.e != nil {
		return benchEnv.e, benchEnv.ids
	}
	base := testenv.PostgresURL(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("markwatch_bench_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatal(err)
	}
	// The schema outlives this benchmark: both benchmarks share it, and
	// TestMain drops it at the end.
	benchEnv.admin, benchEnv.schema = admin, schema
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	e := newEnvNoCleanup(b, u.String())
	ctx := context.Background()
	start := time.Now()
	ids := make([]string, 0, benchComplaints)
	err = e.store.WithTx(ctx, func(tx *store.Tx) error {
		for i := range benchComplaints {
			holder := ownHolder
			if i%50 != 0 {
				holder = fmt.Sprintf("h_%02d", i%50)
			}
			c := &domain.Complaint{
				SchemaVersion: domain.SchemaVersion, ComplaintID: fmt.Sprintf("c_bench_%06d", i), Source: domain.SourceAuto,
				ListingID: fmt.Sprintf("l_%06d", i), ListingVersion: 1, MarkID: fmt.Sprintf("m_%03d", i%400), HolderID: holder,
				SellerID: fmt.Sprintf("s_%05d", i%20_000), Score: float64(i%1000) / 1000, Explanation: "the mark with a replica cue",
				Evidence: []domain.Evidence{
					{Matcher: "text", Score: 0.6, Field: "title", Match: fmt.Sprintf("Brand%d", i%400), Kind: "leet"},
					{Matcher: "cue", Score: 0.3, Field: "description", Match: "replica", Kind: "cue", Detail: "en"},
				},
				Listing: &domain.ListingSnapshot{
					Title:       fmt.Sprintf("Brand%d replica bag number %d word%d", i%400, i, i*7919%100_000),
					Description: "AAA replica, mirror quality, never-seen word " + fmt.Sprint(i*104729),
					Price:       &domain.Money{Amount: "25.00", Currency: "EUR"}, Images: []string{fmt.Sprintf("https://img.example/%d.jpg", i)},
				},
			}
			if _, err := tx.InsertComplaint(ctx, c); err != nil {
				return err
			}
			ids = append(ids, c.ComplaintID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d complaints in %v", benchComplaints, time.Since(start))
	start = time.Now()
	if err := e.api.RebuildSearch(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("search index built in %v", time.Since(start))
	benchEnv.e, benchEnv.ids = e, ids
	return e, ids
}

// measure runs page b.N times and reports the p50 and p95 render times
// and the page's weight.
func measure(b *testing.B, page func(i int) response) {
	durations := make([]time.Duration, 0, b.N)
	var bytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		r := page(i)
		durations = append(durations, time.Since(t0))
		if r.status != 200 {
			b.Fatalf("status %d: %.300s", r.status, r.body)
		}
		bytes = len(r.body)
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(bytes), "page-bytes")
}

// BenchmarkQueuePage renders the reviewer's queue (50 rows, open
// complaints, good-faith first then score and age) over HTTP, through the
// session check, the search index and the store, with 100,000 complaints
// in PostgreSQL.
func BenchmarkQueuePage(b *testing.B) {
	e, _ := seededEnv(b)
	c := e.login(b, "reviewer")
	filters := []string{"/queue", "/queue?source=auto&min_score=0.5", "/queue?q=replica+bag", "/queue?mark_id=m_007"}
	measure(b, func(i int) response { return c.get(filters[i%len(filters)]) })
}

// BenchmarkComplaintPage renders complaint pages (claim, evidence, seller
// history, the neighbours for j/k) over HTTP with 100,000 complaints in
// PostgreSQL; every iteration opens another complaint.
func BenchmarkComplaintPage(b *testing.B) {
	e, ids := seededEnv(b)
	c := e.login(b, "reviewer")
	measure(b, func(i int) response { return c.get("/complaints/" + ids[(i*7919)%len(ids)]) })
}
