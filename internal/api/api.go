// Package api is the review service's HTTP API: rights holders, manual
// complaints, reviewers' decisions, counter-notices and seller records, as
// JSON over stdlib net/http.
//
// Every route is declared once, in the route table (routes.go), with the
// roles allowed to call it and the tenant rule that confines a brand owner to
// its own rights holder. The mux is built from that table and every request
// goes through the same wrapper — authenticate, rate-limit, authorize,
// check the tenant, cap the body, run the handler, write the error envelope —
// so a route cannot exist without an authorization rule. The tenant always
// comes from the credentials, never from the URL or the body, and another
// tenant's object answers 404, exactly like a missing one, so that ids cannot
// be probed.
//
// Errors share one envelope: {"error":{"code":"not_found","message":"..."}}.
// A malformed body is a 400 naming the field (body.go); a well-formed one
// that names what the caller may not use — a manual complaint through a
// missing, another holder's or an inactive mark — is a 422 whose code is
// the rule broken (review.InvalidError.Rule).
package api

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/identity"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
)

// DefaultMaxBodyBytes caps a request body when Options.MaxBodyBytes is zero.
const DefaultMaxBodyBytes = 1 << 20

// Default per-token rate limit: sustained requests per second and burst.
const (
	DefaultRateLimit rate.Limit = 20
	DefaultRateBurst int        = 40
)

// Options configures New. Zero values take the defaults.
type Options struct {
	// Store is the database; required.
	Store *store.Store
	// Review is the review flow; required.
	Review *review.Service
	// Logger receives server errors; none when nil.
	Logger *slog.Logger
	// Registerer receives the API's metrics; none when nil.
	Registerer prometheus.Registerer
	// MaxBodyBytes caps every request body; a larger body answers 413.
	// DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// RateLimit is each token's sustained request rate, and RateBurst the
	// requests it may make at once; past them a request answers 429.
	// DefaultRateLimit and DefaultRateBurst when zero; rate.Inf disables
	// the limit.
	RateLimit rate.Limit
	RateBurst int
	// ThrottledRate and ThrottledBurst limit the manual complaints of a
	// holder whose standing is throttled (review.StandingThrottled), per
	// holder, across all its brand owners' tokens. One a minute, burst 1,
	// when zero.
	ThrottledRate  rate.Limit
	ThrottledBurst int
	// Marks configures the mark registry's routes (marks.go).
	Marks MarkOptions
	// NegativeBankTopic is the compacted topic negative-bank entries are
	// published to (learning.go); DefaultNegativeBankTopic when empty.
	NegativeBankTopic string
	// Calibration configures GET /v1/marks/{id}/calibration: the
	// precision target, the decisions a recommendation needs and the
	// default window. calibration's defaults when zero.
	Calibration calibration.Options
	// Search is the complaint search index behind GET /v1/complaints,
	// which the API rebuilds from the store and keeps current; an
	// in-memory index, made on first use, when nil.
	Search *search.Index
	// SearchInterval is how often RunSearch catches the search index up
	// with the store, the bound on how stale a list may be for changes
	// made elsewhere (by the consumer, the timer, another replica);
	// DefaultSearchInterval when zero.
	SearchInterval time.Duration
	// CountBudget bounds the time a list spends on its per-filter counts
	// (counts=true); what is not counted by then is reported unknown.
	// DefaultCountBudget when zero.
	CountBudget time.Duration
}

// DefaultCountBudget is Options.CountBudget when zero.
const DefaultCountBudget = 30 * time.Millisecond

// API serves the review service's HTTP API. It is safe for concurrent use.
type API struct {
	store    *store.Store
	review   *review.Service
	log      *slog.Logger
	maxBody  int64
	limiters *limiters
	// throttle limits throttled holders' manual complaints, by holder id.
	throttle *limiters
	metrics  *metrics
	routes   []route
	// marks is the mark registry's configuration (marks.go).
	marks markConfig
	// calibration is Options.Calibration with its defaults
	// (calibration.go).
	calibration calibration.Options
	// index is the complaint search index (complaints_list.go), caught
	// up every searchInterval under RunSearch.
	index          *complaintIndex
	searchInterval time.Duration
	// bankTopic is Options.NegativeBankTopic with its default.
	bankTopic string
	// inProcess is the handler Call serves through (call.go).
	inProcess http.Handler
	// facetCache keeps lists' per-filter counts a few seconds (facets.go).
	facetCache  *facetCache
	countBudget time.Duration
}

