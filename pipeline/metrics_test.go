package pipeline

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

func TestMetricsMiddleware(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	results := []error{nil, nil, Permanent(ClassDecode, errTransient), context.Canceled}
	for _, res := range results {
		h := func(context.Context, kafka.Message) ([]kafka.Message, error) { return nil, res }
		_, _ = Metrics(m.handled, m.duration)(h)(context.Background(), msg(0, 0, "k", "v"))
	}
	for outcome, want := range map[string]float64{outcomeOK: 2, outcomeDeadLettered: 1, outcomeAbandoned: 1, outcomeRetried: 0} {
		if got := testutil.ToFloat64(m.handled.WithLabelValues(outcome)); got != want {
			t.Errorf("handled{%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := testutil.CollectAndCount(m.duration); got != 1 {
		t.Fatalf("duration series %d, want 1", got)
	}
}

func TestNewMetricsRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := newMetrics(reg); err != nil {
		t.Fatalf("first registration: %v", err)
	}
	if _, err := newMetrics(reg); err == nil {
		t.Fatal("registering twice on one registry succeeded")
	}
	if _, err := newMetrics(nil); err != nil {
		t.Fatalf("nil registerer: %v", err)
	}
	// Every outcome is exported from the start.
	if n, err := testutil.GatherAndCount(reg, "markwatch_consumer_messages_handled_total"); err != nil || n != 4 {
		t.Fatalf("handled series %d (%v), want 4", n, err)
	}
	// And every dead-letter class the pipeline knows, so that increase()
	// sees the first panic.
	if n, err := testutil.GatherAndCount(reg, "markwatch_consumer_dead_letters_total"); err != nil || n != len(DeadLetterClasses()) {
		t.Fatalf("dead-letter series %d (%v), want %d", n, err, len(DeadLetterClasses()))
	}
}
