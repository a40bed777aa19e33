package review

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/store"
)

// TopN is how many marks and holders the per-mark and per-holder gauges
// show: the busiest, so that a label per mark or holder stays bounded
// however many are registered.
const TopN = 10

// DefaultQueueScrapeTimeout bounds the queries of one scrape of the queue
// collector when QueueCollector is given no timeout.
const DefaultQueueScrapeTimeout = 5 * time.Second

// queueCollector reports the review queue from the store on every scrape,
// so the numbers are the database's, not one replica's view of it.
type queueCollector struct {
	svc     *Service
	timeout time.Duration

	depth   *prometheus.Desc
	oldest  *prometheus.Desc
	holders *prometheus.Desc

	markComplaints *prometheus.Desc
	holderDecided  *prometheus.Desc
	holderUpheld   *prometheus.Desc
}

// QueueCollector returns a collector that, on every scrape, queries the
// store for the queue depth by status (markwatch_review_queue_depth), the
// age of the oldest open complaint on the service's clock
// (markwatch_review_queue_oldest_seconds, 0 when none is open) and the
// holders by standing under the service's Quality thresholds
// (markwatch_review_holders, for good_faith and throttled). Per mark and
// per holder, bounded to the TopN busiest: markwatch_mark_complaints{mark_id, status} for the marks with
// the most open complaints, markwatch_holder_decided_complaints and
// markwatch_holder_upheld_complaints{holder_id} for the holders with the
// most decided manual complaints (their precision). The queries of
// one scrape are bounded by timeout (DefaultQueueScrapeTimeout when not
// positive); a failed scrape reports an invalid metric, which the
// registry's Gather returns as an error. The outbox backlog is the relay's
// markwatch_outbox_backlog gauge. Register it with a registerer of your own.
func (s *Service) QueueCollector(timeout time.Duration) prometheus.Collector {
	if timeout <= 0 {
		timeout = DefaultQueueScrapeTimeout
	}
	return &queueCollector{
		svc:     s,
		timeout: timeout,
		depth: prometheus.NewDesc("markwatch_review_queue_depth",
			"Complaints in the review store, by status (open is the queue proper).", []string{"status"}, nil),
		oldest: prometheus.NewDesc("markwatch_review_queue_oldest_seconds",
			"Age of the oldest open complaint, from its arrival in the store; 0 when none is open.", nil, nil),
		holders: prometheus.NewDesc("markwatch_review_holders",
			"Rights holders by notifier standing (good_faith, throttled); holders of normal standing are not counted.", []string{"standing"}, nil),
		markComplaints: prometheus.NewDesc("markwatch_mark_complaints",
			"Complaints by status for the marks with the most open complaints (at most 10 marks).", []string{"mark_id", "status"}, nil),
		holderDecided: prometheus.NewDesc("markwatch_holder_decided_complaints",
			"Decided manual complaints of the rights holders with the most of them (at most 10 holders).", []string{"holder_id"}, nil),
		holderUpheld: prometheus.NewDesc("markwatch_holder_upheld_complaints",
			"Upheld manual complaints (contested and reinstated included) of the holders of markwatch_holder_decided_complaints.", []string{"holder_id"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.holders
	ch <- c.markComplaints
	ch <- c.holderDecided
	ch <- c.holderUpheld
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		for _, d := range []*prometheus.Desc{c.depth, c.oldest, c.holders, c.markComplaints, c.holderDecided, c.holderUpheld} {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
	}
}

func (c *queueCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	qs, err := c.svc.store.QueueStats(ctx)
	if err != nil {
		return fmt.Errorf("review: queue metrics: %w", err)
	}
	hs, err := c.svc.store.AllHolderStats(ctx)
	if err != nil {
		return fmt.Errorf("review: queue metrics: %w", err)
	}
	standings := c.svc.standings(hs)
	// The busiest marks: one group over the open complaints, bounded by
	// the queue as the depth above is.
	marks, err := c.svc.store.BusiestMarks(ctx, TopN)
	if err != nil {
		return fmt.Errorf("review: queue metrics: %w", err)
	}
	for status, n := range qs.ByStatus {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(n), status)
	}
	age := 0.0
	if !qs.OldestOpen.IsZero() {
		age = max(0, c.svc.now().Sub(qs.OldestOpen).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
	counts := map[Standing]int{StandingGoodFaith: 0, StandingThrottled: 0}
	for _, st := range standings {
		counts[st]++
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.holders, prometheus.GaugeValue, float64(n), string(st))
	}
	for _, m := range marks {
		for status, n := range m.ByStatus {
			ch <- prometheus.MustNewConstMetric(c.markComplaints, prometheus.GaugeValue, float64(n), m.MarkID, status)
		}
	}
	slices.SortStableFunc(hs, func(a, b store.HolderDecisions) int { return cmp.Compare(b.Decided, a.Decided) })
	for _, h := range hs[:min(len(hs), TopN)] {
		ch <- prometheus.MustNewConstMetric(c.holderDecided, prometheus.GaugeValue, float64(h.Decided), h.HolderID)
		ch <- prometheus.MustNewConstMetric(c.holderUpheld, prometheus.GaugeValue, float64(h.Upheld), h.HolderID)
	}
	return nil
}

// Standings returns the standing of every holder that is not of normal
// standing (good-faith or throttled), by holder id, in one query: what
// HolderStanding says of each, for the queue's order and the metrics.
func (s *Service) Standings(ctx context.Context) (map[string]Standing, error) {
	hs, err := s.store.AllHolderStats(ctx)
	if err != nil {
		return nil, fmt.Errorf("review: standings: %w", err)
	}
	return s.standings(hs), nil
}

// standings is Standings over holder statistics already read.
func (s *Service) standings(hs []store.HolderDecisions) map[string]Standing {
	out := make(map[string]Standing)
	for _, h := range hs {
		if st := s.quality.standing(h.Decided, h.Upheld); st != StandingNormal {
			out[h.HolderID] = st
		}
	}
	return out
}
