package marks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// watchDeadline is the design's bound on how soon a mark published
// mid-stream is watched.
const watchDeadline = 5 * time.Second

// readyTimeout bounds the wait for catch-up in tests; a loaded 2-core machine
// needs well under a second for the sizes here.
const readyTimeout = 30 * time.Second

// TestFollowerApacheKafka runs the suite against the broker of
// scripts/kafka.sh; it skips when none is configured unless
// MARKWATCH_REQUIRE_INTEGRATION is set.
func TestFollowerApacheKafka(t *testing.T) {
	runFollowerSuite(t, testenv.KafkaBrokers(t))
}

// TestFollowerEmbedded runs the same suite against the in-process kfake
// broker of `markwatch dev`.
func TestFollowerEmbedded(t *testing.T) {
	runFollowerSuite(t, kafkatest.StartEmbedded(t))
}

func runFollowerSuite(t *testing.T, brokers []string) {
	t.Run("CatchUpAndFollow", func(t *testing.T) { testCatchUpAndFollow(t, brokers) })
	t.Run("BuildError", func(t *testing.T) { testBuildError(t, brokers) })
	t.Run("TopicCreatedLater", func(t *testing.T) { testTopicCreatedLater(t, brokers) })
	t.Run("PartitionAdded", func(t *testing.T) { testPartitionAdded(t, brokers) })
}

// testEngine is the trivial engine of these tests: the names of the marks it
// was built from, by mark_id.
type testEngine struct {
	seq   int
	names map[string]string
}

func (e *testEngine) has(id string) bool { _, ok := e.names[id]; return ok }

// engineLog builds testEngines and records which were closed, and how often.
type engineLog struct {
	mu     sync.Mutex
	built  []*testEngine
	closed map[*testEngine]int
	// fail, when set, makes Build fail for the set it is given.
	fail func(marks []*domain.Mark) error
}

func (l *engineLog) build(_ context.Context, marks []*domain.Mark) (*testEngine, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		if err := l.fail(marks); err != nil {
			return nil, err
		}
	}
	e := &testEngine{seq: len(l.built), names: make(map[string]string, len(marks))}
	for _, m := range marks {
		e.names[m.MarkID] = m.Name
	}
	l.built = append(l.built, e)
	return e, nil
}

func (l *engineLog) close(e *testEngine) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed == nil {
		l.closed = map[*testEngine]int{}
	}
	l.closed[e]++
}

func (l *engineLog) closes(e *testEngine) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed[e]
}

// checkAllClosedOnce fails unless every engine built was closed exactly once.
func (l *engineLog) checkAllClosedOnce(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.built {
		if n := l.closed[e]; n != 1 {
			t.Errorf("engine %d closed %d times, want 1", e.seq, n)
		}
	}
}

// harness is a running Follower of testEngines with its registry.
type harness struct {
	f    *Follower[*testEngine]
	reg  *prometheus.Registry
	log  *engineLog
	done chan error
	stop func() time.Duration // cancels Run and waits for it; returns how long it took
}

// startFollower starts Run on topic and stops it when the test ends; edit,
// if not nil, adjusts the options and the engine log before Run starts.
func startFollower(t *testing.T, brokers []string, topic string, edit func(*Options[*testEngine], *engineLog)) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), log: &engineLog{}, done: make(chan error, 1)}
	o := Options[*testEngine]{
		Brokers:    brokers,
		Topic:      topic,
		Build:      h.log.build,
		Close:      h.log.close,
		Registerer: h.reg,
		Logger:     testLogger(t),
	}
	if edit != nil {
		edit(&o, h.log)
	}
	f, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.f = f
	ctx, cancel := context.WithCancel(context.Background())
	go func() { h.done <- f.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	h.stop = func() time.Duration {
		once.Do(func() {
			t0 := time.Now()
			cancel()
			select {
			case err := <-h.done:
				took = time.Since(t0)
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10 s of cancel")
			}
			f.Close()
		})
		return took
	}
	t.Cleanup(func() { h.stop() })
	return h
}

// engine returns a snapshot of the current engine, or nil.
func (h *harness) engine() *testEngine {
	e, release, ok := h.f.Acquire()
	defer release()
	if !ok {
		return nil
	}
	return e
}

