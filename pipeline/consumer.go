package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Options configure a Consumer. Zero values take the defaults named on each
// field; Brokers, GroupID, Topic, DLQTopic and Writer are required.
type Options struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// GroupID is the consumer group; members of one group share the
	// topic's partitions.
	GroupID string
	// Topic is the input topic.
	Topic string
	// DLQTopic receives inputs that can never be processed. It must differ
	// from Topic.
	DLQTopic string

	// Concurrency is the number of workers (default 8). Messages with the
	// same key always go to the same worker (FNV-1a of the key modulo
	// Concurrency; a message without a key goes by its partition), so they
	// are handled one at a time in offset order.
	Concurrency int
	// QueueSize is how many fetched messages may wait for each worker
	// (default 16). A full queue stops fetching: one slow key holds back
	// the others that hash to its worker, and then the fetcher.
	QueueSize int
	// CommitInterval is how often finished offsets are committed (default
	// 500 ms); each commit carries the highest contiguous finished offset
	// of every partition that advanced.
	CommitInterval time.Duration
	// InitialRetryBackoff and MaxRetryBackoff bound the exponential backoff
	// between retries of a transient failure, of the handler or of a write
	// (defaults 100 ms and 10 s).
	InitialRetryBackoff time.Duration
	MaxRetryBackoff     time.Duration
	// HandlerTimeout bounds each handler attempt (default 30 s); a timeout
	// is a transient failure. Negative means no limit.
	HandlerTimeout time.Duration
	// DrainTimeout bounds the drain at shutdown: finishing fetched messages
	// and writing their outputs (default 8 s). Work not done by then is
	// abandoned uncommitted, to be delivered again.
	DrainTimeout time.Duration
	// CommitTimeout bounds each commit call, the final one included
	// (default 1 s, so that drain and final commit fit the 10 s a process
	// has between SIGTERM and SIGKILL with the default DrainTimeout).
	CommitTimeout time.Duration
	// StallTimeout is how long messages may wait with none finishing before
	// Healthy reports an error (default 60 s).
	StallTimeout time.Duration
	// LagInterval is how often the lag gauge is refreshed (default 2 s,
	// fine enough to time a drain; negative turns the refresh off, Lag
	// still works). Values older than LagStaleAfter (default 5 intervals,
	// at least 10 s) are dropped rather than exported as current.
	LagInterval   time.Duration
	LagStaleAfter time.Duration
	// MaxOutputBytes caps the size of one output (key, value and headers;
	// default 1,000,000, below the Writer's 1 MiB batch limit). A larger
	// output dead-letters its input with class "output": it could never
	// be written and would block its partition forever. A dead letter over
	// the cap is written without its value (header dlq.value_omitted).
	MaxOutputBytes int
	// EmitBatchSize is the most messages per write call (default 1000).
	EmitBatchSize int

	// MaxWait is the longest a fetch waits for new data (default 500 ms).
	MaxWait time.Duration
	// GroupInstanceID, when set, makes this consumer a member of the group
	// through markwatch's own client: a static member (KIP-345) under that
	// id — a restart within SessionTimeout gets its partitions back without
	// a rebalance, and coordinator errors do not make it join again as a
	// new member — with incremental cooperative rebalancing (KIP-429): a
	// rebalance revokes only the partitions that move. It must be unique
	// per member and stable across its restarts. Empty: kafka-go's
	// ConsumerGroup (dynamic membership, eager rebalancing).
	GroupInstanceID string

	// SessionTimeout is how long the group waits for a silent member before
	// giving its partitions to others (default 10 s), and
	// HeartbeatInterval how often members say they are alive (default 1 s).
	SessionTimeout    time.Duration
	HeartbeatInterval time.Duration

	// Logger receives the consumer's logs (nil: none).
	Logger *slog.Logger
	// Registerer receives the consumer's metrics (nil: not exported).
	Registerer prometheus.Registerer
	// Writer writes outputs and dead letters; each message names its topic.
	// Use NewWriter: it waits for all in-sync replicas.
	Writer MessageWriter

	// reader replaces the kafka-go group Reader in tests.
	reader messageReader
	// wrapTransport wraps the group member's transport in tests, to
	// inject coordinator errors.
	wrapTransport func(*kafka.Transport) kafka.RoundTripper
}

