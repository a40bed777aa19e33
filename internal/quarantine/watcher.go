package quarantine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/internal/telemetry"
)

// Actor is the audit log's actor of quarantines the watcher imposes.
const Actor = "system:quarantine"

// maxComplaints caps the complaints read to attribute one mark's flood: a
// sample that large gives the shares to a percent.
const maxComplaints = 5000

// WatcherOptions configure a Watcher. MarksTopic is required.
type WatcherOptions struct {
	Options
	// MarksTopic is where a quarantined mark is published.
	MarksTopic string
	// Interval is the time between checks (default 1m).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger and Registerer: nil means none.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Watcher checks every mark's complaint rates and decisions periodically
// and quarantines what floods. Several review replicas may each run one:
// a mark is written compare-and-set on its version, and a quarantine that
// already holds is not imposed twice.
type Watcher struct {
	store *store.Store
	o     WatcherOptions
	log   *slog.Logger
	m     *watcherMetrics
}

type watcherMetrics struct {
	imposed *prometheus.CounterVec
	active  *prometheus.GaugeVec
	errors  prometheus.Counter
}

// NewWatcher returns a watcher over s.
func NewWatcher(s *store.Store, o WatcherOptions) (*Watcher, error) {
	if s == nil || o.MarksTopic == "" {
		return nil, errors.New("quarantine: store and marks topic are required")
	}
	o.Options = o.Options.WithDefaults()
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := telemetry.Build(o.Registerer, func(f promauto.Factory) *watcherMetrics {
		const ns = telemetry.Namespace
		return &watcherMetrics{
			imposed: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Name: "quarantines_total",
				Help: "Quarantines the review service imposed, by kind (mark, image, variant) and trigger (flood, precision).",
			}, []string{"kind", "trigger"}),
			active: f.NewGaugeVec(prometheus.GaugeOpts{
				Namespace: ns, Name: "quarantines_active",
				Help: "Quarantines that hold now (imposed and not released), by kind, as of the last check.",
			}, []string{"kind"}),
			errors: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Name: "quarantine_check_errors_total",
				Help: "Quarantine checks that failed (store errors); the next check retries.",
			}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("quarantine: %w", err)
	}
	kinds := []string{domain.QuarantineMark, domain.QuarantineImage, domain.QuarantineVariant}
	telemetry.Init(m.imposed, kinds, []string{domain.TriggerFlood, domain.TriggerPrecision})
	for _, k := range kinds {
		m.active.WithLabelValues(k)
	}
	return &Watcher{store: s, o: o, log: log.With("component", "quarantine"), m: m}, nil
}

// Run checks every Interval until ctx ends; errors are logged, counted and
// retried at the next check. It returns nil on cancellation.
func (w *Watcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	for {
		if _, err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.m.errors.Inc()
			w.log.Error("quarantine check", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check runs one pass and returns the quarantines it imposed.
func (w *Watcher) Check(ctx context.Context) ([]domain.Quarantine, error) {
	now := w.o.Now()
	win := w.o.Windows(now)
	rates, err := w.store.ComplaintRates(ctx, win)
	if err != nil {
		return nil, err
	}
	var imposed []domain.Quarantine
	var errs []error
	for _, r := range rates {
		trigger := w.o.Trips(r)
		if trigger == "" {
			continue
		}
		q, ok, err := w.check(ctx, r, trigger, win, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			imposed = append(imposed, q)
		}
	}
	if err := w.countActive(ctx); err != nil {
		errs = append(errs, err)
	}
	return imposed, errors.Join(errs...)
}

// check decides on one mark whose counts tripped, and imposes the
// quarantine in one transaction with its audit entry and the mark's
// publication.
func (w *Watcher) check(ctx context.Context, r store.MarkComplaintRate, trigger string, win store.RateWindows, now time.Time) (domain.Quarantine, bool, error) {
	since := win.Recent
	if trigger == domain.TriggerPrecision {
		since = win.Precision
	}
	cs, err := w.store.CalibrationComplaints(ctx, r.MarkID, since, maxComplaints)
	if err != nil {
		return domain.Quarantine{}, false, err
	}
	var q domain.Quarantine
	imposed := false
	err = w.store.WithTx(ctx, func(tx *store.Tx) error {
		m, err := tx.GetMark(ctx, r.MarkID)
		if errors.Is(err, store.ErrNotFound) {
			return nil // complaints of a mark the registry no longer has
		}
		if err != nil {
			return err
		}
		if !m.Body.Active() {
			return nil
		}
		var ok bool
		if q, ok = w.o.Decide(&m.Body, r, cs, now); !ok {
			return nil
		}
		changed, err := tx.SetMarkQuarantines(ctx, r.MarkID, Apply(m.Body.Quarantines, q))
		if err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, store.AuditEntry{
			Actor: Actor, Action: "mark.quarantine", ObjectType: "mark", ObjectID: r.MarkID,
			Detail: auditDetail(q),
		}); err != nil {
			return err
		}
		imposed = true
		return tx.EnqueueMark(ctx, w.o.MarksTopic, &changed)
	})
	if errors.Is(err, store.ErrConflict) {
		// Another replica or an edit changed the mark meanwhile: the
		// next check decides again on the new version.
		return domain.Quarantine{}, false, nil
	}
	if err != nil {
		return domain.Quarantine{}, false, fmt.Errorf("quarantine: mark %s: %w", r.MarkID, err)
	}
	if imposed {
		w.m.imposed.WithLabelValues(q.Kind, q.Trigger).Inc()
		w.log.Warn("quarantined", "mark_id", r.MarkID, "kind", q.Kind, "ref", q.Ref, "trigger", q.Trigger, "reason", q.Reason)
	}
	return q, imposed, nil
}

// countActive sets the gauge of quarantines that hold, over every mark.
func (w *Watcher) countActive(ctx context.Context) error {
	counts := map[string]int{domain.QuarantineMark: 0, domain.QuarantineImage: 0, domain.QuarantineVariant: 0}
	after := ""
	for {
		ms, err := w.store.ListMarks(ctx, store.MarkQuery{AfterID: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, m := range ms {
			if !m.Body.Active() {
				continue
			}
			for _, q := range m.Body.Quarantines {
				if q.Active() {
					counts[q.Kind]++
				}
			}
		}
		if len(ms) < 1000 {
			break
		}
		after = ms[len(ms)-1].Body.MarkID
	}
	for k, n := range counts {
		w.m.active.WithLabelValues(k).Set(float64(n))
	}
	return nil
}

// auditDetail is the audit entry's detail of a quarantine.
func auditDetail(q domain.Quarantine) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"kind": q.Kind, "ref": q.Ref, "trigger": q.Trigger, "reason": q.Reason})
	return b
}
