package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/heartbeat"
	"github.com/segmentio/kafka-go/protocol/joingroup"
)

// handledEvent is one message handled by one member.
type handledEvent struct {
	member    string
	partition int
	offset    int64
	at        time.Time
}

// groupHarness runs consumers of one group on the broker of
// scripts/kafka.sh under a steady stream, and records who handled what
// when.
type groupHarness struct {
	t       testing.TB
	ctx     context.Context
	brokers []string
	tp      e2eTopics
	out     *kafka.Writer
	log     *slog.Logger

	mu     sync.Mutex
	events []handledEvent
	// next is the sequence number of the next listing produced.
	next atomic.Int64
}

func newGroupHarness(t testing.TB, brokers []string, prefix string) *groupHarness {
	ctx, cancel := context.WithTimeout(context.Background(), 3*e2eTimeout)
	t.Cleanup(cancel)
	transport := &kafka.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	h := &groupHarness{
		t: t, ctx: ctx, brokers: brokers, tp: newE2ETopics(t, brokers, prefix),
		out: NewWriter(brokers, WriterOptions{Transport: transport}),
		log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	t.Cleanup(func() { _ = CloseWriter(h.out) })
	return h
}

// produceSteadily writes one listing to every partition each interval
// until the returned stop is called.
func (h *groupHarness) produceSteadily(interval time.Duration) (stop func()) {
	transport := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(h.brokers...), Balancer: &kafka.RoundRobin{}, BatchTimeout: time.Millisecond,
		RequiredAcks: kafka.RequireAll, Transport: transport}
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for ctx.Err() == nil {
			n := h.next.Load()
			msgs := make([]kafka.Message, e2ePartitions)
			for i := range msgs {
				msgs[i] = kafka.Message{Topic: h.tp.in, Key: []byte(fmt.Sprintf("listing-%d", n+int64(i))), Value: []byte(strconv.FormatInt(n+int64(i), 10))}
			}
			if err := w.WriteMessages(ctx, msgs...); err == nil {
				h.next.Add(int64(len(msgs)))
			}
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			_ = w.Close()
			transport.CloseIdleConnections()
		})
	}
	h.t.Cleanup(stop)
	return stop
}

// member builds a consumer named name; instance "" is the deprecated
// kafka-go ConsumerGroup path.
func (h *groupHarness) member(name, instance string, tweak func(*Options)) *Consumer {
	handle := func(_ context.Context, m kafka.Message) ([]kafka.Message, error) {
		h.mu.Lock()
		h.events = append(h.events, handledEvent{member: name, partition: m.Partition, offset: m.Offset, at: time.Now()})
		h.mu.Unlock()
		return []kafka.Message{{Topic: h.tp.out, Key: m.Key, Value: []byte("complaint-" + string(m.Value))}}, nil
	}
	opts := Options{
		Brokers: h.brokers, GroupID: h.tp.group, Topic: h.tp.in, DLQTopic: h.tp.dlq, Writer: h.out, Logger: h.log,
		GroupInstanceID: instance, Concurrency: 4, CommitInterval: 50 * time.Millisecond, LagInterval: -1,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, SessionTimeout: 6 * time.Second,
		Registerer: prometheus.NewRegistry(),
	}
	if tweak != nil {
		tweak(&opts)
	}
	c, err := NewConsumer(opts, handle)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.lag.close)
	return c
}

// run runs c until the returned stop.
func (h *groupHarness) run(c *Consumer) (stop func()) { return runInBackground(h.t, c) }

