package pipeline

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// TestConsumerLagOwnedApacheKafka checks on the broker of scripts/kafka.sh
// that each member exports the lag of its own partitions only.
func TestConsumerLagOwnedApacheKafka(t *testing.T) {
	testConsumerLagOwned(t, testenv.KafkaBrokers(t))
}

// TestConsumerLagOwnedEmbedded runs it on the embedded kfake broker.
func TestConsumerLagOwnedEmbedded(t *testing.T) {
	testConsumerLagOwned(t, kafkatest.StartEmbedded(t))
}

// testConsumerLagOwned runs two members of one group: between them they
// export every partition's lag exactly once (no N× double counting), and
// when one leaves, the other takes over the series of its partitions.
func testConsumerLagOwned(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	tp := newE2ETopics(t, brokers, t.Name())
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	w := NewWriter(brokers, WriterOptions{Transport: transport})
	defer func() {
		if err := CloseWriter(w); err != nil {
			t.Errorf("close writer: %v", err)
		}
	}()
	produce(t, ctx, w, tp.in, 0, 300)

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	member := func() *Consumer {
		c, err := NewConsumer(Options{
			Brokers: brokers, GroupID: tp.group, Topic: tp.in, DLQTopic: tp.dlq, Writer: w, Logger: log,
			CommitInterval: 50 * time.Millisecond, LagInterval: 100 * time.Millisecond,
			MaxWait: 100 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
			Registerer: prometheus.NewRegistry(),
		}, e2eHandler(tp.out, nil))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.lag.close)
		return c
	}
	c1, c2 := member(), member()
	stop1 := runInBackground(t, c1)
	runInBackground(t, c2)

	all := []int{0, 1, 2, 3, 4, 5}
	var h1, h2 []int
	waitForCtx(t, ctx, "both members holding a share, every partition exported once, lag 0", func() bool {
		h1, h2 = c1.m.lag.heldPartitions(), c2.m.lag.heldPartitions()
		both := slices.Sorted(slices.Values(append(slices.Clone(h1), h2...)))
		return len(h1) > 0 && len(h2) > 0 && slices.Equal(both, all) &&
			sumGauge(c1.m.lag.lag)+sumGauge(c2.m.lag.lag) == 0
	})
	t.Logf("first member holds %v, second %v", h1, h2)
	if c1.m.lag.age(time.Now()) > 5*time.Second || c2.m.lag.age(time.Now()) > 5*time.Second {
		t.Errorf("refresh ages %v and %v with a healthy broker", c1.m.lag.age(time.Now()), c2.m.lag.age(time.Now()))
	}

	// The first leaves: the second takes over all series.
	stop1()
	produce(t, ctx, w, tp.in, 300, 400)
	waitForCtx(t, ctx, "the second member exporting every partition", func() bool {
		return slices.Equal(c2.m.lag.heldPartitions(), all)
	})
	waitLag(t, ctx, c2, 0)
}

// waitForCtx polls cond every 50 ms until it holds or ctx ends.
func waitForCtx(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
