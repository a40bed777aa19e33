package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/heartbeat"
)

func TestRangeAssign(t *testing.T) {
	members := []groupMember{{ID: "m-b", InstanceID: "d2"}, {ID: "m-a", InstanceID: "d1"}, {ID: "m-c", InstanceID: "d3"}}
	tests := []struct {
		name    string
		members []groupMember
		parts   []int
		want    map[string][]int
	}{
		{"even", members[:2], []int{0, 1, 2, 3, 4, 5}, map[string][]int{"m-a": {0, 1, 2}, "m-b": {3, 4, 5}}},
		{"uneven, by instance id", members, []int{0, 1, 2, 3}, map[string][]int{"m-a": {0, 1}, "m-b": {2}, "m-c": {3}}},
		{"more members than partitions", members, []int{0}, map[string][]int{"m-a": {0}, "m-b": {}, "m-c": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rangeAssign(tt.members, tt.parts)
			for m, want := range tt.want {
				if !slices.Equal(got[m], want) {
					t.Errorf("%s: %v, want %v", m, got[m], want)
				}
			}
		})
	}
}

// startTestMember starts a group member of tp's group with no listener,
// closed when the test ends.
func startTestMember(t testing.TB, brokers []string, tp e2eTopics, instance string) *staticReader {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	r := newStaticReader(Options{
		Brokers: brokers, GroupID: tp.group, Topic: tp.in, GroupInstanceID: instance, MaxWait: 100 * time.Millisecond,
		SessionTimeout: 10 * time.Second, HeartbeatInterval: 200 * time.Millisecond, DrainTimeout: time.Second,
	}, memberClientID(tp.group), log, nil)
	r.start()
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestStaticMembershipApacheKafka checks static membership on the broker of
// scripts/kafka.sh: two members share the partitions; one is closed and
// started again under its instance id within the session timeout and gets
// the same partitions back in the same generation, and the other member
// sees no rebalance. (kfake does not implement static membership.)
func TestStaticMembershipApacheKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	tp := newE2ETopics(t, brokers, t.Name())
	member := func(instance string) *staticReader { return startTestMember(t, brokers, tp, instance) }
	a := member("d1")
	b := member("d2")
	held := func(r *staticReader) []int { _, _, h := r.current(); return h }
	waitForCtx(t, ctx, "both members holding 3 partitions", func() bool {
		return len(held(a)) == 3 && len(held(b)) == 3
	})
	// Let the group settle: b may have joined a generation a has not.
	waitForCtx(t, ctx, "one generation for both", func() bool {
		ga, _, _ := a.current()
		gb, _, _ := b.current()
		return ga == gb
	})
	genBefore, _, _ := b.current()
	aHeld, bJoins, bRevoked := held(a), b.joins(), b.revokedCount()

	// a restarts within the session timeout, without leaving.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	restart := time.Now()
	a2 := member("d1")
	waitForCtx(t, ctx, "the restarted member holding partitions", func() bool { return len(held(a2)) > 0 })
	t.Logf("restarted member got its partitions back %v after starting", time.Since(restart).Round(time.Millisecond))
	if got := held(a2); !slices.Equal(got, aHeld) {
		t.Errorf("restarted member holds %v, held %v before", got, aHeld)
	}
	// b keeps heartbeating for a while: a rebalance would end its generation.
	time.Sleep(time.Second)
	if gen, _, _ := b.current(); gen != genBefore || b.joins() != bJoins {
		t.Errorf("the other member went from generation %d (%d joins) to %d (%d joins): a rebalance", genBefore, bJoins, gen, b.joins())
	}
	if b.revokedCount() != bRevoked || a2.revokedCount() != 0 {
		t.Errorf("partitions revoked by a restart within the session timeout: %d by the other member, %d by the restarted one",
			b.revokedCount()-bRevoked, a2.revokedCount())
	}
}

// TestStaticConsumerApacheKafka runs a Consumer with a GroupInstanceID end
// to end: every listing handled once, committed to the end.
func TestStaticConsumerApacheKafka(t *testing.T) {
	testStaticConsumer(t, testenv.KafkaBrokers(t))
}

// TestStaticConsumerEmbedded runs it on the embedded kfake broker of
// markwatch dev, where the detector uses this membership by default.
func TestStaticConsumerEmbedded(t *testing.T) {
	testStaticConsumer(t, kafkatest.StartEmbedded(t))
}

