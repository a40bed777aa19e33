package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// MessageWriter writes messages, each to its own Topic, and returns once all
// are acknowledged or with an error. A failed call may have written some of
// them (kafka.WriteErrors says which did not): the consumer writes the rest
// again and accepts duplicates, which downstream stores once. *kafka.Writer
// (from NewWriter) satisfies it; it must be safe for concurrent use.
type MessageWriter interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// WriterOptions tune NewWriter; zero values take the defaults.
type WriterOptions struct {
	// BatchTimeout bounds how long a partition's batch waits to fill
	// (default 5 ms). kafka-go's default of 1 s makes every synchronous
	// write of a few messages take a second.
	BatchTimeout time.Duration
	// BatchSize is the most messages per partition batch (default 1000).
	BatchSize int
	// BatchBytes is the most bytes per partition batch and so the largest
	// message (default 1 MiB, the broker's default message.max.bytes).
	// Keep Options.MaxOutputBytes below it.
	BatchBytes int64
	// Compression of record batches (default kafka.Snappy; set
	// NoCompression to send plain batches). Snappy because complaints and
	// dead letters are JSON, which it shrinks two to four times at a CPU
	// cost that does not show next to detection, every Kafka client
	// decodes it, and unlike gzip or zstd it needs no tuning.
	Compression kafka.Compression
	// NoCompression turns compression off, for brokers or tools that
	// cannot read snappy.
	NoCompression bool
	// Transport carries the connections (default a new kafka.Transport
	// with a 1 s metadata TTL).
	// Writer.Close does not close a Transport's idle connections: use
	// CloseWriter, which does.
	Transport *kafka.Transport
}

// NewWriter returns a Writer for the pipeline's outputs and dead letters:
//   - RequiredAcks RequireAll: a write returns once every in-sync replica
//     has the records, so an offset committed after it is never ahead of
//     data a broker failure could lose. (kafka-go's default is
//     RequireNone, fire and forget.)
//   - Balancer kafka.Murmur2Balancer{Consistent: true}: a key always lands
//     on the partition the Java client and librdkafka would choose, so
//     per-key order holds across producers in any language; kafka.Hash is
//     FNV-1a and places keys elsewhere. Consistent hashes a nil key too
//     instead of spraying it at random.
//   - Topic unset: each message names its own, so one Writer serves
//     complaints and dead letters.
//   - AllowAutoTopicCreation false: a misspelt topic is an error, not a
//     new topic with broker-default partitions and retention.
//
// Close it with CloseWriter.
func NewWriter(brokers []string, opts WriterOptions) *kafka.Writer {
	if opts.BatchTimeout <= 0 {
		opts.BatchTimeout = 5 * time.Millisecond
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1000
	}
	if opts.BatchBytes <= 0 {
		opts.BatchBytes = 1 << 20
	}
	if opts.Compression == 0 {
		opts.Compression = kafka.Snappy
	}
	if opts.NoCompression {
		opts.Compression = 0
	}
	if opts.Transport == nil {
		// kafka-go's Transport learns a partition's new leader only when
		// its cached metadata expires (it does not refresh on
		// NOT_LEADER_OR_FOLLOWER); at the default 6 s every leader move —
		// a broker loss, a preferred-leader election — held complaint
		// writes back for seconds after the cluster took them again
		// (TestClusterFaults). One metadata request a second is cheap.
		opts.Transport = &kafka.Transport{MetadataTTL: time.Second}
	}
	return &kafka.Writer{
		Addr:                   kafka.TCP(brokers...),
		Balancer:               kafka.Murmur2Balancer{Consistent: true},
		RequiredAcks:           kafka.RequireAll,
		BatchTimeout:           opts.BatchTimeout,
		BatchSize:              opts.BatchSize,
		BatchBytes:             opts.BatchBytes,
		Compression:            opts.Compression,
		AllowAutoTopicCreation: false,
		Transport:              opts.Transport,
	}
}

// CloseWriter flushes and closes w, then closes its Transport's idle
// connections, whose goroutines would otherwise outlive it until the
// Transport's idle timeout.
func CloseWriter(w *kafka.Writer) error {
	err := w.Close()
	if t, ok := w.Transport.(*kafka.Transport); ok {
		t.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("pipeline: close writer: %w", err)
	}
	return nil
}
