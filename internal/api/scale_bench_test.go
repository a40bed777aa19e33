package api

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
)

// benchComplaints is how many complaints BenchmarkQueueAtScale loads:
// MARKWATCH_BENCH_COMPLAINTS, 100,000 when unset.
func benchComplaints(b *testing.B) int {
	if s := os.Getenv("MARKWATCH_BENCH_COMPLAINTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			b.Fatalf("MARKWATCH_BENCH_COMPLAINTS=%q: want a number of at least 1000", s)
		}
		return n
	}
	return 100_000
}

// BenchmarkQueueAtScale loads a store with N realistic complaints
// (store.SyntheticComplaints; N from MARKWATCH_BENCH_COMPLAINTS) on SQLite
// and PostgreSQL and measures, through the HTTP handler, the requests of
// the review queue: a page of 50 with each single filter, the next page, a
// single complaint, a scrape of the queue's gauges and a decision with all
// its writes, and full-text searches (from the store on both; a store
// without text search builds the bleve index first, up to 200,000
// complaints). Each reports
// its p95 beside the mean: the targets are p95s. As serve does,
// the search index is taken to be kept current by RunSearch, so list
// requests do not catch it up.
func BenchmarkQueueAtScale(b *testing.B) {
	n := benchComplaints(b)
	engines := []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string {
			// As for PostgreSQL below: a file loaded by an earlier run
			// (a million complaints take over ten minutes to load here).
			if path := os.Getenv("MARKWATCH_BENCH_SQLITE_PATH"); path != "" {
				return "sqlite:" + path
			}
			return benchDSN(b)
		}},
		{"postgres", func(b *testing.B) string {
			// A database loaded by an earlier run is reused as it is: loading
			// five million complaints takes longer than measuring them.
			if dsn := os.Getenv("MARKWATCH_BENCH_POSTGRES_URL"); dsn != "" {
				return dsn
			}
			return storetest.PostgresDSNFor(b, testenv.PostgresURL(b))
		}},
	}
	for _, eng := range engines {
		b.Run(fmt.Sprintf("%s/%d", eng.name, n), func(b *testing.B) {
			e := newEnv(b, eng.dsn(b), Options{})
			start := time.Now()
			var open []string
			const chunk = 100_000
			first, err := loadedBefore(b, e.store, n)
			if err != nil {
				b.Fatal(err)
			}
			if first > 0 {
				page, err := e.store.ListQueue(b.Context(), store.QueueFilter{Status: []string{store.ComplaintOpen}}, "", 2000)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range page.Complaints {
					open = append(open, c.Body.ComplaintID)
				}
				b.Logf("%s: %d complaints already loaded", eng.name, first)
			}
			load := func() error {
				for ; first < n; first += chunk {
					cs := store.SyntheticComplaints(1, first, min(chunk, n-first), time.Now())
					for _, c := range cs {
						if c.Status == store.ComplaintOpen && len(open) < 20_000 {
							open = append(open, c.Body.ComplaintID)
						}
					}
					if err := e.store.LoadComplaints(b.Context(), cs); err != nil {
						return err
					}
				}
				return nil
			}
			if first < n {
				err = e.store.WithoutComplaintIndexes(b.Context(), load)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: loaded %d complaints in %v", eng.name, n, time.Since(start).Round(time.Millisecond))
			logDiskSize(b, e.store, eng.name, n)
			e.api.index.running.Store(true)
			get := func(b *testing.B, path string) *http.Response {
				w := e.do("GET", path, "", identity.RoleReviewer)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
				}
				return w.Result()
			}
			next := e.list(b, "/v1/complaints?status=open&limit=50", identity.RoleReviewer).NextCursor
			for _, l := range []struct{ name, path string }{
				{"list/none", "/v1/complaints?limit=50"},
				{"list/status", "/v1/complaints?limit=50&status=open"},
				{"list/status-page2", "/v1/complaints?limit=50&status=open&cursor=" + next},
				{"list/source", "/v1/complaints?limit=50&source=rights_holder"},
				{"list/mark_id", "/v1/complaints?limit=50&mark_id=m_0003"},
				{"list/holder_id", "/v1/complaints?limit=50&holder_id=h_000"},
				{"list/seller_id", "/v1/complaints?limit=50&seller_id=s_000000"},
				{"list/holder+status", "/v1/complaints?limit=50&holder_id=h_000&status=open"},
				{"single", "/v1/complaints/" + open[len(open)-1]},
			} {
				b.Run(l.name, func(b *testing.B) {
					timed(b, func() { get(b, l.path) })
				})
			}
			// A Prometheus scrape of the review queue's gauges (depth,
			// oldest open, holders' standings, the busiest marks), as
			// serve registers them.
			b.Run("scrape", func(b *testing.B) {
				reg := prometheus.NewPedanticRegistry()
				reg.MustRegister(e.review.QueueCollector(time.Minute))
				timed(b, func() {
					mfs, err := reg.Gather()
					if err != nil || len(mfs) == 0 {
						b.Fatalf("scrape: %d families, %v", len(mfs), err)
					}
				})
			})
			b.Run("decision", func(b *testing.B) {
				i, statements := 0, 0
				timed(b, func() {
					if i == len(open)-1 {
						b.Fatal("out of open complaints")
					}
					// The round trips too: a decision's p95 on a busy
					// machine is mostly the waits between them.
					ctx, sent := store.WithStatements(b.Context())
					w := e.doContext(ctx, "POST", "/v1/complaints/"+open[i]+"/decision", `{"decision":"uphold","reason_code":"counterfeit"}`, identity.RoleReviewer)
					if w.Code != http.StatusOK {
						b.Fatalf("decision on %s: %d %s", open[i], w.Code, w.Body)
					}
					statements += sent.Len()
					i++
				})
				b.ReportMetric(float64(statements)/float64(max(i, 1)), "statements/op")
			})
			// A new complaint from the complaints topic: the row, its
			// terms (complaint_terms; SQLite's complaint_term_keys, one row
			// per word), the counting triggers and the audit entry, in one
			// transaction, on a store of n. What intake costs as the table
			// grows.
			b.Run("ingest", func(b *testing.B) {
				fresh := store.SyntheticComplaints(2, n+int(time.Now().UnixMilli()%1_000_000)*1000, 1000, time.Now())
				// The loaded complaints' holders and marks are not
				// registered (the loader writes complaints only); intake
				// checks the mark, so the new ones are filed under one
				// registered mark, their text unchanged.
				e.ensureMark(b, "m_ingest", ownHolder)
				i := 0
				timed(b, func() {
					if i == len(fresh) {
						b.Fatal("out of new complaints")
					}
					c := fresh[i].Body
					c.MarkID, c.HolderID = "m_ingest", ownHolder
					c.ComplaintID = fmt.Sprintf("c_ingest_%d_%d", time.Now().UnixNano(), i)
					c.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
					if inserted, err := e.review.Ingest(b.Context(), &c); err != nil || !inserted {
						b.Fatalf("ingest %s: inserted %v, %v", c.ComplaintID, inserted, err)
					}
					i++
				})
			})
			// Both stores match text themselves (complaint_terms on
			// PostgreSQL, complaint_term_keys on SQLite from migration 24),
			// at any size. A store that did not searched a bleve index;
			// building it took about 0.7 ms a complaint on the loaded
			// machine, so above benchSearchMax it was left to
			// internal/search's benchmarks.
			if !e.store.TextSearch() {
				if n > benchSearchMax(b) {
					return
				}
				start = time.Now()
				if err := e.api.RebuildSearch(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.Logf("search index of %d complaints built in %v", n, time.Since(start).Round(time.Millisecond))
			}
			page2 := e.list(b, "/v1/complaints?limit=50&q=replica+handbag", identity.RoleReviewer).NextCursor
			for _, l := range []struct{ name, path string }{
				{"search/text", "/v1/complaints?limit=50&q=replica+handbag"},
				{"search/text-page2", "/v1/complaints?limit=50&q=replica+handbag&cursor=" + url.QueryEscape(page2)},
				{"search/text+holder", "/v1/complaints?limit=50&q=leather&holder_id=h_001"},
				{"search/text+status", "/v1/complaints?limit=50&q=leather&status=open"},
				{"search/text+mark", "/v1/complaints?limit=50&q=replica&mark_id=m_0003"},
				// Four words at once: about one complaint in a thousand.
				{"search/text-rare", "/v1/complaints?limit=50&q=AAA+Zed+perfume+vintage"},
				{"search/cjk-none", "/v1/complaints?limit=50&q=%E9%AB%98%E4%BB%BF"},
				{"search/word-none", "/v1/complaints?limit=50&q=nowhere"},
			} {
				b.Run(l.name, func(b *testing.B) {
					timed(b, func() { get(b, l.path) })
				})
			}
		})
	}
}

