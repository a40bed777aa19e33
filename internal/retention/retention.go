// Package retention runs the review store's retention: on a timer, it makes
// the partitions of the coming months (PostgreSQL) and deletes what has been
// kept long enough — decided complaints, and the strikes, counter-notices
// and audit entries kept as records — through store.ApplyRetention. It
// imports the store's types only; cmd wires it into markwatch serve.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/store"
)

// Store is what the job needs of the store. Both methods must be safe to
// call from several processes at once (replicas each run a job): the store
// serializes partition creation and its deletions are idempotent.
type Store interface {
	// EnsurePartitions makes the partitions of months months from from.
	EnsurePartitions(ctx context.Context, from time.Time, months int) (int, error)
	// ApplyRetention deletes what the policy says has been kept long
	// enough.
	ApplyRetention(ctx context.Context, p store.RetentionPolicy) (store.RetentionResult, error)
}

// Options configures New. Zero values take the defaults.
type Options struct {
	Store Store
	// DecidedComplaints and Records are the retention periods (see
	// config.Retention); zero keeps that kind forever.
	DecidedComplaints, Records time.Duration
	// Interval between runs; one hour when zero.
	Interval time.Duration
	// Batch is the rows per deleting transaction; 1000 when zero.
	Batch int
	// PartitionsAhead is the months of partitions kept made, this one
	// included; 3 when zero.
	PartitionsAhead int
	// Now is the clock; time.Now when nil.
	Now        func() time.Time
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Job is the retention job. Run it with Run; Once runs one pass.
type Job struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
}

// metrics are the job's Prometheus metrics.
type metrics struct {
	runs        *prometheus.CounterVec
	deleted     *prometheus.CounterVec
	kept        prometheus.Counter
	dropped     prometheus.Counter
	created     prometheus.Counter
	lastSuccess prometheus.Gauge
	duration    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	m := &metrics{
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_retention_runs_total", Help: "Runs of the retention job by outcome (ok, error).",
		}, []string{"outcome"}),
		deleted: f.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_retention_deleted_total", Help: "Rows the retention job deleted, by kind (complaints, strikes, counter_notices, audit).",
		}, []string{"kind"}),
		kept: f.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_retention_kept_total", Help: "Complaints past their retention kept because a strike or counter-notice needs them, or not decided yet (moved to complaints_kept on PostgreSQL).",
		}),
		dropped: f.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_retention_partitions_dropped_total", Help: "Monthly partitions the retention job dropped whole (PostgreSQL).",
		}),
		created: f.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_partitions_created_total", Help: "Monthly partitions the retention job made ahead (PostgreSQL).",
		}),
		lastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_retention_last_success_timestamp_seconds", Help: "When the retention job last finished without error (Unix seconds).",
		}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name: "markwatch_retention_duration_seconds", Help: "How long a run of the retention job took.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 9),
		}),
	}
	for _, k := range []string{"complaints", "strikes", "counter_notices", "audit"} {
		m.deleted.WithLabelValues(k)
	}
	for _, o := range []string{"ok", "error"} {
		m.runs.WithLabelValues(o)
	}
	return m
}

// New returns a job, or an error naming a bad option.
func New(opts Options) (*Job, error) {
	switch {
	case opts.Store == nil:
		return nil, errors.New("retention: no store")
	case opts.DecidedComplaints < 0 || opts.Records < 0 || opts.Interval < 0 || opts.Batch < 0 || opts.PartitionsAhead < 0:
		return nil, errors.New("retention: negative option")
	}
	if opts.Interval == 0 {
		opts.Interval = time.Hour
	}
	if opts.Batch == 0 {
		opts.Batch = 1000
	}
	if opts.PartitionsAhead == 0 {
		opts.PartitionsAhead = 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	return &Job{opts: opts, log: opts.Logger.With("component", "retention"), metrics: newMetrics(opts.Registerer)}, nil
}

// Once makes the coming months' partitions and applies retention once, as
// of the job's clock, and counts what it did in the metrics.
func (j *Job) Once(ctx context.Context) (store.RetentionResult, error) {
	start := time.Now()
	now := j.opts.Now()
	res, err := j.once(ctx, now)
	j.metrics.duration.Observe(time.Since(start).Seconds())
	j.metrics.deleted.WithLabelValues("complaints").Add(float64(res.Complaints))
	j.metrics.deleted.WithLabelValues("strikes").Add(float64(res.Strikes))
	j.metrics.deleted.WithLabelValues("counter_notices").Add(float64(res.CounterNotices))
	j.metrics.deleted.WithLabelValues("audit").Add(float64(res.Audit))
	j.metrics.kept.Add(float64(res.Kept))
	j.metrics.dropped.Add(float64(res.PartitionsDropped))
	if err != nil {
		j.metrics.runs.WithLabelValues("error").Inc()
		return res, err
	}
	j.metrics.runs.WithLabelValues("ok").Inc()
	j.metrics.lastSuccess.Set(float64(time.Now().Unix()))
	return res, nil
}

func (j *Job) once(ctx context.Context, now time.Time) (store.RetentionResult, error) {
	made, err := j.opts.Store.EnsurePartitions(ctx, now, j.opts.PartitionsAhead)
	j.metrics.created.Add(float64(made))
	if err != nil {
		return store.RetentionResult{}, fmt.Errorf("retention: %w", err)
	}
	p := store.RetentionPolicy{Batch: j.opts.Batch}
	if j.opts.DecidedComplaints > 0 {
		p.DecidedBefore = now.Add(-j.opts.DecidedComplaints)
	}
	if j.opts.Records > 0 {
		p.RecordsBefore = now.Add(-j.opts.Records)
	}
	if p.DecidedBefore.IsZero() && p.RecordsBefore.IsZero() {
		return store.RetentionResult{}, nil
	}
	res, err := j.opts.Store.ApplyRetention(ctx, p)
	if err != nil {
		return res, fmt.Errorf("retention: %w", err)
	}
	return res, nil
}

// Run runs Once at once and then every interval until ctx ends, and
// returns ctx's error. A failed run is logged and counted, and the next
// tick tries again: what it did not delete is still due.
func (j *Job) Run(ctx context.Context) error {
	t := time.NewTicker(j.opts.Interval)
	defer t.Stop()
	for {
		res, err := j.Once(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			j.log.Error("retention run failed", "error", err)
		case err == nil && res != (store.RetentionResult{}):
			j.log.Info("retention applied", "complaints", res.Complaints, "kept", res.Kept, "strikes", res.Strikes,
				"counter_notices", res.CounterNotices, "audit", res.Audit, "partitions_dropped", res.PartitionsDropped)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
