package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// fakeReader is an in-memory messageReader: messages are pushed with
// deliver, commits are recorded per partition.
type fakeReader struct {
	msgs       chan kafka.Message
	rebalances atomic.Int64

	mu        sync.Mutex
	committed map[int]int64 // partition -> next offset to read (offset+1)
	calls     int           // CommitMessages calls
	commitErr func() error  // non-nil result fails the commit
	regressed []string      // commits that went backwards
	closed    bool
}

func newFakeReader() *fakeReader {
	return &fakeReader{msgs: make(chan kafka.Message, 10000), committed: map[int]int64{}}
}

func (r *fakeReader) deliver(msgs ...kafka.Message) {
	for _, m := range msgs {
		r.msgs <- m
	}
}

func (r *fakeReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	select {
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	case m, ok := <-r.msgs:
		if !ok {
			return kafka.Message{}, io.EOF
		}
		return m, nil
	}
}

func (r *fakeReader) CommitMessages(ctx context.Context, msgs ...kafka.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.closed {
		return io.ErrClosedPipe
	}
	if r.commitErr != nil {
		if err := r.commitErr(); err != nil {
			return err
		}
	}
	for _, m := range msgs {
		if prev, ok := r.committed[m.Partition]; ok && m.Offset+1 < prev {
			r.regressed = append(r.regressed, fmt.Sprintf("partition %d: %d after %d", m.Partition, m.Offset+1, prev))
		}
		r.committed[m.Partition] = m.Offset + 1
	}
	return nil
}

func (r *fakeReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	return nil
}

// Rebalances makes fakeReader a rebalanceCounter.
func (r *fakeReader) Rebalances() int64 { return r.rebalances.Load() }

func (r *fakeReader) commits() map[int]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.committed)
}

func (r *fakeReader) setCommitErr(f func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.commitErr = f
}

// fakeWriter records written messages; fail, if set, decides per call
// whether the write fails.
type fakeWriter struct {
	mu      sync.Mutex
	written []kafka.Message
	calls   int
	fail    func(call int, msgs []kafka.Message) error
}

func (w *fakeWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	w.mu.Lock()
	w.calls++
	call, fail := w.calls, w.fail
	w.mu.Unlock()
	if fail != nil {
		if err := fail(call, msgs); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.written = append(w.written, msgs...)
	return nil
}

func (w *fakeWriter) messages() []kafka.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]kafka.Message(nil), w.written...)
}

func (w *fakeWriter) byTopic(topic string) []kafka.Message {
	var out []kafka.Message
	for _, m := range w.messages() {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// errTransient is a handler error that is not permanent.
var errTransient = errors.New("image host unavailable")

// testOptions are Options for a fake reader and writer, with short
// intervals so the tests run fast.
func testOptions(r *fakeReader, w MessageWriter) Options {
	return Options{
		GroupID: "group", Topic: "listings", DLQTopic: "listings.dlq",
		Concurrency: 4, CommitInterval: 5 * time.Millisecond,
		InitialRetryBackoff: time.Millisecond, MaxRetryBackoff: 5 * time.Millisecond,
		DrainTimeout: 2 * time.Second, CommitTimeout: time.Second,
		Writer: w, reader: r,
	}
}

// running is a Consumer started in the background.
type running struct {
	c      *Consumer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, opts Options, h Handler) *running {
	t.Helper()
	c, err := NewConsumer(opts, h)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it; it can be called more than once.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15 s of cancel")
		return nil
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// msg builds an input message.
func msg(partition int, offset int64, key, value string) kafka.Message {
	return kafka.Message{Topic: "listings", Partition: partition, Offset: offset, Key: []byte(key), Value: []byte(value)}
}

// echo is a handler that emits one complaint per input, same key and value.
func echo(_ context.Context, m kafka.Message) ([]kafka.Message, error) {
	return []kafka.Message{{Topic: "complaints", Key: m.Key, Value: m.Value}}, nil
}
