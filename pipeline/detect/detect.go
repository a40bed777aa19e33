// Package detect is the detector's stage: one listing message in, its
// complaint messages out. It decodes the listing strictly (a listing that
// can never be read is a permanent failure, for the dead-letter topic),
// fetches and hashes its images, scores it with the current engine of the
// marks follower, and turns every result at or above its mark's threshold
// into an auto complaint keyed by listing id.
//
// The stage holds no state of its own beyond metrics: the engine comes from
// an EngineSource for each listing (copy-on-write, so a listing is scored
// against one whole set of marks), and complaint ids are deterministic, so
// scoring a listing twice after a replay emits the same complaints.
package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/segmentio/kafka-go"

	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/telemetry"
	"github.com/markwatch/markwatch/matchers"
	"github.com/markwatch/markwatch/matchers/score"
	"github.com/markwatch/markwatch/matchers/suppress"
	"github.com/markwatch/markwatch/pipeline"
)

// Engine scores a prepared listing against the marks it was built over.
// *detection.Engine implements it.
type Engine interface {
	Score(ctx context.Context, l *matchers.Listing) ([]score.Result, error)
	Options() score.Options
}

// EngineSource hands out the current engine; release must be called when
// the listing is scored. ok is false until the marks are loaded.
// *marks.Follower[*detection.Engine] implements it.
type EngineSource[E Engine] interface {
	Acquire() (e E, release func(), ok bool)
}

// BankSource hands out the current negative bank, as EngineSource the
// engine. *BankFollower implements it.
type BankSource interface {
	Acquire() (b *suppress.Bank, release func(), ok bool)
}

// suppressingEngine is an Engine that can leave out suppressed evidence;
// *detection.Engine is one. Engines that are not (test fakes) are scored
// as they are.
type suppressingEngine interface {
	ScoreSuppressed(ctx context.Context, l *matchers.Listing, sup score.Suppressor) ([]score.Result, error)
}

// Images fetches and hashes a listing's images. *detection.Images
// implements it. An image that cannot be had is returned with Err set; the
// error is only the context's. Features may keep their image's pixels
// (matchers.Features.Pixels), which the stage releases once the listing
// is matched.
type Images interface {
	Listing(ctx context.Context, l *domain.Listing) ([]matchers.ListingImage, error)
}

// ErrNotReady is the transient error of a listing that arrives before the
// marks are loaded: it is retried, never skipped.
var ErrNotReady = errors.New("detect: marks not loaded yet")

