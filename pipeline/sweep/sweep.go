package sweep

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/score"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/detect"
)

// Defaults of Options.
const (
	// DefaultLookback is how far back a pass reads the listings topic.
	DefaultLookback = 30 * 24 * time.Hour
	// DefaultRate is the listings a pass decodes and scores per second:
	// a fraction of one core, so that the live stream keeps the rest.
	DefaultRate = 20000
	// DefaultSettle is how long changes are gathered into one pass after
	// the last one, and what keeps a pass's range end after every
	// detector watches the marks (marks debounce plus one build).
	DefaultSettle = 5 * time.Second
	// DefaultCheckpointInterval is how often a pass's progress is written.
	DefaultCheckpointInterval = 5 * time.Second
)

const (
	// flushComplaints is the most complaints held before they are written.
	flushComplaints = 500
	// requestTimeout bounds one Metadata or ListOffsets round trip.
	requestTimeout = 10 * time.Second
	// fetchMaxWait bounds a fetch waiting on the broker, and so how long
	// closing a reader takes.
	fetchMaxWait = 500 * time.Millisecond
	// fetchMaxBytes lets a fetch carry thousands of listings.
	fetchMaxBytes = 16 << 20
)

// retryBackoff spaces retries of broker, progress and build errors.
var retryBackoff = pipeline.Backoff{Initial: 200 * time.Millisecond, Max: 30 * time.Second}

// Engine scores prepared listings against the marks of one pass.
// *detection.Engine implements it. Safe for concurrent use.
type Engine interface {
	Score(ctx context.Context, l *matchers.Listing) ([]score.Result, error)
	Options() score.Options
	Close() error
}

