package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// TestMain checks that every Run stops its readers and every test closes
// its writers and brokers. bleve starts a package-wide analysis queue the
// first time an index is built (the text matcher's fuzzy index): it lives
// as long as the process, by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

// waitTimeout bounds every wait on a pass; a loaded 2-core machine needs a
// few seconds for the sizes here.
const waitTimeout = 60 * time.Second

// TestSweepApacheKafka runs the suite against the broker of
// scripts/kafka.sh, with topics of its own; it skips when none is
// configured unless MARKWATCH_REQUIRE_INTEGRATION is set.
func TestSweepApacheKafka(t *testing.T) {
	runSweepSuite(t, testenv.KafkaBrokers(t))
}

// TestSweepEmbedded runs the same suite against the in-process kfake
// broker of `markwatch dev`.
func TestSweepEmbedded(t *testing.T) {
	runSweepSuite(t, kafkatest.StartEmbedded(t))
}

func runSweepSuite(t *testing.T, brokers []string) {
	t.Run("FindsWhatIsOnSale", func(t *testing.T) { testFindsWhatIsOnSale(t, brokers) })
	t.Run("ResumesWhereItLeftOff", func(t *testing.T) { testResumes(t, brokers) })
	t.Run("SeveralMarksOnePass", func(t *testing.T) { testSeveralMarksOnePass(t, brokers) })
	t.Run("FirstStartRecordsWithoutSweeping", func(t *testing.T) { testFirstStart(t, brokers) })
	t.Run("RestartMidPass", func(t *testing.T) { testRestartMidPass(t, brokers) })
	t.Run("OneLeaderInAGroup", func(t *testing.T) { testOneLeader(t, brokers) })
}

// harness is one set of topics, a writer and the sweepers run over them.
type harness struct {
	t                            *testing.T
	brokers                      []string
	listings, complaints, sweeps string
	writer                       *kafka.Writer
	group                        string // the next sweeper's GroupID
}

func newHarness(t *testing.T, brokers []string) *harness {
	h := &harness{
		t: t, brokers: brokers,
		listings:   kafkatest.TopicName("sweep-listings"),
		complaints: kafkatest.TopicName("sweep-complaints"),
		sweeps:     kafkatest.TopicName("sweep-sweeps"),
	}
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: h.listings, NumPartitions: 3})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: h.complaints, NumPartitions: 1})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: h.sweeps, NumPartitions: 1,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}})
	h.writer = pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	t.Cleanup(func() { _ = pipeline.CloseWriter(h.writer) })
	return h
}