// New returns the API over opts.Store and opts.Review.
func New(opts Options) (*API, error) {
	if opts.Store == nil || opts.Review == nil {
		return nil, errors.New("api: new: a store and a review service are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateBurst == 0 {
		opts.RateBurst = DefaultRateBurst
	}
	if opts.ThrottledRate == 0 {
		opts.ThrottledRate = rate.Every(time.Minute)
	}
	if opts.ThrottledBurst == 0 {
		opts.ThrottledBurst = 1
	}
	if opts.MaxBodyBytes < 0 || opts.RateLimit < 0 || opts.RateBurst < 0 || opts.ThrottledRate < 0 || opts.ThrottledBurst < 0 {
		return nil, fmt.Errorf("api: new: body cap %d, rate %v and burst %d must not be negative", opts.MaxBodyBytes, opts.RateLimit, opts.RateBurst)
	}
	if opts.SearchInterval == 0 {
		opts.SearchInterval = DefaultSearchInterval
	}
	if opts.CountBudget == 0 {
		opts.CountBudget = DefaultCountBudget
	}
	if opts.SearchInterval < 0 {
		return nil, fmt.Errorf("api: new: search interval %v is negative", opts.SearchInterval)
	}
	index, err := newComplaintIndex(opts.Store, opts.Review, opts.Search, opts.Logger.With("component", "search"))
	if err != nil {
		return nil, fmt.Errorf("api: new: %w", err)
	}
	m, err := newMetrics(opts.Registerer, index)
	if err != nil {
		return nil, fmt.Errorf("api: new: %w", err)
	}
	mc, err := opts.Marks.config()
	if err != nil {
		return nil, fmt.Errorf("api: new: %w", err)
	}
	co, err := opts.Calibration.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("api: new: %w", err)
	}
	a := &API{
		store:          opts.Store,
		review:         opts.Review,
		log:            opts.Logger.With("component", "api"),
		maxBody:        opts.MaxBodyBytes,
		limiters:       newLimiters(opts.RateLimit, opts.RateBurst),
		throttle:       newLimiters(opts.ThrottledRate, opts.ThrottledBurst),
		metrics:        m,
		marks:          mc,
		index:          index,
		searchInterval: opts.SearchInterval,
		facetCache:     newFacetCache(),
		countBudget:    opts.CountBudget,
	}
	a.calibration = co
	a.bankTopic = cmp.Or(opts.NegativeBankTopic, DefaultNegativeBankTopic)
	a.metrics.thresholds.WithLabelValues("true") // both exist at zero
	a.metrics.thresholds.WithLabelValues("false")
	for _, action := range []string{"add", "undo"} {
		for _, kind := range []string{domain.BankImage, domain.BankPhrase} {
			a.metrics.bank.WithLabelValues(action, kind)
		}
	}
	for _, kind := range []string{domain.QuarantineMark, domain.QuarantineImage, domain.QuarantineVariant} {
		a.metrics.releases.WithLabelValues(kind)
	}
	a.routes = a.routeTable()
	for _, rt := range a.routes {
		if err := rt.check(); err != nil {
			return nil, fmt.Errorf("api: new: %w", err)
		}
		// Every route's server errors exist at zero, so that increase()
		// counts a route's first 500 (the 5xx ratio alert). Other codes
		// are born at their first request.
		a.metrics.requests.WithLabelValues(rt.method+" "+rt.pattern, strconv.Itoa(http.StatusInternalServerError))
	}
	a.inProcess = a.Handler()
	return a, nil
}

// Handler returns the API's handler: the mux built from the route table,
// answering unknown paths and methods with the error envelope too.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range a.routes {
		mux.Handle(rt.method+" "+rt.pattern, a.wrap(rt))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// ServeHTTP, not h: only the mux's ServeHTTP sets the
			// request's path values.
			mux.ServeHTTP(w, r)
			return
		}
		// The mux's own 404 and 405 are plain text; run them for their
		// status and Allow header, and answer with the envelope instead.
		rec := &statusOnly{header: w.Header()}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, code: "method_not_allowed", msg: "method " + r.Method + " not allowed here"})
			return
		}
		writeError(w, errNoRoute)
	})
}

// statusOnly records the status a handler writes and drops its body, but
// keeps the headers it sets (such as Allow) on the real response.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// wrap applies to one route everything every route needs, in order:
// authentication (401), the per-token rate limit (429), the role check (403),
// the tenant check (404), the body cap (413), and the error envelope.
func (a *API) wrap(rt route) http.Handler {
	label := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		err := a.serve(rt, sw, r)
		if err != nil {
			ae := a.toAPIError(err)
			if ae.status >= 500 {
				a.log.ErrorContext(r.Context(), "request failed", "route", label, "err", err)
			}
			writeError(sw, ae)
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		a.metrics.requests.WithLabelValues(label, strconv.Itoa(status)).Inc()
		a.metrics.latency.WithLabelValues(label).Observe(time.Since(start).Seconds())
	})
}

func (a *API) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	req := &request{Request: r}
	if !rt.public {
		u, err := a.authenticate(r)
		if err != nil {
			return err
		}
		req.user = u
		if !a.limiters.allow(u.ID) {
			w.Header().Set("Retry-After", "1")
			return errRateLimited
		}
		// The role first (403), before any object is loaded; then the
		// object's tenant (404). Both are identity.Authorize, the one
		// decision the console shares.
		if err := authzError(identity.Authorize(u, rt.allow, identity.Unowned()), ""); err != nil {
			return err
		}
		if err := a.checkTenant(rt, req); err != nil {
			return err
		}
	}
	limit := a.maxBody
	if rt.maxBody > 0 {
		limit = rt.maxBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	return rt.handler(w, req)
}

// statusWriter remembers the status written, for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Server returns an http.Server for the API on addr with every timeout set,
// so that a slow or stalled client cannot hold a connection forever. The
// caller runs it and stops it with Shutdown for a graceful exit.
func (a *API) Server(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}