// withDefaults returns o with defaults filled in.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 16
	}
	def(&o.CommitInterval, 500*time.Millisecond)
	def(&o.InitialRetryBackoff, 100*time.Millisecond)
	def(&o.MaxRetryBackoff, 10*time.Second)
	def(&o.HandlerTimeout, 30*time.Second)
	def(&o.DrainTimeout, 8*time.Second)
	def(&o.CommitTimeout, time.Second)
	def(&o.StallTimeout, 60*time.Second)
	def(&o.LagInterval, 2*time.Second)
	def(&o.LagStaleAfter, max(5*o.LagInterval, 10*time.Second))
	def(&o.MaxWait, 500*time.Millisecond)
	def(&o.SessionTimeout, 10*time.Second)
	def(&o.HeartbeatInterval, time.Second)
	if o.MaxOutputBytes == 0 {
		o.MaxOutputBytes = 1_000_000
	}
	if o.EmitBatchSize <= 0 {
		o.EmitBatchSize = 1000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// validate names the first bad field.
func (o Options) validate() error {
	switch {
	case len(o.Brokers) == 0 && o.reader == nil:
		return errors.New("pipeline: Brokers is empty")
	case o.GroupID == "":
		return errors.New("pipeline: GroupID is empty")
	case o.Topic == "":
		return errors.New("pipeline: Topic is empty")
	case o.DLQTopic == "":
		return errors.New("pipeline: DLQTopic is empty")
	case o.DLQTopic == o.Topic:
		return fmt.Errorf("DLQTopic %q is the input topic: dead letters would be consumed again", o.DLQTopic)
	case o.Writer == nil:
		return errors.New("pipeline: Writer is nil")
	case o.CommitInterval < 0, o.DrainTimeout < 0, o.CommitTimeout < 0, o.StallTimeout < 0:
		return errors.New("CommitInterval, DrainTimeout, CommitTimeout and StallTimeout must not be negative")
	case o.InitialRetryBackoff < 0 || o.MaxRetryBackoff < o.InitialRetryBackoff:
		return fmt.Errorf("retry backoff: want 0 <= InitialRetryBackoff (%v) <= MaxRetryBackoff (%v)", o.InitialRetryBackoff, o.MaxRetryBackoff)
	}
	return nil
}

// Consumer is one member of a consumer group: it fetches the input topic,
// hands each message to the Handler on a pool of workers that keeps per-key
// order, writes the outputs, and commits the highest contiguous finished
// offset of each partition. See the package documentation for the
// delivery semantics.
type Consumer struct {
	opts    Options
	handler Handler
	log     *slog.Logger
	m       *metrics
	tracker *offsetTracker
	backoff Backoff
	lag     *lagReporter
	// clientID names this consumer's group reader to the coordinator,
	// which is how the lag reporter finds the partitions it holds.
	clientID string
	// reader is the reader Run uses; set before the reader starts.
	reader messageReader
	// owned: the reader says which partitions it owns (assigningReader);
	// messages of others are dropped and nothing is fenced by generation.
	owned bool
	// commitMu makes commits one at a time: a revocation commits beside
	// the commit loop, and an older commit landing after a newer one
	// would move the group's offset back.
	commitMu sync.Mutex

	running      atomic.Bool
	started      atomic.Bool
	lastProgress atomic.Int64 // unix nanoseconds
}

// NewConsumer checks opts, fills in defaults and registers the metrics. It
// does no I/O: the group is joined by Run.
func NewConsumer(opts Options, h Handler) (*Consumer, error) {
	if h == nil {
		return nil, errors.New("pipeline: new consumer: handler is nil")
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("pipeline: new consumer: %w", err)
	}
	opts = opts.withDefaults()
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("pipeline: new consumer: %w", err)
	}
	log := opts.Logger.With("component", "consumer", "topic", opts.Topic, "group", opts.GroupID)
	c := &Consumer{
		opts:    opts,
		handler: h,
		log:     log,
		m:       m,
		tracker: newOffsetTracker(opts.Topic),
		backoff: Backoff{Initial: opts.InitialRetryBackoff, Max: opts.MaxRetryBackoff},
	}
	m.lag.topic, m.lag.staleAfter, m.lag.log = opts.Topic, opts.LagStaleAfter, log
	if len(opts.Brokers) > 0 {
		c.clientID = memberClientID(opts.GroupID)
		c.lag = newLagReporter(opts.Brokers, opts.GroupID, opts.Topic, c.clientID)
	}
	return c, nil
}

