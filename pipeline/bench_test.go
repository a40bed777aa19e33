package pipeline

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// BenchmarkConsumerEmbedded measures messages per second through the
// consumer on the embedded kfake broker: fetch, a handler that emits one
// output per input, the write with acks=all, and the commits. b.N listings
// are produced before the clock starts; the handlers wait at a gate until
// the group is joined, so the join is not timed either. One op is one
// message.
func BenchmarkConsumerEmbedded(b *testing.B) {
	benchConsumer(b, kafkatest.StartEmbedded(b))
}

// BenchmarkConsumerApacheKafka is the same through the broker of
// scripts/kafka.sh (skipped when none is configured).
func BenchmarkConsumerApacheKafka(b *testing.B) {
	benchConsumer(b, testenv.KafkaBrokers(b))
}

func benchConsumer(b *testing.B, brokers []string) {
	tp := newE2ETopics(b, brokers, "bench")
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	w := NewWriter(brokers, WriterOptions{Transport: transport})
	defer func() { _ = CloseWriter(w) }()
	ctx := context.Background()

	b.StopTimer()
	const chunk = 10000
	for from := 0; from < b.N; from += chunk {
		produce(b, ctx, w, tp.in, from, min(from+chunk, b.N))
	}
	gate := make(chan struct{})
	var handled atomic.Int64
	value := []byte(`{"complaint_id":"c-0123456789abcdef","listing_id":"listing-000","mark_id":"mark-1","score":0.93}`)
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		<-gate
		handled.Add(1)
		return []kafka.Message{{Topic: tp.out, Key: m.Key, Value: value}}, nil
	}
	c, err := NewConsumer(Options{
		Brokers: brokers, GroupID: tp.group, Topic: tp.in, DLQTopic: tp.dlq, Writer: w,
		LagInterval: -1, MaxWait: 100 * time.Millisecond,
	}, h)
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Run: %v", err)
		}
		c.lag.close()
	}()
	// Wait until the group is joined and messages are queued at the gate.
	for c.tracker.pending() == 0 {
		time.Sleep(time.Millisecond)
	}

	b.ResetTimer()
	b.StartTimer()
	start := time.Now()
	close(gate)
	emitted := c.m.emitted.WithLabelValues(tp.out)
	for testutil.ToFloat64(emitted) < float64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	if got := handled.Load(); got != int64(b.N) {
		b.Fatalf("handled %d, want %d", got, b.N)
	}
}
