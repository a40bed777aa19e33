package api

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
)

// BenchmarkReplicaStart measures how soon a serve replica answers after it
// starts, on a store loaded before (MARKWATCH_BENCH_POSTGRES_URL, as
// BenchmarkQueueAtScale leaves it): opening the store (migrations checked,
// partitions made), the review service and the API, then the first list of
// open complaints and the first text search. With
// MARKWATCH_BENCH_SEARCH_INDEX, a directory, the search index is on disk:
// built there once if missing (timed and measured), then each start opens
// it and serves text search from it at once (catch-up after, in the
// background, as under serve). Without it the index is in memory and text
// search finds nothing until the background build has read the store.
func BenchmarkReplicaStart(b *testing.B) {
	dsn := os.Getenv("MARKWATCH_BENCH_POSTGRES_URL")
	if dsn == "" {
		b.Skip("MARKWATCH_BENCH_POSTGRES_URL names no loaded store")
	}
	dir := os.Getenv("MARKWATCH_BENCH_SEARCH_INDEX")
	e := newEnv(b, dsn, Options{}) // the holders and users of the requests
	if dir != "" {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			ix, err := search.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			a, err := New(Options{Store: e.store, Review: e.review, Search: ix, RateLimit: rate.Inf})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := a.RebuildSearch(b.Context()); err != nil {
				b.Fatal(err)
			}
			n, _ := ix.Count()
			b.Logf("search index of %d complaints built on disk in %v", n, time.Since(start).Round(time.Millisecond))
			if err := ix.Close(); err != nil {
				b.Fatal(err)
			}
		}
		var size int64
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					size += fi.Size()
				}
			}
			return nil
		})
		b.Logf("search index on disk: %.0f MB", float64(size)/1e6)
	}
	token := e.tokens[identity.RoleReviewer]
	get := func(b *testing.B, h http.Handler, path string) []string {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
		return nil
	}
	var lists, texts []time.Duration
	for b.Loop() {
		start := time.Now()
		st, err := store.Open(b.Context(), dsn)
		if err != nil {
			b.Fatal(err)
		}
		rv, err := review.New(review.Options{Store: st})
		if err != nil {
			b.Fatal(err)
		}
		var ix *search.Index
		if dir != "" {
			if ix, err = search.Open(dir); err != nil {
				b.Fatal(err)
			}
		}
		a, err := New(Options{Store: st, Review: rv, Search: ix, RateLimit: rate.Inf})
		if err != nil {
			b.Fatal(err)
		}
		ctx, stop := context.WithCancel(b.Context())
		done := make(chan struct{})
		go func() { _ = a.RunSearch(ctx); close(done) }()
		h := a.Handler()
		get(b, h, "/v1/complaints?status=open&limit=50")
		lists = append(lists, time.Since(start))
		get(b, h, "/v1/complaints?q=replica+handbag&limit=50")
		texts = append(texts, time.Since(start))
		stop()
		<-done
		if ix != nil {
			_ = ix.Close()
		}
		_ = st.Close()
	}
	report := func(ds []time.Duration, unit string) {
		var worst time.Duration
		for _, d := range ds {
			worst = max(worst, d)
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, unit)
	}
	report(lists, "max-ms-to-list")
	report(texts, "max-ms-to-text")
}
