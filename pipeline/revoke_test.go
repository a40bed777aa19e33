package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
)

// assigningFake is a fakeReader that owns partitions as the test says,
// telling the consumer through its listener.
type assigningFake struct {
	*fakeReader
	mu sync.Mutex
	l  partitionListener
}

func (f *assigningFake) listen(l partitionListener) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.l = l
}

func (f *assigningFake) listener() partitionListener {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.l
}

// startAssigning runs a consumer on an assigningFake and returns the
// fake, the writer, the running consumer and its listener.
func startAssigning(t *testing.T, h Handler) (*assigningFake, *fakeWriter, *running, partitionListener) {
	t.Helper()
	r := &assigningFake{fakeReader: newFakeReader()}
	w := &fakeWriter{}
	opts := testOptions(r.fakeReader, w)
	opts.reader = r
	opts.Registerer = prometheus.NewRegistry()
	run := start(t, opts, h)
	waitFor(t, "the listener", func() bool { return r.listener() != nil })
	return r, w, run, r.listener()
}

// gated returns a handler that holds a listing of the partitions slow
// says until gate is closed, then echoes it.
func gated(gate <-chan struct{}, slow func(partition int) bool) Handler {
	return func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		if slow(m.Partition) {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return echo(ctx, m)
	}
}

// TestConsumerRevocation drives the consumer's side of cooperative
// rebalancing with a fake member: messages of partitions not owned are
// not handled; a revoked partition's finished work is committed before
// the revocation returns; work still running when the revocation gives up
// is neither emitted nor committed; kept partitions go on throughout.
func TestConsumerRevocation(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	handled := map[int]int{}
	slow := gated(gate, func(p int) bool { return p == 1 }) // partition 1's listings are slow
	r, w, run, l := startAssigning(t, func(ctx context.Context, m kafka.Message) ([]kafka.Message, error) {
		mu.Lock()
		handled[m.Partition]++
		mu.Unlock()
		return slow(ctx, m)
	})
	count := func(p int) int {
		mu.Lock()
		defer mu.Unlock()
		return handled[p]
	}

	l.partitionsAssigned([]int{0, 1})
	r.deliver(msg(5, 0, "k5", "not-owned"), msg(0, 0, "a", "p0-0"), msg(1, 0, "b", "p1-0"), msg(0, 1, "c", "p0-1"))
	waitFor(t, "partition 0 committed", func() bool { return r.commits()[0] == 2 })
	waitFor(t, "partition 1's listing in the handler", func() bool { return count(1) == 1 })

	// Revoking 1 gives up after 50 ms: its listing is still in the handler.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	l.partitionsRevoked(ctx, []int{1})
	cancel()
	close(gate)
	r.deliver(msg(0, 2, "d", "p0-2"), msg(1, 1, "e", "p1-1"))
	waitFor(t, "partition 0 going on", func() bool { return r.commits()[0] == 3 })

	// Revoking 2 in time: its finished work is committed when it returns.
	l.partitionsAssigned([]int{2})
	r.deliver(msg(2, 0, "f", "p2-0"), msg(2, 1, "g", "p2-1"))
	waitFor(t, "partition 2 handled", func() bool { return count(2) == 2 })
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	l.partitionsRevoked(ctx, []int{2})
	cancel()
	if got := r.commits()[2]; got != 2 {
		t.Errorf("partition 2 committed at %d when its revocation returned, want 2", got)
	}
	r.deliver(msg(2, 2, "h", "p2-2"))
	r.deliver(msg(0, 3, "i", "p0-3"))
	waitFor(t, "partition 0 going on", func() bool { return r.commits()[0] == 4 })
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}

	if n := count(5); n != 0 {
		t.Errorf("a listing of a partition never owned was handled %d times", n)
	}
	if n := count(1); n != 1 {
		t.Errorf("partition 1 handled %d times, want 1 (the one in flight at the revocation)", n)
	}
	if n := count(2); n != 2 {
		t.Errorf("partition 2 handled %d times, want 2 (none after its revocation)", n)
	}
	for _, m := range w.byTopic("complaints") {
		switch v := string(m.Value); v {
		case "p0-0", "p0-1", "p0-2", "p0-3", "p2-0", "p2-1":
		default:
			t.Errorf("complaint %q emitted for a partition given up", v)
		}
	}
	if _, ok := r.commits()[1]; ok {
		t.Errorf("partition 1 committed at %d after it was given up unfinished", r.commits()[1])
	}
	c := run.c
	if a, rv := testutil.ToFloat64(c.m.assignedParts), testutil.ToFloat64(c.m.revokedParts); a != 3 || rv != 2 {
		t.Errorf("partitions assigned %v revoked %v, want 3 and 2", a, rv)
	}
	if got := c.tracker.pending(); got != 0 {
		t.Errorf("%d messages still pending", got)
	}
}

// TestConsumerPartitionsLost: lost partitions are released at once, their
// work neither emitted nor committed.
func TestConsumerPartitionsLost(t *testing.T) {
	gate := make(chan struct{})
	r, w, run, l := startAssigning(t, gated(gate, func(int) bool { return true }))
	l.partitionsAssigned([]int{3})
	r.deliver(msg(3, 0, "a", "p3-0"))
	waitFor(t, "the listing in flight", func() bool { return run.c.tracker.pending() == 1 })
	l.partitionsLost([]int{3})
	close(gate)
	if err := run.stop(t); err != nil {
		t.Fatal(err)
	}
	if got := w.byTopic("complaints"); len(got) != 0 {
		t.Errorf("%d complaints emitted for a lost partition", len(got))
	}
	if _, ok := r.commits()[3]; ok {
		t.Error("a lost partition was committed")
	}
	if got := testutil.ToFloat64(run.c.m.lostParts); got != 1 {
		t.Errorf("partitions lost %v, want 1", got)
	}
}