// waitFor polls cond every 10 ms until it holds or timeout passes, and
// returns how long it took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	t0 := time.Now()
	for !cond() {
		if time.Since(t0) > timeout {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(t0)
}

// metric returns the value of the counter or gauge name with the given
// label values (name=value pairs) in reg, or 0 when it is not there.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelValue(m, labels[i]) != labels[i+1] {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// producer writes to one topic the way the registry should: acks from all
// in-sync replicas, keys hashed to partitions, a short batch timeout.
type producer struct {
	t         testing.TB
	w         *kafka.Writer
	transport *kafka.Transport
}

func newProducer(t testing.TB, brokers []string, topic string, balancer kafka.Balancer) *producer {
	t.Helper()
	if balancer == nil {
		balancer = &kafka.Hash{}
	}
	tr := &kafka.Transport{}
	p := &producer{t: t, transport: tr, w: &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     balancer,
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		Transport:    tr,
	}}
	t.Cleanup(p.close)
	return p
}

func (p *producer) put(recs ...record) {
	p.t.Helper()
	msgs := make([]kafka.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafka.Message{Key: r.key, Value: r.value}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.w.WriteMessages(ctx, msgs...); err != nil {
		p.t.Fatalf("write %d records: %v", len(msgs), err)
	}
}

func (p *producer) close() {
	if err := p.w.Close(); err != nil {
		p.t.Errorf("close writer: %v", err)
	}
	p.transport.CloseIdleConnections()
}

// createMarksTopic creates a compacted topic with the given partitions.
func createMarksTopic(t *testing.T, brokers []string, topic string, partitions int) {
	t.Helper()
	kafkatest.CreateTopic(t, brokers, topicConfig(topic, partitions))
}

// topicConfig is a compacted topic, like the marks topic.
func topicConfig(topic string, partitions int) kafka.TopicConfig {
	return kafka.TopicConfig{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}},
	}
}

func activeRecord(t *testing.T, id, name string) record {
	return record{[]byte(id), markValue(t, id, name, domain.MarkActive)}
}