// job is one fetched message on its way to a worker.
type job struct {
	msg kafka.Message
	tok offsetToken
}

// emission is a handled message's outputs on their way to the writer.
type emission struct {
	tok  offsetToken
	msgs []kafka.Message
}

// Run consumes until ctx is canceled, then drains and returns nil: it stops
// fetching, lets the workers finish the messages already fetched, writes
// their outputs, commits what finished and closes the reader. The drain
// takes at most DrainTimeout; the final commit at most CommitTimeout more.
// Work unfinished at the deadline is not committed and will be delivered
// again. A Consumer runs once; Run returns an error if called again, or if
// the reader fails for good.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("pipeline: consumer: Run called twice")
	}
	reader := c.opts.reader
	var member *staticReader
	if reader == nil {
		if c.opts.GroupInstanceID != "" {
			member = newStaticReader(c.opts, c.clientID, c.opts.Logger, nil)
			reader = member
		} else {
			reader = newGroupReader(c.opts, c.clientID, c.opts.Logger)
		}
	}
	c.reader = reader
	if ar, ok := reader.(assigningReader); ok {
		ar.listen(c)
		c.owned = true
	}
	if member != nil {
		member.start()
	}
	c.lastProgress.Store(time.Now().UnixNano())
	c.started.Store(true)
	c.log.Info("consumer starting", "concurrency", c.opts.Concurrency)

	// Handlers and writes run under workCtx, which outlives ctx by the
	// drain: in-flight work gets DrainTimeout to finish after shutdown.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	handle := c.chain(c.handler)
	emits := make(chan emission, c.opts.EmitBatchSize)
	queues := make([]chan job, c.opts.Concurrency)
	var workers sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan job, c.opts.QueueSize)
		workers.Go(func() { c.work(workCtx, queues[i], emits, handle) })
	}
	emitterDone := make(chan struct{})
	go func() {
		defer close(emitterDone)
		c.emit(workCtx, emits)
	}()
	var background sync.WaitGroup
	background.Go(func() { c.commitLoop(ctx, reader) })
	if c.lag != nil && c.opts.LagInterval > 0 {
		background.Go(func() { c.lag.loop(ctx, c.opts.LagInterval, c.m.lag) })
	}

	fetchErr := c.fetchLoop(ctx, reader, queues)

	// Drain: stop fetching (done), finish in-flight, flush outputs, commit,
	// close the reader. The deadline cancels whatever is still running.
	drainStart := time.Now()
	deadline := time.AfterFunc(c.opts.DrainTimeout, cancelWork)
	for _, q := range queues {
		close(q)
	}
	workers.Wait()
	close(emits)
	<-emitterDone
	drained := deadline.Stop()
	background.Wait()

	commitCtx, cancelCommit := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	commitErr := c.commit(commitCtx, reader)
	cancelCommit()
	closeErr := reader.Close()
	if c.lag != nil {
		c.lag.close()
	}
	abandoned := c.tracker.pending()
	c.m.inFlight.Set(float64(abandoned))
	c.log.Info("consumer stopped", "drain_seconds", time.Since(drainStart).Seconds(),
		"drained", drained, "abandoned", abandoned)
	if commitErr != nil && !isCanceled(commitErr) {
		c.log.Warn("final commit failed; the uncommitted messages will be delivered again", "error", commitErr)
	}
	if fetchErr != nil {
		return fmt.Errorf("pipeline: consumer %s: %w", c.opts.Topic, fetchErr)
	}
	if closeErr != nil {
		return fmt.Errorf("pipeline: consumer %s: close reader: %w", c.opts.Topic, closeErr)
	}
	return nil
}

