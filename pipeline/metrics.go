package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/telemetry"
)

// Outcomes of markwatch_consumer_messages_handled_total.
const (
	outcomeOK           = "ok"            // handler succeeded (outputs may still be in flight)
	outcomeDeadLettered = "dead_lettered" // permanent failure, routed to the DLQ
	outcomeRetried      = "retried"       // one transient failure that was retried
	outcomeAbandoned    = "abandoned"     // given up at shutdown; not committed, redelivered later
)

// metrics are the consumer's Prometheus collectors.
type metrics struct {
	consumed    *prometheus.CounterVec
	handled     *prometheus.CounterVec
	duration    prometheus.Histogram
	emitted     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	commits     prometheus.Counter
	commitErrs  prometheus.Counter
	emitRetries prometheus.Counter
	rebalances  prometheus.Counter
	// assignedParts, revokedParts and lostParts count partitions this
	// member gained, gave up after committing, and lost without a commit
	// (markwatch's own group membership only).
	assignedParts prometheus.Counter
	revokedParts  prometheus.Counter
	lostParts     prometheus.Counter
	lag           *lagGauge
	inFlight      prometheus.Gauge
}

// newMetrics declares the collectors on reg; a nil reg leaves them
// unregistered, which makes them no-ops to the outside. Two consumers in
// one process need reg wrapped with a distinguishing label
// (prometheus.WrapRegistererWith), as the names would clash.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := telemetry.Build(reg, func(f promauto.Factory) *metrics {
		const ns, sub = telemetry.Namespace, "consumer"
		return &metrics{
			consumed: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "messages_consumed_total",
				Help: "Messages fetched from the input topic, by topic (re-deliveries count again).",
			}, []string{"topic"}),
			handled: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "messages_handled_total",
				Help: "Handler results by outcome: ok, dead_lettered, retried (one per transient failure), abandoned (at shutdown; redelivered later).",
			}, []string{"outcome"}),
			duration: f.NewHistogram(prometheus.HistogramOpts{
				Namespace: ns, Subsystem: sub, Name: "handler_duration_seconds",
				Help:    "Time to handle one message, retries included, until success, dead-lettering or abandonment.",
				Buckets: telemetry.ExponentialBuckets(0.0001, 3, 14), // 100 µs .. 160 s
			}),
			emitted: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "messages_emitted_total",
				Help: "Messages written and acknowledged by all in-sync replicas, by topic (outputs and dead letters).",
			}, []string{"topic"}),
			deadLetters: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "dead_letters_total",
				Help: "Inputs routed to the dead-letter topic, by error class (decode, validation, panic, output, ...).",
			}, []string{"error_class"}),
			commits: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "commits_total",
				Help: "Successful offset commits (one per commit call, covering every partition that advanced).",
			}),
			commitErrs: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "commit_errors_total",
				Help: "Failed offset commits; the offsets stay uncommitted and are tried again, or fenced after a rebalance.",
			}),
			emitRetries: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "emit_retries_total",
				Help: "Failed writes of outputs or dead letters, each retried with backoff.",
			}),
			rebalances: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "rebalances_total",
				Help: "Consumer group generations this member joined, as reported by the reader.",
			}),
			assignedParts: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "partitions_assigned_total",
				Help: "Partitions this member started fetching after a rebalance (markwatch's group membership; kept partitions do not count).",
			}),
			revokedParts: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "partitions_revoked_total",
				Help: "Partitions this member gave up in a rebalance after finishing and committing their fetched work (cooperative rebalancing revokes only partitions that move).",
			}),
			lostParts: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: sub, Name: "partitions_lost_total",
				Help: "Partitions this member dropped without committing, because the coordinator no longer counted it a member (silent beyond the session timeout, or its instance id taken).",
			}),
			lag: &lagGauge{
				lag: f.NewGaugeVec(prometheus.GaugeOpts{
					Namespace: ns, Subsystem: sub, Name: "lag",
					Help: "Messages not yet committed by the group, by topic and partition, for the partitions this member holds: end offset minus committed offset. Sum over members for the group's lag.",
				}, []string{"topic", "partition"}),
				errors: f.NewCounter(prometheus.CounterOpts{
					Namespace: ns, Subsystem: sub, Name: "lag_refresh_errors_total",
					Help: "Failed refreshes of markwatch_consumer_lag (broker or coordinator unreachable, group unknown).",
				}),
			},
			inFlight: f.NewGauge(prometheus.GaugeOpts{
				Namespace: ns, Subsystem: sub, Name: "in_flight",
				Help: "Messages fetched whose handling and output writes have not finished.",
			}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	// The age is computed at scrape time, so it grows while refreshes fail.
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: telemetry.Namespace, Subsystem: "consumer", Name: "lag_refresh_age_seconds",
		Help: "Seconds since markwatch_consumer_lag was last refreshed successfully (since the consumer started, before the first success; 0 when the refresh is off).",
	}, func() float64 { return m.lag.age(time.Now()).Seconds() })
	if reg != nil {
		if err := reg.Register(age); err != nil {
			return nil, fmt.Errorf("pipeline: register metrics: %w", err)
		}
	}
	// Export every outcome and every dead-letter class from the start, so
	// that increase() counts the first one and a rate() over one that has
	// not happened yet is 0 rather than absent. Handlers may name classes
	// of their own; those appear at their first dead letter.
	telemetry.Init(m.handled, []string{outcomeOK, outcomeDeadLettered, outcomeRetried, outcomeAbandoned})
	telemetry.Init(m.deadLetters, DeadLetterClasses())
	return m, nil
}

// DeadLetterClasses are the dead-letter classes the pipeline itself knows,
// created at zero in markwatch_consumer_dead_letters_total.
func DeadLetterClasses() []string {
	return []string{ClassDecode, ClassValidation, ClassPanic, ClassOutput, ClassPermanent}
}

// Metrics returns a middleware that counts each call of the wrapped handler
// in handled by outcome (ok, dead_lettered for a permanent error, abandoned
// for any other error: inside Retry that only happens when the context
// ended) and observes its duration. Placed around Retry, the duration covers
// all attempts and backoff waits.
func Metrics(handled *prometheus.CounterVec, duration prometheus.Observer) Middleware {
	return func(h Handler) Handler {
		return func(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
			start := time.Now()
			outs, err := h(ctx, msg)
			duration.Observe(time.Since(start).Seconds())
			handled.WithLabelValues(outcomeOf(err)).Inc()
			return outs, err
		}
	}
}

// outcomeOf names a handler result for the handled counter.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return outcomeOK
	case IsPermanent(err):
		return outcomeDeadLettered
	default:
		return outcomeAbandoned
	}
}

// isCanceled reports whether err is a context ending, which is shutdown,
// not a failure: it is never logged as an error.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
