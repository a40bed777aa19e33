package review

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/telemetry"
	"github.com/markwatch/markwatch/matchers/score"
)

// serviceMetrics are the Service's metrics.
type serviceMetrics struct {
	decisions      *prometheus.CounterVec
	byMatcher      *prometheus.CounterVec
	ingested       *prometheus.CounterVec
	counterNotices prometheus.Counter
	reinstatements *prometheus.CounterVec
	refused        *prometheus.CounterVec
	// repeatAfterEducation counts strikes of sellers who were taught
	// instead of struck before, by the new violation.
	repeatAfterEducation *prometheus.CounterVec
	buyerReports         *prometheus.CounterVec
	// buyerEscalations counts listings that buyer reports brought to
	// review, by outcome (EscalationFiled, EscalationPrioritized).
	buyerEscalations *prometheus.CounterVec
}

// Label values known in advance, created at zero so that increase()
// counts their first event: a counter born at its first decision hides
// that decision from every precision ratio. Sources a new build adds
// appear at their first event.
var (
	decisionValues = []string{store.ComplaintUpheld, store.ComplaintRejected}
	sourceValues   = domain.ComplaintSources
	ingestResults  = []string{"inserted", "duplicate"}
	reinstateWhy   = []string{ReasonCounterNotice, ReasonRejectedOnReview, ReasonWithdrawn}
)

func newServiceMetrics(reg prometheus.Registerer) (*serviceMetrics, error) {
	m, err := telemetry.Build(reg, func(f promauto.Factory) *serviceMetrics {
		const ns = telemetry.Namespace
		return &serviceMetrics{
			decisions: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "review", Name: "decisions_total",
				Help: "Review decisions by decision (upheld, rejected) and complaint source (auto, rights_holder, sweep); precision is upheld over all.",
			}, []string{"decision", "source"}),
			byMatcher: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "review", Name: "decisions_by_matcher_total",
				Help: "Review decisions by decision (upheld, rejected) and by each matcher that contributed evidence to the complaint; a matcher's precision is its upheld over all.",
			}, []string{"decision", "matcher"}),
			ingested: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "complaints", Name: "ingested_total",
				Help: "Complaints ingested, by result (inserted, or duplicate: already stored, ignored) and source (auto, rights_holder).",
			}, []string{"result", "source"}),
			counterNotices: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "review", Name: "counter_notices_total",
				Help: "Sellers' counter-notices filed against upheld complaints (each makes a complaint contested).",
			}),
			refused: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "complaints", Name: "refused_total",
				Help: "Complaints refused on ingest and dead-lettered, never queued, by the rule broken (mark_unknown, mark_not_active, holder_mismatch) and source.",
			}, []string{"rule", "source"}),
			reinstatements: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "review", Name: "reinstatements_total",
				Help: "Listings reinstated, by reason: counter_notice (the waiting period ran out), rejected_on_review (a reviewer rejected the contested complaint) or withdrawn (the rights holder withdrew the complaint).",
			}, []string{"reason"}),
			repeatAfterEducation: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "seller", Name: "repeat_after_education_total",
				Help: "Strikes of sellers who had been warned and educated instead of struck before, by the violation of the new strike: education that did not work.",
			}, []string{"violation"}),
			buyerReports: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "buyer_reports", Name: "ingested_total",
				Help: "Buyer reports ingested from the buyer-reports topic, by result (inserted, or duplicate: already stored, ignored) and reason (counterfeit, not_as_described).",
			}, []string{"result", "reason"}),
			buyerEscalations: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "buyer_reports", Name: "escalated_total",
				Help: "Listings whose independent counterfeit reports reached review.buyer_reports.complaint_weight, by outcome: filed (a complaint of source buyer) or prioritized (its complaint under review put first).",
			}, []string{"outcome"}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	telemetry.Init(m.buyerEscalations, []string{EscalationFiled, EscalationPrioritized})
	telemetry.Init(m.decisions, decisionValues, sourceValues)
	telemetry.Init(m.byMatcher, decisionValues, score.Matchers())
	telemetry.Init(m.ingested, ingestResults, sourceValues)
	telemetry.Init(m.reinstatements, reinstateWhy)
	telemetry.Init(m.refused, Rules(), sourceValues)
	telemetry.Init(m.repeatAfterEducation, domain.NoticeViolations)
	telemetry.Init(m.buyerReports, ingestResults, domain.BuyerReportReasons)
	return m, nil
}

// relayMetrics are the Relay's metrics.
type relayMetrics struct {
	backlog   prometheus.Gauge
	publish   prometheus.Histogram
	published prometheus.Counter
	failures  prometheus.Counter
}

func newRelayMetrics(reg prometheus.Registerer) (*relayMetrics, error) {
	m, err := telemetry.Build(reg, func(f promauto.Factory) *relayMetrics {
		const ns, sub = telemetry.Namespace, "outbox"
		return &relayMetrics{
			backlog: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "backlog",
				Help: "Outbox events not yet published, as of the relay's last pass.",
			}),
			publish: f.NewHistogram(prometheus.HistogramOpts{
				Namespace: ns, Subsystem: sub, Name: "publish_seconds",
				Help:    "Time to publish one batch of outbox events, failed attempts included.",
				Buckets: telemetry.ExponentialBuckets(0.001, 4, 8),
			}),
			published: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "published_total",
				Help: "Outbox events published and marked (an event republished after a crash counts again).",
			}),
			failures: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "relay_failures_total",
				Help: "Relay passes that failed: claim, publish or mark.",
			}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("review: relay: %w", err)
	}
	return m, nil
}