// fetchFailuresWarn is the number of failed fetches in a row from which a
// routine fetch error is logged at warn.
const fetchFailuresWarn = 10

// fetchSpinLimit is how many fetch errors in a row, returned without
// blocking, the fetch loop takes before it backs off: only a reader that
// fails at once, again and again, gets there (see fetchLoop).
const fetchSpinLimit = 256

// fetchSpinTime is how long, on average, a fetch error may take and still
// count as returned without blocking; a single error that took
// fetchBlocked or longer ends a run of them. kafka-go's fetchers wait at
// least ReadBackoffMin (100 ms) before they report another error; an
// error returned at once takes microseconds, and on a loaded machine now
// and then a few milliseconds, which must not end the run (one slow call
// among 256 used to, and the loop spun on).
const (
	fetchSpinTime = time.Millisecond
	fetchBlocked  = 50 * time.Millisecond
)

// fetchLoop fetches until ctx ends and dispatches each message to its
// worker. It returns nil when ctx ends, or the reader's error if the reader
// was closed under it.
//
// A fetch error does not pause the loop: the error is one partition's (or
// the group's, between generations), and the messages of the other
// partitions are already queued behind it. kafka-go's reader runs one
// fetcher per partition, each backing off on its own (ReadBackoffMin/Max)
// before it reports its next error, and rejoins the group after
// JoinGroupBackoff; a wait here stopped every partition for up to
// MaxRetryBackoff (10 s) after one partition's leader moved. The loop backs
// off only when fetchSpinLimit errors in a row came back without
// blocking (within fetchSpinTime each on average, none taking
// fetchBlocked): a reader that never blocks would otherwise spin.
func (c *Consumer) fetchLoop(ctx context.Context, reader messageReader, queues []chan job) error {
	counter, _ := reader.(rebalanceCounter)
	rebalances := func() int64 {
		if counter == nil {
			return 0
		}
		return counter.Rebalances()
	}
	var spinStart time.Time // when the current run of quick errors began
	for attempt, spins, spinWaits := 0, 0, 0; ; {
		fetchStart := time.Now()
		msg, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("fetch: reader closed: %w", err)
			}
			attempt++
			switch {
			case time.Since(fetchStart) >= fetchBlocked:
				spins = 0
			case spins == 0:
				spins, spinStart = 1, fetchStart
			default:
				spins++
			}
			if spins >= fetchSpinLimit && time.Since(spinStart) >= fetchSpinLimit*fetchSpinTime {
				// As many errors, but spread out: the reader blocks.
				spins = 0
			}
			// Routine errors (a timeout, a closed idle connection) at
			// debug; faults at warn or error with what to do.
			class := ClassifyKafkaError(err)
			if attempt >= fetchFailuresWarn && class.Level < slog.LevelWarn {
				// Routine once, not ten times in a row.
				class.Level, class.Hint = slog.LevelWarn, "fetches keep failing: check the broker's health and the network to it"
			}
			if attempt > fetchFailuresWarn && !logAttempt(attempt) {
				// A long outage on many partitions: attempts 16, 32, ...
				class.Level = slog.LevelDebug
			}
			attrs := []any{"error", err, "error_class", class.Class, "attempt", attempt}
			if class.Hint != "" {
				attrs = append(attrs, "hint", class.Hint)
			}
			if spins < fetchSpinLimit {
				c.log.Log(ctx, class.Level, "fetch failed; fetching on", attrs...)
				continue
			}
			d := c.backoff.Delay(spinWaits)
			spins, spinWaits = 0, spinWaits+1
			c.log.Log(ctx, max(class.Level, slog.LevelWarn), "fetches fail without waiting; backing off", append(attrs, "delay", d)...)
			if !wait(ctx, d) {
				return nil
			}
			continue
		}
		attempt, spins, spinWaits = 0, 0, 0
		attempt = 0
		c.m.consumed.WithLabelValues(msg.Topic).Inc()
		pendingBefore := c.tracker.pending()
		var tok offsetToken
		var rewound bool
		var rebalanced int64
		if c.owned {
			var ok bool
			if tok, rewound, ok = c.tracker.addOwned(msg.Partition, msg.Offset); !ok {
				// Revoked between the fetch and now: its next owner reads it.
				continue
			}
		} else {
			// The count is read right after the fetch: see offsetTracker.add.
			tok, rewound, rebalanced = c.tracker.add(msg.Partition, msg.Offset, rebalances())
		}
		if pendingBefore == 0 {
			// Work arrives after an idle spell: progress is judged from now.
			c.lastProgress.Store(time.Now().UnixNano())
		}
		c.m.inFlight.Set(float64(c.tracker.pending()))
		if rebalanced > 0 {
			c.m.rebalances.Add(float64(rebalanced))
			c.log.Info("group rebalanced; offsets fenced until each partition is fetched again")
		}
		if rewound {
			c.log.Info("partition delivered again from an earlier offset", "partition", msg.Partition, "offset", msg.Offset)
		}
		q := queues[workerFor(msg, len(queues))]
		select {
		case q <- job{msg: msg, tok: tok}:
		case <-ctx.Done():
			// Fetched but never handed out: it stays unfinished in the
			// tracker, so nothing at or after it is committed.
			return nil
		}
	}
}

