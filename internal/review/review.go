// Package review is the review flow's domain core: it ingests complaints,
// records reviewers' decisions, hands out strikes and climbs the seller
// ladder, runs the counter-notice timer, rates rights holders as notifiers,
// and relays the resulting events from the transactional outbox to the
// topics.
//
// Only complaints through an active mark of their holder are stored or
// published: MayFile says who may file a manual complaint through which
// mark, and Ingest checks every complaint of the topic, automatic ones
// included, the same way (filing.go); a refusal is an *InvalidError that
// names the rule broken.
//
// Every state change happens in one store transaction together with its
// audit entries and its outbox events, so a decision, its takedown, its
// strike, the seller action it triggers and the audit lines that explain
// them commit or vanish together. Events carry stable ids derived from what
// they announce ("takedown:"+complaint_id, ...): the relay publishes them at
// least once, and a consumer that deduplicates on the id sees each once.
//
// Time comes from an injected Clock. The store stamps created_at, audit and
// outbox times from its own clock (store.Options.Now); open it with the same
// clock (Options.Now = clock.Now) so that the two agree.
package review

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/store"
)

// ErrConflict is returned (wrapped) when an operation's precondition no
// longer holds: the complaint is not in a state the operation applies to,
// most often because a concurrent decision won. It is store.ErrConflict, so
// either can be tested with errors.Is.
var ErrConflict = store.ErrConflict

// ErrNotFound is returned (wrapped) for an unknown complaint. It is
// store.ErrNotFound.
var ErrNotFound = store.ErrNotFound

// ErrInvalid is returned (wrapped) for a request the service refuses to
// consider, such as an unknown verdict or a missing actor.
var ErrInvalid = errors.New("invalid request")

// Clock tells the time. The service reads it once per operation; tests
// inject a fake to drive strike expiry and the counter-notice timer.
type Clock interface {
	Now() time.Time
}

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Topics names the topics the service's events go to.
type Topics struct {
	// Takedowns receives takedown and reinstatement events, keyed by
	// listing id so that a listing's events stay in order; "takedowns"
	// when empty.
	Takedowns string
	// SellerActions receives seller-action events, keyed by seller id;
	// "seller-actions" when empty.
	SellerActions string
	// SellerNotices receives the statements of reasons sent to sellers
	// (domain.SellerNotice), keyed by seller id; "seller-notices" when
	// empty.
	SellerNotices string
	// Complaints receives manual complaints submitted through the
	// service, keyed by listing id, so that they flow through the same
	// consumer as automatic ones; "complaints" when empty.
	Complaints string
}

// Quality sets how rights holders are rated as notifiers from the fate of
// their manual complaints.
type Quality struct {
	// GoodFaithRate: a holder whose acceptance rate is above it, over at
	// least MinDecisions decided complaints, is good-faith; 0.9 when
	// zero.
	GoodFaithRate float64
	// MinDecisions is how many decided complaints good-faith standing
	// needs; 50 when zero.
	MinDecisions int
	// ThrottleFloor: a holder whose acceptance rate is below it, over at
	// least ThrottleMinDecisions decided complaints, is throttled; 0.5
	// when zero.
	ThrottleFloor float64
	// ThrottleMinDecisions keeps a holder's first few rejections from
	// throttling it; 10 when zero.
	ThrottleMinDecisions int
}

// Options configures New. Zero values take the defaults.
type Options struct {
	// Store is the database; required.
	Store *store.Store
	// Clock is the time source; the wall clock when nil.
	Clock Clock
	// Ladder maps active strikes to seller statuses; DefaultLadder when
	// nil.
	Ladder Ladder
	// StrikeTTL is how long a strike counts; 365 days when zero.
	StrikeTTL time.Duration
	// ReinstateAfter is the counter-notice waiting period; 10 days when
	// zero.
	ReinstateAfter time.Duration
	// CounterNoticeWindow is how long after an uphold the seller may
	// counter-notify, stated in its notices and enforced by
	// CounterNotice; 30 days when zero.
	CounterNoticeWindow time.Duration
	// EducateFirstNominative warns and educates a seller, instead of
	// striking it, on an uphold whose violation is nominative-use-like
	// (the brand's name in the title of a compatible accessory) when the
	// seller has no active strike and was never educated before. The
	// listing is taken down all the same.
	EducateFirstNominative bool
	Topics                 Topics
	Quality                Quality
	// BuyerComplaintWeight is the weight of independent counterfeit
	// reports (BuyerReports.Weight) at which a listing becomes a buyer
	// complaint or its complaint comes first; DefaultBuyerComplaintWeight
	// when zero.
	BuyerComplaintWeight float64
	// Logger receives the service's logs; none when nil.
	Logger *slog.Logger
	// Registerer receives the service's metrics; none when nil.
	Registerer prometheus.Registerer
}

