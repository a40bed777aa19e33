package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// TestProduce writes stdin to a topic, one message per line, keyed by the
// line's listing_id or by -key; blank lines are skipped.
func TestProduce(t *testing.T) {
	brokers := kafkatest.StartEmbedded(t)
	topic := kafkatest.TopicName("listings")
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := `{"listing_id":"l-1","title":"a"}` + "\n\n" + `{"listing_id":"l-2","title":"b"}` + "\n" + "not json\n"
	var out, errb bytes.Buffer
	if err := produce(ctx, []string{"-brokers", brokers[0], topic}, strings.NewReader(in), &out, &errb); err != nil {
		t.Fatalf("produce: %v: %s", err, errb.String())
	}
	if !strings.Contains(out.String(), "produced 3 message(s)") {
		t.Errorf("stdout %q", out.String())
	}
	if err := produce(ctx, []string{"-brokers", brokers[0], "-key", "k-9", topic}, strings.NewReader(`{"listing_id":"l-3"}`), &out, &errb); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	_ = consumeTopic(ctx, brokers, topic, kafka.FirstOffset, func(m kafka.Message) bool {
		keys[string(m.Value)] = string(m.Key)
		return len(keys) < 4
	})
	want := map[string]string{
		`{"listing_id":"l-1","title":"a"}`: "l-1", `{"listing_id":"l-2","title":"b"}`: "l-2",
		"not json": "", `{"listing_id":"l-3"}`: "k-9",
	}
	for v, k := range want {
		if got, ok := keys[v]; !ok || got != k {
			t.Errorf("message %s: key %q (present %v), want %q", v, got, ok, k)
		}
	}
	if err := produce(ctx, []string{"-brokers", brokers[0], topic}, strings.NewReader("\n"), &out, &errb); err == nil {
		t.Error("empty stdin produced nothing without an error")
	}
}
