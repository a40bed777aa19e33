package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/api"
	"github.com/markwatch/markwatch/internal/calibration"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/quarantine"
	"github.com/markwatch/markwatch/internal/retention"
	"github.com/markwatch/markwatch/internal/review"
	"github.com/markwatch/markwatch/internal/search"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/matchers/logo"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/ingest"
)

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch serve", flag.ContinueOnError)
	var f streamFlags
	f.register(fs)
	f.registerDB(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch serve [-config F] [-brokers B] [-listen A] [-db DSN]\n\nRuns the review service: the HTTP API under /v1/ (holders, complaints,\ndecisions, counter-notices, sellers, audit; OpenAPI at /v1/openapi.json)\nand the web console at /,\nstores complaints from the complaints topic once, relays decisions\n(takedowns, seller actions) from the outbox, reinstates contested listings\nwhen their waiting period ends.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	reg := processRegistry(cfg.Detection.RuleVersion)
	st, err := openStore(ctx, cfg.Store.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	rs, err := newReviewServer(cfg, st, log, reg)
	if err != nil {
		return err
	}
	// On disk, the search index outlives the process: the next start
	// serves text search from it at once and catches up from its
	// watermark instead of rebuilding.
	var ix *search.Index
	switch {
	case cfg.Review.SearchIndex != "" && st.TextSearch():
		// Deprecated: the store answers text search (PostgreSQL, and
		// SQLite from schema 24), so no index is built or read.
		log.Warn("review.search_index is deprecated and not used: the store answers text search", "search_index", cfg.Review.SearchIndex)
	case cfg.Review.SearchIndex != "":
		if ix, err = search.Open(cfg.Review.SearchIndex); err != nil {
			return err
		}
		defer ix.Close()
	}
	// One hasher: uploaded logos' features decode within its budget too.
	hasher := detection.HasherFrom(cfg.Detection)
	a, err := api.New(api.Options{
		Store: st, Review: rs.svc, Logger: log, Registerer: reg, Search: ix,
		Marks: api.MarkOptions{Topic: cfg.Kafka.Topics.Marks, Hasher: hasher, Logos: detection.NewLumaFeatures(hasher, logo.ExtractorOptions{}), DecodeWait: cfg.Detection.Image.DecodeWait},
		Calibration: calibration.Options{
			Target: cfg.Review.Calibration.Target, MinDecisions: cfg.Review.Calibration.MinDecisions, WindowDays: cfg.Review.Calibration.WindowDays,
		},
		NegativeBankTopic: cfg.Kafka.Topics.NegativeBanks,
	})
	if err != nil {
		return err
	}
	// Queue depth, oldest open complaint and holder standings, read from
	// the database on each scrape; the search index built from the store.
	reg.MustRegister(rs.svc.QueueCollector(0))
	// On SQLite the search index builds in the background and follows
	// the store from then on: the replica serves from the first
	// complaints indexed (markwatch_search_index_ready, _lag_seconds say
	// how far it is). On PostgreSQL the store matches text itself and
	// this loop only keeps the good-faith holders' queue priority.
	searchCtx, stopSearch := context.WithCancel(ctx)
	var searching sync.WaitGroup
	searching.Go(func() { _ = a.RunSearch(searchCtx) })
	defer func() { stopSearch(); searching.Wait() }()
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	log.Info("review service starting", "db", redactDSN(cfg.Store.DSN), "http", ln.Addr().String(),
		"complaints", cfg.Kafka.Topics.Complaints, "group", cfg.Review.GroupID)
	console, err := newConsole(cfg, st, rs.svc, a, log)
	if err != nil {
		return err
	}
	return rs.run(ctx, ln, func(mux *http.ServeMux) {
		mux.Handle("/v1/", a.Handler())
		mux.Handle("/", console.Handler()) // the web console, on the API's listener
	})
}

// openStore opens the database, creating the folder of a SQLite file.
func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok && path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
	}
	return st, nil
}

// redactDSN hides a password in a database URL for logs.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	creds := dsn[scheme+3 : at]
	if user, _, ok := strings.Cut(creds, ":"); ok {
		return dsn[:scheme+3] + user + ":***" + dsn[at:]
	}
	return dsn
}

