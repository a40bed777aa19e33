package sweep

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Outcomes of a listing record read by a pass: the outcome label of
// markwatch_sweep_listings_total.
const (
	outcomeClean      = "clean"      // scored, nothing at or above the threshold
	outcomeFlagged    = "flagged"    // scored, at least one complaint
	outcomeSuperseded = "superseded" // a later version of the listing is in the range
	outcomeInvalid    = "invalid"    // not a valid listing, or its key is not its id
)

// metrics are the sweeper's collectors, all markwatch_sweep_*.
type metrics struct {
	listings *prometheus.CounterVec
	// byOutcome are the listings counters resolved once, off the hot path.
	byOutcome  map[string]prometheus.Counter
	complaints prometheus.Counter
	passes     *prometheus.CounterVec
	errors     prometheus.Counter
	pending    prometheus.Gauge
	passMarks  prometheus.Gauge
	lag        prometheus.Gauge
	progress   prometheus.Gauge
	duration   prometheus.Histogram
	leader     prometheus.Gauge
}

// newMetrics registers the collectors on reg; a nil reg leaves them
// unregistered. They are declared and registered in one place with
// promauto; a registration error (a second sweeper on one registry) is
// returned rather than panicked.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var r *firstError
	if reg != nil {
		r = &firstError{Registerer: reg}
	}
	f := promauto.With(nil)
	if r != nil {
		f = promauto.With(r)
	}
	m := &metrics{
		listings: f.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_sweep_listings_total",
			Help: "Listing records read by sweeps, by outcome: clean, flagged (scored), superseded (a later version is in the range, not scored), invalid.",
		}, []string{"outcome"}),
		complaints: f.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_sweep_complaints_total",
			Help: "Complaints with source sweep written to the complaints topic (acknowledged).",
		}),
		passes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "markwatch_sweep_passes_total",
			Help: "Sweep passes by outcome: completed, or failed (a broker or build error; the pass resumes from its last checkpoint after a backoff).",
		}, []string{"outcome"}),
		errors: f.NewCounter(prometheus.CounterOpts{
			Name: "markwatch_sweep_errors_total",
			Help: "Errors of the sweeper (broker, progress topic, engine build), each retried with backoff.",
		}),
		pending: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_sweep_pending_marks",
			Help: "Active marks new or changed since they were last swept, the pass under way included.",
		}),
		passMarks: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_sweep_pass_marks",
			Help: "Marks of the sweep pass under way; 0 when no pass runs.",
		}),
		lag: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_sweep_lag_records",
			Help: "Listing offsets of the pass under way not swept yet; 0 when no pass runs.",
		}),
		progress: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_sweep_progress_ratio",
			Help: "Share of the pass under way swept, 0 to 1; 1 when no pass runs.",
		}),
		leader: f.NewGauge(prometheus.GaugeOpts{
			Name: "markwatch_sweep_leader",
			Help: "1 while this sweeper is the one that sweeps (it holds partition 0 of the sweeps topic in the sweepers' group, or runs without a group), else 0.",
		}),
		duration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    "markwatch_sweep_pass_seconds",
			Help:    "Duration of completed sweep passes, from the range lookup to the last checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.1, 3, 10), // 0.1 s .. 33 min
		}),
	}
	// Every label value from the start, so that rate() over one that has
	// not happened yet is 0 rather than absent.
	m.byOutcome = map[string]prometheus.Counter{}
	for _, o := range []string{outcomeClean, outcomeFlagged, outcomeSuperseded, outcomeInvalid} {
		m.byOutcome[o] = m.listings.WithLabelValues(o)
	}
	m.passes.WithLabelValues("completed")
	m.passes.WithLabelValues("failed")
	m.progress.Set(1)
	if r != nil && r.err != nil {
		return nil, fmt.Errorf("sweep: register metrics: %w", r.err)
	}
	return m, nil
}

// firstError is a Registerer whose MustRegister keeps the first error
// instead of panicking.
type firstError struct {
	prometheus.Registerer
	err error
}

// MustRegister registers cs, keeping the first error.
func (r *firstError) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil && r.err == nil {
			r.err = err
		}
	}
}

// show publishes the progress of p, or of no pass when p is nil.
func (m *metrics) show(p *passRecord) {
	if p == nil {
		m.passMarks.Set(0)
		m.lag.Set(0)
		m.progress.Set(1)
		return
	}
	m.passMarks.Set(float64(len(p.Marks)))
	left, total := p.left(), p.total()
	m.lag.Set(float64(left))
	if total == 0 {
		m.progress.Set(1)
	} else {
		m.progress.Set(float64(total-left) / float64(total))
	}
}