// Options configures the stage.
type Options struct {
	// ComplaintsTopic is where complaints go (required).
	ComplaintsTopic string
	// Limits caps the listing's fields.
	Limits domain.Limits
	// Images fetches listing images; nil scores text only.
	Images Images
	// PhotosTopic, when set, receives a listing-photos message for every
	// listing with images (kafka.topics.listing_photos): the hashes the
	// seller-network linker would otherwise fetch and compute again.
	PhotosTopic string
	// Bank is the negative bank's source; nil applies the marks'
	// quarantines only. With a source, listings wait (ErrNotReady) until
	// its first bank is built, so nothing banked is filed at start.
	Bank BankSource
	// Now is the clock of complaints' created_at (default time.Now).
	Now func() time.Time
	// Logger and Registerer: nil means none.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Stage is the detector's handler. Safe for concurrent use.
type Stage[E Engine] struct {
	src     EngineSource[E]
	opts    Options
	log     *slog.Logger
	metrics *metrics
}

// New returns the stage over the engines of src.
func New[E Engine](src EngineSource[E], o Options) (*Stage[E], error) {
	if src == nil {
		return nil, errors.New("detect: no engine source")
	}
	if o.ComplaintsTopic == "" {
		return nil, errors.New("detect: no complaints topic")
	}
	o.Limits = o.Limits.WithDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Stage[E]{src: src, opts: o, log: log.With("component", "detect"), metrics: m}, nil
}

// Handle implements pipeline.Handler.
func (s *Stage[E]) Handle(ctx context.Context, msg kafka.Message) ([]kafka.Message, error) {
	start := time.Now()
	l, err := domain.DecodeListing(msg.Value, s.opts.Limits)
	s.metrics.stage.WithLabelValues("decode").Observe(time.Since(start).Seconds())
	if err != nil {
		s.metrics.listings.WithLabelValues("invalid").Inc()
		class := pipeline.ClassValidation
		var fe *domain.FieldError
		if errors.As(err, &fe) && fe.Field == "" {
			class = pipeline.ClassDecode // the message as a whole: JSON, UTF-8, size
		}
		return nil, pipeline.Permanent(class, fmt.Errorf("listing: %w", err))
	}
	if len(msg.Key) > 0 && string(msg.Key) != l.ListingID {
		s.metrics.listings.WithLabelValues("invalid").Inc()
		return nil, pipeline.Permanent(pipeline.ClassValidation,
			fmt.Errorf("listing: message key %q differs from listing_id %q", msg.Key, l.ListingID))
	}

	eng, release, ok := s.src.Acquire()
	if !ok {
		return nil, ErrNotReady
	}
	defer release()

	p := matchers.NewListing(l)
	// The images' pixels (logo detection's dense check, pooled) are for
	// scoring only: given back however Handle returns.
	defer func() { matchers.ReleasePixels(p.Images) }()
	if s.opts.Images != nil && len(l.Images) > 0 {
		t := time.Now()
		if p.Images, err = s.opts.Images.Listing(ctx, l); err != nil {
			return nil, fmt.Errorf("detect: images of %s: %w", l.ListingID, err)
		}
		s.metrics.stage.WithLabelValues("images").Observe(time.Since(t).Seconds())
		for _, img := range p.Images {
			s.metrics.images.WithLabelValues(imageLabels(img)).Inc()
		}
	}

	var bank *suppress.Bank // nil: quarantines only
	if s.opts.Bank != nil {
		b, releaseBank, ok := s.opts.Bank.Acquire()
		if !ok {
			return nil, ErrNotReady
		}
		defer releaseBank()
		bank = b
	}

	t := time.Now()
	results, err := ScoreSuppressed(ctx, eng, p, bank)
	s.metrics.stage.WithLabelValues("score").Observe(time.Since(t).Seconds())
	if err != nil {
		return nil, fmt.Errorf("detect: score %s: %w", l.ListingID, err)
	}
	best := 0.0
	var out []kafka.Message
	for _, r := range results {
		best = max(best, r.Score)
		for name, v := range r.Signals {
			if v > 0 {
				s.metrics.matches.WithLabelValues(name).Inc()
			}
		}
		if !s.files(l, r) {
			continue
		}
		m, err := s.complaint(l, p, r, eng.Options().RuleVersion)
		if err != nil {
			return nil, pipeline.Permanent("output", err)
		}
		out = append(out, m)
	}
	s.metrics.scores.Observe(best)
	outcome := "clean"
	if len(out) > 0 {
		outcome = "flagged"
	}
	s.metrics.listings.WithLabelValues(outcome).Inc()
	s.metrics.complaints.Add(float64(len(out)))
	if s.opts.PhotosTopic != "" && len(p.Images) > 0 {
		m, err := PhotosMessage(s.opts.PhotosTopic, l, p.Images, registeredImages(results), s.opts.Now().UTC())
		if err != nil {
			return nil, pipeline.Permanent("output", err)
		}
		out = append(out, m)
	}
	s.metrics.stage.WithLabelValues("total").Observe(time.Since(start).Seconds())
	return out, nil
}

// registeredImages returns the positions of the listing's images that
// matched a mark's registered image (an official photo or a logo as a
// whole) in any result.
func registeredImages(results []score.Result) map[int]bool {
	var out map[int]bool
	for _, r := range results {
		for _, ev := range r.Evidence {
			var i int
			if ev.Matcher != "image" {
				continue
			}
			if _, err := fmt.Sscanf(ev.Field, "images[%d]", &i); err == nil {
				if out == nil {
					out = map[int]bool{}
				}
				out[i] = true
			}
		}
	}
	return out
}

// PhotosMessage builds the listing-photos message (key = listing_id) of a
// listing whose images were hashed: the hash of each image as published
// (an image's first hash; its variants are for matching only), "" for one
// that could not be had and for one at a position in registered. Those
// matched a mark's official photo or logo: authorized resellers and
// unrelated counterfeiters alike show a brand's own photos, so sharing one
// says nothing about who runs a shop, and linking on them would chain
// every seller of the brand into one network.
func PhotosMessage(topic string, l *domain.Listing, images []matchers.ListingImage, registered map[int]bool, now time.Time) (kafka.Message, error) {
	ph := domain.ListingPhotos{
		SchemaVersion: domain.SchemaVersion,
		ListingID:     l.ListingID,
		Version:       l.Version,
		SellerID:      l.SellerID,
		Photos:        make([]string, len(l.Images)),
		HashedAt:      now,
	}
	for _, img := range images {
		if img.Index >= 0 && img.Index < len(ph.Photos) && len(img.Hashes) > 0 && !registered[img.Index] {
			ph.Photos[img.Index] = domain.PhotoHex(img.Hashes[0])
		}
	}
	m, err := listingMessage(topic, l.ListingID, ph)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encode photos of %s: %w", l.ListingID, err)
	}
	return m, nil
}

