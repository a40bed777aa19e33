package marks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/domain"
)

// Defaults of Options.
const (
	// DefaultDebounce is the default of Options.Debounce: short next to the
	// design's 5 s, long enough to fold a registry's burst into one build.
	DefaultDebounce = 250 * time.Millisecond
	// DefaultPartitionCheckInterval is the default of
	// Options.PartitionCheckInterval; partitions are rarely added.
	DefaultPartitionCheckInterval = 30 * time.Second
)

const (
	// updateBuffer decouples the partition readers from the loop while it
	// builds an engine; beyond it the readers wait, which is the backpressure.
	updateBuffer = 1024
	// maxBuildBackoff caps the wait before a failed build is retried when no
	// update arrives to retry it sooner.
	maxBuildBackoff = time.Minute
)

// TableOptions configure a Table. Brokers, Topic, Decode and Build are
// required.
type TableOptions[V, E any] struct {
	// Brokers are the Kafka bootstrap brokers, host:port.
	Brokers []string
	// Topic is the compacted topic followed.
	Topic string
	// Decode strictly decodes one non-empty record value and returns the
	// record's id, which must equal the record's key, and whether the
	// record is live (false removes it, as a tombstone does). New fills
	// it in for marks.
	Decode func(value []byte, lim domain.Limits) (v V, id string, live bool, err error)
	// Build builds an engine from the full set of live records, sorted by
	// key. It is called once the topic has been read to the end offsets
	// seen at start, and after each batch of updates; never concurrently.
	// It must not modify the records, which later builds share. An error
	// keeps the previous engine. ctx is Run's context.
	Build func(ctx context.Context, records []V) (E, error)
	// Close releases an engine that is no longer current, once no user
	// holds it (may be nil). It runs on the goroutine that drops the last
	// reference, a user's release or the follower's loop, so it should
	// not block for long.
	Close func(E)
	// Debounce is how long updates are gathered before a rebuild, counted
	// from the first change (default 250ms). A change is watched within
	// Debounce plus one build; the design asks for 5 s.
	Debounce time.Duration
	// PartitionCheckInterval is how often the topic's metadata is polled
	// for partitions added after start (default 30s).
	PartitionCheckInterval time.Duration
	// Limits are the caps Decode enforces; zero fields take defaults.
	Limits domain.Limits
	// AbsentIsEmpty makes a topic that does not exist read as empty: the
	// follower builds from no records and is Ready at once, and reads the
	// topic from its beginning when it appears (found by the partition
	// poll). For optional topics such as the negative banks; the marks
	// topic waits for its topic instead, since no marks means no watching.
	AbsentIsEmpty bool
	// Component tags the follower's logs (default "marks").
	Component string
	// Logger receives the follower's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the follower's metrics, markwatch_marks_*; nil
	// registers none. The names are the marks topic's: a process that
	// follows another topic too leaves this nil for it and exports what
	// it needs of that topic's state itself.
	Registerer prometheus.Registerer
}

// Options configure a Follower of the marks topic; Decode may be left nil.
type Options[E any] = TableOptions[*domain.Mark, E]

// Table keeps an engine built from a compacted topic of records V (key =
// the record's id, tombstone = empty or nil value). Run reads and follows
// the topic; Ready, Acquire and Marks may be called from any goroutine at
// any time. The marks topic and the negative-banks topic are both Tables.
type Table[V, E any] struct {
	opts    TableOptions[V, E]
	log     *slog.Logger
	m       *metrics
	running atomic.Bool
	ready   atomic.Bool
	current atomic.Pointer[engine[E]]

	mu     sync.Mutex // orders install against Close
	closed bool
}

// Follower keeps an engine built from the compacted marks topic (key =
// mark_id, value = domain.Mark JSON, tombstone = empty or nil value).
type Follower[E any] = Table[*domain.Mark, E]

// New validates o, fills in its defaults and registers the follower's
// metrics: a Table of the marks topic.
func New[E any](o Options[E]) (*Follower[E], error) {
	if o.Decode == nil {
		o.Decode = decodeMark
	}
	return NewTable(o)
}

