package detect

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/markwatch/markwatch/pipeline/marks"
)

// TestBankAndQuarantineOverKafka runs the whole path on the real broker:
// the negative-banks follower starts before its topic exists (and is ready
// on an empty bank), the topic is created and an entry produced, and the
// stage stops filing the banked photo; the entry's tombstone makes it file
// again; then the mark, republished with its stock photo in quarantine on
// the marks topic, stops it again. Topics are unique to the run.
func TestBankAndQuarantineOverKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	marksTopic, bankTopic := kafkatest.TopicName("marks"), kafkatest.TopicName("negative-banks")
	compacted := func(topic string) kafka.TopicConfig {
		return kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
			ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}}
	}
	kafkatest.CreateTopic(t, brokers, compacted(marksTopic))
	tr := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(brokers...), Balancer: &kafka.Hash{}, RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, Transport: tr}
	defer tr.CloseIdleConnections()
	defer w.Close()
	put := func(topic, key string, v any) {
		t.Helper()
		var value []byte
		if v != nil {
			var err error
			if value, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			err := w.WriteMessages(ctx, kafka.Message{Topic: topic, Key: []byte(key), Value: value})
			if err == nil {
				return
			}
			// The writer's metadata cache learns of a topic created
			// after its first write within the transport's TTL.
			if !errors.Is(err, kafka.UnknownTopicOrPartition) || ctx.Err() != nil {
				t.Fatalf("produce to %s: %v", topic, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	mark := &domain.Mark{
		SchemaVersion: 1, MarkID: "m-veltaro", HolderID: "h-1", Name: "Veltaro", Status: domain.MarkActive, Categories: []string{"bags"},
		ImageHashes: []domain.ImageHash{{Kind: "official", URL: "stock.jpg", Hashes: []string{"f0e1d2c3b4a59687"}}},
	}
	put(marksTopic, mark.MarkID, mark)

	reg := prometheus.NewRegistry()
	follower, err := marks.New(marks.Options[*detection.Engine]{
		Brokers: brokers, Topic: marksTopic, Debounce: 20 * time.Millisecond,
		Build: func(_ context.Context, ms []*domain.Mark) (*detection.Engine, error) {
			return detection.BuildDomain(ms, detection.Options{})
		},
		Close: func(e *detection.Engine) { _ = e.Close() },
	})
	if err != nil {
		t.Fatal(err)
	}
	bank, err := NewBankFollower(BankOptions{Brokers: brokers, Topic: bankTopic, Debounce: 20 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = follower.Run(ctx) })
	wg.Go(func() { _ = bank.Run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
		follower.Close()
		bank.Close()
	}()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitUntil("the marks and an empty bank of an absent topic", func() bool { return follower.Ready() && bank.Ready() })
	stage, err := New[*detection.Engine](follower, Options{ComplaintsTopic: "complaints", Images: stockImages{}, Bank: bank, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	files := func() int {
		t.Helper()
		out, err := stage.Handle(context.Background(), kafka.Message{Key: []byte("l-1"), Value: listingJSON("l-1", "plain canvas tote")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out)
	}
	if n := files(); n != 1 {
		t.Fatalf("before any bank entry the stock photo filed %d complaints, want 1", n)
	}

	kafkatest.CreateTopic(t, brokers, compacted(bankTopic))
	entry := &domain.BankEntry{
		SchemaVersion: 1, EntryID: "nb-1", Kind: domain.BankImage, Hashes: []string{"f0e1d2c3b4a59687"},
		Reason: "generic product photo", CreatedBy: "u-rev", CreatedAt: time.Now().UTC(),
	}
	put(bankTopic, entry.EntryID, entry)
	waitUntil("the entry in the bank", func() bool { return bank.Marks() == 1 })
	if n := files(); n != 0 {
		t.Fatalf("with the photo banked: %d complaints, want 0", n)
	}
	if v := testutil.ToFloat64(stage.metrics.banked.WithLabelValues(domain.BankImage)); v != 1 {
		t.Errorf("suppressed{image} = %v, want 1", v)
	}

	put(bankTopic, entry.EntryID, nil) // undo
	waitUntil("the tombstone", func() bool { return bank.Marks() == 0 })
	if n := files(); n != 1 {
		t.Fatalf("after the undo: %d complaints, want 1", n)
	}

	q := *mark
	q.Quarantines = []domain.Quarantine{{Kind: domain.QuarantineImage, Ref: "stock.jpg", Trigger: domain.TriggerFlood, Reason: "flood", Since: time.Now().UTC()}}
	put(marksTopic, mark.MarkID, &q)
	waitUntil("the quarantine to stop filing", func() bool { return files() == 0 })
	if v := testutil.ToFloat64(stage.metrics.quarantined.WithLabelValues(domain.QuarantineImage)); v < 1 {
		t.Errorf("quarantined{image} = %v, want at least 1", v)
	}
}
