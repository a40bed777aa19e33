package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/pipeline/kafkatest"
)

// stack is one test's topics, consumer group and configuration file: what
// a deployment of the detector is, minus the process.
type stack struct {
	brokers    []string
	listings   string
	marks      string
	complaints string
	dlq        string
	group      string
	partitions int
	cfgPath    string
	cfg        config.Config
}

// stackOptions shape a stack; zero values take the defaults named.
type stackOptions struct {
	// partitions of the listings topic (default 3).
	partitions int
	// concurrency is kafka.concurrency (default 8, the shipped default).
	concurrency int
	// replication is every topic's replication factor (default 1, for the
	// single test broker).
	replication int
}

// newStack creates the four topics with random names and writes the
// configuration file the detector processes of the test share.
func newStack(t testing.TB, brokers []string, o stackOptions) *stack {
	t.Helper()
	if o.partitions == 0 {
		o.partitions = 3
	}
	if o.concurrency == 0 {
		o.concurrency = 8
	}
	s := &stack{
		brokers:    brokers,
		listings:   kafkatest.TopicName("listings"),
		marks:      kafkatest.TopicName("marks"),
		complaints: kafkatest.TopicName("complaints"),
		dlq:        kafkatest.TopicName("listings.dlq"),
		group:      kafkatest.TopicName("detector"),
		partitions: o.partitions,
	}
	rf := max(o.replication, 1)
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: s.listings, NumPartitions: o.partitions, ReplicationFactor: rf})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: s.marks, NumPartitions: 1, ReplicationFactor: rf,
		ConfigEntries: []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: s.complaints, NumPartitions: 3, ReplicationFactor: rf})
	kafkatest.CreateTopic(t, brokers, kafka.TopicConfig{Topic: s.dlq, NumPartitions: 1, ReplicationFactor: rf})

	// The same text is the detector's file and the in-process oracle's
	// configuration, so both score with the same options.
	yaml := fmt.Sprintf(`kafka:
  brokers: [%s]
  group_id: %s
  topics:
    listings: %s
    marks: %s
    complaints: %s
    dlq: %s
  concurrency: %d
  commit_interval: 200ms
  drain_timeout: 5s
  marks_debounce: 250ms
log:
  level: info
  format: json
`, strings.Join(brokers, ", "), s.group, s.listings, s.marks, s.complaints, s.dlq, o.concurrency)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("parse test config: %v\n%s", err, yaml)
	}
	s.cfg = cfg
	s.cfgPath = filepath.Join(t.TempDir(), "markwatch.yaml")
	if err := os.WriteFile(s.cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return s
}

// detector is one `markwatch detect` process.
type detector struct {
	t       testing.TB
	name    string
	addr    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	started time.Time
}

// startDetector starts a detector process on s and waits until /readyz
// answers 200 (the marks are loaded). The process is SIGKILLed when the
// test ends if it still runs; its log tail is printed if the test failed.
func startDetector(t testing.TB, s *stack, name string) *detector {
	t.Helper()
	d := launchDetector(t, s, name)
	d.waitReady(60 * time.Second)
	return d
}

// launchDetector starts the process without waiting for readiness.
func launchDetector(t testing.TB, s *stack, name string) *detector {
	t.Helper()
	return launchDetectorEnv(t, s, name)
}

// launchDetectorEnv is launchDetector with extra environment variables
// (KEY=value) for the process, such as MARKWATCH_KAFKA_GROUP_INSTANCE_ID.
func launchDetectorEnv(t testing.TB, s *stack, name string, env ...string) *detector {
	t.Helper()
	d := &detector{t: t, name: name, addr: freeAddr(t), exited: make(chan struct{})}
	d.logPath = filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatalf("detector %s: log file: %v", name, err)
	}
	d.cmd = exec.Command(binaryPath, "detect", "-config", s.cfgPath,
		"-brokers", strings.Join(s.brokers, ","), "-listen", d.addr, "-group", s.group)
	if len(env) > 0 {
		d.cmd.Env = append(os.Environ(), env...)
	}
	d.cmd.Stdout = logFile
	d.cmd.Stderr = logFile
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		_ = logFile.Close()
		t.Fatalf("detector %s: start: %v", name, err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		_ = logFile.Close()
		close(d.exited)
	}()
	t.Cleanup(func() {
		if d.running() {
			_ = d.cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("detector %s log tail:\n%s", name, d.logTail(25))
		}
	})
	return d
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: the detector needs a fixed listen address to be scraped at.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func (d *detector) running() bool {
	select {
	case <-d.exited:
		return false
	default:
		return true
	}
}