// waitFor polls cond until it holds or the harness times out.
func (h *groupHarness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	for !cond() {
		select {
		case <-h.ctx.Done():
			h.t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// handledBy returns the partitions member handled a message of since.
func (h *groupHarness) handledBy(member string, since time.Time) []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, e := range h.events {
		if e.member == member && !e.at.Before(since) && !slices.Contains(out, e.partition) {
			out = append(out, e.partition)
		}
	}
	slices.Sort(out)
	return out
}

// handledCounts returns how many times each message of parts was
// handled, by any member.
func (h *groupHarness) handledCounts(parts []int) map[[2]int64]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := map[[2]int64]int{}
	for _, e := range h.events {
		if slices.Contains(parts, e.partition) {
			n[[2]int64{int64(e.partition), e.offset}]++
		}
	}
	return n
}

// duplicates returns how many times messages of parts were handled more
// than once.
func (h *groupHarness) duplicates(parts []int) int {
	dups := 0
	for _, n := range h.handledCounts(parts) {
		dups += n - 1
	}
	return dups
}

// distinct returns how many different messages were handled.
func (h *groupHarness) distinct() int { return len(h.handledCounts([]int{0, 1, 2, 3, 4, 5})) }

// inTopic returns how many listings the input topic holds (a new topic
// starts at offset 0), asked through c's lag reporter.
func (h *groupHarness) inTopic(c *Consumer) int {
	h.t.Helper()
	ends, err := c.lag.offsets(h.ctx, []int{0, 1, 2, 3, 4, 5}, kafka.LastOffsetOf)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, end := range ends {
		n += int(end)
	}
	return n
}

// maxGap returns the longest time without a message of one of parts being
// handled, by any member, between from and to.
func (h *groupHarness) maxGap(parts []int, from, to time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	var worst time.Duration
	for _, p := range parts {
		last := from
		for _, e := range h.events {
			if e.partition != p || e.at.Before(from) || e.at.After(to) {
				continue
			}
			worst = max(worst, e.at.Sub(last))
			last = e.at
		}
		worst = max(worst, to.Sub(last))
	}
	return worst
}

func counter(c prometheus.Counter) int { return int(testutil.ToFloat64(c)) }

// TestCooperativeJoinLeaveApacheKafka: a second member joins a member
// that holds every partition, under a steady stream; then it stops for
// good. The join moves only the partitions the newcomer must get; the
// first member keeps fetching the others (never revoked nor assigned
// again, never handled twice); the leave moves only the leaver's
// partitions and revokes nothing of the first member. Every listing is
// handled and the group ends committed at the end offsets.
func TestCooperativeJoinLeaveApacheKafka(t *testing.T) {
	h := newGroupHarness(t, testenv.KafkaBrokers(t), t.Name())
	stopProducing := h.produceSteadily(20 * time.Millisecond)
	a := h.member("a", h.tp.group+"-a", nil)
	stopA := h.run(a)
	h.waitFor("a holding and handling all partitions", func() bool {
		return len(a.tracker.ownedPartitions()) == e2ePartitions && len(h.handledBy("a", time.Time{})) == e2ePartitions
	})

	joined := time.Now()
	b := h.member("b", h.tp.group+"-b", nil)
	stopB := h.run(b)
	h.waitFor("b holding 3 partitions", func() bool {
		return len(b.tracker.ownedPartitions()) == 3 && len(a.tracker.ownedPartitions()) == 3
	})
	settled := time.Now()
	h.waitFor("b handling its partitions", func() bool { return len(h.handledBy("b", settled)) == 3 })
	kept, moved := a.tracker.ownedPartitions(), b.tracker.ownedPartitions()
	if got := counter(a.m.revokedParts); got != 3 {
		t.Errorf("a revoked %d partitions, want the 3 that moved", got)
	}
	if got := counter(a.m.assignedParts); got != e2ePartitions {
		t.Errorf("a was assigned %d partitions in all, want %d: a kept partition was revoked and assigned again", got, e2ePartitions)
	}
	if lost := counter(a.m.lostParts) + counter(b.m.lostParts); lost != 0 {
		t.Errorf("%d partitions lost", lost)
	}
	if d := h.duplicates(kept); d != 0 {
		t.Errorf("%d messages of a's kept partitions %v handled twice", d, kept)
	}
	t.Logf("join: kept %v, moved %v; longest pause on kept partitions %v, on moved ones %v (from b's start to settled %v); duplicates on moved %d",
		kept, moved, h.maxGap(kept, joined, settled).Round(time.Millisecond), h.maxGap(moved, joined, settled).Round(time.Millisecond),
		settled.Sub(joined).Round(time.Millisecond), h.duplicates(moved))

	// b stops for good; as a static member it does not leave, so its
	// partitions move after the session timeout.
	stopB()
	left := time.Now()
	h.waitFor("a holding all partitions again", func() bool { return len(a.tracker.ownedPartitions()) == e2ePartitions })
	back := time.Now()
	if got := counter(a.m.revokedParts); got != 3 {
		t.Errorf("a revoked %d partitions in all, want 3 (none at b's leave)", got)
	}
	if got := counter(a.m.assignedParts); got != e2ePartitions+3 {
		t.Errorf("a was assigned %d partitions in all, want %d", got, e2ePartitions+3)
	}
	if d := h.duplicates(kept); d != 0 {
		t.Errorf("%d messages of a's kept partitions %v handled twice", d, kept)
	}
	t.Logf("leave: b's partitions back at a %v after b stopped (session timeout 6 s); a's own never paused longer than %v",
		back.Sub(left).Round(time.Millisecond), h.maxGap(kept, left, back).Round(time.Millisecond))

	stopProducing()
	waitLag(t, h.ctx, a, 0)
	stopA()
	produced := h.inTopic(a)
	if got := h.distinct(); got != produced {
		t.Errorf("%d distinct listings handled, %d produced", got, produced)
	}
	checkCommittedAtEnd(t, h.ctx, a)
}

// coordinatorFaults wraps a member's transport: while failing, heartbeats
// fail as when the coordinator's broker is gone; then one heartbeat is
// answered "rebalance in progress" and the first JoinGroup after it
// "coordinator not available", as when a new coordinator takes the group.
type coordinatorFaults struct {
	kafka.RoundTripper
	failing   atomic.Bool
	rebalance atomic.Bool
	joinFault atomic.Bool
}

func (f *coordinatorFaults) RoundTrip(ctx context.Context, addr net.Addr, req protocol.Message) (protocol.Message, error) {
	switch req.(type) {
	case *heartbeat.Request:
		if f.failing.Load() {
			return nil, kafka.NotCoordinatorForGroup
		}
		if f.rebalance.CompareAndSwap(true, false) {
			return &heartbeat.Response{ErrorCode: int16(kafka.RebalanceInProgress)}, nil
		}
	case *joingroup.Request:
		if f.joinFault.CompareAndSwap(true, false) {
			return nil, kafka.GroupCoordinatorNotAvailable
		}
	}
	return f.RoundTripper.RoundTrip(ctx, addr, req)
}

// TestCooperativeCoordinatorErrorApacheKafka: a member's heartbeats fail
// with coordinator errors for 2 s, then it is asked to rejoin and its
// first join fails too. Membership is unchanged, so the rejoin revokes
// nothing on either member, and nothing is handled twice.
func TestCooperativeCoordinatorErrorApacheKafka(t *testing.T) {
	h := newGroupHarness(t, testenv.KafkaBrokers(t), t.Name())
	h.produceSteadily(20 * time.Millisecond)
	faults := &coordinatorFaults{}
	a := h.member("a", h.tp.group+"-a", func(o *Options) {
		o.wrapTransport = func(t *kafka.Transport) kafka.RoundTripper { faults.RoundTripper = t; return faults }
	})
	b := h.member("b", h.tp.group+"-b", nil)
	h.run(a)
	h.run(b)
	h.waitFor("a stable group of two", func() bool {
		return len(a.tracker.ownedPartitions()) == 3 && len(b.tracker.ownedPartitions()) == 3 &&
			len(h.handledBy("a", time.Now().Add(-time.Second))) == 3 && len(h.handledBy("b", time.Now().Add(-time.Second))) == 3
	})
	ownedA, ownedB := a.tracker.ownedPartitions(), b.tracker.ownedPartitions()
	revA, revB, asA, asB, genA := counter(a.m.revokedParts), counter(b.m.revokedParts), counter(a.m.assignedParts), counter(b.m.assignedParts), counter(a.m.rebalances)

	fault := time.Now()
	faults.failing.Store(true)
	time.Sleep(2 * time.Second)
	faults.joinFault.Store(true)
	faults.rebalance.Store(true)
	faults.failing.Store(false)
	h.waitFor("a joining again", func() bool { return counter(a.m.rebalances) > genA })
	time.Sleep(time.Second) // a rebalance a's rejoin started would reach b's heartbeat meanwhile
	end := time.Now()

	if got := a.tracker.ownedPartitions(); !slices.Equal(got, ownedA) {
		t.Errorf("a owns %v after the rejoin, %v before", got, ownedA)
	}
	if got := b.tracker.ownedPartitions(); !slices.Equal(got, ownedB) {
		t.Errorf("b owns %v after a's rejoin, %v before", got, ownedB)
	}
	if counter(a.m.revokedParts) != revA || counter(b.m.revokedParts) != revB ||
		counter(a.m.assignedParts) != asA || counter(b.m.assignedParts) != asB || counter(a.m.lostParts)+counter(b.m.lostParts) != 0 {
		t.Errorf("the rejoin moved partitions: revoked a %d→%d b %d→%d, assigned a %d→%d b %d→%d, lost %d",
			revA, counter(a.m.revokedParts), revB, counter(b.m.revokedParts), asA, counter(a.m.assignedParts), asB, counter(b.m.assignedParts),
			counter(a.m.lostParts)+counter(b.m.lostParts))
	}
	all := []int{0, 1, 2, 3, 4, 5}
	if d := h.duplicates(all); d != 0 {
		t.Errorf("%d messages handled twice", d)
	}
	t.Logf("coordinator errors for 2 s, then a rejoin: longest pause on any partition %v", h.maxGap(all, fault, end).Round(time.Millisecond))
}

// TestCooperativeCommitFencingApacheKafka: once a partition is revoked, its
// old owner's commits of it are dropped, so they cannot move the new
// owner's offset; the new owner's commits go through.
func TestCooperativeCommitFencingApacheKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	tp := newE2ETopics(t, brokers, t.Name())
	member := func(instance string) *staticReader { return startTestMember(t, brokers, tp, instance) }
	lr := newLagReporter(brokers, tp.group, tp.in, "")
	defer lr.close()
	committed := func(p int) int64 {
		c, err := lr.committed(ctx, []int{p})
		if err != nil {
			t.Fatal(err)
		}
		return c[p]
	}
	commit := func(r *staticReader, p int, offset int64) {
		if err := r.CommitMessages(ctx, kafka.Message{Topic: tp.in, Partition: p, Offset: offset}); err != nil {
			t.Fatalf("commit %d@%d: %v", p, offset, err)
		}
	}
	a := member("a")
	waitForCtx(t, ctx, "a owning every partition", func() bool { return len(a.ownedParts()) == e2ePartitions })
	for p := range e2ePartitions {
		commit(a, p, 9) // the group's offset becomes 10
	}
	b := member("b")
	waitForCtx(t, ctx, "b owning 3 partitions", func() bool { return len(b.ownedParts()) == 3 && len(a.ownedParts()) == 3 })
	moved := b.ownedParts()[0]
	commit(a, moved, 99) // a's stale commit: dropped
	if got := committed(moved); got != 10 {
		t.Errorf("partition %d committed at %d after its old owner's commit, want 10", moved, got)
	}
	commit(b, moved, 19)
	if got := committed(moved); got != 20 {
		t.Errorf("partition %d committed at %d after its new owner's commit, want 20", moved, got)
	}
	if a.revokedCount() != 3 || b.revokedCount() != 0 {
		t.Errorf("revoked: a %d b %d, want 3 0", a.revokedCount(), b.revokedCount())
	}
}