// workerFor picks the worker of msg: by key, so that a key's messages are
// handled in order by one worker; by partition for messages without a key.
func workerFor(msg kafka.Message, n int) int {
	if n == 1 {
		return 0
	}
	h := fnv.New32a()
	if len(msg.Key) > 0 {
		_, _ = h.Write(msg.Key) // hash.Hash never fails
	} else {
		var b [8]byte
		p := uint64(msg.Partition)
		for i := range b {
			b[i] = byte(p >> (8 * i))
		}
		_, _ = h.Write(b[:])
	}
	return int(h.Sum32() % uint32(n))
}

// work handles the jobs of one worker, in order. A message whose outputs
// are empty is finished at once; others finish when the emitter has
// written them. A message abandoned at shutdown is left unfinished.
func (c *Consumer) work(ctx context.Context, jobs <-chan job, emits chan<- emission, handle Handler) {
	for j := range jobs {
		if !c.tracker.live(j.tok) {
			// Its partition was given up: the next owner handles it.
			continue
		}
		outs, err := handle(ctx, j.msg)
		if err != nil {
			// The chain turns every permanent error into a dead letter and
			// retries every transient one, so an error here means the
			// drain deadline passed: the message stays uncommitted.
			c.log.Debug("message abandoned at shutdown", "partition", j.msg.Partition, "offset", j.msg.Offset, "error", err)
			continue
		}
		if len(outs) == 0 {
			c.finish(j.tok)
			continue
		}
		if !c.tracker.live(j.tok) {
			// Revoked while it was handled: no complaint for a partition
			// this member no longer owns.
			continue
		}
		select {
		case emits <- emission{tok: j.tok, msgs: outs}:
		case <-ctx.Done():
		}
	}
}

