package ingest_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// kafkaAndStore returns the real broker's addresses, a context that ends
// after 90 s, and a new SQLite store closed when the test ends, after the
// consumers consumeTopic starts have stopped.
func kafkaAndStore(t *testing.T) ([]string, context.Context, *store.Store) {
	t.Helper()
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return brokers, ctx, st
}

// consumeTopic runs h as a consumer group of a new topic of two
// partitions on the real broker, after writing the messages that msgs
// makes for that topic, and returns the topic's new dead-letter topic.
// The consumer stops, and its error is checked, when the test ends.
func consumeTopic(t *testing.T, ctx context.Context, brokers []string, name string, h pipeline.Handler, msgs func(topic string) []kafka.Message) (dlq string) {
	t.Helper()
	topic, dlq, group := kafkatest.TopicName(name), kafkatest.TopicName(name+"-dlq"), kafkatest.TopicName(name+"-group")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 2})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: dlq, NumPartitions: 1})
	w := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	t.Cleanup(func() { pipeline.CloseWriter(w) })
	if err := w.WriteMessages(ctx, msgs(topic)...); err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.NewConsumer(pipeline.Options{
		Brokers: brokers, GroupID: group, Topic: topic, DLQTopic: dlq, Writer: w,
		CommitInterval: 100 * time.Millisecond, MaxWait: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
	}, h)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("consumer: %v", err)
		}
	})
	return dlq
}

// readOne reads the first message of topic.
func readOne(t *testing.T, ctx context.Context, brokers []string, topic string) kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	m, err := r.ReadMessage(ctx)
	if err != nil {
		t.Fatalf("read %s: %v", topic, err)
	}
	return m
}

// resultCount returns the value of the counter name{result=result} in reg.
func resultCount(t *testing.T, reg prometheus.Gatherer, name, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{result=%q} in the registry", name, result)
	return 0
}