// waitReady polls /readyz until it answers 200; it fails the test if the
// process exits first or timeout passes.
func (d *detector) waitReady(timeout time.Duration) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if !d.running() {
			d.t.Fatalf("detector %s exited before ready (%v); log:\n%s", d.name, d.waitErr, d.logTail(30))
		}
		resp, err := client.Get("http://" + d.addr + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.t.Fatalf("detector %s not ready after %s; log:\n%s", d.name, timeout, d.logTail(30))
}

// signal sends sig and waits up to timeout for the process to exit,
// returning how long it took; it fails the test on timeout.
func (d *detector) signal(sig syscall.Signal, timeout time.Duration) time.Duration {
	d.t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(sig); err != nil && d.running() {
		d.t.Fatalf("detector %s: signal %v: %v", d.name, sig, err)
	}
	select {
	case <-d.exited:
		return time.Since(start)
	case <-time.After(timeout):
		d.t.Fatalf("detector %s still running %s after %v", d.name, timeout, sig)
		return 0
	}
}

// exitCode returns the process's exit code once it has exited (-1 for a
// signal death).
func (d *detector) exitCode() int {
	<-d.exited
	return d.cmd.ProcessState.ExitCode()
}

// metric returns the sum of every series of the named metric on /metrics,
// optionally only those whose labels contain labelMatch.
func (d *detector) metric(name, labelMatch string) (float64, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", d.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("scrape %s: %s", d.name, resp.Status)
	}
	return sumMetric(resp.Body, name, labelMatch)
}

// exports reports whether the process's /metrics has a series of name.
func (d *detector) exports(name string) bool {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + d.addr + "/metrics")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok && (strings.HasPrefix(rest, "{") || strings.HasPrefix(rest, " ")) {
			return true
		}
	}
	return false
}

// sumMetric adds up the samples of one metric in the Prometheus text
// format.
func sumMetric(r io.Reader, name, labelMatch string) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	total := 0.0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue // another metric whose name starts with ours
		}
		series, value, ok := strings.Cut(strings.TrimSpace(rest), " ")
		if rest[0] == ' ' {
			series, value = "", strings.TrimSpace(rest)
		} else if !ok {
			continue
		}
		if labelMatch != "" && !strings.Contains(series, labelMatch) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric line %q: %w", line, err)
		}
		total += v
	}
	return total, sc.Err()
}

// scored is the number of listings the process has scored (every outcome
// of markwatch_listings_scored_total), or -1 if it cannot be scraped.
func (d *detector) scored() float64 {
	v, err := d.metric("markwatch_listings_scored_total", "")
	if err != nil {
		return -1
	}
	return v
}

// logTail returns the last n lines of the process's log.
func (d *detector) logTail(n int) string {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// newWriter returns a producer the way the pipeline's is set up: all
// in-sync replicas, a 5 ms batch timeout, keys hashed to partitions.
func newWriter(t testing.TB, brokers []string, topic string) *kafka.Writer {
	t.Helper()
	transport := &kafka.Transport{}
	w := &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
		BatchSize:    1000,
		BatchBytes:   4 << 20,
		Transport:    transport,
	}
	t.Cleanup(func() {
		_ = w.Close()
		transport.CloseIdleConnections()
	})
	return w
}