func testCatchUpAndFollow(t *testing.T, brokers []string) {
	topic := kafkatest.TopicName("marks")
	createMarksTopic(t, brokers, topic, 3)
	p := newProducer(t, brokers, topic, nil)

	// 50 active marks, plus history the follower must fold away: a mark
	// added then tombstoned, one suspended, and an older version of m-000.
	var recs []record
	recs = append(recs, activeRecord(t, "m-000", "old name"))
	for i := range 50 {
		recs = append(recs, activeRecord(t, fmt.Sprintf("m-%03d", i), fmt.Sprintf("Mark %d", i)))
	}
	recs = append(recs, activeRecord(t, "m-gone", "Gone"), record{[]byte("m-gone"), nil},
		record{[]byte("m-susp"), markValue(t, "m-susp", "Susp", domain.MarkSuspended)})
	p.put(recs...)

	h := startFollower(t, brokers, topic, nil)
	took := waitFor(t, readyTimeout, "ready", h.f.Ready)
	t.Logf("ready with %d marks after %s", h.f.Marks(), took.Round(time.Millisecond))
	e0, release0, ok := h.f.Acquire()
	if !ok {
		t.Fatal("ready but no engine")
	}
	if h.f.Marks() != 50 || len(e0.names) != 50 {
		t.Fatalf("Marks() = %d, engine has %d marks; want 50", h.f.Marks(), len(e0.names))
	}
	if e0.names["m-000"] != "Mark 0" || e0.has("m-gone") || e0.has("m-susp") {
		t.Errorf("engine does not hold the latest versions: m-000 %q, m-gone %v, m-susp %v",
			e0.names["m-000"], e0.has("m-gone"), e0.has("m-susp"))
	}
	if got := metric(t, h.reg, "markwatch_marks_indexed"); got != 50 {
		t.Errorf("markwatch_marks_indexed = %g, want 50", got)
	}
	if got := metric(t, h.reg, "markwatch_marks_ready"); got != 1 {
		t.Errorf("markwatch_marks_ready = %g, want 1", got)
	}
	if got := metric(t, h.reg, "markwatch_marks_updates_total", "kind", "upsert"); got != 52 {
		t.Errorf("upserts = %g, want 52", got)
	}
	if got := metric(t, h.reg, "markwatch_marks_updates_total", "kind", "remove"); got != 2 {
		t.Errorf("removes = %g, want 2", got)
	}
	if got := metric(t, h.reg, "markwatch_marks_rebuild_seconds"); got != 1 {
		t.Errorf("rebuilds = %g, want 1 (one build at catch-up)", got)
	}

	// A mark published mid-stream is watched within 5 s, while e0 is held.
	p.put(activeRecord(t, "m-new", "New"))
	took = waitFor(t, watchDeadline, "new mark watched", func() bool { e := h.engine(); return e != nil && e.has("m-new") })
	t.Logf("new mark watched %s after its write was acknowledged", took.Round(time.Millisecond))
	if h.f.Marks() != 51 {
		t.Errorf("Marks() = %d, want 51", h.f.Marks())
	}
	if n := h.log.closes(e0); n != 0 {
		t.Fatalf("swapped-out engine closed %d times while still held", n)
	}
	if e0.has("m-new") {
		t.Error("the held engine changed under its user")
	}
	release0()
	if n := h.log.closes(e0); n != 1 {
		t.Fatalf("swapped-out engine closed %d times after its release, want 1", n)
	}

	// A tombstone and a suspension stop watching.
	p.put(record{[]byte("m-001"), nil})
	waitFor(t, watchDeadline, "tombstoned mark dropped", func() bool { return !h.engine().has("m-001") })
	p.put(record{[]byte("m-002"), markValue(t, "m-002", "Mark 2", domain.MarkSuspended)})
	waitFor(t, watchDeadline, "suspended mark dropped", func() bool { return !h.engine().has("m-002") })
	if h.f.Marks() != 49 {
		t.Errorf("Marks() = %d, want 49", h.f.Marks())
	}

	// Invalid records are counted and keep the last good version: bad JSON,
	// and a key that is not the mark_id. A valid change published after
	// them shows they have been read.
	p.put(record{[]byte("m-003"), []byte(`{"schema_version":1,"mark_id":"m-003",`)},
		record{[]byte("m-004"), markValue(t, "m-005", "Hijack", domain.MarkSuspended)})
	p.put(activeRecord(t, "m-006", "Mark 6 renamed"))
	waitFor(t, watchDeadline, "invalid records counted", func() bool {
		return metric(t, h.reg, "markwatch_marks_invalid_total", "reason", "decode") == 1 &&
			metric(t, h.reg, "markwatch_marks_invalid_total", "reason", "key") == 1
	})
	waitFor(t, watchDeadline, "rename watched", func() bool { return h.engine().names["m-006"] == "Mark 6 renamed" })
	e := h.engine()
	for _, id := range []string{"m-003", "m-004", "m-005"} {
		if want := "Mark " + id[len("m-00"):]; e.names[id] != want {
			t.Errorf("%s: name %q, want the last good %q", id, e.names[id], want)
		}
	}
	if got := metric(t, h.reg, "markwatch_marks_updates_total", "kind", "invalid"); got != 2 {
		t.Errorf("invalid updates = %g, want 2", got)
	}
	if got := metric(t, h.reg, "markwatch_marks_indexed"); got != 49 {
		t.Errorf("markwatch_marks_indexed = %g, want 49", got)
	}

	// Cancellation returns promptly; the engine stays usable until Close.
	stopped := h.stop()
	t.Logf("Run returned %s after cancel", stopped.Round(time.Millisecond))
	if h.f.Ready() || metric(t, h.reg, "markwatch_marks_ready") != 0 {
		t.Error("still ready after Run returned")
	}
	h.log.checkAllClosedOnce(t)
}