func testStaticConsumer(t *testing.T, brokers []string) {
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	tp := newE2ETopics(t, brokers, t.Name())
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	w := NewWriter(brokers, WriterOptions{Transport: transport})
	defer func() {
		if err := CloseWriter(w); err != nil {
			t.Errorf("close writer: %v", err)
		}
	}()
	const n = 500
	produce(t, ctx, w, tp.in, 0, n)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := NewConsumer(Options{
		Brokers: brokers, GroupID: tp.group, Topic: tp.in, DLQTopic: tp.dlq, Writer: w, Logger: log,
		GroupInstanceID: fmt.Sprintf("%s-0", tp.group), CommitInterval: 50 * time.Millisecond, LagInterval: 100 * time.Millisecond,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: 200 * time.Millisecond, Registerer: prometheus.NewRegistry(),
	}, e2eHandler(tp.out, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.lag.close)
	stop := runInBackground(t, c)
	waitLag(t, ctx, c, 0)
	waitForCtx(t, ctx, "the lag gauge exporting all partitions", func() bool {
		return slices.Equal(c.m.lag.heldPartitions(), []int{0, 1, 2, 3, 4, 5})
	})
	stop()
	outs := readAll(t, ctx, brokers, tp.out, 3)
	dlq := readAll(t, ctx, brokers, tp.dlq, 1)
	checkEmitted(t, tp, outs, dlq, 0, n)
	checkCommittedAtEnd(t, ctx, c)
}

// TestHeartbeatError reads the error code back from where kafka-go v0.4.51
// decodes it (the throttle field), and takes kafka-go's own error if a
// fixed version sets it.
func TestHeartbeatError(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name string
		resp kafka.HeartbeatResponse
		want error
	}{
		{"ok", kafka.HeartbeatResponse{}, nil},
		{"rebalance in the throttle field", kafka.HeartbeatResponse{Throttle: ms(int(kafka.RebalanceInProgress))}, kafka.RebalanceInProgress},
		{"unknown member in the throttle field", kafka.HeartbeatResponse{Throttle: ms(int(kafka.UnknownMemberId))}, kafka.UnknownMemberId},
		{"fenced in the throttle field", kafka.HeartbeatResponse{Throttle: ms(int(kafka.FencedInstanceID))}, kafka.FencedInstanceID},
		{"a real throttle is no error", kafka.HeartbeatResponse{Throttle: ms(100)}, nil},
		{"error decoded by kafka-go", kafka.HeartbeatResponse{Error: kafka.IllegalGeneration}, kafka.IllegalGeneration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := heartbeatError(&tt.resp); got != tt.want {
				t.Errorf("heartbeatError = %v, want %v", got, tt.want)
			}
		})
	}
}

// heartbeatAddrs records where a member's heartbeats are sent.
type heartbeatAddrs struct {
	kafka.RoundTripper
	mu    sync.Mutex
	addrs []string
}

func (h *heartbeatAddrs) RoundTrip(ctx context.Context, addr net.Addr, req protocol.Message) (protocol.Message, error) {
	if _, ok := req.(*heartbeat.Request); ok {
		h.mu.Lock()
		h.addrs = append(h.addrs, addr.String())
		h.mu.Unlock()
	}
	return h.RoundTripper.RoundTrip(ctx, addr, req)
}

func (h *heartbeatAddrs) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.addrs)
}

// TestHeartbeatToCoordinatorApacheKafka: a member bootstrapped through
// another name of the broker (localhost) sends its heartbeats to the
// coordinator's advertised address from FindCoordinator, the only address
// that answers them on a cluster, and they are answered (no rebalance
// while idle, with no offset commits to keep it in the group).
func TestHeartbeatToCoordinatorApacheKafka(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	host, port, err := net.SplitHostPort(brokers[0])
	if err != nil || host != "127.0.0.1" {
		t.Skipf("needs a broker advertised on 127.0.0.1, have %v", brokers)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	tp := newE2ETopics(t, brokers, t.Name())
	rec := &heartbeatAddrs{}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	r := newStaticReader(Options{
		Brokers: []string{net.JoinHostPort("localhost", port)}, GroupID: tp.group, Topic: tp.in, GroupInstanceID: "hb",
		MaxWait: 100 * time.Millisecond, SessionTimeout: 6 * time.Second, HeartbeatInterval: 200 * time.Millisecond, DrainTimeout: time.Second,
		wrapTransport: func(t *kafka.Transport) kafka.RoundTripper { rec.RoundTripper = t; return rec },
	}, memberClientID(tp.group), log, nil)
	r.start()
	t.Cleanup(func() { _ = r.Close() })
	waitForCtx(t, ctx, "the member owning every partition", func() bool { return len(r.ownedParts()) == e2ePartitions })
	gen, _, _ := r.current()
	time.Sleep(8 * time.Second) // longer than the session timeout, no commits
	if g, _, _ := r.current(); g != gen {
		t.Errorf("generation %d after an idle session timeout, was %d: heartbeats did not keep the member", g, gen)
	}
	addrs := rec.seen()
	if len(addrs) < 10 {
		t.Fatalf("%d heartbeats in 8 s", len(addrs))
	}
	for _, a := range addrs {
		if a != brokers[0] {
			t.Fatalf("a heartbeat went to %s, want the coordinator %s", a, brokers[0])
		}
	}
}
