package api

import (
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
}

// newMetrics declares the API's metrics on reg, or keeps them
// unregistered when reg is nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	return telemetry.Build(reg, func(f promauto.Factory) *metrics {
		const ns, sub = telemetry.Namespace, "api"
		return &metrics{
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
		}
	})
}