// reviewServer is the review service's parts, wired.
type reviewServer struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	svc      *review.Service
	consumer *pipeline.Consumer
	// buyerReports consumes the buyer-reports topic; nil unless
	// review.buyer_reports.enabled.
	buyerReports *pipeline.Consumer
	// networks link sellers from the listings topic and the detectors'
	// listing-photos topic; none unless review.networks.enabled
	// (networks.go).
	networks []*pipeline.Consumer
	relay    *review.Relay
	// retention deletes old complaints and records and makes the coming
	// months' partitions (review.retention).
	retention *retention.Job
	writer    io.Closer
	interval  time.Duration
	stopping  atomic.Bool
	// kafka is what /readyz knows of the brokers: the consumer and the
	// relay are useless without them.
	kafka *brokerCheck
	// quarantine is the flood quarantine's watcher; nil when disabled.
	quarantine *quarantine.Watcher
}

func newReviewServer(cfg config.Config, st *store.Store, log *slog.Logger, reg *prometheus.Registry) (*reviewServer, error) {
	ladder := make(review.Ladder, 0, len(cfg.Review.Ladder))
	for _, r := range cfg.Review.Ladder {
		ladder = append(ladder, review.Rung{Strikes: r.Strikes, Status: r.Status})
	}
	svc, err := review.New(review.Options{
		Store:                  st,
		Ladder:                 ladder,
		StrikeTTL:              cfg.Review.StrikeTTL,
		ReinstateAfter:         cfg.Review.ReinstateAfter,
		CounterNoticeWindow:    cfg.Review.CounterNoticeWindow,
		EducateFirstNominative: cfg.Review.EducateFirstNominative,
		BuyerComplaintWeight:   cfg.Review.BuyerReports.ComplaintWeight,
		Quality: review.Quality{
			GoodFaithRate: cfg.Review.GoodFaithRate, MinDecisions: cfg.Review.MinDecisions,
			ThrottleFloor: cfg.Review.ThrottleFloor,
		},
		Topics: review.Topics{
			Takedowns: cfg.Kafka.Topics.Takedowns, SellerActions: cfg.Kafka.Topics.SellerActions,
			SellerNotices: cfg.Kafka.Topics.SellerNotices, Complaints: cfg.Kafka.Topics.Complaints,
		},
		Logger:     log,
		Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	writer := pipeline.NewWriter(cfg.Kafka.Brokers, pipeline.WriterOptions{})
	relay, err := review.NewRelay(review.RelayOptions{
		Store: st, Publisher: review.KafkaPublisher{Writer: writer}, Logger: log, Registerer: reg,
	})
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	consumer, err := pipeline.NewConsumer(pipeline.Options{
		Brokers:     cfg.Kafka.Brokers,
		GroupID:     cfg.Review.GroupID,
		Topic:       cfg.Kafka.Topics.Complaints,
		DLQTopic:    cfg.Review.ComplaintsDLQ,
		Concurrency: cfg.Kafka.Concurrency,
		Logger:      log,
		// The detectors' consumer metrics share names; label this one.
		Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "review"}, reg),
		Writer:     writer,
	}, ingest.Handler(svc, cfg.Limits, func(err error) bool { return errors.Is(err, review.ErrInvalid) }))
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	topics := []string{cfg.Kafka.Topics.Complaints, cfg.Kafka.Topics.Takedowns, cfg.Kafka.Topics.SellerActions, cfg.Kafka.Topics.SellerNotices, cfg.Kafka.Topics.Marks}
	var buyerReports *pipeline.Consumer
	if br := cfg.Review.BuyerReports; br.Enabled {
		buyerReports, err = pipeline.NewConsumer(pipeline.Options{
			Brokers:     cfg.Kafka.Brokers,
			GroupID:     br.GroupID,
			Topic:       cfg.Kafka.Topics.BuyerReports,
			DLQTopic:    br.DLQ,
			Concurrency: cfg.Kafka.Concurrency,
			Logger:      log,
			Registerer:  prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "buyer_reports"}, reg),
			Writer:      writer,
		}, ingest.BuyerReportHandler(svc, cfg.Limits, func(err error) bool { return errors.Is(err, review.ErrInvalid) }))
		if err != nil {
			_ = writer.Close()
			return nil, err
		}
		topics = append(topics, cfg.Kafka.Topics.BuyerReports)
	}
	networks, err := newNetworkConsumers(cfg, st, writer, log, reg)
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	rt := cfg.Review.Retention
	keeper, err := retention.New(retention.Options{
		Store: st, DecidedComplaints: rt.DecidedComplaints, Records: rt.Records, Interval: rt.Interval,
		Batch: rt.Batch, PartitionsAhead: rt.PartitionsAhead, Logger: log, Registerer: reg,
	})
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	var watcher *quarantine.Watcher
	if q := cfg.Review.Quarantine; !q.Disabled {
		watcher, err = quarantine.NewWatcher(st, quarantine.WatcherOptions{
			Options: quarantine.Options{
				Window: q.Window, Baseline: q.Baseline, Factor: q.Factor, MinCount: q.MinCount,
				PrecisionWindow: q.PrecisionWindow, PrecisionFloor: q.PrecisionFloor, MinDecisions: q.MinDecisions, Share: q.Share,
			},
			MarksTopic: cfg.Kafka.Topics.Marks, Interval: q.Interval, Logger: log, Registerer: reg,
		})
		if err != nil {
			_ = writer.Close()
			return nil, err
		}
	}
	if len(networks) > 0 {
		topics = append(topics, cfg.Kafka.Topics.Listings)
	}
	if len(networks) > 1 {
		topics = append(topics, cfg.Kafka.Topics.ListingPhotos)
	}
	return &reviewServer{
		log: log.With("component", "review-server"), reg: reg, svc: svc, consumer: consumer, buyerReports: buyerReports, networks: networks,
		relay: relay, retention: keeper, writer: writer, interval: cfg.Review.TimerInterval, quarantine: watcher,
		kafka: newBrokerCheck(cfg.Kafka.Brokers, topics),
	}, nil
}

