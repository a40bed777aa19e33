package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/store/storetest"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/ingest"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// TestBuyerReportsFromKafka runs the buyer-reports consumer on the real
// broker into the review service: every report is stored once, however
// often it is delivered, and a malformed one is dead-lettered.
func TestBuyerReportsFromKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	topic, dlq, group := kafkatest.TopicName("buyer-reports"), kafkatest.TopicName("buyer-reports-dlq"), kafkatest.TopicName("buyer-reports-group")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 2})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: dlq, NumPartitions: 1})

	st, err := store.Open(ctx, storetest.SQLiteDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := review.New(review.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	w := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	defer pipeline.CloseWriter(w)

	const n = 20
	var msgs []kafka.Message
	for i := range n {
		listing := fmt.Sprintf("l_%d", i%4)
		b, _ := json.Marshal(domain.BuyerReport{
			SchemaVersion: 1, ReportID: fmt.Sprintf("r_%d", i), ListingID: listing, SellerID: "s_1",
			BuyerID: fmt.Sprintf("b_%d", i%7), Reason: domain.ReasonCounterfeit, CreatedAt: time.Now().UTC(),
		})
		msg := kafka.Message{Topic: topic, Key: []byte(listing), Value: b}
		msgs = append(msgs, msg, msg) // each delivered twice
	}
	msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte("l_x"), Value: []byte(`{"schema_version":1}`)})
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}

	c, err := pipeline.NewConsumer(pipeline.Options{
		Brokers: brokers, GroupID: group, Topic: topic, DLQTopic: dlq, Writer: w,
		CommitInterval: 100 * time.Millisecond, MaxWait: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
	}, ingest.BuyerReportHandler(svc, domain.Limits{}, func(err error) bool { return errors.Is(err, review.ErrInvalid) }))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("consumer: %v", err)
		}
	}()

	stored := func() int {
		total := 0
		for l := range 4 {
			got, err := svc.ListingBuyerReports(ctx, fmt.Sprintf("l_%d", l))
			if err != nil {
				t.Fatal(err)
			}
			total += got.Reports
		}
		return total
	}
	for stored() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d reports stored before the deadline", stored(), n)
		case <-time.After(100 * time.Millisecond):
		}
	}
	dead := readOne(t, ctx, brokers, dlq)
	if string(dead.Key) != "l_x" {
		t.Errorf("dead letter key %q, want l_x", dead.Key)
	}
	// Each report is stored once, however often it was delivered.
	if got := stored(); got != n {
		t.Errorf("%d reports stored, want %d: a redelivery was stored twice", got, n)
	}
	// Every listing has five independent buyers: each became one buyer
	// complaint (no brand, so no mark), however often its reports came.
	page, err := st.ListQueue(ctx, store.QueueFilter{Source: []string{domain.SourceBuyer}}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	listings := map[string]int{}
	for _, c := range page.Complaints {
		listings[c.Body.ListingID]++
		if c.Body.MarkID != "" {
			t.Errorf("buyer complaint %s names mark %q without a brand", c.Body.ComplaintID, c.Body.MarkID)
		}
	}
	if len(listings) != 4 || listings["l_0"] != 1 || listings["l_3"] != 1 {
		t.Errorf("buyer complaints per listing %v, want one on each of l_0..l_3", listings)
	}
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
