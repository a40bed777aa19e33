package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// messageReader is the consumer's view of a consumer-group reader; a
// *kafka.Reader with a GroupID satisfies it. The consumer calls
// FetchMessage from one goroutine and CommitMessages from another.
//
//   - FetchMessage returns the next message and never commits; it returns
//     ctx's error when ctx ends.
//   - CommitMessages commits, for each message's partition, that offset+1
//     (the next offset to read), and returns once the broker has it (or
//     with the error that prevented it).
//   - Close leaves the group and releases the connections.
type messageReader interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
	Close() error
}

// rebalanceCounter is implemented by readers that can say how many group
// generations they have joined so far (a running total). The consumer uses
// it to fence offsets after a rebalance (see the package documentation).
// A reader without it is taken never to rebalance, which is right for a
// reader that owns fixed partitions and what the unit tests' fakes do.
type rebalanceCounter interface {
	Rebalances() int64
}

// assigningReader is a reader that says which partitions it owns, as
// markwatch's group member does: listen, called once before the first
// FetchMessage, gives it the listener it tells of every partition it
// gains and gives up (see partitionListener). The consumer then fences
// per partition instead of by generation: messages of partitions not
// owned are dropped, and a revoked partition's work is finished and
// committed, or abandoned, before it moves.
type assigningReader interface {
	messageReader
	listen(partitionListener)
}

// groupReader is a kafka-go group Reader that also counts rebalances.
type groupReader struct {
	*kafka.Reader

	mu         sync.Mutex
	rebalances int64
}

// newGroupReader builds the kafka-go Reader for opts. It starts joining the
// group in the background at once.
func newGroupReader(opts Options, clientID string, log *slog.Logger) *groupReader {
	errLog := log.With("component", "kafka_reader")
	return &groupReader{Reader: kafka.NewReader(kafka.ReaderConfig{
		Brokers: opts.Brokers,
		// The client id the coordinator lists this member under (see
		// memberClientID); the rest as kafka.DefaultDialer.
		Dialer:  &kafka.Dialer{ClientID: clientID, Timeout: 10 * time.Second, DualStack: true},
		GroupID: opts.GroupID,
		Topic:   opts.Topic,
		// A new group reads the topic from its beginning: listings published
		// before the first detector started must be scored too.
		StartOffset: kafka.FirstOffset,
		// 0 makes CommitMessages synchronous: it returns once the broker has
		// the offsets. The consumer batches commits itself (CommitInterval).
		CommitInterval: 0,
		// kafka-go's default of 10 s makes every fetch on an idle partition
		// hang that long, and a fresh message wait as long behind it.
		MaxWait:           opts.MaxWait,
		SessionTimeout:    opts.SessionTimeout,
		HeartbeatInterval: opts.HeartbeatInterval,
		// After a failed join (the coordinator still loading, a broker
		// restart), kafka-go waits JoinGroupBackoff, 5 s by default.
		JoinGroupBackoff: 500 * time.Millisecond,
		// Each partition's fetcher backs off on its own after an error, so
		// one partition's fault never pauses the others (see fetchLoop);
		// kafka-go's defaults, named here because fetchLoop relies on them.
		ReadBackoffMin: 100 * time.Millisecond,
		ReadBackoffMax: time.Second,
		// Partitions added to the topic join the assignment by a rebalance.
		WatchPartitionChanges: true,
		// Routine retries (idle fetch timeouts) go to debug, faults to
		// warn or error with a hint: see KafkaLogger.
		ErrorLogger: KafkaLogger(errLog),
	})}
}

// Rebalances returns the generations joined so far. kafka-go's Stats resets
// its counters on every call, so the total is kept here; nothing else may
// call Stats on this reader.
func (r *groupReader) Rebalances() int64 {
	n := r.Reader.Stats().Rebalances
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rebalances += n
	return r.rebalances
}

// memberClientID returns a client id unique to one consumer: the group's
// DescribeGroups answer lists members by client id, and two detectors on one
// host (or two consumers in one process) must not share one.
func memberClientID(group string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("markwatch-%s-%s-%d-%08x", group, host, os.Getpid(), rand.Uint32())
}
