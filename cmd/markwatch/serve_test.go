package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/ingest"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// TestServe runs the review service against the embedded broker and, when
// there is one, the real Apache Kafka broker: complaints delivered twice
// are stored once, an uphold reaches the takedowns topic through the
// outbox, and SIGTERM-style cancellation stops everything.
func TestServe(t *testing.T) {
	t.Run("kfake", func(t *testing.T) { testServe(t, kafkatest.StartEmbedded(t)) })
	t.Run("kafka", func(t *testing.T) { testServe(t, testenv.KafkaBrokers(t)) })
}

func testServe(t *testing.T, brokers []string) {
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.Topics.Complaints = kafkatest.TopicName("complaints")
	cfg.Kafka.Topics.Takedowns = kafkatest.TopicName("takedowns")
	cfg.Kafka.Topics.SellerActions = kafkatest.TopicName("seller-actions")
	cfg.Kafka.Topics.SellerNotices = kafkatest.TopicName("seller-notices")
	cfg.Review.ComplaintsDLQ = kafkatest.TopicName("complaints-dlq")
	cfg.Review.GroupID = kafkatest.TopicName("review")
	// Buyer reports are consumed beside the complaints.
	cfg.Review.BuyerReports.Enabled = true
	cfg.Review.BuyerReports.GroupID = kafkatest.TopicName("buyer-reports-group")
	cfg.Review.BuyerReports.DLQ = kafkatest.TopicName("buyer-reports-dlq")
	cfg.Kafka.Topics.BuyerReports = kafkatest.TopicName("buyer-reports")
	for _, topic := range []string{cfg.Kafka.Topics.Complaints, cfg.Kafka.Topics.Takedowns, cfg.Kafka.Topics.SellerActions, cfg.Kafka.Topics.SellerNotices, cfg.Review.ComplaintsDLQ,
		cfg.Kafka.Topics.BuyerReports, cfg.Review.BuyerReports.DLQ} {
		kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 3, ReplicationFactor: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := openStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "db", "markwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Complaints are stored only through an active mark of their holder.
	err = st.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.CreateHolder(ctx, store.Holder{ID: "h-veltaro", Name: "Veltaro"}); err != nil {
			return err
		}
		_, err := tx.CreateMark(ctx, &domain.Mark{
			SchemaVersion: domain.SchemaVersion, MarkID: "mk-veltaro", HolderID: "h-veltaro", Name: "Veltaro",
			Registration: domain.Registration{Office: "EUIPO", Number: "1"}, Status: domain.MarkActive,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := newReviewServer(cfg, st, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rs.run(runCtx, ln, nil) }()

	c := domain.Complaint{
		SchemaVersion: 1, ComplaintID: domain.ComplaintID("l-9", 1, "mk-veltaro", "r1"), Source: domain.SourceAuto,
		ListingID: "l-9", ListingVersion: 1, MarkID: "mk-veltaro", HolderID: "h-veltaro", SellerID: "s-bad",
		Score: 0.91, Explanation: "title contains 'V3ltaro' + cue 'replica'", CreatedAt: time.Now().UTC(),
	}
	value, _ := json.Marshal(c)
	w := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	defer w.Close()
	msg := kafka.Message{Topic: cfg.Kafka.Topics.Complaints, Key: []byte(c.ListingID), Value: value}
	// A complaint through a mark the registry does not hold is refused on
	// ingest and dead-lettered with its reason, never queued.
	stray := c
	stray.ComplaintID, stray.MarkID = domain.ComplaintID("l-9", 1, "mk-unknown", "r1"), "mk-unknown"
	strayValue, _ := json.Marshal(stray)
	strayMsg := kafka.Message{Topic: cfg.Kafka.Topics.Complaints, Key: []byte(c.ListingID), Value: strayValue}
	if err := w.WriteMessages(ctx, msg, strayMsg, msg); err != nil { // delivered twice
		t.Fatal(err)
	}
	var stored bool
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, err := st.GetComplaint(ctx, c.ComplaintID); err == nil {
			stored = true
			break
		}
	}
	if !stored {
		t.Fatal("complaint not stored within 30 s")
	}
	report, _ := json.Marshal(domain.BuyerReport{
		SchemaVersion: 1, ReportID: "br-1", ListingID: "l-9", SellerID: "s-bad", BuyerID: "b-1",
		Reason: domain.ReasonCounterfeit, CreatedAt: time.Now().UTC(),
	})
	if err := w.WriteMessages(ctx, kafka.Message{Topic: cfg.Kafka.Topics.BuyerReports, Key: []byte("l-9"), Value: report}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got, err := rs.svc.ListingBuyerReports(ctx, "l-9")
		if err != nil {
			t.Fatal(err)
		}
		if got.Reports == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("buyer report not stored within 30 s")
		}
	}
	dlq := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: cfg.Review.ComplaintsDLQ, GroupID: kafkatest.TopicName("dlq-reader"), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer dlq.Close()
	dlqCtx, dlqCancel := context.WithTimeout(ctx, 30*time.Second)
	defer dlqCancel()
	dead, err := dlq.FetchMessage(dlqCtx)
	if err != nil {
		t.Fatalf("no dead letter for the complaint through an unknown mark: %v", err)
	}
	headers := map[string]string{}
	for _, h := range dead.Headers {
		headers[h.Key] = string(h.Value)
	}
	if !bytes.Equal(dead.Value, strayValue) || headers[pipeline.HeaderErrorClass] != ingest.ClassRefused ||
		!strings.Contains(headers[pipeline.HeaderReason], review.RuleMarkUnknown) {
		t.Errorf("dead letter %s with headers %v; want the stray complaint, class %s, a reason naming %s",
			dead.Value, headers, ingest.ClassRefused, review.RuleMarkUnknown)
	}
	if _, err := st.GetComplaint(ctx, stray.ComplaintID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused complaint is in the queue (%v)", err)
	}
	if err := rs.svc.Decide(ctx, c.ComplaintID, review.Decision{Verdict: review.VerdictUphold, ReasonCode: "counterfeit", Actor: "u-reviewer"}); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: cfg.Kafka.Topics.Takedowns, GroupID: kafkatest.TopicName("reader"), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	readCtx, readCancel := context.WithTimeout(ctx, 30*time.Second)
	defer readCancel()
	m, err := r.FetchMessage(readCtx)
	if err != nil {
		t.Fatalf("no takedown event: %v", err)
	}
	if string(m.Key) != "l-9" {
		t.Errorf("takedown key %q", m.Key)
	}
	var id string
	for _, h := range m.Headers {
		if h.Key == review.HeaderEventID {
			id = string(h.Value)
		}
	}
	if id != "takedown:"+c.ComplaintID {
		t.Errorf("takedown event id %q", id)
	}
	// The seller is told why, on its own topic keyed by seller id: the
	// takedown, the strike and the warning of its first strike.
	nr := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: cfg.Kafka.Topics.SellerNotices, GroupID: kafkatest.TopicName("notice-reader"), StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond})
	defer nr.Close()
	noticeCtx, noticeCancel := context.WithTimeout(ctx, 30*time.Second)
	defer noticeCancel()
	seen := map[string]bool{}
	for len(seen) < 3 {
		m, err := nr.FetchMessage(noticeCtx)
		if err != nil {
			t.Fatalf("seller notices %v, want takedown, strike and warning: %v", seen, err)
		}
		var n domain.SellerNotice
		if err := json.Unmarshal(m.Value, &n); err != nil || string(m.Key) != "s-bad" || n.ComplaintID != c.ComplaintID ||
			n.Mark.Name != "Veltaro" || n.Holder.Name != "Veltaro" || n.Subject == "" {
			t.Fatalf("seller notice key %q %s (%v)", m.Key, m.Value, err)
		}
		seen[n.Decision] = true
	}
	if !seen[domain.NoticeTakedown] || !seen[domain.NoticeStrike] || !seen[domain.NoticeWarning] {
		t.Errorf("seller notices %v, want takedown, strike and warning", seen)
	}

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop within 15 s")
	}
	// Stored once although delivered twice: the audit log has one ingest.
	entries, err := st.AuditLog(ctx, store.AuditQuery{ObjectType: "complaint", ObjectID: c.ComplaintID})
	if err != nil {
		t.Fatal(err)
	}
	ingested := 0
	for _, e := range entries {
		if e.Action == "complaint.ingested" {
			ingested++
		}
	}
	if ingested != 1 {
		t.Errorf("%d ingest audit entries, want 1", ingested)
	}
}
