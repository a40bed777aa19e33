package pipeline

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// TestConsumerRebalanceApacheKafka runs the rebalance suite on the broker
// of scripts/kafka.sh.
func TestConsumerRebalanceApacheKafka(t *testing.T) {
	testConsumerRebalance(t, testenv.KafkaBrokers(t))
}

// TestConsumerRebalanceEmbedded runs it on the embedded kfake broker.
func TestConsumerRebalanceEmbedded(t *testing.T) {
	testConsumerRebalance(t, kafkatest.StartEmbedded(t))
}

// testConsumerRebalance has a second member join while the first is busy,
// and then the first leave, with listings arriving throughout: every
// listing must get its complaint (duplicates are allowed and reported),
// the group must end committed at the end offsets, and both members must
// have seen the rebalances.
func testConsumerRebalance(t *testing.T, brokers []string) {
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

	// A slow handler keeps work in flight when the rebalance comes.
	var handled atomic.Int64
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		handled.Add(1)
		if !wait(ctx, 200*time.Microsecond) {
			return nil, ctx.Err()
		}
		return []kafka.Message{{Topic: tp.out, Key: m.Key, Value: []byte("complaint-" + string(m.Value))}}, nil
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	member := func() *Consumer {
		c, err := NewConsumer(Options{
			Brokers: brokers, GroupID: tp.group, Topic: tp.in, DLQTopic: tp.dlq, Writer: w, Logger: log,
			Concurrency: 4, CommitInterval: 50 * time.Millisecond, LagInterval: -1,
			MaxWait: 100 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond,
			Registerer: prometheus.NewRegistry(),
		}, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.lag.close)
		return c
	}

	const total = 3000
	produce(t, ctx, w, tp.in, 0, total/3)
	c1 := member()
	stop1 := runInBackground(t, c1)
	waitFor(t, "the first member at work", func() bool { return handled.Load() > 200 })

	c2 := member()
	stop2 := runInBackground(t, c2)
	produce(t, ctx, w, tp.in, total/3, 2*total/3)
	waitFor(t, "the first member to see the second join", func() bool { return testutil.ToFloat64(c1.m.rebalances) >= 2 })
	waitLag(t, ctx, c1, 0)

	stop1()
	produce(t, ctx, w, tp.in, 2*total/3, total)
	waitLag(t, ctx, c2, 0)
	stop2()

	outs := readAll(t, ctx, brokers, tp.out, 3)
	count := map[int]int{}
	for _, m := range outs {
		i, err := strconv.Atoi(strings.TrimPrefix(string(m.Value), "complaint-"))
		if err != nil {
			t.Fatalf("unexpected complaint %q", m.Value)
		}
		count[i]++
	}
	missing, dup := 0, 0
	for i := range total {
		switch n := count[i]; {
		case n == 0:
			missing++
		case n > 1:
			dup += n - 1
		}
	}
	if missing > 0 || len(count) != total {
		t.Errorf("%d listings have no complaint (%d distinct of %d)", missing, len(count), total)
	}
	checkCommittedAtEnd(t, ctx, c2)
	t.Logf("%d complaints for %d listings: %d duplicates from the rebalances; handled %d times; rebalances seen: first %v, second %v",
		len(outs), total, dup, handled.Load(), testutil.ToFloat64(c1.m.rebalances), testutil.ToFloat64(c2.m.rebalances))
}