// benchSearchMax is how many complaints SQLite's run of
// BenchmarkQueueAtScale builds its search index for, at most:
// MARKWATCH_BENCH_SEARCH_MAX, 200,000 when unset.
func benchSearchMax(b *testing.B) int {
	if s := os.Getenv("MARKWATCH_BENCH_SEARCH_MAX"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("MARKWATCH_BENCH_SEARCH_MAX=%q: want a number", s)
		}
		return n
	}
	return 200_000
}

// loadedBefore is how many synthetic complaints st holds from an earlier
// run, 0 for a fresh store. A run that stopped between chunks (each
// chunk of 100,000 is one transaction) left a whole number of them: the
// load resumes after them, where the same seed makes the same complaints
// (its indexes, dropped by that run, are to be made again by hand). Any
// other count short of n is an error.
func loadedBefore(b *testing.B, st *store.Store, n int) (int, error) {
	stats, err := st.QueueStats(b.Context())
	if err != nil {
		return 0, err
	}
	total := 0
	for _, c := range stats.ByStatus {
		total += c
	}
	switch {
	case total == 0:
		return 0, nil
	case total < n && total%100_000 == 0:
		b.Logf("resuming an interrupted load after %d complaints", total)
		return total, nil
	case total < n:
		return 0, fmt.Errorf("the store holds %d complaints, not %d: load a fresh database", total, n)
	}
	return n, nil
}

// timed runs op b.N times and reports its p95 in milliseconds.
func timed(b *testing.B, op func()) {
	var ds []time.Duration
	for b.Loop() {
		t := time.Now()
		op()
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
	}
}

// logDiskSize logs the disk the loaded complaints take.
func logDiskSize(b *testing.B, st *store.Store, engine string, n int) {
	size, err := st.ComplaintsDiskSize(b.Context())
	if err != nil {
		b.Logf("%s: %v", engine, err)
		return
	}
	b.Logf("%s: %d complaints take %.0f MB (%.0f MB a million)", engine, n, float64(size)/1e6, float64(size)/float64(n))
}
