package kafkatest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// Sizes of the group smoke test: 1000 messages over 250 keys, 4 per key, on
// 6 partitions (the partition count the design's listings topic uses in the
// three-detector test).
const (
	smokePartitions  = 6
	smokeKeys        = 250
	smokePerKey      = 4
	smokeMessages    = smokeKeys * smokePerKey
	smokeCommitBatch = 64
	smokeTimeout     = 90 * time.Second
)

// RunSmoke runs the smoke suite against the cluster at brokers: what the
// streaming detector needs from any broker it runs on. Each subtest creates
// its own randomly named topics and consumer groups, so the suite can run
// again and again on one long-lived broker.
//
//   - GroupConsumeCommit: 1000 keyed messages written with acks=all to a
//     6-partition topic are all read once by a consumer group, in per-key
//     order, and the group's committed offsets equal the partitions' end
//     offsets.
//   - CompactedTombstone: a topic created with cleanup.policy=compact keeps
//     that config, a record written with a nil value comes back as a
//     tombstone with a nil value, and "last value per key, empty means
//     deleted" read from the beginning yields the live set.
func RunSmoke(t *testing.T, brokers []string) {
	t.Helper()
	t.Run("GroupConsumeCommit", func(t *testing.T) { testGroupConsumeCommit(t, brokers) })
	t.Run("CompactedTombstone", func(t *testing.T) { testCompactedTombstone(t, brokers) })
}

// newWriter returns a Writer set up the way the pipeline's must be, against
// kafka-go's defaults:
//   - RequiredAcks defaults to RequireNone (fire and forget: a write "succeeds"
//     before any broker has it); RequireAll waits for every in-sync replica.
//   - BatchTimeout defaults to 1 s, so a synchronous WriteMessages of a few
//     messages takes a second; 5 ms keeps latency low and still batches.
//   - Balancer defaults to round-robin, which scatters one key over all
//     partitions and loses per-key order; Hash keeps a key on one partition.
//     (kafka.Hash is FNV-1a, not the Java client's murmur2: producers in other
//     languages may place the same key elsewhere. Per-key order only needs
//     one producer's placement to be stable.)
//
// The Writer's own Transport lets the caller close its idle connections;
// the default one is a package global whose goroutines outlive the test.
func newWriter(brokers []string, topic string, transport *kafka.Transport) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		Transport:    transport,
	}
}

// endOffsets returns the end offset (the offset the next record will get) of
// each of the first n partitions of topic.
func endOffsets(ctx context.Context, t *testing.T, client *kafka.Client, topic string, n int) []int64 {
	t.Helper()
	reqs := make([]kafka.OffsetRequest, n)
	for p := range n {
		reqs[p] = kafka.LastOffsetOf(p)
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		t.Fatalf("list offsets of %s: %v", topic, err)
	}
	ends := make([]int64, n)
	got := 0
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			t.Fatalf("list offsets of %s/%d: %v", topic, po.Partition, po.Error)
		}
		if po.Partition < 0 || po.Partition >= n {
			t.Fatalf("list offsets of %s: unexpected partition %d", topic, po.Partition)
		}
		ends[po.Partition] = po.LastOffset
		got++
	}
	if got != n {
		t.Fatalf("list offsets of %s: %d partitions answered, want %d", topic, got, n)
	}
	return ends
}

func smokeKey(k int) string        { return fmt.Sprintf("listing-%03d", k) }
func smokeValue(k, seq int) []byte { return fmt.Appendf(nil, "listing-%03d/%d", k, seq) }

