package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

func TestOptionsValidate(t *testing.T) {
	good := func() Options { return testOptions(newFakeReader(), &fakeWriter{}) }
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"good", func(*Options) {}, ""},
		{"no brokers without a reader", func(o *Options) { o.reader = nil }, "Brokers"},
		{"no group", func(o *Options) { o.GroupID = "" }, "GroupID"},
		{"no topic", func(o *Options) { o.Topic = "" }, "Topic"},
		{"no dlq", func(o *Options) { o.DLQTopic = "" }, "DLQTopic"},
		{"dlq is input", func(o *Options) { o.DLQTopic = o.Topic }, "DLQTopic"},
		{"no writer", func(o *Options) { o.Writer = nil }, "Writer"},
		{"negative drain", func(o *Options) { o.DrainTimeout = -time.Second }, "DrainTimeout"},
		{"backoff inverted", func(o *Options) { o.InitialRetryBackoff, o.MaxRetryBackoff = time.Second, time.Millisecond }, "backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good()
			tt.mutate(&o)
			_, err := NewConsumer(o, echo)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewConsumer: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewConsumer error %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
	if _, err := NewConsumer(good(), nil); err == nil {
		t.Fatal("NewConsumer accepted a nil handler")
	}
}

// TestConsumerPerKeyOrder pushes 40 keys × 25 messages over 3 partitions
// through 8 workers whose handlers take random time: each key's messages
// must be handled, and its outputs written, in offset order, and every
// partition committed to its end.
func TestConsumerPerKeyOrder(t *testing.T) {
	const keys, perKey, partitions = 40, 25, 3
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	opts.Concurrency = 8
	var mu sync.Mutex
	seen := map[string][]int{}
	var active sync.Map // key -> *atomic.Int32: handlers running for the key
	var overlap atomic.Bool
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		n, _ := active.LoadOrStore(string(m.Key), new(atomic.Int32))
		if n.(*atomic.Int32).Add(1) > 1 {
			overlap.Store(true)
		}
		defer n.(*atomic.Int32).Add(-1)
		time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		seq, _ := strconv.Atoi(string(m.Value))
		mu.Lock()
		seen[string(m.Key)] = append(seen[string(m.Key)], seq)
		mu.Unlock()
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	next := make([]int64, partitions)
	for seq := range perKey {
		for k := range keys {
			p := k % partitions
			r.deliver(msg(p, next[p], fmt.Sprintf("listing-%02d", k), strconv.Itoa(seq)))
			next[p]++
		}
	}
	waitFor(t, "all partitions committed", func() bool {
		c := r.commits()
		for p := range partitions {
			if c[p] != next[p] {
				return false
			}
		}
		return true
	})
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if overlap.Load() {
		t.Error("two messages of one key were handled at the same time")
	}
	for k := range keys {
		key := fmt.Sprintf("listing-%02d", k)
		if got := seen[key]; len(got) != perKey || !isSequence(got) {
			t.Errorf("key %s handled in order %v, want 0..%d", key, got, perKey-1)
		}
	}
	outs := map[string][]int{}
	for _, m := range w.byTopic("complaints") {
		seq, _ := strconv.Atoi(string(m.Value))
		outs[string(m.Key)] = append(outs[string(m.Key)], seq)
	}
	for key, got := range outs {
		if len(got) != perKey || !isSequence(got) {
			t.Errorf("key %s outputs in order %v, want 0..%d", key, got, perKey-1)
		}
	}
	if len(outs) != keys {
		t.Errorf("outputs for %d keys, want %d", len(outs), keys)
	}
}

func isSequence(s []int) bool {
	for i, v := range s {
		if v != i {
			return false
		}
	}
	return true
}

