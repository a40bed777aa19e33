package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// Sizes of the end-to-end test: 2,000 listings over 400 keys on 6
// partitions; every 100th is poison.
const (
	e2eMessages   = 2000
	e2eKeys       = 400
	e2ePartitions = 6
	e2ePoisonEach = 100
	e2eLater      = 10 // produced after the first consumer stopped
	e2eTimeout    = 60 * time.Second
)

// TestConsumerApacheKafka runs the end-to-end suite on the broker of
// scripts/kafka.sh; it skips when none is configured unless
// MARKWATCH_REQUIRE_INTEGRATION is set.
func TestConsumerApacheKafka(t *testing.T) {
	testConsumerEndToEnd(t, testenv.KafkaBrokers(t))
}

// TestConsumerEmbedded runs the same suite on the in-process kfake broker
// of `markwatch dev`.
func TestConsumerEmbedded(t *testing.T) {
	testConsumerEndToEnd(t, kafkatest.StartEmbedded(t))
}

// e2eTopics are one run's randomly named topics.
type e2eTopics struct{ in, out, dlq, group string }

func newE2ETopics(t testing.TB, brokers []string, prefix string) e2eTopics {
	tp := e2eTopics{
		in: kafkatest.TopicName(prefix + "-listings"), out: kafkatest.TopicName(prefix + "-complaints"),
		dlq: kafkatest.TopicName(prefix + "-dlq"), group: kafkatest.TopicName(prefix + "-group"),
	}
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: tp.in, NumPartitions: e2ePartitions})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: tp.out, NumPartitions: 3})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: tp.dlq, NumPartitions: 1})
	return tp
}

// produce writes listings with sequence numbers from..to-1 to topic.
func produce(t testing.TB, ctx context.Context, w *kafka.Writer, topic string, from, to int) {
	t.Helper()
	msgs := make([]kafka.Message, 0, to-from)
	for i := from; i < to; i++ {
		msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(fmt.Sprintf("listing-%03d", i%e2eKeys)), Value: []byte(strconv.Itoa(i))})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce %d..%d: %v", from, to, err)
	}
}

// e2eHandler emits one complaint per listing, whose value names the
// listing, and dead-letters every 100th as invalid. seen, if not nil,
// records every sequence number handled.
func e2eHandler(out string, seen *sync.Map) Handler {
	return func(_ context.Context, m kafka.Message) ([]kafka.Message, error) {
		i, err := strconv.Atoi(string(m.Value))
		if err != nil {
			return nil, Permanent(ClassDecode, fmt.Errorf("listing value %q: %w", m.Value, err))
		}
		if seen != nil {
			seen.Store(i, true)
		}
		if i%e2ePoisonEach == e2ePoisonEach-1 {
			return nil, Permanent(ClassValidation, fmt.Errorf("listing %d: price is negative", i))
		}
		return []kafka.Message{{Topic: out, Key: m.Key, Value: []byte("complaint-" + string(m.Value))}}, nil
	}
}

func testConsumerEndToEnd(t *testing.T, brokers []string) {
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
	produce(t, ctx, w, tp.in, 0, e2eMessages)

	// Dead letters are logged at warn; only errors are of interest here.
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	opts := Options{
		Brokers: brokers, GroupID: tp.group, Topic: tp.in, DLQTopic: tp.dlq,
		Concurrency: 8, CommitInterval: 100 * time.Millisecond, LagInterval: 100 * time.Millisecond,
		MaxWait: 100 * time.Millisecond, Writer: w, Logger: log,
	}

	// First member: everything is handled once, committed to the end.
	opts.Registerer = prometheus.NewRegistry()
	c1, err := NewConsumer(opts, e2eHandler(tp.out, nil))
	if err != nil {
		t.Fatal(err)
	}
	// The test asks the lag client for offsets after Run has closed it.
	t.Cleanup(c1.lag.close)
	stop1 := runInBackground(t, c1)
	waitLag(t, ctx, c1, 0)
	waitFor(t, "lag gauge at zero on every partition", func() bool {
		return testutil.CollectAndCount(c1.m.lag.lag) == e2ePartitions && sumGauge(c1.m.lag.lag) == 0
	})
	stop1()

	outs := readAll(t, ctx, brokers, tp.out, 3)
	dlq := readAll(t, ctx, brokers, tp.dlq, 1)
	checkEmitted(t, tp, outs, dlq, 0, e2eMessages)
	checkCommittedAtEnd(t, ctx, c1)
	if got := testutil.ToFloat64(c1.m.handled.WithLabelValues(outcomeOK)); got != e2eMessages-e2eMessages/e2ePoisonEach {
		t.Errorf("handled{ok} = %v, want %d", got, e2eMessages-e2eMessages/e2ePoisonEach)
	}

	// Second member of the same group, after the first stopped: only the
	// listings produced since are handled.
	produce(t, ctx, w, tp.in, e2eMessages, e2eMessages+e2eLater)
	opts.Registerer = prometheus.NewRegistry()
	var seen sync.Map
	c2, err := NewConsumer(opts, e2eHandler(tp.out, &seen))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c2.lag.close)
	stop2 := runInBackground(t, c2)
	waitLag(t, ctx, c2, 0)
	stop2()
	var again []int
	seen.Range(func(k, _ any) bool {
		if i := k.(int); i < e2eMessages {
			again = append(again, i)
		}
		return true
	})
	if len(again) > 0 {
		t.Errorf("second consumer reprocessed %d committed listings, e.g. %v", len(again), again[:min(5, len(again))])
	}
	outs = readAll(t, ctx, brokers, tp.out, 3)
	dlq = readAll(t, ctx, brokers, tp.dlq, 1)
	checkEmitted(t, tp, outs, dlq, 0, e2eMessages+e2eLater)
	checkCommittedAtEnd(t, ctx, c2)
}

