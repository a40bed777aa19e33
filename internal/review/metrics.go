package review

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// serviceMetrics are the Service's metrics.
type serviceMetrics struct {
	decisions *prometheus.CounterVec
	byMatcher *prometheus.CounterVec
	ingested  *prometheus.CounterVec
}

func newServiceMetrics(reg prometheus.Registerer) (*serviceMetrics, error) {
	m := &serviceMetrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_review_decisions_total",
			Help: "Review decisions by decision (upheld, rejected) and complaint source (auto, rights_holder, sweep); precision is upheld over all.",
		}, []string{"decision", "source"}),
		byMatcher: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_review_decisions_by_matcher_total",
			Help: "Review decisions by decision (upheld, rejected) and by each matcher that contributed evidence to the complaint; a matcher's precision is its upheld over all.",
		}, []string{"decision", "matcher"}),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_complaints_ingested_total",
			Help: "Complaints ingested, by result: inserted, or duplicate (already stored, ignored).",
		}, []string{"result"}),
	}
	for _, r := range []string{"inserted", "duplicate"} {
		m.ingested.WithLabelValues(r)
	}
	return m, register(reg, m.decisions, m.byMatcher, m.ingested)
}

// relayMetrics are the Relay's metrics.
type relayMetrics struct {
	backlog   prometheus.Gauge
	publish   prometheus.Histogram
	published prometheus.Counter
	failures  prometheus.Counter
}

func newRelayMetrics(reg prometheus.Registerer) (*relayMetrics, error) {
	m := &relayMetrics{
		backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_outbox_backlog",
			Help: "Outbox events not yet published, as of the relay's last pass.",
		}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "markwatch_outbox_publish_seconds",
			Help:    "Time to publish one batch of outbox events, failed attempts included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_outbox_published_total",
			Help: "Outbox events published and marked (an event republished after a crash counts again).",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_outbox_relay_failures_total",
			Help: "Relay passes that failed: claim, publish or mark.",
		}),
	}
	return m, register(reg, m.backlog, m.publish, m.published, m.failures)
}

// register registers cs with reg; a nil reg keeps the metrics unregistered,
// so they count but nobody scrapes them.
func register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	if reg == nil {
		return nil
	}
	var errs []error
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