// TestConsumerCommitsContiguousPrefix finishes messages out of order (each
// handler waits for its own release) and checks that the committed offset
// only ever covers a finished prefix.
func TestConsumerCommitsContiguousPrefix(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	opts.Concurrency = 5
	release := make([]chan struct{}, 5)
	for i := range release {
		release[i] = make(chan struct{})
	}
	var started sync.WaitGroup
	started.Add(5)
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		started.Done()
		select {
		case <-release[m.Offset]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	// Five keys chosen to land on five different workers, so all run at once.
	keys := keysOnDistinctWorkers(5, 5)
	for i := range 5 {
		r.deliver(msg(0, int64(i), keys[i], strconv.Itoa(i)))
	}
	started.Wait()
	steps := []struct {
		release int
		want    int64 // committed next offset after the release; 0 = none
	}{
		{3, 0}, {4, 0}, {1, 0}, {0, 2}, {2, 5},
	}
	for _, s := range steps {
		close(release[s.release])
		if s.want > 0 {
			waitFor(t, fmt.Sprintf("commit of %d", s.want), func() bool { return r.commits()[0] == s.want })
			continue
		}
		// Give the committer several intervals to make a wrong commit.
		waitFor(t, "output written", func() bool { return hasValue(w.messages(), strconv.Itoa(s.release)) })
		time.Sleep(4 * opts.CommitInterval)
		if got, ok := r.commits()[0]; ok {
			t.Fatalf("after releasing %d: committed %d with offset 0 unfinished", s.release, got)
		}
	}
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// keysOnDistinctWorkers returns n keys that workerFor sends to n different
// workers of `workers`.
func keysOnDistinctWorkers(n, workers int) []string {
	var keys []string
	used := map[int]bool{}
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("listing-%d", i)
		wk := workerFor(kafka.Message{Key: []byte(k)}, workers)
		if !used[wk] {
			used[wk] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func hasValue(msgs []kafka.Message, v string) bool {
	for _, m := range msgs {
		if string(m.Value) == v {
			return true
		}
	}
	return false
}

func TestConsumerTransientRetryThenSuccess(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	var calls atomic.Int32
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		if calls.Add(1) <= 3 {
			return nil, fmt.Errorf("fetch image: %w", errTransient)
		}
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	r.deliver(msg(0, 0, "listing-1", "v"))
	waitFor(t, "commit", func() bool { return r.commits()[0] == 1 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := calls.Load(); got != 4 {
		t.Errorf("handler called %d times, want 4", got)
	}
	if got := w.byTopic("complaints"); len(got) != 1 {
		t.Errorf("%d outputs, want 1", len(got))
	}
	if got := w.byTopic("listings.dlq"); len(got) != 0 {
		t.Errorf("%d dead letters for a transient failure, want 0", len(got))
	}
	c := run.c.m
	for outcome, want := range map[string]float64{outcomeRetried: 3, outcomeOK: 1, outcomeDeadLettered: 0} {
		if got := testutil.ToFloat64(c.handled.WithLabelValues(outcome)); got != want {
			t.Errorf("handled{outcome=%s} = %v, want %v", outcome, got, want)
		}
	}
	if got := testutil.ToFloat64(c.emitted.WithLabelValues("complaints")); got != 1 {
		t.Errorf("emitted{complaints} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(c.commits); got < 1 {
		t.Errorf("commits = %v, want at least 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "markwatch_consumer_messages_consumed_total"); err != nil || n != 1 {
		t.Errorf("consumed series %d (%v), want 1", n, err)
	}
}

func TestConsumerDeadLetters(t *testing.T) {
	tests := []struct {
		name      string
		handler   Handler
		wantClass string
		wantIn    string // substring of dlq.reason
	}{
		{"permanent error", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			return nil, Permanent(ClassDecode, errors.New("listing: invalid JSON at byte 3"))
		}, ClassDecode, "invalid JSON"},
		{"wrapped ErrPermanent", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			return nil, fmt.Errorf("listing: title too long: %w", ErrPermanent)
		}, ClassPermanent, "title too long"},
		{"panic", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			panic("index out of range")
		}, ClassPanic, "panic: index out of range"},
		{"output without topic", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			return []kafka.Message{{Value: []byte("x")}}, nil
		}, ClassOutput, "no topic"},
		{"oversize output", func(context.Context, kafka.Message) ([]kafka.Message, error) {
			return []kafka.Message{{Topic: "complaints", Value: make([]byte, 2000)}}, nil
		}, ClassOutput, "over the 1000-byte limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w := newFakeReader(), &fakeWriter{}
			opts := testOptions(r, w)
			opts.MaxOutputBytes = 1000
			reg := prometheus.NewRegistry()
			opts.Registerer = reg
			run := start(t, opts, tt.handler)
			in := msg(2, 41, "listing-7", `{"title":"x"}`)
			in.Headers = []kafka.Header{{Key: "trace", Value: []byte("abc")}}
			r.deliver(in)
			// The consumer keeps going after the poison message.
			next := msg(2, 42, "listing-8", "ok")
			r.deliver(next)
			waitFor(t, "commit past the poison message", func() bool { return r.commits()[2] == 43 })
			if err := run.stop(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			dlq := w.byTopic("listings.dlq")
			if len(dlq) != 2 {
				t.Fatalf("%d dead letters, want 2", len(dlq))
			}
			d := dlq[0]
			if headers(d)[HeaderOffset] != "41" {
				d = dlq[1] // two keys, two workers: either may be written first
			}
			if string(d.Key) != "listing-7" || string(d.Value) != `{"title":"x"}` {
				t.Errorf("dead letter key %q value %q, want the original", d.Key, d.Value)
			}
			h := headers(d)
			want := map[string]string{
				"trace": "abc", HeaderTopic: "listings", HeaderPartition: "2", HeaderOffset: "41",
				HeaderErrorClass: tt.wantClass,
			}
			for k, v := range want {
				if h[k] != v {
					t.Errorf("header %s = %q, want %q", k, h[k], v)
				}
			}
			if !strings.Contains(h[HeaderReason], tt.wantIn) {
				t.Errorf("dlq.reason %q does not contain %q", h[HeaderReason], tt.wantIn)
			}
			if at, err := time.Parse(time.RFC3339Nano, h[HeaderTime]); err != nil || time.Since(at) > time.Minute {
				t.Errorf("dlq.time %q: %v", h[HeaderTime], err)
			}
			if got := testutil.ToFloat64(run.c.m.deadLetters.WithLabelValues(tt.wantClass)); got != 2 {
				t.Errorf("dead_letters{error_class=%s} = %v, want 2", tt.wantClass, got)
			}
			if got := w.byTopic("complaints"); len(got) != 0 {
				t.Errorf("%d outputs of a failed handler were written", len(got))
			}
		})
	}
}

func headers(m kafka.Message) map[string]string {
	h := map[string]string{}
	for _, x := range m.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

// TestConsumerCancelMidRetry cancels Run while offset 1 is being retried:
// offset 0 (finished) is committed, 1 and 2 (finished after it) are not.
func TestConsumerCancelMidRetry(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	opts.DrainTimeout = 100 * time.Millisecond
	opts.InitialRetryBackoff, opts.MaxRetryBackoff = 5*time.Millisecond, 20*time.Millisecond
	var retries atomic.Int32
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		if m.Offset == 1 {
			retries.Add(1)
			return nil, errTransient
		}
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	keys := keysOnDistinctWorkers(3, opts.Concurrency)
	for i := range 3 {
		r.deliver(msg(0, int64(i), keys[i], strconv.Itoa(i)))
	}
	waitFor(t, "offset 2 written and offset 1 retried", func() bool {
		return hasValue(w.messages(), "2") && retries.Load() >= 3
	})
	waitFor(t, "commit of offset 0", func() bool { return r.commits()[0] == 1 })
	start := time.Now()
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to return after cancel with a 100 ms drain", d)
	}
	if got := r.commits()[0]; got != 1 {
		t.Fatalf("committed %d after cancel, want 1 (offset 1 never finished)", got)
	}
	if hasValue(w.messages(), "1") {
		t.Error("the message being retried produced an output")
	}
	if got := testutil.ToFloat64(run.c.m.handled.WithLabelValues(outcomeAbandoned)); got != 1 {
		t.Errorf("handled{abandoned} = %v, want 1", got)
	}
}

// TestConsumerDrainsOnShutdown cancels Run while handlers are running: they
// finish, their outputs are written and their offsets committed before Run
// returns.
func TestConsumerDrainsOnShutdown(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	opts.CommitInterval = time.Hour // only the final commit
	release := make(chan struct{})
	var started atomic.Int32
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		started.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	keys := keysOnDistinctWorkers(4, opts.Concurrency)
	for i := range 8 {
		r.deliver(msg(i%2, int64(i/2), keys[i%4], strconv.Itoa(i)))
	}
	waitFor(t, "four handlers running", func() bool { return started.Load() == 4 })
	run.cancel()
	time.AfterFunc(50*time.Millisecond, func() { close(release) })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := len(w.byTopic("complaints")); got != 8 {
		t.Errorf("%d outputs written by the drain, want 8", got)
	}
	if c := r.commits(); c[0] != 4 || c[1] != 4 {
		t.Errorf("final commit %v, want both partitions at 4", c)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if !closed {
		t.Error("reader not closed")
	}
}

// TestConsumerWriteRetry fails the first writes: the outputs are written
// again, and the offset is committed only once they are.
func TestConsumerWriteRetry(t *testing.T) {
	r := newFakeReader()
	committedWhileFailing := atomic.Bool{}
	w := &fakeWriter{}
	w.fail = func(call int, msgs []kafka.Message) error {
		if call <= 3 {
			if _, ok := r.commits()[0]; ok {
				committedWhileFailing.Store(true)
			}
			return errors.New("leader not available")
		}
		return nil
	}
	opts := testOptions(r, w)
	run := start(t, opts, echo)
	r.deliver(msg(0, 0, "listing-1", "a"))
	waitFor(t, "commit", func() bool { return r.commits()[0] == 1 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if committedWhileFailing.Load() {
		t.Error("offset committed before its output was written")
	}
	if got := len(w.byTopic("complaints")); got != 1 {
		t.Errorf("%d outputs, want 1", got)
	}
	if got := testutil.ToFloat64(run.c.m.emitRetries); got != 3 {
		t.Errorf("emit retries %v, want 3", got)
	}
}

// TestConsumerPartialWriteRetriesFailedOnly: after kafka.WriteErrors only
// the failed messages are written again.
func TestConsumerPartialWriteRetriesFailedOnly(t *testing.T) {
	r := newFakeReader()
	w := &fakeWriter{}
	var partial atomic.Bool
	w.fail = func(call int, msgs []kafka.Message) error {
		if len(msgs) == 2 && partial.CompareAndSwap(false, true) {
			// The second message fails; the first is "written" by hand.
			w.mu.Lock()
			w.written = append(w.written, msgs[0])
			w.mu.Unlock()
			return kafka.WriteErrors{nil, errors.New("not leader")}
		}
		return nil
	}
	opts := testOptions(r, w)
	h := func(_ context.Context, m kafka.Message) ([]kafka.Message, error) {
		return []kafka.Message{{Topic: "complaints", Value: []byte("a")}, {Topic: "complaints", Value: []byte("b")}}, nil
	}
	run := start(t, opts, h)
	r.deliver(msg(0, 0, "listing-1", "x"))
	waitFor(t, "commit", func() bool { return r.commits()[0] == 1 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, m := range w.byTopic("complaints") {
		got = append(got, string(m.Value))
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("written %v, want [a b] (only b written again)", got)
	}
}

// TestConsumerCommitErrorKeepsState: a failed commit loses nothing; the
// next round commits the same offsets.
func TestConsumerCommitErrorKeepsState(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	var failing atomic.Bool
	failing.Store(true)
	r.setCommitErr(func() error {
		if failing.Load() {
			return kafka.RebalanceInProgress
		}
		return nil
	})
	run := start(t, testOptions(r, w), echo)
	r.deliver(msg(0, 0, "a", "1"), msg(0, 1, "b", "2"))
	waitFor(t, "failed commits", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.calls >= 3
	})
	failing.Store(false)
	waitFor(t, "commit after the errors", func() bool { return r.commits()[0] == 2 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := testutil.ToFloat64(run.c.m.commitErrs); got < 3 {
		t.Errorf("commit errors %v, want at least 3", got)
	}
}

// TestConsumerRebalanceFence: partition 1 is revoked in a rebalance while
// its message is in flight. Its work finishes but is never committed; the
// kept partition 0 is delivered again from its committed offset and
// committed under the new generation.
func TestConsumerRebalanceFence(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	release := make(chan struct{})
	h := func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		if string(m.Value) == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return echo(ctx, m)
	}
	run := start(t, opts, h)
	keys := keysOnDistinctWorkers(3, opts.Concurrency)
	r.deliver(msg(0, 0, keys[0], "fast"), msg(0, 1, keys[1], "slow"), msg(1, 0, keys[2], "slow"))
	waitFor(t, "commit of partition 0 offset 0", func() bool { return r.commits()[0] == 1 })

	// New generation: partition 1 went to another member; partition 0 is
	// restarted by the reader at its committed offset, 1.
	r.rebalances.Add(1)
	waitFor(t, "the fence", func() bool { return testutil.ToFloat64(run.c.m.rebalances) == 1 })
	close(release)
	waitFor(t, "slow outputs", func() bool { return len(w.byTopic("complaints")) == 3 })
	time.Sleep(5 * opts.CommitInterval)
	if c := r.commits(); c[1] != 0 || c[0] != 1 {
		t.Fatalf("commits %v after the rebalance, want none for the revoked partition 1 and partition 0 still at 1", c)
	}
	r.deliver(msg(0, 1, keys[1], "again"))
	waitFor(t, "commit of the re-delivered message", func() bool { return r.commits()[0] == 2 })
	if err := run.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := r.commits(); c[1] != 0 {
		t.Errorf("revoked partition 1 committed at %d", c[1])
	}
	if len(r.regressed) > 0 {
		t.Errorf("commits went backwards: %v", r.regressed)
	}
}

func TestConsumerHealthy(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	opts.StallTimeout = time.Minute
	c, err := NewConsumer(opts, echo)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Healthy(time.Now()); err != nil || !c.LastProgress().IsZero() {
		t.Fatalf("before Run: Healthy %v, LastProgress %v; want nil and zero", err, c.LastProgress())
	}
	block := make(chan struct{})
	defer close(block)
	run := start(t, opts, func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, ctx.Err()
	})
	now := time.Now()
	if err := run.c.Healthy(now.Add(time.Hour)); err != nil {
		t.Errorf("idle consumer unhealthy: %v", err)
	}
	r.deliver(msg(0, 0, "a", "1"))
	waitFor(t, "message in flight", func() bool { return run.c.tracker.pending() == 1 })
	if err := run.c.Healthy(time.Now()); err != nil {
		t.Errorf("healthy right after a fetch: %v", err)
	}
	if err := run.c.Healthy(time.Now().Add(2 * time.Minute)); err == nil {
		t.Error("a message stuck for 2 minutes is reported healthy")
	}
	if lp := run.c.LastProgress(); lp.Before(now.Add(-time.Second)) || lp.After(time.Now()) {
		t.Errorf("LastProgress %v, want around %v", lp, now)
	}
}

func TestConsumerRunTwice(t *testing.T) {
	r, w := newFakeReader(), &fakeWriter{}
	opts := testOptions(r, w)
	c, err := NewConsumer(opts, echo)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if err := c.Run(ctx); err == nil {
		t.Fatal("second Run returned nil")
	}
}

func TestWorkerFor(t *testing.T) {
	tests := []struct {
		name string
		a, b kafka.Message
		same bool
	}{
		{"same key, other partitions", kafka.Message{Key: []byte("k"), Partition: 1}, kafka.Message{Key: []byte("k"), Partition: 2}, true},
		{"no key, same partition", kafka.Message{Partition: 3}, kafka.Message{Partition: 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := workerFor(tt.a, 7) == workerFor(tt.b, 7); got != tt.same {
				t.Errorf("same worker %v, want %v", got, tt.same)
			}
		})
	}
	spread := map[int]bool{}
	for i := range 100 {
		spread[workerFor(kafka.Message{Key: []byte(strconv.Itoa(i))}, 8)] = true
	}
	if len(spread) != 8 {
		t.Errorf("100 keys used %d of 8 workers", len(spread))
	}
}
