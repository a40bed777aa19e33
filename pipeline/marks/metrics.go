package marks

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the follower's Prometheus collectors.
type metrics struct {
	indexed     prometheus.Gauge
	ready       prometheus.Gauge
	updates     *prometheus.CounterVec
	invalid     *prometheus.CounterVec
	rebuild     prometheus.Histogram
	buildErrors prometheus.Counter
	fetchErrors prometheus.Counter
	catchUp     prometheus.Gauge
}

// newMetrics builds the collectors and registers them on reg; a nil reg
// leaves them unregistered, which makes them no-ops to the outside.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		indexed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_marks_indexed",
			Help: "Active marks in the current detection engine.",
		}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_marks_ready",
			Help: "1 once the marks topic has been read to its end offsets at start and an engine built, 0 before and after the follower runs.",
		}),
		updates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_marks_updates_total",
			Help: "Records read from the marks topic, by what they do: upsert, remove (tombstone or non-active status) or invalid.",
		}, []string{"kind"}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_marks_invalid_total",
			Help: "Records of the marks topic ignored as invalid, by reason: decode (not a valid mark) or key (empty, or not the mark_id). The last good version of the mark stays watched.",
		}, []string{"reason"}),
		rebuild: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "markwatch_marks_rebuild_seconds",
			Help:    "Time to build a detection engine from the active marks (successful builds).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1 ms .. 24 s
		}),
		buildErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_marks_build_errors_total",
			Help: "Engine builds that failed; the previous engine stays current.",
		}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_marks_fetch_errors_total",
			Help: "Broker errors while looking up or reading the marks topic; each is retried with backoff.",
		}),
		catchUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_marks_catchup_seconds",
			Help: "Time from start until the marks topic was read to its end offsets and the first engine built.",
		}),
	}
	// Export every label value from the start, so a rate() over a kind
	// that has not happened yet is 0 rather than absent.
	for _, k := range []updateKind{kindUpsert, kindRemove, kindInvalid} {
		m.updates.WithLabelValues(k.String())
	}
	for _, r := range []string{reasonDecode, reasonKey} {
		m.invalid.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.indexed, m.ready, m.updates, m.invalid, m.rebuild, m.buildErrors, m.fetchErrors, m.catchUp} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("marks: register metrics: %w", err)
		}
	}
	return m, nil
}