// BenchmarkJoinPause measures how long partitions stop being scored when a
// second member joins one that holds every partition, under a steady
// stream (one listing per partition every 20 ms), with markwatch's
// cooperative membership and with kafka-go's ConsumerGroup, both at the
// detector's defaults (heartbeat 1 s, commit interval 500 ms, session
// 10 s). Over a window from the join until the newcomer has scored on its
// partitions for a second (at least 4 s): kept-pause-ms is the longest
// time without a scored listing on the partitions the first member keeps,
// moved-pause-ms on those that move, before-join-gap-ms the same over a
// window as long just before the join (what the stream and the machine
// give without a rebalance); kept-dups and moved-dups count listings
// scored twice. Run with -benchtime 1x; the broker of scripts/kafka.sh
// and the machine are shared, so figures are upper bounds.
func BenchmarkJoinPause(b *testing.B) {
	brokers := testenv.KafkaBrokers(b)
	defaults := func(o *Options) { o.HeartbeatInterval, o.CommitInterval, o.SessionTimeout, o.MaxWait = 0, 0, 0, 0 }
	for _, mode := range []struct{ name, instance string }{{"cooperative", "x"}, {"kafka-go", ""}} {
		b.Run(mode.name, func(b *testing.B) {
			var kept, moved, baseline time.Duration
			var dupKept, dupMoved int
			for i := 0; b.Loop(); i++ {
				h := newGroupHarness(b, brokers, fmt.Sprintf("bench-%s-%d", mode.name, i))
				h.produceSteadily(20 * time.Millisecond)
				instance := func(n string) string {
					if mode.instance == "" {
						return ""
					}
					return h.tp.group + "-" + n
				}
				first := h.member("a", instance("a"), defaults)
				h.run(first)
				h.waitFor("a handling all partitions", func() bool { return len(h.handledBy("a", time.Now().Add(-time.Second))) == e2ePartitions })
				time.Sleep(5 * time.Second)
				joined := time.Now()
				h.run(h.member("b", instance("b"), defaults))
				h.waitFor("b handling 3 partitions", func() bool { return len(h.handledBy("b", time.Now().Add(-500*time.Millisecond))) == 3 })
				time.Sleep(time.Second)
				if wait := time.Until(joined.Add(4 * time.Second)); wait > 0 {
					time.Sleep(wait)
				}
				end := time.Now()
				keptParts := h.handledBy("a", end.Add(-time.Second))
				var movedParts []int
				for p := range e2ePartitions {
					if !slices.Contains(keptParts, p) {
						movedParts = append(movedParts, p)
					}
				}
				kept += h.maxGap(keptParts, joined, end)
				moved += h.maxGap(movedParts, joined, end)
				baseline += h.maxGap([]int{0, 1, 2, 3, 4, 5}, joined.Add(-end.Sub(joined)), joined)
				dupKept += h.duplicates(keptParts)
				dupMoved += h.duplicates(movedParts)
			}
			n := float64(b.N)
			b.ReportMetric(float64(kept.Milliseconds())/n, "kept-pause-ms")
			b.ReportMetric(float64(moved.Milliseconds())/n, "moved-pause-ms")
			b.ReportMetric(float64(baseline.Milliseconds())/n, "before-join-gap-ms")
			b.ReportMetric(float64(dupKept)/n, "kept-dups")
			b.ReportMetric(float64(dupMoved)/n, "moved-dups")
		})
	}
}