// NewTable validates o, fills in its defaults and registers the
// follower's metrics.
func NewTable[V, E any](o TableOptions[V, E]) (*Table[V, E], error) {
	switch {
	case len(o.Brokers) == 0:
		return nil, errors.New("marks: options: brokers: required")
	case o.Topic == "":
		return nil, errors.New("marks: options: topic: required")
	case o.Decode == nil:
		return nil, errors.New("marks: options: decode: required")
	case o.Build == nil:
		return nil, errors.New("marks: options: build: required")
	case o.Debounce < 0:
		return nil, fmt.Errorf("marks: options: debounce: must not be negative, got %s", o.Debounce)
	case o.PartitionCheckInterval < 0:
		return nil, fmt.Errorf("marks: options: partition check interval: must not be negative, got %s", o.PartitionCheckInterval)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.PartitionCheckInterval == 0 {
		o.PartitionCheckInterval = DefaultPartitionCheckInterval
	}
	if o.Component == "" {
		o.Component = "marks"
	}
	o.Limits = o.Limits.WithDefaults()
	o.Brokers = append([]string(nil), o.Brokers...)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Table[V, E]{
		opts: o,
		log:  log.With("component", o.Component, "topic", o.Topic),
		m:    m,
	}, nil
}

// Ready reports whether the topic has been read to the end offsets seen at
// start and an engine built from it, and Run is still following the topic.
func (f *Table[V, E]) Ready() bool { return f.ready.Load() }

// Run reads every partition of the topic from the beginning until it reaches
// the end offsets it saw at start, builds the first engine and becomes Ready;
// then it follows the topic live, rebuilding after each debounced batch of
// changes. Broker errors are retried with backoff for as long as ctx lasts.
// Run returns nil once ctx is cancelled, after its readers have stopped; it
// leaves the current engine in place (see Close). It may be called once.
func (f *Table[V, E]) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("marks: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	// The Client's own Transport, so that its pooled connections and their
	// goroutines end with Run; kafka-go's default Transport is a global.
	// The Transport answers Metadata from a cache it refreshes every
	// MetadataTTL (6 s by default), so the TTL bounds how late a created
	// topic or an added partition is seen; one small request per TTL.
	transport := &kafka.Transport{
		MetadataTTL:    min(metadataTTL, f.opts.PartitionCheckInterval),
		MetadataTopics: []string{f.opts.Topic},
	}
	client := &kafka.Client{Addr: kafka.TCP(f.opts.Brokers...), Timeout: requestTimeout, Transport: transport}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		transport.CloseIdleConnections()
		f.ready.Store(false)
		f.m.ready.Set(0)
	}()

	start := time.Now()
	ranges, err := f.discover(ctx, client)
	if err != nil {
		return nil // only cancellation ends discovery
	}
	updates := make(chan update[V], updateBuffer)
	added := make(chan []int)
	readFrom := func(p int) { wg.Go(func() { f.readPartition(ctx, p, updates) }) }

	// pending holds the end offset of each partition not yet caught up.
	pending := make(map[int]int64, len(ranges))
	known := make(map[int]bool, len(ranges))
	for _, r := range ranges {
		known[r.partition] = true
		if r.first < r.end {
			pending[r.partition] = r.end
		}
		readFrom(r.partition)
	}
	wg.Go(func() { f.watchPartitions(ctx, client, known, added) })
	f.log.Info("reading marks topic", "partitions", len(ranges), "records_before_start", totalRecords(ranges))

	l := &loop[V, E]{f: f, set: recordSet[V]{}, pending: pending, start: start}
	l.run(ctx, updates, added, readFrom)
	return nil
}

// loop is the state of Run's single goroutine that owns the mark set.
type loop[V, E any] struct {
	f       *Table[V, E]
	set     recordSet[V]
	pending map[int]int64 // partition -> end offset at start, until reached
	start   time.Time
	read    int  // records applied so far
	dirty   bool // the set changed since the current engine was built
	// retry is the wait before the next retry of a failed build.
	retry time.Duration
}

