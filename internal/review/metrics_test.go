package review

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers/score"
)

// TestServiceMetricsAtZero checks that every decision × source, decision ×
// matcher, ingest result × source and reinstatement reason is exported
// before its first event, so that increase() counts that first event.
func TestServiceMetricsAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := newServiceMetrics(reg); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{
		"markwatch_review_decisions_total":              2 * len(domain.ComplaintSources),
		"markwatch_review_decisions_by_matcher_total":   2 * len(score.Matchers()),
		"markwatch_complaints_ingested_total":           2 * len(domain.ComplaintSources),
		"markwatch_complaints_refused_total":            len(Rules()) * len(domain.ComplaintSources),
		"markwatch_review_reinstatements_total":         3,
		"markwatch_review_counter_notices_total":        1,
		"markwatch_seller_repeat_after_education_total": len(domain.NoticeViolations),
	} {
		if n, err := testutil.GatherAndCount(reg, name); err != nil || n != want {
			t.Errorf("%s: %d series (%v), want %d", name, n, err, want)
		}
	}
	if _, err := newServiceMetrics(reg); err == nil {
		t.Error("registering twice on one registry succeeded")
	}
	if _, err := newRelayMetrics(nil); err != nil {
		t.Errorf("nil registerer: %v", err)
	}
}