// TestMixedGroupApacheKafka: during a rolling upgrade a detector on
// kafka-go's ConsumerGroup (range, eager) and one on markwatch's member
// share the group: the coordinator picks range, both consume, and every
// listing is handled.
func TestMixedGroupApacheKafka(t *testing.T) {
	h := newGroupHarness(t, testenv.KafkaBrokers(t), t.Name())
	stopProducing := h.produceSteadily(20 * time.Millisecond)
	old := h.member("old", "", nil)
	stopOld := h.run(old)
	h.waitFor("the old member handling all partitions", func() bool { return len(h.handledBy("old", time.Time{})) == e2ePartitions })
	ours := h.member("new", h.tp.group+"-new", nil)
	stopOurs := h.run(ours)
	h.waitFor("both members handling partitions", func() bool {
		since := time.Now().Add(-500 * time.Millisecond)
		return len(h.handledBy("new", since)) > 0 && len(h.handledBy("old", since)) > 0
	})
	// Range splits 3 and 3: ours alone with 6 would mean the old member
	// fell out of the group (kafka-go refuses metadata it cannot read).
	h.waitFor("ours holding half the partitions beside the old member", func() bool { return len(ours.tracker.ownedPartitions()) == 3 })
	stopProducing()
	stopOld() // kafka-go leaves the group: ours takes every partition
	h.waitFor("ours holding every partition", func() bool { return len(ours.tracker.ownedPartitions()) == e2ePartitions })
	waitLag(t, h.ctx, ours, 0)
	stopOurs()
	produced := h.inTopic(ours)
	if got := h.distinct(); got != produced {
		t.Errorf("%d distinct listings handled, %d produced", got, produced)
	}
	t.Logf("mixed group: %d listings, %d duplicates; ours revoked %d, assigned %d", produced, h.duplicates([]int{0, 1, 2, 3, 4, 5}),
		counter(ours.m.revokedParts), counter(ours.m.assignedParts))
}