func testGroupConsumeCommit(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()
	topic := TopicName("smoke-group")
	CreateTopic(t, brokers, kafka.TopicConfig{Topic: topic, NumPartitions: smokePartitions, ReplicationFactor: 1})

	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: transport}

	// Round-robin over keys, so each key's 4 messages are spread through the
	// stream and batches mix keys: order must hold across batches.
	msgs := make([]kafka.Message, 0, smokeMessages)
	for seq := range smokePerKey {
		for k := range smokeKeys {
			msgs = append(msgs, kafka.Message{Key: []byte(smokeKey(k)), Value: smokeValue(k, seq)})
		}
	}
	w := newWriter(brokers, topic, transport)
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("write %d messages: %v", len(msgs), err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}

	ends := endOffsets(ctx, t, client, topic, smokePartitions)
	var total int64
	for p, end := range ends {
		// 250 keys over 6 partitions: an empty partition means the
		// balancer ignored the keys.
		if end == 0 {
			t.Errorf("partition %d got no messages; ends %v", p, ends)
		}
		total += end
	}
	if total != smokeMessages {
		t.Fatalf("partitions hold %d messages (ends %v), want %d", total, ends, smokeMessages)
	}

	group := TopicName("smoke-group")
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers,
		GroupID: group,
		Topic:   topic,
		// A new group starts at the beginning; the default is the same, but
		// the pipeline depends on it, so it is spelled out.
		StartOffset: kafka.FirstOffset,
		// The default MaxWait of 10 s makes each empty fetch hang that long.
		MaxWait: 250 * time.Millisecond,
		// CommitInterval 0 makes CommitMessages synchronous: it returns
		// once the broker has the offsets, which is what "commit after the
		// effect is durable" needs. Never ReadMessage: with a GroupID it
		// commits each message as it is handed out, before any work on it.
		CommitInterval: 0,
		// On a fresh broker the first join fails while __consumer_offsets
		// is being created, and kafka-go then waits JoinGroupBackoff, 5 s
		// by default, before trying again.
		JoinGroupBackoff: 250 * time.Millisecond,
	})
	readerClosed := false
	defer func() {
		if !readerClosed {
			_ = r.Close() // the test has already failed
		}
	}()

	nextSeq := make(map[string]int, smokeKeys)      // key -> next expected seq
	keyPartition := make(map[string]int, smokeKeys) // key -> its partition
	lastOffset := make([]int64, smokePartitions)    // partition -> last offset read
	for p := range lastOffset {
		lastOffset[p] = -1
	}
	pending := make([]kafka.Message, 0, smokeCommitBatch)
	for read := 0; read < smokeMessages; read++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d of %d messages: %v", read, smokeMessages, err)
		}
		if m.Topic != topic || m.Partition < 0 || m.Partition >= smokePartitions {
			t.Fatalf("message from %s/%d, want %s/0..%d", m.Topic, m.Partition, topic, smokePartitions-1)
		}
		// An offset at or below one already read is a re-delivery. With a
		// single member and no rebalance there must be none; after a
		// rebalance kafka-go can hand out messages it fetched for the
		// previous generation, offsets below what was already committed
		// (kafka-go issue #1398), so the pipeline must drop or tolerate
		// them and never commit an offset lower than one it committed.
		if m.Offset <= lastOffset[m.Partition] {
			t.Fatalf("partition %d: offset %d after %d: re-delivered", m.Partition, m.Offset, lastOffset[m.Partition])
		}
		lastOffset[m.Partition] = m.Offset
		key := string(m.Key)
		if p, ok := keyPartition[key]; ok && p != m.Partition {
			t.Fatalf("key %s on partition %d and %d", key, p, m.Partition)
		}
		keyPartition[key] = m.Partition
		seq := nextSeq[key]
		var k int
		if _, err := fmt.Sscanf(key, "listing-%03d", &k); err != nil || !bytes.Equal(m.Value, smokeValue(k, seq)) {
			t.Fatalf("%s/%d@%d: key %q value %q, want value %q (per-key order)", topic, m.Partition, m.Offset, key, m.Value, smokeValue(k, seq))
		}
		nextSeq[key] = seq + 1
		pending = append(pending, m)
		// Commit in batches: kafka-go commits offset+1 of the highest
		// message per partition in the batch. It does not check that this
		// member still owns the partition, nor that the offset moves
		// forward: a late commit from a member that lost the partition in a
		// rebalance is accepted by the broker and rewinds or skips the new
		// owner's progress (kafka-go issue #1308). The pipeline commits only
		// the contiguous finished prefix of partitions it still owns.
		if len(pending) == cap(pending) || read == smokeMessages-1 {
			if err := r.CommitMessages(ctx, pending...); err != nil {
				t.Fatalf("commit %d messages: %v", len(pending), err)
			}
			pending = pending[:0]
		}
	}
	for key, n := range nextSeq {
		if n != smokePerKey {
			t.Errorf("key %s: read %d messages, want %d", key, n, smokePerKey)
		}
	}
	if len(nextSeq) != smokeKeys {
		t.Errorf("read %d keys, want %d", len(nextSeq), smokeKeys)
	}
	for p, end := range ends {
		if lastOffset[p] != end-1 {
			t.Errorf("partition %d: last offset read %d, want %d", p, lastOffset[p], end-1)
		}
	}
	readerClosed = true
	if err := r.Close(); err != nil {
		t.Fatalf("close reader: %v", err)
	}

	// The broker's view of the group: committed = end offset everywhere.
	// (Reader.Lag() cannot say this: it is -1 for a group reader.)
	parts := make([]int, smokePartitions)
	for p := range parts {
		parts[p] = p
	}
	resp, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatalf("offset fetch for group %s: %v", group, err)
	}
	if resp.Error != nil {
		t.Fatalf("offset fetch for group %s: %v", group, resp.Error)
	}
	committed := make(map[int]int64, smokePartitions)
	for _, op := range resp.Topics[topic] {
		if op.Error != nil {
			t.Fatalf("offset fetch %s/%d: %v", topic, op.Partition, op.Error)
		}
		committed[op.Partition] = op.CommittedOffset
	}
	for p, end := range ends {
		if got, ok := committed[p]; !ok || got != end {
			t.Errorf("partition %d: committed offset %d (present %v), want end offset %d", p, got, ok, end)
		}
	}
}