// produce writes listings, keyed by listing id, in the order given.
func (h *harness) produce(ls ...domain.Listing) {
	h.t.Helper()
	msgs := make([]kafka.Message, len(ls))
	for i, l := range ls {
		v, err := json.Marshal(l)
		if err != nil {
			h.t.Fatal(err)
		}
		msgs[i] = kafka.Message{Topic: h.listings, Key: []byte(l.ListingID), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One at a time, so that versions of one listing keep their order.
	for _, m := range msgs {
		if err := h.writer.WriteMessages(ctx, m); err != nil {
			h.t.Fatal(err)
		}
	}
}

// running is one sweeper running in the background.
type running struct {
	s    *Sweeper
	reg  *prometheus.Registry
	stop func()
}

// start runs a sweeper over the harness's topics until the test ends or
// stop is called.
func (h *harness) start(settle time.Duration) *running {
	return h.startWith(settle, true, -1)
}

// startGroup is start with the sweepers' group: several share the work.
func (h *harness) startGroup(group string) *running {
	h.group = group
	defer func() { h.group = "" }()
	return h.startWith(10*time.Millisecond, true, -1)
}

// startWith is start with the choice of sweeping on a first start, and a
// rate limit (negative: none).
func (h *harness) startWith(settle time.Duration, sweepFirst bool, rate float64) *running {
	reg := prometheus.NewRegistry()
	s, err := New(Options{
		Brokers: h.brokers, ListingsTopic: h.listings, ComplaintsTopic: h.complaints, SweepsTopic: h.sweeps,
		Build: func(_ context.Context, ms []*domain.Mark) (Engine, error) {
			return detection.BuildDomain(ms, detection.Options{})
		},
		Writer:             h.writer,
		Lookback:           -1,
		Rate:               rate,
		Settle:             settle,
		CheckpointInterval: 50 * time.Millisecond,
		SweepOnFirstStart:  sweepFirst,
		GroupID:            h.group,
		Registerer:         reg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			h.t.Errorf("Run: %v", err)
		}
	})
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	h.t.Cleanup(stop)
	return &running{s: s, reg: reg, stop: stop}
}

// passes is the number of completed passes.
func (r *running) passes() float64 {
	return testutil.ToFloat64(r.s.m.passes.WithLabelValues("completed"))
}

// waitPasses waits until n passes have completed.
func (r *running) waitPasses(t *testing.T, n float64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for r.passes() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%v passes completed after %s, want %v", r.passes(), waitTimeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// complaints reads every complaint of the topic.
func (h *harness) complaintsOnTopic() []*domain.Complaint {
	h.t.Helper()
	return readAll(h.t, h.brokers, h.complaints, func(m kafka.Message) *domain.Complaint {
		c, err := domain.DecodeComplaint(m.Value, domain.Limits{})
		if err != nil {
			h.t.Fatalf("complaint at offset %d: %v", m.Offset, err)
		}
		return c
	})
}

// readAll reads partition 0 of topic to its end offset.
func readAll[T any](t *testing.T, brokers []string, topic string, fn func(kafka.Message) T) []T {
	t.Helper()
	conn, err := kafka.DialLeader(context.Background(), "tcp", brokers[0], topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	end, err := conn.ReadLastOffset()
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	if end == 0 {
		return out
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("read %s: %v", topic, err)
		}
		out = append(out, fn(m))
		if m.Offset >= end-1 {
			return out
		}
	}
}

func listing(id string, version int64, title string) domain.Listing {
	return domain.Listing{SchemaVersion: 1, ListingID: id, Version: version, SellerID: "s-" + id, Category: "bags",
		Title: title, Price: &domain.Money{Amount: "79.00", Currency: "EUR"}}
}

func quillora() *domain.Mark {
	return &domain.Mark{SchemaVersion: 1, MarkID: "m-quillora", HolderID: "h-q", Name: "Quillora", Status: domain.MarkActive,
		Registration: domain.Registration{Office: "EUIPO", Number: "019999999"}, Categories: []string{"bags"},
		ReferencePrices: []domain.ReferencePrice{{Amount: "900.00", Currency: "EUR"}}}
}

func veltaro() *domain.Mark {
	return &domain.Mark{SchemaVersion: 1, MarkID: "m-veltaro", HolderID: "h-v", Name: "Veltaro", Status: domain.MarkActive,
		Registration: domain.Registration{Office: "EUIPO", Number: "018888888"}, Categories: []string{"bags"},
		ReferencePrices: []domain.ReferencePrice{{Amount: "1200.00", Currency: "EUR"}}}
}

// found lists "listing_id@version mark_id source" of complaints, sorted.
func found(cs []*domain.Complaint) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s@%d %s %s", c.ListingID, c.ListingVersion, c.MarkID, c.Source)
	}
	slices.Sort(out)
	return out
}

