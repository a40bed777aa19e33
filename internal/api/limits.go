package api

import (
	"time"

	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/telemetry"
)

// limiters holds a token bucket per authenticated user (one token each).
// Buckets are created on first use and kept: there are as many as there are
// users with valid tokens, which is small and bounded by the users table,
// and unauthenticated requests never create one.
type limiters struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	byToken map[string]*rate.Limiter
}

func newLimiters(limit rate.Limit, burst int) *limiters {
	return &limiters{limit: limit, burst: burst, byToken: make(map[string]*rate.Limiter)}
}

// allow takes one request from key's bucket and tells whether it was there.
func (l *limiters) allow(key string) bool {
	if l.limit == rate.Inf {
		return true
	}
	l.mu.Lock()
	lim, ok := l.byToken[key]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byToken[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// metrics are the API's Prometheus metrics.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// thresholds counts applied mark thresholds by whether they were
	// the calibration's recommendation (calibration.go).
	thresholds *prometheus.CounterVec
	// bank counts negative-bank changes by action (add, undo) and kind;
	// releases counts quarantines released by kind.
	bank     *prometheus.CounterVec
	releases *prometheus.CounterVec
	// searchLag and searchReady are read from the complaint index.
	searchLag, searchReady prometheus.GaugeFunc
}

// newMetrics declares the API's metrics on reg, or keeps them
// unregistered when reg is nil. The search index's gauges are read from ix
// at each scrape.
func newMetrics(reg prometheus.Registerer, ix *complaintIndex) (*metrics, error) {
	return telemetry.Build(reg, func(f promauto.Factory) *metrics {
		const ns, sub = telemetry.Namespace, "api"
		// The names are markwatch_search_index_*: the index is a part of
		// its own, whichever component feeds it.
		lag := f.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: "search", Name: "index_lag_seconds",
			Help: "How stale the complaint search index may be: seconds since the start of its last complete catch-up with the store (since it was opened, before the first). A list misses at most the changes of this long plus 10s. 0 where text search reads the store (PostgreSQL, and SQLite from schema 24).",
		}, func() float64 { return ix.lag(time.Now()).Seconds() })
		ready := f.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: "search", Name: "index_ready",
			Help: "1 once the complaint search index has been built from the store, 0 while a replica that started is still building it (it serves the complaints indexed so far). Always 1 where text search reads the store (PostgreSQL, and SQLite from schema 24).",
		}, func() float64 {
			if ix.caughtUp.Load() != 0 || ix.store.TextSearch() {
				return 1
			}
			return 0
		})
		return &metrics{
			searchLag: lag, searchReady: ready,
			requests: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "requests_total",
				Help: "API requests by route pattern and status code.",
			}, []string{"route", "code"}),
			latency: f.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: ns, Subsystem: sub, Name: "request_duration_seconds",
				Help:    "API request latency by route pattern.",
				Buckets: prometheus.DefBuckets,
			}, []string{"route"}),
			thresholds: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Name: "mark_threshold_changes_total",
				Help: "Mark thresholds applied by an admin, by whether the value was the calibration's recommendation at the time (recommended=true|false).",
			}, []string{"recommended"}),
			bank: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "negative_bank", Name: "changes_total",
				Help: "Negative-bank entries added by reviewers (action=add) or undone (action=undo), by kind (image, phrase).",
			}, []string{"action", "kind"}),
			releases: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Name: "quarantine_releases_total",
				Help: "Quarantines released by an admin, by kind (mark, image, variant).",
			}, []string{"kind"}),
		}
	})
}