// produce writes msgs, retrying the whole call on error until ctx ends: a
// retry after a partial failure may duplicate listings, which a detector
// must tolerate anyway.
func produce(ctx context.Context, w *kafka.Writer, msgs ...kafka.Message) error {
	for {
		err := w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("produce %d messages: %w (last error: %v)", len(msgs), ctx.Err(), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// collector reads a topic's every partition from the beginning into
// memory for as long as the test runs.
type collector struct {
	mu   sync.Mutex
	msgs []kafka.Message
	stop func()
	done sync.WaitGroup
}

// collect starts a collector on topic, which has partitions partitions.
func collect(t testing.TB, brokers []string, topic string, partitions int) *collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{stop: cancel}
	for p := range partitions {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, Topic: topic, Partition: p,
			StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond, MaxBytes: 10 << 20,
		})
		c.done.Go(func() {
			defer r.Close()
			for {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				c.mu.Lock()
				c.msgs = append(c.msgs, m)
				c.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		c.done.Wait()
	})
	return c
}

// snapshot returns the messages read so far.
func (c *collector) snapshot() []kafka.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kafka.Message(nil), c.msgs...)
}

// waitFor polls the messages read so far until cond holds or timeout
// passes, and reports whether it held.
func (c *collector) waitFor(timeout time.Duration, cond func([]kafka.Message) bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond(c.snapshot()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// header returns the last value of header key of m.
func header(m kafka.Message, key string) (string, bool) {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == key {
			return string(m.Headers[i].Value), true
		}
	}
	return "", false
}

// complaintCounts counts each complaint id among complaint messages,
// failing the test on a message that is not a complaint.
func complaintCounts(t testing.TB, msgs []kafka.Message) map[string]int {
	t.Helper()
	counts := make(map[string]int, len(msgs))
	for _, m := range msgs {
		var c domain.Complaint
		if err := json.Unmarshal(m.Value, &c); err != nil {
			t.Fatalf("complaint at %d@%d: %v", m.Partition, m.Offset, err)
		}
		if id, _ := header(m, "complaint_id"); id != c.ComplaintID || c.ComplaintID == "" {
			t.Fatalf("complaint at %d@%d: header complaint_id %q, body %q", m.Partition, m.Offset, id, c.ComplaintID)
		}
		counts[c.ComplaintID]++
	}
	return counts
}

// compareComplaints checks that the complaint ids on the topic are exactly
// want (duplicates aside) and returns how many duplicate copies arrived.
func compareComplaints(t testing.TB, got map[string]int, want map[string]bool) (duplicates int) {
	t.Helper()
	var missing, unexpected []string
	for id := range want {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id, n := range got {
		if !want[id] {
			unexpected = append(unexpected, id)
		}
		duplicates += n - 1
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d expected complaints never reached the topic, e.g. %q", len(missing), len(want), first(missing, 5))
	}
	if len(unexpected) > 0 {
		t.Errorf("%d complaints the in-process engine does not give, e.g. %q", len(unexpected), first(unexpected, 5))
	}
	return duplicates
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// allArrived reports whether every id of want has been seen in msgs.
func allArrived(want map[string]bool) func([]kafka.Message) bool {
	return func(msgs []kafka.Message) bool {
		if len(msgs) < len(want) {
			return false
		}
		seen := make(map[string]bool, len(msgs))
		for _, m := range msgs {
			if id, ok := header(m, "complaint_id"); ok {
				seen[id] = true
			}
		}
		for id := range want {
			if !seen[id] {
				return false
			}
		}
		return true
	}
}

// preparedMarks hashes the fixture marks' reference images once per test
// binary: the marks are published with image_hashes, as the registry does.
var preparedMarks = sync.OnceValues(func() ([]*domain.Mark, error) {
	marks, err := fixtures.LoadMarks()
	if err != nil {
		return nil, err
	}
	cfg := config.Default()
	fetch, err := imagefetch.New(imagefetch.Options{BaseDir: fixtures.Dir(), AllowFiles: true})
	if err != nil {
		return nil, fmt.Errorf("image fetcher: %w", err)
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), nil)
	if err != nil {
		return nil, err
	}
	prepared, skipped, err := detection.PrepareMarks(context.Background(), marks, images, nil)
	if err != nil {
		return nil, fmt.Errorf("hash fixture marks: %w", err)
	}
	if len(skipped) > 0 {
		return nil, fmt.Errorf("hash fixture marks: %v", skipped[0])
	}
	out := make([]*domain.Mark, len(prepared))
	for i, p := range prepared {
		m := *p.Mark
		m.ImageHashes = nil
		for _, ref := range p.References {
			ih := domain.ImageHash{Kind: ref.Kind, URL: ref.URL}
			for _, h := range ref.Hashes {
				ih.Hashes = append(ih.Hashes, matchers.FormatHash(h))
			}
			m.ImageHashes = append(m.ImageHashes, ih)
		}
		out[i] = &m
	}
	return out, nil
})

// fixtureMarks returns the hashed fixture marks.
func fixtureMarks(t testing.TB) []*domain.Mark {
	t.Helper()
	marks, err := preparedMarks()
	if err != nil {
		t.Fatalf("fixture marks: %v", err)
	}
	for _, m := range marks {
		if len(m.ImageHashes) == 0 {
			t.Fatalf("fixture mark %s has no image hashes", m.MarkID)
		}
	}
	return marks
}

// publishMarks writes marks to the marks topic, keyed by mark_id.
func publishMarks(t testing.TB, s *stack, marks ...*domain.Mark) {
	t.Helper()
	msgs := make([]kafka.Message, len(marks))
	for i, m := range marks {
		v, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("encode mark %s: %v", m.MarkID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(m.MarkID), Value: v}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produce(ctx, newWriter(t, s.brokers, s.marks), msgs...); err != nil {
		t.Fatalf("publish marks: %v", err)
	}
}

// textListings returns n text-only listings made from the fixture
// listings: images and labels stripped, listing ids made unique with tag
// and a sequence number.
func textListings(t testing.TB, tag string, n int) []*domain.Listing {
	t.Helper()
	base, err := fixtures.LoadListings()
	if err != nil {
		t.Fatalf("fixture listings: %v", err)
	}
	out := make([]*domain.Listing, n)
	for i := range out {
		l := *base[i%len(base)]
		l.Images = nil
		l.Label = nil
		l.ListingID = fmt.Sprintf("%s-%s-%06d", l.ListingID, tag, i)
		out[i] = &l
	}
	return out
}

// listingMessages encodes listings as messages keyed by listing_id.
func listingMessages(t testing.TB, listings []*domain.Listing) []kafka.Message {
	t.Helper()
	msgs := make([]kafka.Message, len(listings))
	for i, l := range listings {
		v, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("encode listing %s: %v", l.ListingID, err)
		}
		msgs[i] = kafka.Message{Key: []byte(l.ListingID), Value: v}
	}
	return msgs
}

// oracle is the detection engine in-process, built exactly as the
// detector builds it from the marks topic: the expected complaints.
type oracle struct {
	eng *detection.Engine
	lim domain.Limits
}

func newOracle(t testing.TB, cfg config.Config, marks []*domain.Mark) *oracle {
	t.Helper()
	prepared := make([]*matchers.Mark, 0, len(marks))
	for _, m := range marks {
		if m.Status != "" && m.Status != domain.MarkActive {
			continue
		}
		p, err := matchers.NewMark(m)
		if err != nil {
			t.Fatalf("oracle: %v", err)
		}
		prepared = append(prepared, p)
	}
	eng, err := detection.Build(prepared, detection.OptionsFrom(cfg.Detection))
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	return &oracle{eng: eng, lim: cfg.Limits}
}

// complaints returns the ids of the complaints a listing message should
// produce; a message that does not decode produces none.
func (o *oracle) complaints(value []byte) ([]string, error) {
	l, err := domain.DecodeListing(value, o.lim)
	if err != nil {
		return nil, nil
	}
	results, err := o.eng.Score(context.Background(), matchers.NewListing(l))
	if err != nil {
		return nil, fmt.Errorf("oracle: score %s: %w", l.ListingID, err)
	}
	var ids []string
	for _, r := range results {
		if r.Flagged {
			ids = append(ids, r.ComplaintID)
		}
	}
	return ids, nil
}

// expected returns the set of complaint ids msgs should produce, scoring
// on both cores.
func (o *oracle) expected(t testing.TB, msgs []kafka.Message) map[string]bool {
	t.Helper()
	const workers = 2
	parts := make([][]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(msgs); i += workers {
				ids, err := o.complaints(msgs[i].Value)
				if err != nil {
					errs[w] = err
					return
				}
				parts[w] = append(parts[w], ids...)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, p := range parts {
		for _, id := range p {
			want[id] = true
		}
	}
	return want
}

// endOffsets returns the end offsets of topic's partitions.
func endOffsets(ctx context.Context, brokers []string, topic string, partitions int) ([]int64, error) {
	end, _, err := offsets(ctx, brokers, "", topic, partitions)
	return end, err
}

// offsets returns the end offsets of topic's partitions and, when group is
// not empty, the offsets group has committed on them (-1 where none).
func offsets(ctx context.Context, brokers []string, group, topic string, partitions int) (end, committed []int64, err error) {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: transport}
	reqs := make([]kafka.OffsetRequest, partitions)
	parts := make([]int, partitions)
	for p := range partitions {
		reqs[p] = kafka.LastOffsetOf(p)
		parts[p] = p
	}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	end = make([]int64, partitions)
	answered := 0
	for _, po := range lo.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("list offsets of %s/%d: %w", topic, po.Partition, po.Error)
		}
		end[po.Partition] = po.LastOffset
		answered++
	}
	if answered != partitions {
		return nil, nil, fmt.Errorf("list offsets of %s: %d of %d partitions answered", topic, answered, partitions)
	}
	if group == "" {
		return end, nil, nil
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, nil, fmt.Errorf("offset fetch for %s: %w", group, err)
	}
	if of.Error != nil {
		return nil, nil, fmt.Errorf("offset fetch for %s: %w", group, of.Error)
	}
	committed = make([]int64, partitions)
	for i := range committed {
		committed[i] = -1
	}
	for _, op := range of.Topics[topic] {
		if op.Error != nil {
			return nil, nil, fmt.Errorf("offset fetch %s/%d: %w", topic, op.Partition, op.Error)
		}
		committed[op.Partition] = op.CommittedOffset
	}
	return end, committed, nil
}

// lag returns the group's total lag on the listings topic: end offsets
// minus committed offsets.
func (s *stack) lag(ctx context.Context) (int64, error) {
	end, committed, err := offsets(ctx, s.brokers, s.group, s.listings, s.partitions)
	if err != nil {
		return 0, err
	}
	var total int64
	for p := range end {
		total += end[p] - max(committed[p], 0)
	}
	return total, nil
}

// waitLagZero polls until the group has committed every listing on the
// topic, failing the test after timeout.
func (s *stack) waitLagZero(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last int64 = -1
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		l, err := s.lag(ctx)
		cancel()
		if err == nil && l == 0 {
			return
		}
		last = l
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("group %s still %d listings behind after %s", s.group, last, timeout)
}

// listingOffsets reads the listings topic back and maps each listing_id
// to the partition and offset it was written at (the first copy).
func listingOffsets(t testing.TB, s *stack, want int) map[string][2]int64 {
	t.Helper()
	c := collect(t, s.brokers, s.listings, s.partitions)
	if !c.waitFor(60*time.Second, func(m []kafka.Message) bool { return len(m) >= want }) {
		t.Fatalf("read back %d of %d listings", len(c.snapshot()), want)
	}
	c.stop()
	c.done.Wait()
	out := make(map[string][2]int64, want)
	for _, m := range c.snapshot() {
		id := string(m.Key)
		if _, ok := out[id]; !ok {
			out[id] = [2]int64{int64(m.Partition), m.Offset}
		}
	}
	return out
}