// testFindsWhatIsOnSale: listings published before the mark is active are
// scored against it; only the latest version of each listing counts; a
// repeated Observe or a restart sweeps nothing again; a changed mark is
// swept again and files nothing twice; a removed mark is forgotten.
func testFindsWhatIsOnSale(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	h.produce(
		listing("l-1", 1, "Qui11ora shoulder bag replica 1:1"), // superseded by version 2
		listing("l-2", 1, "Brown leather shoulder bag"),
		listing("l-3", 1, "Quillora tote replica 1:1 mirror quality"),
		listing("l-1", 2, "Brown canvas tote bag"),
		listing("l-4", 1, "Quillora wallet"),
		listing("l-4", 2, "Qui11ora wallet AAA replica"), // the latest of l-4
	)
	r := h.start(10 * time.Millisecond)
	r.s.Observe([]*domain.Mark{quillora()})
	r.waitPasses(t, 1)
	want := []string{"l-3@1 m-quillora sweep", "l-4@2 m-quillora sweep"}
	if got := found(h.complaintsOnTopic()); !slices.Equal(got, want) {
		t.Fatalf("complaints %q, want %q", got, want)
	}
	if n := testutil.ToFloat64(r.s.m.listings.WithLabelValues(outcomeSuperseded)); n != 2 {
		t.Errorf("%v superseded records, want 2 (l-1@1, l-4@1)", n)
	}
	if n := testutil.ToFloat64(r.s.m.complaints); n != 2 {
		t.Errorf("markwatch_sweep_complaints_total %v, want 2", n)
	}
	if lag := testutil.ToFloat64(r.s.m.lag); lag != 0 {
		t.Errorf("lag %v after the pass, want 0", lag)
	}

	// The same marks again: nothing to sweep.
	r.s.Observe([]*domain.Mark{quillora()})
	time.Sleep(300 * time.Millisecond)
	if r.passes() != 1 {
		t.Fatalf("%v passes after observing the same marks, want 1", r.passes())
	}
	r.stop()

	// A restart remembers what was swept.
	r = h.start(10 * time.Millisecond)
	r.s.Observe([]*domain.Mark{quillora()})
	time.Sleep(500 * time.Millisecond)
	if r.passes() != 0 {
		t.Fatalf("a restarted sweeper ran %v passes for a mark already swept", r.passes())
	}

	// A new variant sweeps again; the complaints it refiles have the same ids.
	before := h.complaintsOnTopic()
	m := quillora()
	m.Variants = []string{"奎洛拉"}
	h.produce(listing("l-5", 1, "奎洛拉 高仿 手提包"))
	r.s.Observe([]*domain.Mark{m})
	r.waitPasses(t, 1)
	after := h.complaintsOnTopic()
	ids := map[string]bool{}
	for _, c := range after {
		ids[c.ComplaintID] = true
	}
	if len(ids) != 3 {
		t.Errorf("%d distinct complaint ids after the second pass (%q), want 3: l-3, l-4 again under their ids, and l-5",
			len(ids), found(after))
	}
	for _, c := range before {
		if !ids[c.ComplaintID] {
			t.Errorf("complaint %s of the first pass has no twin", c.ComplaintID)
		}
	}

	// Removing the mark forgets it: its record on the sweeps topic is a tombstone.
	r.s.Observe(nil)
	r.s.Observe([]*domain.Mark{})
	deadline := time.Now().Add(waitTimeout)
	for {
		recs := readAll(t, brokers, h.sweeps, func(m kafka.Message) kafka.Message { return m })
		last := recs[len(recs)-1]
		if string(last.Key) == keyMarkPrefix+"m-quillora" && len(last.Value) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tombstone for the removed mark; last record %s=%s", last.Key, last.Value)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testResumes: a pass left half done by a previous run is resumed from its
// checkpoint, and the offsets before it are not read again.
func testResumes(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	var ls []domain.Listing
	for i := range 30 {
		ls = append(ls, listing(fmt.Sprintf("r-%02d", i), 1, "Quillora bag replica 1:1"))
	}
	h.produce(ls...)
	// The progress a run that stopped half-way would have left: every
	// partition swept up to half its range.
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second, Transport: &kafka.Transport{}}
	defer client.Transport.(*kafka.Transport).CloseIdleConnections()
	ranges, err := topicRanges(t.Context(), client, h.listings, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var skipped int64
	for i := range ranges {
		ranges[i].Next = ranges[i].Start + (ranges[i].End-ranges[i].Start)/2
		skipped += ranges[i].Next - ranges[i].Start
	}
	if skipped == 0 {
		t.Fatalf("ranges %+v leave nothing to skip", ranges)
	}
	p := passRecord{SchemaVersion: recordVersion, PassID: "p-test", StartedAt: time.Now().UTC(),
		Marks: []passMark{{MarkID: "m-quillora", Fingerprint: Fingerprint(quillora())}}, Partitions: ranges}
	v, _ := json.Marshal(p)
	if err := h.writer.WriteMessages(t.Context(), kafka.Message{Topic: h.sweeps, Key: []byte(keyPass), Value: v}); err != nil {
		t.Fatal(err)
	}
	r := h.start(time.Hour) // a new pass would wait an hour: only the resumed one runs
	r.s.Observe([]*domain.Mark{quillora()})
	r.waitPasses(t, 1)
	got := h.complaintsOnTopic()
	if want := int64(30) - skipped; int64(len(got)) != want {
		t.Errorf("%d complaints after resuming, want %d (30 listings, %d before the checkpoint)", len(got), want, skipped)
	}
	if n := testutil.ToFloat64(r.s.m.listings.WithLabelValues(outcomeFlagged)); int64(n) != 30-skipped {
		t.Errorf("%v listings scored, want %d", n, 30-skipped)
	}
}

// testSeveralMarksOnePass: marks that change together are swept in one
// pass, each listing against both.
func testSeveralMarksOnePass(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	h.produce(
		listing("s-1", 1, "Quillora bag replica 1:1"),
		listing("s-2", 1, "Veltar0 wallet AAA replica"),
		listing("s-3", 1, "Plain brown bag"),
	)
	r := h.start(300 * time.Millisecond)
	r.s.Observe([]*domain.Mark{quillora()})
	r.s.Observe([]*domain.Mark{quillora(), veltaro()}) // within the settle time
	r.waitPasses(t, 1)
	time.Sleep(200 * time.Millisecond)
	if r.passes() != 1 {
		t.Errorf("%v passes, want 1 for two marks changed together", r.passes())
	}
	want := []string{"s-1@1 m-quillora sweep", "s-2@1 m-veltaro sweep"}
	if got := found(h.complaintsOnTopic()); !slices.Equal(got, want) {
		t.Errorf("complaints %q, want %q", got, want)
	}
	if n := testutil.ToFloat64(r.s.m.listings.WithLabelValues(outcomeClean)); n != 1 {
		t.Errorf("%v clean listings, want 1", n)
	}
}

// testFirstStart: against an empty sweeps topic the marks active at start
// are recorded as swept, not swept; a mark activated afterwards is swept.
func testFirstStart(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	h.produce(
		listing("f-1", 1, "Quillora bag replica 1:1"),
		listing("f-2", 1, "Veltar0 wallet AAA replica"),
	)
	r := h.startWith(10*time.Millisecond, false, -1)
	r.s.Observe([]*domain.Mark{quillora()})
	deadline := time.Now().Add(waitTimeout)
	for len(readAll(t, brokers, h.sweeps, func(m kafka.Message) string { return string(m.Key) })) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first start recorded nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.s.Observe([]*domain.Mark{quillora(), veltaro()})
	r.waitPasses(t, 1)
	want := []string{"f-2@1 m-veltaro sweep"}
	if got := found(h.complaintsOnTopic()); !slices.Equal(got, want) {
		t.Errorf("complaints %q, want %q: only the mark activated after the first start is swept", got, want)
	}
}

// testRestartMidPass: a sweeper stopped in the middle of a rate-limited
// pass leaves its progress on the sweeps topic; the next one resumes the
// same pass from there instead of starting over, and between them every
// listing gets its complaint.
func testRestartMidPass(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	const n = 240
	var ls []domain.Listing
	for i := range n {
		ls = append(ls, listing(fmt.Sprintf("m-%03d", i), 1, "Quillora bag replica 1:1"))
	}
	h.produce(ls...)
	const rate = 80 // listings/s: a pass of about 3 s
	r := h.startWith(10*time.Millisecond, true, rate)
	r.s.Observe([]*domain.Mark{quillora()})
	deadline := time.Now().Add(waitTimeout)
	// Mid-pass: a quarter of the pass acknowledged and some listings
	// flagged (the progress gauge and the listings counter are read one
	// after the other, so both are waited for).
	flagged := func() float64 { return testutil.ToFloat64(r.s.m.listings.WithLabelValues(outcomeFlagged)) }
	for p := testutil.ToFloat64(r.s.m.progress); p < 0.25 || p == 1 || flagged() == 0; p = testutil.ToFloat64(r.s.m.progress) {
		if time.Now().After(deadline) {
			t.Fatalf("progress %v, %v listings flagged", p, flagged())
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.stop()
	first := flagged()
	if r.passes() != 0 || first == 0 || first >= n {
		t.Fatalf("stopped after %v passes and %v listings; want mid-pass", r.passes(), first)
	}

	r2 := h.startWith(10*time.Millisecond, true, rate)
	r2.s.Observe([]*domain.Mark{quillora()})
	r2.waitPasses(t, 1)
	second := testutil.ToFloat64(r2.s.m.listings.WithLabelValues(outcomeFlagged))
	if second >= n {
		t.Errorf("the restarted sweeper scored %v listings: it started over instead of resuming", second)
	}
	if first+second < n {
		t.Errorf("%v + %v listings scored, want at least %d", first, second, n)
	}
	ids := map[string]bool{}
	for _, c := range h.complaintsOnTopic() {
		ids[c.ListingID] = true
	}
	if len(ids) != n {
		t.Errorf("%d listings have complaints, want %d", len(ids), n)
	}
	t.Logf("first run scored %v, the resumed one %v (overlap %v, scored twice after the last checkpoint)", first, second, first+second-n)
}

// testOneLeader: two sweepers in one group (two detectors) sweep each pass
// once between them; when the leader stops, the other takes over.
func testOneLeader(t *testing.T, brokers []string) {
	h := newHarness(t, brokers)
	h.produce(
		listing("g-1", 1, "Quillora bag replica 1:1"),
		listing("g-2", 1, "Veltar0 wallet AAA replica"),
	)
	group := kafkatest.TopicName("sweepers")
	a, b := h.startGroup(group), h.startGroup(group)
	leaders := func() float64 { return testutil.ToFloat64(a.s.m.leader) + testutil.ToFloat64(b.s.m.leader) }
	deadline := time.Now().Add(waitTimeout)
	for leaders() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%v leaders, want 1", leaders())
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.s.Observe([]*domain.Mark{quillora()})
	b.s.Observe([]*domain.Mark{quillora()})
	deadline = time.Now().Add(waitTimeout)
	for a.passes()+b.passes() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("no pass completed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := a.passes() + b.passes(); n != 1 {
		t.Errorf("%v passes between the two, want 1", n)
	}
	leader, other := a, b
	if testutil.ToFloat64(b.s.m.leader) == 1 {
		leader, other = b, a
	}
	leader.stop()
	deadline = time.Now().Add(waitTimeout)
	for testutil.ToFloat64(other.s.m.leader) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the other sweeper did not take over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	other.s.Observe([]*domain.Mark{quillora(), veltaro()})
	other.waitPasses(t, 1)
	want := []string{"g-1@1 m-quillora sweep", "g-2@1 m-veltaro sweep"}
	if got := found(h.complaintsOnTopic()); !slices.Equal(got, want) {
		t.Errorf("complaints %q, want %q", got, want)
	}
}