func testCompactedTombstone(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), smokeTimeout)
	defer cancel()
	topic := TopicName("smoke-marks")
	CreateTopic(t, brokers, kafka.TopicConfig{
		Topic: topic, NumPartitions: 1, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	})

	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: transport}

	// The config must have reached the broker: a marks topic created without
	// compaction silently loses marks once retention deletes old segments.
	cfg, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"cleanup.policy"},
	}}})
	if err != nil {
		t.Fatalf("describe configs of %s: %v", topic, err)
	}
	policy := ""
	for _, res := range cfg.Resources {
		if res.Error != nil {
			t.Fatalf("describe configs of %s: %v", topic, res.Error)
		}
		for _, e := range res.ConfigEntries {
			if e.ConfigName == "cleanup.policy" {
				policy = e.ConfigValue
			}
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy of %s is %q, want compact", topic, policy)
	}

	// A tombstone is a record whose value is null: kafka-go writes one for a
	// nil Value. Its Reader cannot tell null from empty, though: a zero-length
	// value also comes back as nil (the writer does send it as empty; a
	// franz-go client reads it as such). So the marks follower must treat
	// every empty value as a tombstone, as this test does for mark-4.
	records := []kafka.Message{
		{Key: []byte("mark-1"), Value: []byte(`{"v":1}`)},
		{Key: []byte("mark-2"), Value: []byte(`{"v":1}`)},
		{Key: []byte("mark-1"), Value: []byte(`{"v":2}`)},
		{Key: []byte("mark-2"), Value: nil},
		{Key: []byte("mark-3"), Value: []byte(`{"v":1}`)},
		{Key: []byte("mark-4"), Value: []byte(`{"v":1}`)},
		{Key: []byte("mark-4"), Value: []byte{}},
	}
	w := newWriter(brokers, topic, transport)
	if err := w.WriteMessages(ctx, records...); err != nil {
		t.Fatalf("write %d records: %v", len(records), err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close writer: %v", err)
	}
	end := endOffsets(ctx, t, client, topic, 1)[0]
	if end != int64(len(records)) {
		t.Fatalf("end offset %d, want %d", end, len(records))
	}

	// Read it the way the marks follower starts: from the beginning, with no
	// group, up to the end offset seen at start, keeping the last value per
	// key. Offsets may have gaps where the broker has already compacted.
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: brokers, Topic: topic, Partition: 0,
		StartOffset: kafka.FirstOffset, MaxWait: 250 * time.Millisecond,
	})
	defer r.Close()
	live := map[string][]byte{}
	var deleted []string
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch (live so far %q): %v", live, err)
		}
		key := string(m.Key)
		if key == "mark-2" && m.Offset == 3 && m.Value != nil {
			t.Errorf("tombstone of mark-2 read as %q, want a nil value", m.Value)
		}
		if len(m.Value) == 0 {
			deleted = append(deleted, key)
			delete(live, key)
		} else {
			live[key] = m.Value
		}
		if m.Offset >= end-1 {
			break
		}
	}
	if want := []string{"mark-2", "mark-4"}; !slices.Equal(deleted, want) {
		t.Errorf("tombstones for %q, want %q", deleted, want)
	}
	want := map[string]string{"mark-1": `{"v":2}`, "mark-3": `{"v":1}`}
	if len(live) != len(want) {
		t.Errorf("live keys %d (%q), want %d (%q)", len(live), live, len(want), want)
	}
	for k, v := range want {
		if got, ok := live[k]; !ok || string(got) != v {
			t.Errorf("key %s: value %q (present %v), want %q", k, got, ok, v)
		}
	}
}
