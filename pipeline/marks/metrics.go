package marks

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/telemetry"
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

// newMetrics declares the collectors on reg; a nil reg leaves them
// unregistered, which makes them no-ops to the outside.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := telemetry.Build(reg, func(f promauto.Factory) *metrics {
		const ns, sub = telemetry.Namespace, "marks"
		return &metrics{
			indexed: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "indexed",
				Help: "Active marks in the current detection engine.",
			}),
			ready: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "ready",
				Help: "1 once the marks topic has been read to its end offsets at start and an engine built, 0 before and after the follower runs.",
			}),
			updates: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "updates_total",
				Help: "Records read from the marks topic, by what they do: upsert, remove (tombstone or non-active status) or invalid.",
			}, []string{"kind"}),
			invalid: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "invalid_total",
				Help: "Records of the marks topic ignored as invalid, by reason: decode (not a valid mark) or key (empty, or not the mark_id). The last good version of the mark stays watched.",
			}, []string{"reason"}),
			rebuild: f.NewHistogram(prometheus.HistogramOpts{
				Namespace: ns, Subsystem: sub, Name: "rebuild_seconds",
				Help:    "Time to build a detection engine from the active marks (successful builds).",
				Buckets: telemetry.ExponentialBuckets(0.001, 2.5, 12), // 1 ms .. 24 s
			}),
			buildErrors: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "build_errors_total",
				Help: "Engine builds that failed; the previous engine stays current.",
			}),
			fetchErrors: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "fetch_errors_total",
				Help: "Broker errors while looking up or reading the marks topic; each is retried with backoff.",
			}),
			catchUp: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "catchup_seconds",
				Help: "Time from start until the marks topic was read to its end offsets and the first engine built.",
			}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("marks: %w", err)
	}
	// Export every label value from the start, so a rate() over a kind
	// that has not happened yet is 0 rather than absent.
	telemetry.Init(m.updates, []string{kindUpsert.String(), kindRemove.String(), kindInvalid.String()})
	telemetry.Init(m.invalid, []string{reasonDecode, reasonKey})
	return m, nil
}