// finish marks a message done: its offset may now be committed.
func (c *Consumer) finish(tok offsetToken) {
	c.tracker.done(tok)
	c.lastProgress.Store(time.Now().UnixNano())
	c.m.inFlight.Set(float64(c.tracker.pending()))
}

// emit writes outputs in batches, one write at a time and in the order the
// workers produced them, so a key's outputs keep their order. It returns
// when emits is closed and written, or when ctx ends.
func (c *Consumer) emit(ctx context.Context, emits <-chan emission) {
	var batch []emission
	var msgs []kafka.Message
	for {
		e, ok := <-emits
		if !ok {
			return
		}
		batch, msgs = append(batch[:0], e), append(msgs[:0], e.msgs...)
		open := true
	gather:
		for open && len(msgs) < c.opts.EmitBatchSize {
			select {
			case e, open = <-emits:
				if open {
					batch = append(batch, e)
					msgs = append(msgs, e.msgs...)
				}
			default:
				break gather
			}
		}
		if c.owned {
			batch, msgs = c.liveOnly(batch, msgs)
		}
		if !c.write(ctx, msgs) {
			return
		}
		for _, m := range msgs {
			c.m.emitted.WithLabelValues(m.Topic).Inc()
		}
		for _, e := range batch {
			c.finish(e.tok)
		}
		if !open {
			return
		}
	}
}

// liveOnly drops from batch the emissions of partitions given up since
// they were handled, and rebuilds msgs to match: no complaint is written
// for a partition this member no longer owns.
func (c *Consumer) liveOnly(batch []emission, msgs []kafka.Message) ([]emission, []kafka.Message) {
	kept, msgs := batch[:0], msgs[:0]
	for _, e := range batch {
		if c.tracker.live(e.tok) {
			kept = append(kept, e)
			msgs = append(msgs, e.msgs...)
		}
	}
	return kept, msgs
}

// write writes msgs until all are acknowledged, retrying failures with
// backoff: a write failure is transient (a broker restarting, a leader
// moving). After a partial failure only the failed messages are written
// again. It reports false when ctx ended first.
func (c *Consumer) write(ctx context.Context, msgs []kafka.Message) bool {
	pending := msgs
	if len(pending) == 0 {
		return true
	}
	for attempt := 0; ; attempt++ {
		err := c.opts.Writer.WriteMessages(ctx, pending...)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		var werrs kafka.WriteErrors
		if errors.As(err, &werrs) && len(werrs) == len(pending) {
			failed := make([]kafka.Message, 0, werrs.Count())
			for i, e := range werrs {
				if e != nil {
					failed = append(failed, pending[i])
				}
			}
			if len(failed) > 0 {
				pending = failed
			}
		}
		c.m.emitRetries.Inc()
		d := c.backoff.Delay(attempt)
		if logAttempt(attempt + 1) {
			c.log.Warn("write failed; retrying", "error", err, "messages", len(pending), "attempt", attempt+1, "delay", d)
		}
		if !wait(ctx, d) {
			return false
		}
	}
}

// logAttempt limits retry logs to attempts 1, 2, 4, 8, ...: a long outage
// is visible without a line per message per second.
func logAttempt(n int) bool { return n&(n-1) == 0 }

// commitLoop commits finished offsets every CommitInterval until ctx ends.
func (c *Consumer) commitLoop(ctx context.Context, reader messageReader) {
	t := time.NewTicker(c.opts.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, c.opts.CommitTimeout)
		err := c.commit(cctx, reader)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.log.Warn("commit failed; offsets stay uncommitted", "error", err)
		}
	}
}