// listingMessage encodes v as a message keyed by the listing id, with the
// schema_version header and the extra headers given.
func listingMessage(topic, listingID string, v any, headers ...kafka.Header) (kafka.Message, error) {
	value, err := json.Marshal(v)
	if err != nil {
		return kafka.Message{}, err
	}
	return kafka.Message{
		Topic:   topic,
		Key:     []byte(listingID),
		Value:   value,
		Headers: append([]kafka.Header{{Key: "schema_version", Value: []byte(strconv.Itoa(domain.SchemaVersion))}}, headers...),
	}, nil
}

// ScoreSuppressed scores p with eng, leaving out the evidence that the
// marks' quarantines and bank (nil: quarantines only) suppress when eng
// can (*detection.Engine can); other engines score as they are. The
// retroactive sweep scores through it too.
func ScoreSuppressed(ctx context.Context, eng interface {
	Score(ctx context.Context, l *matchers.Listing) ([]score.Result, error)
}, p *matchers.Listing, bank *suppress.Bank) ([]score.Result, error) {
	if se, ok := eng.(suppressingEngine); ok {
		return se.ScoreSuppressed(ctx, p, bank)
	}
	return eng.Score(ctx, p)
}

// Files reports whether a scored result files a complaint: it is flagged
// and its mark is not in quarantine as a whole.
func Files(r score.Result) bool {
	if !r.Flagged {
		return false
	}
	_, quarantined := r.Mark.Quarantined(domain.QuarantineMark, "")
	return !quarantined
}

// files reports whether result r becomes an auto complaint, and counts and
// logs the ones a quarantine or the negative bank stopped: a flagged result
// of a mark in quarantine as a whole, or a result flagged only with
// evidence that was suppressed.
func (s *Stage[E]) files(l *domain.Listing, r score.Result) bool {
	if r.Flagged {
		q, ok := r.Mark.Quarantined(domain.QuarantineMark, "")
		if !ok {
			return true
		}
		s.metrics.quarantined.WithLabelValues(domain.QuarantineMark).Inc()
		s.log.Info("match not filed: mark in quarantine", "listing_id", l.ListingID, "mark_id", r.Mark.MarkID,
			"score", r.Score, "trigger", q.Trigger)
		return false
	}
	if !r.FlaggedUnsuppressed {
		return false
	}
	for _, why := range r.Suppressed {
		switch why {
		case suppress.QuarantineImage:
			s.metrics.quarantined.WithLabelValues(domain.QuarantineImage).Inc()
		case suppress.QuarantineVariant:
			s.metrics.quarantined.WithLabelValues(domain.QuarantineVariant).Inc()
		case suppress.BankImage:
			s.metrics.banked.WithLabelValues(domain.BankImage).Inc()
		case suppress.BankPhrase:
			s.metrics.banked.WithLabelValues(domain.BankPhrase).Inc()
		}
	}
	s.log.Info("match not filed: evidence suppressed", "listing_id", l.ListingID, "mark_id", r.Mark.MarkID,
		"score", r.Score, "suppressed", r.Suppressed)
	return false
}

// complaint builds the complaint message of one flagged result.
func (s *Stage[E]) complaint(l *domain.Listing, p *matchers.Listing, r score.Result, rule string) (kafka.Message, error) {
	return ComplaintMessage(s.opts.ComplaintsTopic, domain.SourceAuto, l, p, r, rule, s.opts.Now().UTC())
}

// ComplaintMessage builds the complaints-topic message (key = listing_id)
// of one flagged result, with source as its source: auto for the live
// stream, sweep for a retroactive sweep (pipeline/sweep). Images the score
// could not see are named in the evidence.
func ComplaintMessage(topic, source string, l *domain.Listing, p *matchers.Listing, r score.Result, rule string, now time.Time) (kafka.Message, error) {
	ev := r.Evidence
	for _, img := range p.Images {
		if img.Err != "" {
			// Say what the score could not see.
			ev = append(ev, domain.Evidence{
				Matcher: "image", Kind: "unavailable", Field: "images[" + strconv.Itoa(img.Index) + "]",
				Match: img.URL, Detail: "image not used: " + img.Err,
			})
		}
	}
	c := domain.Complaint{
		SchemaVersion:  domain.SchemaVersion,
		ComplaintID:    r.ComplaintID,
		Source:         source,
		ListingID:      l.ListingID,
		ListingVersion: l.Version,
		MarkID:         r.Mark.MarkID,
		HolderID:       r.Mark.HolderID,
		SellerID:       l.SellerID,
		Score:          r.Score,
		Explanation:    r.Explanation,
		Evidence:       ev,
		RuleVersion:    rule,
		CreatedAt:      now,
		Listing:        l.Snapshot(),
	}
	m, err := listingMessage(topic, l.ListingID, c,
		kafka.Header{Key: "complaint_id", Value: []byte(c.ComplaintID)},
		kafka.Header{Key: "source", Value: []byte(source)})
	if err != nil {
		return kafka.Message{}, fmt.Errorf("encode complaint %s: %w", c.ComplaintID, err)
	}
	return m, nil
}