// runInBackground runs c until the returned stop is called; stop fails the
// test if Run returns an error or takes longer than its drain bounds.
func runInBackground(t testing.TB, c *Consumer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("Run did not return within 15 s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitLag polls Lag until the total is want.
func waitLag(t *testing.T, ctx context.Context, c *Consumer, want int64) {
	t.Helper()
	var last map[int]int64
	var lastErr error
	for {
		lag, err := c.Lag(ctx)
		if err == nil {
			var total int64
			for _, n := range lag {
				total += n
			}
			if total == want && len(lag) == e2ePartitions {
				return
			}
		}
		last, lastErr = lag, err
		select {
		case <-ctx.Done():
			t.Fatalf("lag never reached %d: last %v (%v)", want, last, lastErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func sumGauge(g *prometheus.GaugeVec) float64 {
	ch := make(chan prometheus.Metric, 64)
	go func() { g.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		sum += testutil.ToFloat64(m.(prometheus.Collector))
	}
	return sum
}

// checkCommittedAtEnd checks with the broker that the group's committed
// offsets equal the end offsets of every partition.
func checkCommittedAtEnd(t *testing.T, ctx context.Context, c *Consumer) {
	t.Helper()
	committed, err := c.lag.committed(ctx, []int{0, 1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	ends, err := c.lag.offsets(ctx, []int{0, 1, 2, 3, 4, 5}, kafka.LastOffsetOf)
	if err != nil {
		t.Fatal(err)
	}
	for p, end := range ends {
		if committed[p] != end {
			t.Errorf("partition %d: committed %d, end %d", p, committed[p], end)
		}
	}
}

// readAll reads every message of topic's partitions up to their end offsets.
func readAll(t *testing.T, ctx context.Context, brokers []string, topic string, partitions int) []kafka.Message {
	t.Helper()
	lr := newLagReporter(brokers, "unused", topic, "")
	defer lr.close()
	parts := make([]int, partitions)
	for i := range parts {
		parts[i] = i
	}
	ends, err := lr.offsets(ctx, parts, kafka.LastOffsetOf)
	if err != nil {
		t.Fatal(err)
	}
	var all []kafka.Message
	for p, end := range ends {
		if end == 0 {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				_ = r.Close()
				t.Fatalf("read %s/%d: %v", topic, p, err)
			}
			all = append(all, m)
			if m.Offset >= end-1 {
				break
			}
		}
		if err := r.Close(); err != nil {
			t.Fatalf("close reader of %s/%d: %v", topic, p, err)
		}
	}
	return all
}

// checkEmitted checks that listings from..to-1 produced exactly one
// complaint each, or exactly one dead letter for every 100th, and nothing
// else.
func checkEmitted(t *testing.T, tp e2eTopics, outs, dlq []kafka.Message, from, to int) {
	t.Helper()
	complaints := map[int]int{}
	for _, m := range outs {
		i, err := strconv.Atoi(strings.TrimPrefix(string(m.Value), "complaint-"))
		if err != nil || string(m.Key) != fmt.Sprintf("listing-%03d", i%e2eKeys) {
			t.Fatalf("unexpected complaint %q=%q", m.Key, m.Value)
		}
		complaints[i]++
	}
	letters := map[int]int{}
	for _, m := range dlq {
		i, err := strconv.Atoi(string(m.Value))
		if err != nil {
			t.Fatalf("unexpected dead letter %q", m.Value)
		}
		letters[i]++
		h := headers(m)
		if h[HeaderTopic] != tp.in || h[HeaderErrorClass] != ClassValidation || !strings.Contains(h[HeaderReason], "price is negative") ||
			h[HeaderPartition] == "" || h[HeaderOffset] == "" || h[HeaderTime] == "" {
			t.Errorf("dead letter of %d has headers %v", i, h)
		}
	}
	for i := from; i < to; i++ {
		wantC, wantD := 1, 0
		if i%e2ePoisonEach == e2ePoisonEach-1 {
			wantC, wantD = 0, 1
		}
		if complaints[i] != wantC || letters[i] != wantD {
			t.Errorf("listing %d: %d complaints and %d dead letters, want %d and %d", i, complaints[i], letters[i], wantC, wantD)
		}
	}
	if want := (to - from) - (to-from)/e2ePoisonEach; len(outs) != want {
		t.Errorf("%d complaints, want %d", len(outs), want)
	}
	if want := (to - from) / e2ePoisonEach; len(dlq) != want {
		t.Errorf("%d dead letters, want %d", len(dlq), want)
	}
}