// Options configure a Sweeper. Brokers, the three topics, Build and Writer
// are required.
type Options struct {
	// Brokers are the Kafka bootstrap brokers, host:port.
	Brokers []string
	// ListingsTopic is swept; ComplaintsTopic receives complaints;
	// SweepsTopic (compacted) holds the sweeper's progress.
	ListingsTopic, ComplaintsTopic, SweepsTopic string
	// Build builds an engine over the marks of one pass (sorted by
	// mark_id). It must not modify them. The engine is closed when the
	// pass ends.
	Build func(ctx context.Context, marks []*domain.Mark) (Engine, error)
	// Writer writes complaints and progress records and returns once they
	// are acknowledged (pipeline.NewWriter: all in-sync replicas).
	Writer pipeline.MessageWriter
	// Images fetches and hashes listing images, used only in passes with
	// a mark that has reference images; nil sweeps text only.
	Images detect.Images
	// Bank is the detector's negative bank; nil sweeps with the marks'
	// quarantines only. A bank not read yet is not waited for: the live
	// stream waits, a sweep files what it would have filed before.
	Bank detect.BankSource
	// Lookback is how far back, from a pass's start, the listings topic is
	// read (default 30 days; negative: from the first offset retained).
	Lookback time.Duration
	// Rate caps the listings decoded and scored per second (default
	// 20000; negative: no cap).
	Rate float64
	// Settle is how long after the last mark change a pass starts
	// (default 5s), so that marks changed together share it. A mark joins
	// a pass only once it has been pending for Settle, which keeps the
	// pass's range end after every detector watches it; and a steady
	// trickle of changes cannot postpone a pending mark beyond
	// 3·Settle.
	Settle time.Duration
	// CheckpointInterval is how often a pass's progress is written
	// (default 5s).
	CheckpointInterval time.Duration
	// GroupID, when set, is the consumer group in which the sweepers of
	// several detectors elect the one that sweeps (see Run); empty: this
	// sweeper sweeps.
	GroupID string
	// SweepOnFirstStart makes a sweeper that finds the sweeps topic empty
	// sweep every active mark. By default it records them as swept instead:
	// on a deployment's first start the live detector has been watching
	// them all along, and sweeping the whole catalogue against every mark
	// would hold back the sweep of the next new mark for as long.
	SweepOnFirstStart bool
	// Limits are the caps listings are decoded with.
	Limits domain.Limits
	// Now is the clock of complaints and records (default time.Now).
	Now func() time.Time
	// Logger and Registerer: nil means none.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Sweeper runs sweeps. Observe may be called from any goroutine; Run runs
// the sweeps.
type Sweeper struct {
	opts    Options
	log     *slog.Logger
	m       *metrics
	limiter *rate.Limiter
	running atomic.Bool

	mu      sync.Mutex
	active  []*domain.Mark // the latest set Observe was given; nil before
	changed time.Time      // when Observe last saw a change
	notify  chan struct{}  // cap 1: Observe has news
}

// New validates o, fills in its defaults and registers the metrics.
func New(o Options) (*Sweeper, error) {
	switch {
	case len(o.Brokers) == 0:
		return nil, errors.New("sweep: options: brokers: required")
	case o.ListingsTopic == "" || o.ComplaintsTopic == "" || o.SweepsTopic == "":
		return nil, errors.New("sweep: options: listings, complaints and sweeps topics: required")
	case o.SweepsTopic == o.ListingsTopic || o.SweepsTopic == o.ComplaintsTopic:
		return nil, fmt.Errorf("sweep: options: sweeps topic %q: must be a topic of its own", o.SweepsTopic)
	case o.Build == nil:
		return nil, errors.New("sweep: options: build: required")
	case o.Writer == nil:
		return nil, errors.New("sweep: options: writer: required")
	case o.Settle < 0 || o.CheckpointInterval < 0:
		return nil, errors.New("sweep: options: settle and checkpoint interval: must not be negative")
	}
	if o.Lookback == 0 {
		o.Lookback = DefaultLookback
	}
	if o.Rate == 0 {
		o.Rate = DefaultRate
	}
	if o.Settle == 0 {
		o.Settle = DefaultSettle
	}
	if o.CheckpointInterval == 0 {
		o.CheckpointInterval = DefaultCheckpointInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Limits = o.Limits.WithDefaults()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	limit := rate.Inf
	if o.Rate > 0 {
		limit = rate.Limit(o.Rate)
	}
	// A burst of a tenth of a second's worth keeps Wait cheap per listing
	// while bounding how far ahead of the rate a pass runs.
	burst := max(1, int(o.Rate/10))
	return &Sweeper{
		opts:    o,
		log:     log.With("component", "sweep", "topic", o.ListingsTopic),
		m:       m,
		limiter: rate.NewLimiter(limit, burst),
		notify:  make(chan struct{}, 1),
	}, nil
}

// Observe hands the sweeper the whole set of active marks, as the marks
// follower has just built the detector's engine from. It never blocks and
// keeps only the latest set; the marks must not be modified afterwards.
// The sweeper compares the set with what it has swept in Run.
func (s *Sweeper) Observe(active []*domain.Mark) {
	s.mu.Lock()
	s.active = active
	s.changed = time.Now()
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// observed returns the latest active set (nil before the first Observe)
// and when it changed.
func (s *Sweeper) observed() ([]*domain.Mark, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.changed
}

// Run runs sweeps until ctx ends and returns nil then; it may be called
// once. With Options.GroupID set, sweepers of several detectors join one
// consumer group on the sweeps topic and only the member assigned its
// partition 0 leads, that is sweeps: the others wait to take over, and a
// new leader resumes the pass under way from its last checkpoint. Without
// a group, this sweeper always leads.
func (s *Sweeper) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("sweep: Run called twice")
	}
	if s.opts.GroupID == "" {
		s.m.leader.Set(1)
		defer s.m.leader.Set(0)
		s.lead(ctx)
		return nil
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:      s.opts.GroupID,
		Brokers: s.opts.Brokers,
		Topics:  []string{s.opts.SweepsTopic},
		// A dead leader is replaced after the session timeout; a clean
		// stop leaves the group at once.
		SessionTimeout:   10 * time.Second,
		RebalanceTimeout: 10 * time.Second,
		JoinGroupBackoff: time.Second,
		ErrorLogger: kafka.LoggerFunc(func(msg string, args ...any) {
			s.log.Debug("kafka-go: " + fmt.Sprintf(msg, args...))
		}),
	})
	if err != nil {
		return fmt.Errorf("sweep: consumer group %s: %w", s.opts.GroupID, err)
	}
	defer func() { _ = cg.Close() }() // leaves the group: another member leads at once
	defer s.m.leader.Set(0)
	for attempt := 0; ; {
		gen, err := cg.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.m.errors.Inc()
			d := retryBackoff.Delay(attempt)
			attempt++
			s.log.Warn("join the sweepers' group; retrying", "group", s.opts.GroupID, "error", err, "retry_in", d.String())
			if !pipeline.Wait(ctx, d) {
				return nil
			}
			continue
		}
		attempt = 0
		if !leads(gen, s.opts.SweepsTopic) {
			// Next returns once this generation has ended.
			s.m.leader.Set(0)
			continue
		}
		s.m.leader.Set(1)
		s.log.Info("this sweeper leads the sweeps", "group", s.opts.GroupID, "generation", gen.ID)
		gen.Start(func(gctx context.Context) {
			// Lead until the generation ends (a member joined or left)
			// or Run's ctx does.
			lctx, cancel := context.WithCancel(ctx)
			defer cancel()
			stop := context.AfterFunc(gctx, cancel)
			defer stop()
			s.lead(lctx)
		})
	}
}