func testBuildError(t *testing.T, brokers []string) {
	topic := kafkatest.TopicName("marks-builderr")
	createMarksTopic(t, brokers, topic, 2)
	p := newProducer(t, brokers, topic, nil)
	for i := range 5 {
		p.put(activeRecord(t, fmt.Sprintf("m-%d", i), "M"))
	}

	// The first build fails, as does any build of a set holding m-fail.
	calls := 0
	fail := func(marks []*domain.Mark) error {
		calls++
		if calls == 1 {
			return errors.New("first build fails")
		}
		if slices.ContainsFunc(marks, func(m *domain.Mark) bool { return m.MarkID == "m-fail" }) {
			return errors.New("m-fail cannot be built")
		}
		return nil
	}
	h := startFollower(t, brokers, topic, func(o *Options[*testEngine], l *engineLog) {
		o.Debounce = 50 * time.Millisecond
		l.fail = fail
	})
	waitFor(t, readyTimeout, "ready after a failed first build", h.f.Ready)
	if got := metric(t, h.reg, "markwatch_marks_build_errors_total"); got != 1 {
		t.Errorf("build errors = %g, want 1", got)
	}
	e0 := h.engine()
	if len(e0.names) != 5 {
		t.Fatalf("engine has %d marks, want 5", len(e0.names))
	}

	// A failing build keeps the previous engine, and retries.
	p.put(activeRecord(t, "m-fail", "Fail"))
	waitFor(t, watchDeadline, "failed build counted", func() bool {
		return metric(t, h.reg, "markwatch_marks_build_errors_total") >= 2
	})
	if h.engine() != e0 || h.f.Marks() != 5 {
		t.Errorf("engine replaced after a failed build (marks %d)", h.f.Marks())
	}
	if !h.f.Ready() {
		t.Error("not ready after a failed rebuild; the previous engine still serves")
	}
	p.put(activeRecord(t, "m-extra", "Extra"), record{[]byte("m-fail"), nil})
	waitFor(t, watchDeadline, "build after the bad mark is gone", func() bool {
		e := h.engine()
		return e.has("m-extra") && !e.has("m-fail")
	})
	if h.f.Marks() != 6 {
		t.Errorf("Marks() = %d, want 6", h.f.Marks())
	}
	h.stop()
	h.log.checkAllClosedOnce(t)
}

// testTopicCreatedLater starts the follower before its topic exists: it
// must retry, stay unready, and catch up once the topic is there.
func testTopicCreatedLater(t *testing.T, brokers []string) {
	topic := kafkatest.TopicName("marks-later")
	h := startFollower(t, brokers, topic, nil)
	waitFor(t, readyTimeout, "lookup errors counted", func() bool {
		return metric(t, h.reg, "markwatch_marks_fetch_errors_total") >= 1
	})
	if h.f.Ready() {
		t.Fatal("ready without a topic")
	}
	createMarksTopic(t, brokers, topic, 2)
	p := newProducer(t, brokers, topic, nil)
	p.put(activeRecord(t, "m-a", "A"), activeRecord(t, "m-b", "B"), activeRecord(t, "m-c", "C"))
	waitFor(t, readyTimeout, "ready with 3 marks", func() bool { return h.f.Ready() && h.f.Marks() == 3 })
	h.stop()
	h.log.checkAllClosedOnce(t)
}

// testPartitionAdded grows the topic after catch-up and publishes a mark to
// the new partition: it must be watched without a restart.
func testPartitionAdded(t *testing.T, brokers []string) {
	topic := kafkatest.TopicName("marks-grow")
	createMarksTopic(t, brokers, topic, 1)
	newProducer(t, brokers, topic, nil).put(activeRecord(t, "m-a", "A"))
	h := startFollower(t, brokers, topic, func(o *Options[*testEngine], _ *engineLog) {
		o.PartitionCheckInterval = 100 * time.Millisecond
	})
	waitFor(t, readyTimeout, "ready", h.f.Ready)

	// A short TTL: the Transport answers Metadata from its cache.
	tr := &kafka.Transport{MetadataTTL: 100 * time.Millisecond}
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{
		Topics: []kafka.TopicPartitionsConfig{{Name: topic, Count: 3}},
	})
	if err == nil {
		err = errors.Join(resp.Errors[topic])
	}
	if err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	waitFor(t, readyTimeout, "3 partitions in the metadata", func() bool {
		md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
		return err == nil && len(md.Topics) == 1 && len(md.Topics[0].Partitions) == 3
	})
	last := kafka.BalancerFunc(func(_ kafka.Message, partitions ...int) int { return slices.Max(partitions) })
	newProducer(t, brokers, topic, last).put(activeRecord(t, "m-b", "B"))
	ends, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(2)}}})
	if err != nil || len(ends.Topics[topic]) != 1 || ends.Topics[topic][0].LastOffset != 1 {
		t.Fatalf("the mark did not land on partition 2: %+v, %v", ends, err)
	}
	waitFor(t, watchDeadline+time.Second, "mark on the new partition watched", func() bool { return h.engine().has("m-b") })
	h.stop()
	h.log.checkAllClosedOnce(t)
}