// run applies updates until ctx ends. The timer fires a debounced rebuild or
// a build retry; armed tells whether it is set, retrying whether for a retry.
func (l *loop[V, E]) run(ctx context.Context, updates <-chan update[V], added <-chan []int, readFrom func(int)) {
	f := l.f
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed, retrying := false, false
	arm := func(d time.Duration, retry bool) {
		timer.Reset(d)
		armed, retrying = true, retry
	}
	// build builds an engine when the set is dirty; on failure it arms a
	// retry with a doubling backoff.
	build := func() {
		if l.build(ctx) {
			l.retry = 0
			return
		}
		if ctx.Err() != nil {
			return
		}
		l.retry = min(max(2*l.retry, f.opts.Debounce), maxBuildBackoff)
		arm(l.retry, true)
	}
	if len(l.pending) == 0 {
		l.caughtUp()
		build()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ps := <-added:
			for _, p := range ps {
				readFrom(p)
			}
			f.log.Info("reading partitions added to the marks topic", "partitions", ps)
		case <-timer.C:
			armed = false
			build()
		case u := <-updates:
			l.read++
			f.count(u)
			if l.set.apply(u) {
				l.dirty = true
			}
			if end, ok := l.pending[u.partition]; ok && u.offset >= end-1 {
				delete(l.pending, u.partition)
				if len(l.pending) == 0 {
					l.caughtUp()
					build()
					continue
				}
			}
			// Before catch-up nothing is built: the first engine waits for
			// the whole topic. After it, the first change arms the debounce,
			// and a change during a retry wait retries sooner.
			if l.dirty && len(l.pending) == 0 && (!armed || retrying && l.retry > f.opts.Debounce) {
				arm(f.opts.Debounce, false)
			}
		}
	}
}

// caughtUp logs the end of the initial read.
func (l *loop[V, E]) caughtUp() {
	l.dirty = true // the first engine is built even from an empty set
	l.f.log.Info("read marks topic to its end offsets at start", "records", l.read, "marks", len(l.set),
		"seconds", time.Since(l.start).Seconds())
}

// build builds and installs an engine from the current set if it changed,
// and reports whether the current engine is now up to date.
func (l *loop[V, E]) build(ctx context.Context) bool {
	f := l.f
	if !l.dirty {
		return true
	}
	marks := l.set.active()
	t0 := time.Now()
	e, err := f.opts.Build(ctx, marks)
	if err != nil {
		if ctx.Err() == nil {
			f.m.buildErrors.Inc()
			f.log.Error("build engine from marks; keeping the previous engine", "marks", len(marks), "error", err)
		}
		return false
	}
	f.m.rebuild.Observe(time.Since(t0).Seconds())
	f.install(e, len(marks))
	l.dirty = false
	if !f.ready.Load() {
		d := time.Since(l.start)
		f.m.catchUp.Set(d.Seconds())
		f.m.ready.Set(1)
		f.ready.Store(true)
		f.log.Info("marks engine ready", "marks", len(marks), "seconds", d.Seconds())
	} else {
		f.log.Debug("marks engine rebuilt", "marks", len(marks), "seconds", time.Since(t0).Seconds())
	}
	return true
}

// count records u in the metrics, and logs it when it is invalid.
func (f *Table[V, E]) count(u update[V]) {
	f.m.updates.WithLabelValues(u.kind.String()).Inc()
	if u.kind != kindInvalid {
		return
	}
	f.m.invalid.WithLabelValues(u.reason).Inc()
	f.log.Warn("invalid record on the topic; keeping the last good version of the record",
		"key", logKey(u.key), "partition", u.partition, "offset", u.offset, "reason", u.reason, "error", u.err)
}

// logKey bounds a key taken from the topic before it is logged: it is
// untrusted and may be long.
func logKey(k string) string {
	const maxLogged = 200
	if len(k) > maxLogged {
		return k[:maxLogged] + "…"
	}
	return k
}