// leads reports whether gen assigns this member partition 0 of topic.
func leads(gen *kafka.Generation, topic string) bool {
	for _, pa := range gen.Assignments[topic] {
		if pa.ID == 0 {
			return true
		}
	}
	return false
}

// lead reads the sweeps topic to its end, then runs passes as marks
// change until ctx ends, resuming a pass a previous leader left
// unfinished. Broker and build errors are logged, counted and retried with
// backoff.
func (s *Sweeper) lead(ctx context.Context) {
	// Once no longer leading, this sweeper has no pass to show.
	defer func() {
		s.m.show(nil)
		s.m.pending.Set(0)
	}()
	transport := &kafka.Transport{MetadataTTL: time.Second}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(s.opts.Brokers...), Timeout: requestTimeout, Transport: transport}

	var st *state
	if !s.retry(ctx, "read the sweeps topic", func() error {
		var err error
		st, err = s.load(ctx, client)
		return err
	}) {
		return
	}
	if st.pass != nil {
		s.log.Info("resuming sweep pass", "pass_id", st.pass.PassID, "marks", st.pass.markIDs(),
			"offsets_left", st.pass.left())
	}
	s.m.show(st.pass)
	baseline := st.empty() && !s.opts.SweepOnFirstStart
	failures := 0 // consecutive failed pass attempts
	var gather gathering
	for ctx.Err() == nil {
		active, changed := s.observed()
		if active == nil {
			s.wait(ctx, 0) // marks not loaded yet
			continue
		}
		pending, removed := st.diff(active)
		if baseline {
			if !s.retry(ctx, "record the marks active at first start", func() error { return s.record(ctx, st, pending, "first-start") }) {
				return
			}
			s.log.Info("first start: marks active now recorded as swept without a sweep", "marks", len(pending))
			baseline = false
			continue
		}
		pendingCount := len(pending)
		if st.pass != nil {
			pendingCount += len(st.pass.Marks)
		}
		s.m.pending.Set(float64(pendingCount))
		if len(removed) > 0 {
			if !s.retry(ctx, "forget removed marks", func() error { return s.forget(ctx, st, removed) }) {
				return
			}
		}
		if st.pass == nil {
			if len(pending) == 0 {
				gather = gathering{}
				s.wait(ctx, 0)
				continue
			}
			ready, d := gather.update(st, pending, changed, time.Now(), s.opts.Settle)
			if len(ready) == 0 {
				s.wait(ctx, d)
				continue
			}
			if !s.retry(ctx, "start a sweep pass", func() error {
				var err error
				st.pass, err = s.start(ctx, client, ready)
				return err
			}) {
				return
			}
			s.log.Info("sweep pass started", "pass_id", st.pass.PassID, "marks", st.pass.markIDs(),
				"offsets", st.pass.total(), "since", st.pass.Since)
		}
		err := s.runPass(ctx, st)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.m.passes.WithLabelValues("failed").Inc()
		s.m.errors.Inc()
		d := retryBackoff.Delay(failures)
		failures++
		s.log.Warn("sweep pass failed; resuming from its last progress", "pass_id", st.pass.PassID,
			"error", err, "retry_in", d.String())
		if !pipeline.Wait(ctx, d) {
			return
		}
	}
}