// run runs the consumer, the outbox relay and the reinstatement timer
// until ctx ends, then stops them in order: readiness off → consumer drains
// and commits → timer and relay stop (events left in the outbox are
// published by the next start) → writer flushed → HTTP shut down.
//
// A nil ln runs the review flow without an HTTP server of its own, for a
// process that serves the API elsewhere (markwatch dev).
func (s *reviewServer) run(ctx context.Context, ln net.Listener, extra func(*http.ServeMux)) error {
	if ln == nil {
		return s.runFlow(ctx)
	}
	mux := probeMux(s.reg, s.consumer.Healthy, func() (string, error) {
		if s.stopping.Load() {
			return "", errors.New("shutting down")
		}
		if err := s.kafka.Err(); err != nil {
			return "", err
		}
		return "ready", nil
	})
	if extra != nil {
		extra(mux)
	}
	checkCtx, stopCheck := context.WithCancel(ctx)
	var checking sync.WaitGroup
	checking.Go(func() { s.kafka.Run(checkCtx) })
	stopHTTP := startHTTP(ln, mux)
	err := s.runFlow(ctx)
	stopCheck()
	checking.Wait()
	if herr := stopHTTP(); herr != nil {
		return herr
	}
	return err
}

// runFlow runs the consumer, relay and timer until ctx ends, in the
// shutdown order of run.
func (s *reviewServer) runFlow(ctx context.Context) error {
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.relay.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("outbox relay stopped", "error", err)
		}
	})
	wg.Go(func() {
		if err := s.svc.RunTimer(bg, s.interval); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("reinstatement timer stopped", "error", err)
		}
	})
	wg.Go(func() { _ = s.retention.Run(bg) }) // logs and retries its own failures
	if s.quarantine != nil {
		// Only returns on cancellation; its errors are logged and retried.
		wg.Go(func() { _ = s.quarantine.Run(bg) })
	}
	// The buyer-reports consumer drains beside the complaints consumer,
	// on the same ctx, before the writer they share is flushed.
	var buyers sync.WaitGroup
	var buyerErr error
	if s.buyerReports != nil {
		buyers.Go(func() {
			if buyerErr = s.buyerReports.Run(ctx); buyerErr != nil && !errors.Is(buyerErr, context.Canceled) {
				s.log.Error("buyer-reports consumer stopped", "error", buyerErr)
			}
		})
	}
	// So do the seller-network consumers.
	networkErrs := make([]error, len(s.networks))
	for i, c := range s.networks {
		buyers.Go(func() {
			if networkErrs[i] = c.Run(ctx); networkErrs[i] != nil && !errors.Is(networkErrs[i], context.Canceled) {
				s.log.Error("seller-network consumer stopped", "error", networkErrs[i])
			}
		})
	}
	err := s.consumer.Run(ctx)
	buyers.Wait()
	if err == nil || errors.Is(err, context.Canceled) {
		err = buyerErr
	}
	for _, nerr := range networkErrs {
		if err == nil || errors.Is(err, context.Canceled) {
			err = nerr
		}
	}
	s.stopping.Store(true)
	stopBG()
	wg.Wait()
	if cerr := s.writer.Close(); cerr != nil {
		s.log.Warn("closing writer", "error", cerr)
	}
	s.log.Info("review service stopped")
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
