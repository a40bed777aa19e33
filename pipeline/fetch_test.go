package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// scriptReader returns a scripted sequence of fetch results (messages and
// errors, in order) and then blocks; commits go to the embedded fakeReader.
type scriptReader struct {
	*fakeReader
	items chan fetchResult
}

type fetchResult struct {
	msg kafka.Message
	err error
}

func (r *scriptReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	select {
	case <-ctx.Done():
		return kafka.Message{}, ctx.Err()
	case it := <-r.items:
		return it.msg, it.err
	}
}

// TestFetchErrorOfOnePartitionPausesNoOther feeds partition 0's fetch
// errors between partition 1's messages, as kafka-go's reader does when one
// partition's leader is gone: with a retry backoff of an hour, every
// message of partition 1 must still be handled, so the loop cannot have
// waited after any of the errors.
func TestFetchErrorOfOnePartitionPausesNoOther(t *testing.T) {
	r := &scriptReader{fakeReader: newFakeReader(), items: make(chan fetchResult, 100)}
	const n = 20
	for i := range n {
		r.items <- fetchResult{err: fmt.Errorf("partition 0: %w", kafka.NotLeaderForPartition)}
		r.items <- fetchResult{msg: msg(1, int64(i), fmt.Sprintf("k%d", i), "v")}
	}
	var handled atomic.Int64
	opts := testOptions(r.fakeReader, &fakeWriter{})
	opts.reader, opts.InitialRetryBackoff, opts.MaxRetryBackoff = r, time.Hour, time.Hour
	run := start(t, opts, func(context.Context, kafka.Message) ([]kafka.Message, error) {
		handled.Add(1)
		return nil, nil
	})
	waitFor(t, "every message of partition 1 handled between partition 0's errors", func() bool { return handled.Load() == n })
	waitFor(t, "partition 1 committed to its end", func() bool { return r.commits()[1] == n })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestFetchSpinBacksOff has a reader fail at once, forever: the loop takes
// fetchSpinLimit such errors and then waits its backoff (an hour here)
// rather than spinning.
func TestFetchSpinBacksOff(t *testing.T) {
	var calls atomic.Int64
	r := &spinReader{fakeReader: newFakeReader(), calls: &calls}
	opts := testOptions(r.fakeReader, &fakeWriter{})
	opts.reader, opts.InitialRetryBackoff, opts.MaxRetryBackoff = r, time.Hour, time.Hour
	run := start(t, opts, func(context.Context, kafka.Message) ([]kafka.Message, error) { return nil, nil })
	waitFor(t, "the spin limit reached", func() bool { return calls.Load() >= fetchSpinLimit })
	time.Sleep(20 * time.Millisecond) // a spinning loop would make thousands of calls meanwhile
	if got := calls.Load(); got != fetchSpinLimit {
		t.Errorf("%d fetches, want %d and then a backoff", got, fetchSpinLimit)
	}
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// TestFetchSlowErrorsDoNotBackOff: a reader whose errors each take a few
// milliseconds (a fetcher waiting out its own backoff, a loaded machine)
// is not spinning: the loop fetches on past fetchSpinLimit errors instead
// of waiting its backoff (an hour here).
func TestFetchSlowErrorsDoNotBackOff(t *testing.T) {
	var calls atomic.Int64
	r := &spinReader{fakeReader: newFakeReader(), calls: &calls, delay: 3 * fetchSpinTime}
	opts := testOptions(r.fakeReader, &fakeWriter{})
	opts.reader, opts.InitialRetryBackoff, opts.MaxRetryBackoff = r, time.Hour, time.Hour
	run := start(t, opts, func(context.Context, kafka.Message) ([]kafka.Message, error) { return nil, nil })
	waitFor(t, "fetching on past the spin limit", func() bool { return calls.Load() >= fetchSpinLimit+64 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// spinReader fails every fetch, at once or after delay.
type spinReader struct {
	*fakeReader
	calls *atomic.Int64
	delay time.Duration
}

func (r *spinReader) FetchMessage(ctx context.Context) (kafka.Message, error) {
	r.calls.Add(1)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if err := ctx.Err(); err != nil {
		return kafka.Message{}, err
	}
	return kafka.Message{}, errors.New("broken reader")
}