// gathering tracks since when each pending mark has been pending, by its
// fingerprint: a mark changed again starts over.
type gathering map[string]pendingMark

// pendingMark is one pending mark's fingerprint and since when it has
// been pending: the time of the Observe that brought its change, or a
// later one, never earlier.
type pendingMark struct {
	fingerprint string
	since       time.Time
}

// update records pending (as of an Observe at changed) and returns the
// marks to sweep now, or none and how long to wait. A pass starts when
// the marks have been quiet for settle, or when the oldest pending mark
// has waited 3·settle despite a trickle of changes; either way it takes
// the marks pending for at least settle.
func (g *gathering) update(st *state, pending []*domain.Mark, changed, now time.Time, settle time.Duration) ([]*domain.Mark, time.Duration) {
	next := make(gathering, len(pending))
	var oldest time.Time
	var ready []*domain.Mark
	for _, m := range pending {
		fp := st.fingerprint(m)
		pm, ok := (*g)[m.MarkID]
		if !ok || pm.fingerprint != fp {
			pm = pendingMark{fingerprint: fp, since: changed}
		}
		next[m.MarkID] = pm
		if oldest.IsZero() || pm.since.Before(oldest) {
			oldest = pm.since
		}
		if now.Sub(pm.since) >= settle {
			ready = append(ready, m)
		}
	}
	*g = next
	quiet := now.Sub(changed) >= settle
	overdue := now.Sub(oldest) >= 3*settle
	if len(ready) > 0 && (quiet || overdue) {
		return ready, 0
	}
	wake := oldest.Add(settle)
	if len(ready) > 0 {
		wake = changed.Add(settle)
		if o := oldest.Add(3 * settle); o.Before(wake) {
			wake = o
		}
	}
	return nil, max(wake.Sub(now), time.Millisecond)
}

// wait blocks until Observe has news, d has passed (d > 0), or ctx ends.
func (s *Sweeper) wait(ctx context.Context, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
	case <-s.notify:
	case <-timeout:
	}
}

// retry runs fn until it succeeds, backing off between failures, and
// reports false only when ctx ended first.
func (s *Sweeper) retry(ctx context.Context, what string, fn func() error) bool {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		s.m.errors.Inc()
		d := retryBackoff.Delay(attempt)
		s.log.Warn(what+"; retrying", "error", err, "retry_in", d.String())
		if !pipeline.Wait(ctx, d) {
			return false
		}
	}
}