// commit commits the highest contiguous finished offset of every partition
// that advanced and is not fenced.
//
// A failed commit leaves the tracker as it was: the same offsets, or
// higher ones, are tried at the next tick. After a rebalance the failure is
// followed by a new generation: the reader's rebalance count grows, which
// fences the old generation's offsets (see offsetTracker.observeRebalances),
// and kafka-go delivers kept partitions again from their committed offsets.
// Dropping the tracked state on the error alone would be wrong: without a
// new generation the reader does not re-deliver, and the next commit would
// pass messages still in flight.
func (c *Consumer) commit(ctx context.Context, reader messageReader) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	if counter, ok := reader.(rebalanceCounter); ok {
		if n := c.tracker.observeRebalances(counter.Rebalances()); n > 0 {
			c.m.rebalances.Add(float64(n))
			c.log.Info("group rebalanced; offsets fenced until each partition is fetched again")
		}
	}
	points := c.tracker.advance()
	if len(points) == 0 {
		return nil
	}
	msgs := make([]kafka.Message, len(points))
	for i, p := range points {
		// CommitMessages stores Offset+1, the next offset to read.
		msgs[i] = kafka.Message{Topic: c.opts.Topic, Partition: p.partition, Offset: p.offset}
	}
	if err := reader.CommitMessages(ctx, msgs...); err != nil {
		c.m.commitErrs.Inc()
		return fmt.Errorf("commit %d partitions: %w", len(msgs), err)
	}
	c.tracker.committed(points)
	c.m.commits.Inc()
	return nil
}

// onRetry logs and counts a transient handler failure.
func (c *Consumer) onRetry(_ context.Context, msg kafka.Message, attempt int, err error, delay time.Duration) {
	c.m.handled.WithLabelValues(outcomeRetried).Inc()
	if logAttempt(attempt) {
		c.log.Warn("handler failed; retrying", "partition", msg.Partition, "offset", msg.Offset,
			"key", string(msg.Key), "attempt", attempt, "delay", delay, "error", err)
	}
}

// onDeadLetter logs and counts a permanent failure.
func (c *Consumer) onDeadLetter(_ context.Context, msg kafka.Message, class string, err error) {
	c.m.deadLetters.WithLabelValues(class).Inc()
	args := []any{"partition", msg.Partition, "offset", msg.Offset, "key", string(msg.Key),
		"error_class", class, "error", err, "dlq_topic", c.opts.DLQTopic}
	var pe *PanicError
	if errors.As(err, &pe) {
		c.log.Error("handler panicked; message dead-lettered", append(args, "stack", string(pe.Stack))...)
		return
	}
	c.log.Warn("message dead-lettered", args...)
}

// LastProgress returns when a message last finished, or when work last
// arrived after an idle spell, or when Run started (the zero Time before).
func (c *Consumer) LastProgress() time.Time {
	if !c.started.Load() {
		return time.Time{}
	}
	return time.Unix(0, c.lastProgress.Load())
}

// Healthy judges liveness by progress, not by connectivity: it returns an
// error when fetched messages are waiting and none has finished for
// StallTimeout (a handler or write stuck for good; a restart may help). An
// idle consumer is healthy, and so is one whose broker is down: restarting
// it would not bring the broker back.
func (c *Consumer) Healthy(now time.Time) error {
	if !c.started.Load() {
		return nil
	}
	waiting := c.tracker.pending()
	if waiting == 0 {
		return nil
	}
	if idle := now.Sub(c.LastProgress()); idle > c.opts.StallTimeout {
		return fmt.Errorf("pipeline: consumer %s: %d messages waiting and none finished for %v (limit %v)",
			c.opts.Topic, waiting, idle.Round(time.Second), c.opts.StallTimeout)
	}
	return nil
}

// Lag returns, per partition of the input topic, how many messages the
// group has not committed: end offset minus committed offset (minus the
// first offset when the group has committed nothing there). It asks the
// broker, since kafka-go's Reader.Lag is -1 for a group reader.
func (c *Consumer) Lag(ctx context.Context) (map[int]int64, error) {
	if c.lag == nil {
		return nil, errNoBrokers
	}
	return c.lag.lag(ctx)
}
