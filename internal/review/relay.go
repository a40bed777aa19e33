package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/store"
)

// Event is one outbox event on its way to a topic.
type Event struct {
	// ID is the stable event id; publishers send it along (as a Kafka
	// header, say) so that consumers can deduplicate.
	ID    string
	Topic string
	Key   string
	// Payload is the JSON message; nil is a tombstone.
	Payload json.RawMessage
}

// Publisher writes events to their topics.
//
// Publish returns nil only when every event of the batch is durably
// accepted (acknowledged by all in-sync replicas); on any error the relay
// publishes the whole batch again later, so an event may be published more
// than once, always under the same ID. Publish must return when ctx is done.
// Events of one key must be written in the order given.
type Publisher interface {
	Publish(ctx context.Context, events []Event) error
}

// RelayOptions configures NewRelay. Zero values take the defaults.
type RelayOptions struct {
	// Store is the database whose outbox is relayed; required.
	Store *store.Store
	// Publisher writes the events; required.
	Publisher Publisher
	// BatchSize is how many events one pass claims; 100 when zero.
	BatchSize int
	// ClaimTTL is how long a claimed event is reserved for this relay
	// before another may take it; it must exceed the longest publish. 30s
	// when zero.
	ClaimTTL time.Duration
	// Interval is how long Run waits after a pass that found less than a
	// full batch, and after a failure; 1s when zero.
	Interval time.Duration
	// Logger receives the relay's logs; none when nil.
	Logger *slog.Logger
	// Registerer receives the relay's metrics; none when nil.
	Registerer prometheus.Registerer
}

// Relay moves events from the transactional outbox to their topics, at
// least once and under their stable ids. Several relays may run against
// one database: each claims events under a lease (store.ClaimEvents), and
// an event whose relay died before marking it published is claimed again
// once the lease runs out.
type Relay struct {
	store     *store.Store
	publisher Publisher
	batch     int
	claimTTL  time.Duration
	interval  time.Duration
	log       *slog.Logger
	metrics   *relayMetrics
}

// NewRelay returns a Relay over opts.Store and opts.Publisher.
func NewRelay(opts RelayOptions) (*Relay, error) {
	if opts.Store == nil || opts.Publisher == nil {
		return nil, errors.New("review: new relay: a store and a publisher are required")
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 100
	}
	if opts.ClaimTTL == 0 {
		opts.ClaimTTL = 30 * time.Second
	}
	if opts.Interval == 0 {
		opts.Interval = time.Second
	}
	if opts.BatchSize < 0 || opts.ClaimTTL < time.Millisecond || opts.Interval < 0 {
		return nil, fmt.Errorf("review: new relay: batch %d, claim TTL %v and interval %v must be positive",
			opts.BatchSize, opts.ClaimTTL, opts.Interval)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := newRelayMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("review: new relay: %w", err)
	}
	return &Relay{
		store:     opts.Store,
		publisher: opts.Publisher,
		batch:     opts.BatchSize,
		claimTTL:  opts.ClaimTTL,
		interval:  opts.Interval,
		log:       opts.Logger.With("component", "outbox_relay"),
		metrics:   m,
	}, nil
}

// PublishPending makes one pass: it claims a batch of pending events,
// publishes it, marks it published, and returns how many events it
// published. When publishing fails it gives the claims back, so that the
// next pass retries at once, and returns the error; when marking fails the
// events are published again after their lease, under the same ids.
func (r *Relay) PublishPending(ctx context.Context) (int, error) {
	n, err := r.publishPending(ctx)
	if err != nil {
		r.metrics.failures.Inc()
	}
	if backlog, _, berr := r.store.OutboxBacklog(ctx); berr == nil {
		r.metrics.backlog.Set(float64(backlog))
	}
	return n, err
}

func (r *Relay) publishPending(ctx context.Context) (int, error) {
	claimed, err := r.store.ClaimEvents(ctx, r.batch, r.claimTTL)
	if err != nil {
		return 0, fmt.Errorf("review: relay: %w", err)
	}
	if len(claimed) == 0 {
		return 0, nil
	}
	events := make([]Event, len(claimed))
	ids := make([]int64, len(claimed))
	for i, e := range claimed {
		events[i] = Event{ID: e.EventID, Topic: e.Topic, Key: e.Key, Payload: e.Payload}
		ids[i] = e.ID
	}
	start := time.Now()
	err = r.publisher.Publish(ctx, events)
	r.metrics.publish.Observe(time.Since(start).Seconds())
	if err != nil {
		// The release is best effort: when it fails too, the lease runs
		// out instead. It must not be cut short by the ctx that may have
		// caused the failure.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if rerr := r.store.ReleaseClaims(rctx, ids); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return 0, fmt.Errorf("review: relay: publish %d events: %w", len(events), err)
	}
	// Marking what was published must not be cut short by a shutdown
	// that arrives just after the publish either: every event of the
	// batch would be published again after the restart.
	mctx, mcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer mcancel()
	if _, err := r.store.MarkPublished(mctx, ids); err != nil {
		return 0, fmt.Errorf("review: relay: published %d events but could not mark them (they will be published again): %w", len(events), err)
	}
	r.metrics.published.Add(float64(len(events)))
	return len(events), nil
}

// Run relays events until ctx is done and then returns nil. It makes passes
// back to back while they find full batches, and waits Interval otherwise;
// a failed pass is logged, counted and retried after Interval.
func (r *Relay) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		n, err := r.PublishPending(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Error("relaying outbox events", "error", err)
		}
		wait := r.interval
		if err == nil && n == r.batch {
			wait = 0
		}
		timer.Reset(wait)
	}
}