// load reads every partition of the sweeps topic up to the end offsets it
// has now. A record that cannot be decoded is logged and ignored: for a
// mark that means it is swept again, for the pass that it is started anew,
// both of which repeat work but lose nothing.
func (s *Sweeper) load(ctx context.Context, client *kafka.Client) (*state, error) {
	st := &state{swept: map[string]string{}}
	ranges, err := topicRanges(ctx, client, s.opts.SweepsTopic, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, r := range ranges {
		err := s.read(ctx, s.opts.SweepsTopic, r.Partition, r.Start, r.End, func(m kafka.Message) error {
			st.records++
			rec, err := decodeRecord(m.Key, m.Value)
			if err != nil {
				s.m.errors.Inc()
				s.log.Warn("invalid record on the sweeps topic; ignored", "key", truncate(string(m.Key)),
					"partition", m.Partition, "offset", m.Offset, "error", err)
				return nil
			}
			st.apply(rec)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}

// forget writes a tombstone for every removed mark, so that it is swept
// again if it becomes active again.
func (s *Sweeper) forget(ctx context.Context, st *state, removed []string) error {
	slices.Sort(removed)
	msgs := make([]kafka.Message, len(removed))
	for i, id := range removed {
		msgs[i] = kafka.Message{Topic: s.opts.SweepsTopic, Key: []byte(keyMarkPrefix + id)}
	}
	if err := s.opts.Writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("write tombstones of %d marks: %w", len(msgs), err)
	}
	for _, id := range removed {
		delete(st.swept, id)
	}
	return nil
}

// record writes a mark record for each of marks, as if swept by passID,
// without sweeping.
func (s *Sweeper) record(ctx context.Context, st *state, marks []*domain.Mark, passID string) error {
	now := s.opts.Now().UTC()
	msgs := make([]kafka.Message, 0, len(marks))
	for _, m := range marks {
		v, err := json.Marshal(markRecord{SchemaVersion: recordVersion, MarkID: m.MarkID, Fingerprint: Fingerprint(m), SweptAt: now, PassID: passID})
		if err != nil {
			return fmt.Errorf("encode mark record %s: %w", m.MarkID, err)
		}
		msgs = append(msgs, kafka.Message{Topic: s.opts.SweepsTopic, Key: []byte(keyMarkPrefix + m.MarkID), Value: v})
	}
	if len(msgs) > 0 {
		if err := s.opts.Writer.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("record %d marks: %w", len(msgs), err)
		}
	}
	for _, m := range marks {
		st.swept[m.MarkID] = Fingerprint(m)
	}
	return nil
}

// start looks up the range of a new pass over pending and writes its first
// progress record.
func (s *Sweeper) start(ctx context.Context, client *kafka.Client, pending []*domain.Mark) (*passRecord, error) {
	now := s.opts.Now().UTC()
	var since time.Time
	if s.opts.Lookback > 0 {
		since = now.Add(-s.opts.Lookback)
	}
	ranges, err := topicRanges(ctx, client, s.opts.ListingsTopic, since)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	p := &passRecord{
		SchemaVersion: recordVersion,
		PassID:        now.Format("20060102T150405Z") + "-" + hex.EncodeToString(id),
		StartedAt:     now,
		Since:         since,
		Partitions:    ranges,
	}
	slices.SortFunc(pending, func(a, b *domain.Mark) int { return cmp.Compare(a.MarkID, b.MarkID) })
	for _, m := range pending {
		p.Marks = append(p.Marks, passMark{MarkID: m.MarkID, Fingerprint: Fingerprint(m)})
	}
	if err := s.checkpoint(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// checkpoint writes p as the pass under way.
func (s *Sweeper) checkpoint(ctx context.Context, p *passRecord) error {
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode pass %s: %w", p.PassID, err)
	}
	if err := s.opts.Writer.WriteMessages(ctx, kafka.Message{Topic: s.opts.SweepsTopic, Key: []byte(keyPass), Value: v}); err != nil {
		return fmt.Errorf("write progress of pass %s: %w", p.PassID, err)
	}
	s.m.show(p)
	return nil
}

// finish records every mark of p as swept at the fingerprint the pass
// started with and drops the pass, in one write: a restart between the
// two would find the pass with nothing left and finish it again.
func (s *Sweeper) finish(ctx context.Context, st *state, started time.Time) error {
	p := st.pass
	now := s.opts.Now().UTC()
	msgs := make([]kafka.Message, 0, len(p.Marks)+1)
	for _, m := range p.Marks {
		v, err := json.Marshal(markRecord{SchemaVersion: recordVersion, MarkID: m.MarkID, Fingerprint: m.Fingerprint, SweptAt: now, PassID: p.PassID})
		if err != nil {
			return fmt.Errorf("encode mark record %s: %w", m.MarkID, err)
		}
		msgs = append(msgs, kafka.Message{Topic: s.opts.SweepsTopic, Key: []byte(keyMarkPrefix + m.MarkID), Value: v})
	}
	msgs = append(msgs, kafka.Message{Topic: s.opts.SweepsTopic, Key: []byte(keyPass)})
	if err := s.opts.Writer.WriteMessages(ctx, msgs...); err != nil {
		return fmt.Errorf("record pass %s as done: %w", p.PassID, err)
	}
	for _, m := range p.Marks {
		st.swept[m.MarkID] = m.Fingerprint
	}
	s.m.passes.WithLabelValues("completed").Inc()
	s.m.duration.Observe(time.Since(started).Seconds())
	s.log.Info("sweep pass done", "pass_id", p.PassID, "marks", p.markIDs(), "offsets", p.total(),
		"seconds", time.Since(started).Seconds())
	st.pass = nil
	s.m.show(nil)
	return nil
}
