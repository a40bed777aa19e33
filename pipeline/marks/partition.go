package marks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/segmentio/kafka-go"
)

const (
	// requestTimeout bounds one Metadata or ListOffsets round trip.
	requestTimeout = 10 * time.Second
	// metadataTTL is how often the Client's Transport refreshes its cached
	// metadata of the topic, unless PartitionCheckInterval is shorter.
	metadataTTL = time.Second
	// fetchMaxWait is how long a fetch waits on the broker for new records.
	// A record is returned as soon as it arrives, so this costs no latency;
	// it bounds how long Reader.Close waits for a fetch in flight, which
	// ctx does not interrupt, and so how promptly Run returns.
	fetchMaxWait = 500 * time.Millisecond
	// fetchMaxBytes lets one fetch carry a few thousand marks during
	// catch-up; kafka-go's default is 1 MB.
	fetchMaxBytes = 8 << 20
	// Backoff of broker retries: from backoffMin, doubling, up to backoffMax.
	backoffMin = 100 * time.Millisecond
	backoffMax = 5 * time.Second
)

// partitionRange is a partition's first and end offset (the offset the next
// record will get) when Run started.
type partitionRange struct {
	partition  int
	first, end int64
}

// totalRecords is the number of records the ranges span, compacted-away
// offsets included.
func totalRecords(rs []partitionRange) int64 {
	var n int64
	for _, r := range rs {
		n += r.end - r.first
	}
	return n
}

// discover looks up the topic's partitions and their offset ranges, retrying
// with backoff until it succeeds or ctx ends. A topic that does not exist yet
// is retried too: the registry may create it after the detector starts.
func (f *Table[V, E]) discover(ctx context.Context, client *kafka.Client) ([]partitionRange, error) {
	var b backoff
	for {
		rs, err := f.ranges(ctx, client)
		if err == nil {
			return rs, nil
		}
		if f.opts.AbsentIsEmpty && errors.Is(err, kafka.UnknownTopicOrPartition) {
			f.log.Info("topic does not exist yet; following it as empty until it does")
			return nil, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		f.m.fetchErrors.Inc()
		d := b.next()
		f.log.Warn("look up marks topic; retrying", "error", err, "retry_in", d.String())
		if !sleep(ctx, d) {
			return nil, ctx.Err()
		}
	}
}

// ranges asks the cluster for the topic's partitions and offset ranges, once.
func (f *Table[V, E]) ranges(ctx context.Context, client *kafka.Client) ([]partitionRange, error) {
	parts, err := f.partitions(ctx, client)
	if err != nil {
		return nil, err
	}
	// One request per kind of offset: a ListOffsets request naming the
	// same partition twice is refused by Kafka.
	first, err := listOffsets(ctx, client, f.opts.Topic, parts, kafka.FirstOffsetOf)
	if err != nil {
		return nil, fmt.Errorf("list first offsets: %w", err)
	}
	end, err := listOffsets(ctx, client, f.opts.Topic, parts, kafka.LastOffsetOf)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	rs := make([]partitionRange, len(parts))
	for i, p := range parts {
		rs[i] = partitionRange{partition: p, first: first[p], end: end[p]}
	}
	return rs, nil
}

// partitions returns the topic's partition ids in order. Metadata is asked
// without auto-creation, so a missing topic is an error, never a new topic
// with the broker's default (non-compacted) config.
func (f *Table[V, E]) partitions(ctx context.Context, client *kafka.Client) ([]int, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{f.opts.Topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	for _, t := range md.Topics {
		if t.Name != f.opts.Topic {
			continue
		}
		if t.Error != nil {
			return nil, fmt.Errorf("metadata of topic %s: %w", t.Name, t.Error)
		}
		if len(t.Partitions) == 0 {
			return nil, fmt.Errorf("metadata of topic %s: no partitions", t.Name)
		}
		parts := make([]int, len(t.Partitions))
		for i, p := range t.Partitions {
			parts[i] = p.ID
		}
		slices.Sort(parts)
		return parts, nil
	}
	return nil, fmt.Errorf("metadata: topic %s not in the answer", f.opts.Topic)
}

// listOffsets returns one offset per partition, of the kind req asks for.
func listOffsets(ctx context.Context, client *kafka.Client, topic string, parts []int, req func(int) kafka.OffsetRequest) (map[int]int64, error) {
	reqs := make([]kafka.OffsetRequest, len(parts))
	for i, p := range parts {
		reqs[i] = req(p)
	}
	resp, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	got := make(map[int]int64, len(parts))
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, fmt.Errorf("partition %d: %w", po.Partition, po.Error)
		}
		if req(0).Timestamp == kafka.FirstOffset {
			got[po.Partition] = po.FirstOffset
		} else {
			got[po.Partition] = po.LastOffset
		}
	}
	for _, p := range parts {
		if _, ok := got[p]; !ok {
			return nil, fmt.Errorf("partition %d: not in the answer", p)
		}
	}
	return got, nil
}

// readPartition reads partition p from its first offset and sends each
// record, decoded, to out, until ctx ends. The Reader retries connection
// and leader errors itself; errors it surfaces are counted, logged and
// retried here after a backoff. Decoding happens here, one goroutine per
// partition, so that catch-up uses every core.
func (f *Table[V, E]) readPartition(ctx context.Context, p int, out chan<- update[V]) {
	log := f.log.With("partition", p)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   f.opts.Brokers,
		Topic:     f.opts.Topic,
		Partition: p,
		MinBytes:  1,
		MaxBytes:  fetchMaxBytes,
		MaxWait:   fetchMaxWait,
		// kafka-go logs the errors it retries internally only here.
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			log.Debug("kafka-go: " + fmt.Sprintf(msg, args...))
		}),
	})
	defer r.Close() // Close always returns nil; it waits for the fetch in flight
	if err := r.SetOffset(kafka.FirstOffset); err != nil {
		log.Error("set reader offset", "error", err) // only fails on a closed reader
		return
	}
	var b backoff
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			f.m.fetchErrors.Inc()
			d := b.next()
			log.Warn("read marks topic; retrying", "error", err, "retry_in", d.String())
			if !sleep(ctx, d) {
				return
			}
			continue
		}
		b.reset()
		u := decodeRecord(m.Key, m.Value, f.opts.Limits, f.opts.Decode)
		u.partition, u.offset = p, m.Offset
		select {
		case out <- u:
		case <-ctx.Done():
			return
		}
	}
}

// watchPartitions polls the topic's metadata and sends partitions that are
// not in known yet to out, until ctx ends. Errors are left to the next poll.
func (f *Table[V, E]) watchPartitions(ctx context.Context, client *kafka.Client, known map[int]bool, out chan<- []int) {
	t := time.NewTicker(f.opts.PartitionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		parts, err := f.partitions(ctx, client)
		if err != nil {
			if ctx.Err() == nil {
				f.log.Debug("look for partitions added to the marks topic", "error", err)
			}
			continue
		}
		var added []int
		for _, p := range parts {
			if !known[p] {
				known[p] = true
				added = append(added, p)
			}
		}
		if len(added) == 0 {
			continue
		}
		select {
		case out <- added:
		case <-ctx.Done():
			return
		}
	}
}

// backoff is an exponential backoff with jitter over [d/2, d], so that
// detectors restarted together do not retry in step.
type backoff struct{ d time.Duration }

func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, backoffMin), backoffMax)
	return b.d/2 + rand.N(b.d/2+1)
}

func (b *backoff) reset() { b.d = 0 }

// sleep waits for d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
