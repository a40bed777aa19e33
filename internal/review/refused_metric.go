package review

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/domain"
)

// newRefusedMetric is markwatch_complaints_refused_total, registered with
// reg: the complaints Ingest refused by a rule (Rules), which the
// complaints consumer dead-letters instead of queueing. Every rule and
// source starts at zero, so that increase() sees the first refusal.
func newRefusedMetric(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "markwatch_complaints_refused_total",
		Help: "Complaints refused on ingest and dead-lettered, never queued, by the rule broken (mark_unknown, mark_not_active, holder_mismatch) and source.",
	}, []string{"rule", "source"})
	for _, r := range Rules() {
		for _, src := range []string{domain.SourceAuto, domain.SourceRightsHolder} {
			refused.WithLabelValues(r, src)
		}
	}
	// Registered here rather than with the service's other metrics, so
	// that this file stands on its own.
	if reg != nil {
		if err := reg.Register(refused); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return refused, nil
}