// metrics are the stage's Prometheus collectors.
type metrics struct {
	listings   *prometheus.CounterVec
	matches    *prometheus.CounterVec
	complaints prometheus.Counter
	images     *prometheus.CounterVec
	scores     prometheus.Histogram
	stage      *prometheus.HistogramVec
	// quarantined and banked count the complaints not filed, by what
	// stopped them.
	quarantined *prometheus.CounterVec
	banked      *prometheus.CounterVec
}

// Label values of the stage's metrics known in advance, created at zero.
var (
	listingOutcomes = []string{"flagged", "clean", "invalid"}
	stages          = []string{"decode", "images", "score", "total"}
)

// newMetrics declares the collectors on reg (nil: unregistered).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m, err := telemetry.Build(reg, func(f promauto.Factory) *metrics {
		const ns = telemetry.Namespace
		return &metrics{
			listings: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "listings", Name: "scored_total",
				Help: "Listings handled by the detector, by outcome (flagged, clean, invalid).",
			}, []string{"outcome"}),
			matches: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Name: "matches_total",
				Help: "Candidate (listing, mark) pairs with a positive signal, by matcher.",
			}, []string{"matcher"}),
			complaints: f.NewCounter(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "complaints", Name: "emitted_total",
				Help:        "Complaints emitted by the detector.",
				ConstLabels: prometheus.Labels{"source": domain.SourceAuto},
			}),
			images: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "image", Name: "fetches_total",
				Help: "Listing images, by outcome (ok: hashed, failed: not used) and cause (ok, cached, or why not: not_found, refused_host, too_large, timeout, http_error, network_error, decode_error, featureless, canceled, other).",
			}, []string{"outcome", "cause"}),
			scores: f.NewHistogram(prometheus.HistogramOpts{
				Namespace: ns, Subsystem: "listing", Name: "score",
				Help:    "Best score of each listing over its candidate marks (0 when no mark is a candidate).",
				Buckets: telemetry.LinearBuckets(0.1, 0.1, 10), // 0.1 .. 1 exactly: a score of 1 is in le="1"
			}),
			stage: f.NewHistogramVec(prometheus.HistogramOpts{
				Namespace: ns, Name: "stage_seconds",
				Help:    "Time spent per detector stage (decode, images, score, total).",
				Buckets: telemetry.ExponentialBuckets(0.00005, 2.5, 12), // 50 µs .. 1.2 s
			}, []string{"stage"}),
			quarantined: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Name: "quarantined_matches_total",
				Help: "Matches that would have filed an auto complaint but did not, because the mark (kind mark), one of its reference images (image) or variants (variant) is in flood quarantine.",
			}, []string{"kind"}),
			banked: f.NewCounterVec(prometheus.CounterOpts{
				Namespace: ns, Subsystem: "negative_bank", Name: "suppressed_total",
				Help: "Matches that would have filed an auto complaint but did not, because their evidence is in the negative bank, by kind (image, phrase).",
			}, []string{"kind"}),
		}
	})
	if err != nil {
		return nil, fmt.Errorf("detect: %w", err)
	}
	telemetry.Init(m.listings, listingOutcomes)
	telemetry.Init(m.quarantined, []string{domain.QuarantineMark, domain.QuarantineImage, domain.QuarantineVariant})
	telemetry.Init(m.banked, []string{domain.BankImage, domain.BankPhrase})
	telemetry.Init(m.matches, score.Matchers())
	telemetry.Init(m.images, []string{outcomeOK}, []string{detection.CauseOK, detection.CauseCached})
	telemetry.Init(m.images, []string{outcomeFailed}, detection.FailureCauses())
	for _, st := range stages {
		m.stage.WithLabelValues(st)
	}
	return m, nil
}

// Outcomes of markwatch_image_fetches_total: whether the image was used.
const (
	outcomeOK     = "ok"
	outcomeFailed = "failed"
)

// imageLabels are the outcome and cause labels of one prepared image. An
// Images implementation that gives no cause is counted as ok or other.
func imageLabels(img matchers.ListingImage) (outcome, cause string) {
	outcome, cause = outcomeOK, img.Cause
	if img.Err != "" {
		outcome = outcomeFailed
		if cause == "" || cause == detection.CauseOK || cause == detection.CauseCached {
			cause = detection.CauseOther
		}
	} else if cause == "" {
		cause = detection.CauseOK
	}
	return outcome, cause
}
