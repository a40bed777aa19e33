package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
)

// benchComplaints is the queue size the console's page times are measured
// at (the bar: ≤ 50 ms p95 at 100,000 complaints on PostgreSQL).
const benchComplaints = 100_000

// benchEnv is a console over PostgreSQL holding benchComplaints open
// complaints of 50 holders, 400 marks and 20,000 sellers, every one with a
// listing snapshot and evidence, each title with a word of its own; made
// once per benchmark process.
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
	testCountBudget = 0 // the production budget, api.DefaultCountBudget
	e := newEnvNoCleanup(b, u.String())
	ctx := context.Background()
	start := time.Now()
	// One INSERT ... SELECT over generate_series: the same rows as
	// InsertComplaint writes (columns beside the JSON body), in seconds
	// rather than 100,000 round trips.
	nowMS := time.Now().UnixMilli()
	// The triggers (complaint_counts, complaint_matcher_counts) name their
	// tables unqualified: seed through the schema's search path.
	seed, err := sql.Open("pgx", u.String())
	if err != nil {
		b.Fatal(err)
	}
	defer seed.Close()
	// The complaints are partitioned by month of arrival (migration 16):
	// the months the seed spans need their partitions first.
	if _, err := e.store.EnsurePartitions(ctx, time.UnixMilli(nowMS-benchComplaints*1000), 2); err != nil {
		b.Fatal(err)
	}
	_, err = seed.ExecContext(ctx, `INSERT INTO `+schema+`.complaints
		(id, source, listing_id, listing_version, mark_id, holder_id, seller_id, score, status, body, created_at, updated_at, queue_key, period)
		SELECT id, 'auto', listing, 1, mark, holder, seller, score, 'open',
			json_build_object('schema_version', 1, 'complaint_id', id, 'source', 'auto', 'listing_id', listing,
				'listing_version', 1, 'mark_id', mark, 'holder_id', holder, 'seller_id', seller, 'score', score,
				'explanation', 'the mark with a replica cue',
				'evidence', json_build_array(
					json_build_object('matcher', 'text', 'score', 0.6, 'field', 'title', 'match', 'Brand' || (i % 400), 'kind', 'leet'),
					json_build_object('matcher', CASE WHEN i % 7 = 0 THEN 'image' ELSE 'cue' END, 'score', 0.3, 'field', 'description', 'match', 'replica', 'kind', 'cue', 'detail', 'en')),
				'listing', json_build_object(
					'title', 'Brand' || (i % 400) || ' replica bag number ' || i || ' word' || (i * 7919 % 100000) || ' tag' || (i % 40),
					'description', 'AAA replica, mirror quality, never-seen word ' || (i::bigint * 104729),
					'price', json_build_object('amount', '25.00', 'currency', 'EUR'),
					'images', json_build_array('https://img.example/' || i || '.jpg')))::text,
			$1::bigint - i::bigint * 1000, $1::bigint - i::bigint * 1000,
			-- The queue key InsertComplaint writes (store.queueKeyRest).
			'1' || lpad(CAST(ROUND((1 - score) * 1e15) AS BIGINT)::text, 16, '0') || lpad(($1::bigint - i::bigint * 1000)::text, 16, '0') || id,
			markwatch_period($1::bigint - i::bigint * 1000)
		FROM (SELECT i, 'c_bench_' || lpad(i::text, 6, '0') AS id, 'l_' || lpad(i::text, 6, '0') AS listing,
				'm_' || lpad((i % 400)::text, 3, '0') AS mark,
				CASE WHEN i % 50 = 0 THEN 'h_own' ELSE 'h_' || lpad((i % 50)::text, 2, '0') END AS holder,
				's_' || lpad((i % 20000)::text, 5, '0') AS seller, (i % 1000) / 1000.0 AS score
			FROM generate_series(0, $2 - 1) AS i) AS g`, nowMS, benchComplaints)
	if err != nil {
		b.Fatal(err)
	}
	// The matcher rows InsertComplaint writes beside each complaint, and
	// their counts. The counting trigger is off for the bulk insert and
	// the counts made after it, as store.LoadComplaints does: one
	// transaction bumping the same few count rows 200,000 times slows
	// down with every dead version of them.
	for _, q := range []string{
		// Every complaint id is claimed in complaint_ids (migration 16),
		// which claims and strikes refer to, with its period (migration
		// 19), which lookups by id use to name the partition.
		`INSERT INTO complaint_ids (id, period) SELECT id, period FROM complaints`,
		`ALTER TABLE complaint_matchers DISABLE TRIGGER complaint_matchers_insert`,
		`INSERT INTO complaint_matchers (complaint_id, matcher, queue_key)
			SELECT DISTINCT c.id, e->>'matcher', c.queue_key FROM complaints c, jsonb_array_elements(c.body::jsonb->'evidence') e`,
		`ALTER TABLE complaint_matchers ENABLE TRIGGER complaint_matchers_insert`,
		`INSERT INTO complaint_matcher_counts (matcher, holder_id, source, status, n)
			SELECT m.matcher, c.holder_id, c.source, c.status, COUNT(*)
			FROM complaint_matchers m JOIN complaints c ON c.id = m.complaint_id
			GROUP BY m.matcher, c.holder_id, c.source, c.status`,
	} {
		if _, err := seed.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := seed.ExecContext(ctx, `ANALYZE `+schema+`.complaints`); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.ExecContext(ctx, `ANALYZE `+schema+`.complaint_matchers`); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, benchComplaints)
	for i := range benchComplaints {
		ids = append(ids, fmt.Sprintf("c_bench_%06d", i))
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

// serveSearch runs the API's RunSearch while the benchmark runs, as
// markwatch serve does: lists then read the search index as it is kept,
// without a catch-up of their own on every request.
func serveSearch(b *testing.B, e *env) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.api.RunSearch(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

// measure runs page b.N times and reports the p50 and p95 render times
// and the page's weight. before, when not nil, runs untimed before each
// page.
func measure(b *testing.B, before func(i int), page func(i int) response) {
	durations := make([]time.Duration, 0, b.N)
	var bytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if before != nil {
			b.StopTimer()
			before(i)
			b.StartTimer()
		}
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
// session check, the store (or, with text, the search index) and the
// templates, with 100,000 complaints in PostgreSQL: the plain queue, with
// field filters, and with full text.
func BenchmarkQueuePage(b *testing.B) {
	e, _ := seededEnv(b)
	serveSearch(b, e)
	c := e.login(b, "reviewer")
	for _, bc := range []struct{ name, path string }{
		// A list seen for the first time, one mark (or score) after
		// another: the page comes with the counts known at once, and its
		// script fetches the others (the -counts cases below).
		{"filtered-cold", "/queue?source=auto&min_score=0.5&mark_id=m_%03d"},
		{"matcher-cold", "/queue?matcher=image&min_score=0.%d"},
		// What the script then fetches: the time to the counts' JSON
		// (GET /queue/counts), after the page of the same filters, of
		// other marks and scores than the cases above.
		{"filtered-cold-counts", "/queue/counts?source=auto&min_score=0.5&mark_id=m_%03d"},
		{"matcher-cold-counts", "/queue/counts?matcher=image&min_score=0.%d"},
		{"open", "/queue"},
		{"filtered", "/queue?source=auto&min_score=0.5&mark_id=m_007"},
		{"matcher", "/queue?matcher=image"},
		{"matcher-filtered", "/queue?matcher=cue&min_score=0.5&max_age=168h"},
		{"text", "/queue?q=replica+bag"},
		{"text-2.5pc", "/queue?q=tag7"},
		{"text-250", "/queue?q=Brand7"},
		{"text-1", "/queue?q=word12345"},
		{"text-matcher", "/queue?q=replica&matcher=image"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := func(i int) string {
				if !strings.Contains(bc.path, "%") {
					return bc.path
				}
				if strings.HasPrefix(bc.path, "/queue/counts?") {
					return fmt.Sprintf(bc.path, 200+i%200)
				}
				return fmt.Sprintf(bc.path, i%200)
			}
			var before func(int)
			if q, ok := strings.CutPrefix(bc.path, "/queue/counts?"); ok {
				// The page first, untimed, as in a browser: it counts
				// what is known at once.
				before = func(i int) {
					if r := c.get(strings.Replace(path(i), "/queue/counts?", "/queue?", 1)); r.status != 200 || !strings.Contains(r.body, "data-counts") {
						b.Fatalf("page before the counts of ?%s: %d, data-counts %v", q, r.status, strings.Contains(r.body, "data-counts"))
					}
				}
			}
			measure(b, before, func(i int) response { return c.get(path(i)) })
		})
	}
}

// BenchmarkComplaintPage renders complaint pages (claim, evidence, seller
// history, the neighbours for j/k) over HTTP with 100,000 complaints in
// PostgreSQL, the way a reviewer walks the queue: the queue page (untimed)
// every 25 complaints, then the complaints of its first page one after
// another.
func BenchmarkComplaintPage(b *testing.B) {
	e, _ := seededEnv(b)
	serveSearch(b, e)
	c := e.login(b, "reviewer")
	var ids []string
	measure(b, func(i int) {
		if i%25 == 0 {
			r := c.get("/queue")
			ids = regexp.MustCompile(`data-id="([^"]+)"`).FindAllString(r.body, -1)
			if len(ids) < 25 {
				b.Fatalf("queue page has %d rows", len(ids))
			}
		}
	}, func(i int) response {
		id := strings.TrimSuffix(strings.TrimPrefix(ids[i%25], `data-id="`), `"`)
		return c.get("/complaints/" + id)
	})
}