// Service is the review flow. It is safe for concurrent use, and several
// replicas may run against one PostgreSQL database: every transition is a
// compare-and-set in the database.
type Service struct {
	store          *store.Store
	clock          Clock
	ladder         Ladder
	strikeTTL      time.Duration
	reinstateAfter time.Duration
	topics         Topics
	quality        Quality
	// counterNoticeWindow and educateFirstNominative: see Options.
	counterNoticeWindow    time.Duration
	educateFirstNominative bool
	buyerComplaintWeight   float64
	log                    *slog.Logger
	metrics                *serviceMetrics
	// refused counts the complaints Ingest refused, by rule and source.
	refused *prometheus.CounterVec
}

// New returns a Service over opts.Store.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("review: new: no store")
	}
	if opts.Clock == nil {
		opts.Clock = systemClock{}
	}
	if opts.Ladder == nil {
		opts.Ladder = DefaultLadder()
	}
	if err := opts.Ladder.Validate(); err != nil {
		return nil, fmt.Errorf("review: new: %w", err)
	}
	if opts.StrikeTTL == 0 {
		opts.StrikeTTL = 365 * 24 * time.Hour
	}
	if opts.ReinstateAfter == 0 {
		opts.ReinstateAfter = 10 * 24 * time.Hour
	}
	if opts.StrikeTTL < time.Millisecond || opts.ReinstateAfter < 0 {
		return nil, fmt.Errorf("review: new: strike TTL %v and waiting period %v must be positive", opts.StrikeTTL, opts.ReinstateAfter)
	}
	if opts.Topics.Takedowns == "" {
		opts.Topics.Takedowns = "takedowns"
	}
	if opts.Topics.SellerActions == "" {
		opts.Topics.SellerActions = "seller-actions"
	}
	if opts.Topics.SellerNotices == "" {
		opts.Topics.SellerNotices = "seller-notices"
	}
	if opts.CounterNoticeWindow == 0 {
		opts.CounterNoticeWindow = 30 * 24 * time.Hour
	}
	if opts.CounterNoticeWindow < 0 {
		return nil, fmt.Errorf("review: new: counter-notice window %v is negative", opts.CounterNoticeWindow)
	}
	if opts.Topics.Complaints == "" {
		opts.Topics.Complaints = "complaints"
	}
	q := &opts.Quality
	if q.GoodFaithRate == 0 {
		q.GoodFaithRate = 0.9
	}
	if q.MinDecisions == 0 {
		q.MinDecisions = 50
	}
	if q.ThrottleFloor == 0 {
		q.ThrottleFloor = 0.5
	}
	if q.ThrottleMinDecisions == 0 {
		q.ThrottleMinDecisions = 10
	}
	if q.GoodFaithRate < 0 || q.GoodFaithRate > 1 || q.ThrottleFloor < 0 || q.ThrottleFloor > q.GoodFaithRate ||
		q.MinDecisions < 1 || q.ThrottleMinDecisions < 1 {
		return nil, fmt.Errorf("review: new: quality %+v: want 0 <= throttle floor <= good-faith rate <= 1 and positive minimums", *q)
	}
	if opts.BuyerComplaintWeight == 0 {
		opts.BuyerComplaintWeight = DefaultBuyerComplaintWeight
	}
	if opts.BuyerComplaintWeight < 0 {
		return nil, fmt.Errorf("review: new: buyer complaint weight %g is negative", opts.BuyerComplaintWeight)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := newServiceMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("review: new: %w", err)
	}
	return &Service{
		store:                  opts.Store,
		clock:                  opts.Clock,
		ladder:                 opts.Ladder,
		strikeTTL:              opts.StrikeTTL,
		reinstateAfter:         opts.ReinstateAfter,
		topics:                 opts.Topics,
		quality:                opts.Quality,
		counterNoticeWindow:    opts.CounterNoticeWindow,
		educateFirstNominative: opts.EducateFirstNominative,
		buyerComplaintWeight:   opts.BuyerComplaintWeight,
		log:                    opts.Logger.With("component", "review"),
		metrics:                m,
		refused:                m.refused,
	}, nil
}

// now is the service's clock in UTC, at the store's millisecond precision,
// so that times written and times compared agree.
func (s *Service) now() time.Time {
	return time.UnixMilli(s.clock.Now().UnixMilli()).UTC()
}
