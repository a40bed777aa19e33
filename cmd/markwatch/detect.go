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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/detect"
	"github.com/markwatch/markwatch/pipeline/marks"
	"github.com/markwatch/markwatch/pipeline/sweep"
)

// streamFlags are the flags of the streaming commands.
type streamFlags struct {
	config, brokers, listen, group string
	db                             string
}

func (f *streamFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "YAML configuration file (default: built-in defaults)")
	fs.StringVar(&f.brokers, "brokers", "", "comma-separated Kafka brokers (overrides kafka.brokers and MARKWATCH_KAFKA_BROKERS)")
	fs.StringVar(&f.listen, "listen", "", "address of the metrics and health endpoints (overrides http.listen)")
	fs.StringVar(&f.group, "group", "", "consumer group id (overrides kafka.group_id)")
}

// registerDB adds -db, for the commands that open the store.
func (f *streamFlags) registerDB(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "database: sqlite:PATH or postgres://... (overrides store.dsn and MARKWATCH_STORE_DSN)")
}

// load reads the configuration: file, then environment, then flags.
func (f *streamFlags) load() (config.Config, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return cfg, err
	}
	if err := cfg.ApplyEnv(os.Getenv); err != nil {
		return cfg, fmt.Errorf("environment: %w", err)
	}
	if f.brokers != "" {
		cfg.Kafka.Brokers = strings.Split(f.brokers, ",")
	}
	if f.listen != "" {
		cfg.HTTP.Listen = f.listen
	}
	if f.group != "" {
		cfg.Kafka.GroupID = f.group
	}
	if f.db != "" {
		cfg.Store.DSN = f.db
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("flags: %w", err)
	}
	return cfg, nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runDetect(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch detect", flag.ContinueOnError)
	var f streamFlags
	f.register(fs)
	var sweepOn bool
	fs.BoolVar(&sweepOn, "sweep", false, "also run retroactive sweeps (overrides sweep.enabled; the sweepers of all detectors elect one to sweep)")
	var membership, instanceID string
	fs.StringVar(&membership, "membership", "", "consumer-group client: static (static membership, cooperative rebalancing) or kafka-go (deprecated) (overrides kafka.membership)")
	fs.StringVar(&instanceID, "group-instance-id", "", "this detector's group.instance.id, unique and stable across restarts (overrides kafka.group_instance_id; default: host name and a free index)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch detect [-config F] [-brokers B] [-listen A] [-sweep] [-membership M] [-group-instance-id ID]\n\nRuns the streaming detector: reads listings, follows marks, emits complaints.\nWith -sweep it also scores the listings already published against marks that\nbecome active or change (complaints with source sweep).\nMetrics on /metrics, liveness on /healthz, readiness on /readyz.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	if sweepOn {
		cfg.Sweep.Enabled = true
	}
	if membership != "" {
		cfg.Kafka.Membership = membership
	}
	if instanceID != "" {
		cfg.Kafka.GroupInstanceID = instanceID
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	log := newLogger(cfg.Log, stderr)
	reg := processRegistry(cfg.Detection.RuleVersion)
	d, err := newDetector(cfg, log, reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	log.Info("detector starting", "brokers", cfg.Kafka.Brokers, "group", cfg.Kafka.GroupID,
		"listings", cfg.Kafka.Topics.Listings, "http", ln.Addr().String(), "sweeps", cfg.Sweep.Enabled)
	return d.run(ctx, ln, nil)
}

// detector is the streaming detector's parts, wired.
type detector struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	follower *marks.Follower[*detection.Engine]
	// bank follows the negative-banks topic; nil when it is off.
	bank     *detect.BankFollower
	consumer *pipeline.Consumer
	writer   io.Closer
	// watched answers whether a mark is watched (GET /detector/marks/{id}).
	watched *watchedMarks
	// sweeper and its writer are nil unless sweep.enabled.
	sweeper     *sweep.Sweeper
	sweepWriter io.Closer
	// instance holds the detector's group.instance.id index (see
	// groupInstanceID) until it stops.
	instance io.Closer
	stopping atomic.Bool
}

func newDetector(cfg config.Config, log *slog.Logger, reg *prometheus.Registry) (*detector, error) {
	opts := detection.OptionsFrom(cfg.Detection)
	fetch, err := listingImageFetcher(cfg)
	if err != nil {
		return nil, err
	}
	// One hasher, so one decode budget (detection.image.decode_concurrency,
	// max_decoding_bytes) for the whole process: the live stream and the
	// sweeper share it.
	hasher := detection.HasherFrom(cfg.Detection)
	// The negative bank, when its topic is configured: the live stream
	// and the sweeper suppress what it holds.
	var bank *detect.BankFollower
	if cfg.Kafka.Topics.NegativeBanks != "" {
		bank, err = detect.NewBankFollower(detect.BankOptions{
			Brokers: cfg.Kafka.Brokers, Topic: cfg.Kafka.Topics.NegativeBanks,
			Debounce: cfg.Kafka.MarksDebounce, Limits: cfg.Limits, Logger: log, Registerer: reg,
		})
		if err != nil {
			return nil, err
		}
	}
	sweeper, sweepWriter, err := newSweeper(cfg, opts, fetch, hasher, bank, log, reg)
	if err != nil {
		return nil, err
	}
	watched := &watchedMarks{}
	follower, err := marks.New(marks.Options[*detection.Engine]{
		Brokers: cfg.Kafka.Brokers,
		Topic:   cfg.Kafka.Topics.Marks,
		Build: func(_ context.Context, ms []*domain.Mark) (*detection.Engine, error) {
			e, err := detection.BuildDomain(ms, opts)
			if err == nil {
				watched.built(e, ms)
			}
			if err == nil && sweeper != nil {
				// The marks this detector now watches: the sweeper
				// sweeps those that are new or changed.
				sweeper.Observe(ms)
			}
			return e, err
		},
		Close: func(e *detection.Engine) {
			watched.closed(e)
			_ = e.Close()
		},
		Debounce:   cfg.Kafka.MarksDebounce,
		Limits:     cfg.Limits,
		Logger:     log,
		Registerer: reg,
	})
	if err != nil {
		return nil, err
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, hasher, reg)
	if err != nil {
		return nil, err
	}
	stageOpts := detect.Options{
		ComplaintsTopic: cfg.Kafka.Topics.Complaints,
		Limits:          cfg.Limits,
		Images:          images,
		PhotosTopic:     cfg.Kafka.Topics.ListingPhotos,
		Logger:          log,
		Registerer:      reg,
	}
	if bank != nil {
		stageOpts.Bank = bank
	}
	stage, err := detect.New[*detection.Engine](follower, stageOpts)
	if err != nil {
		return nil, err
	}
	// markwatch's own group member (static, cooperative) unless the
	// deprecated kafka-go ConsumerGroup is asked for: the pipeline uses
	// the latter when the instance id is empty.
	instanceID, instance := "", io.Closer(io.NopCloser(nil))
	if cfg.Kafka.Membership == config.MembershipKafkaGo {
		log.Warn("kafka.membership kafka-go is deprecated and goes in the next release: every rebalance stops every partition, and a coordinator loss costs a session timeout more; remove the setting to use static membership with cooperative rebalancing")
	} else if instanceID, instance, err = groupInstanceID(cfg.Kafka); err != nil {
		return nil, err
	}
	writer := pipeline.NewWriter(cfg.Kafka.Brokers, pipeline.WriterOptions{})
	consumer, err := pipeline.NewConsumer(pipeline.Options{
		Brokers:         cfg.Kafka.Brokers,
		GroupID:         cfg.Kafka.GroupID,
		GroupInstanceID: instanceID,
		Topic:           cfg.Kafka.Topics.Listings,
		DLQTopic:        cfg.Kafka.Topics.DLQ,
		Concurrency:     cfg.Kafka.Concurrency,
		CommitInterval:  cfg.Kafka.CommitInterval,
		DrainTimeout:    cfg.Kafka.DrainTimeout,
		HandlerTimeout:  cfg.Kafka.HandlerTimeout,
		Logger:          log,
		// consumer="detector" keeps these series apart from the review
		// service's consumer (consumer="review") when both register on one
		// registry, as in markwatch dev.
		Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "detector"}, reg),
		Writer:     writer,
	}, stage.Handle)
	if err != nil {
		_ = writer.Close()
		_ = instance.Close()
		return nil, err
	}
	if instanceID != "" {
		log.Info("group membership: static, cooperative rebalancing", "group_instance_id", instanceID)
	}
	return &detector{log: log.With("component", "detector"), reg: reg, follower: follower, bank: bank, consumer: consumer, writer: writer,
		watched: watched, sweeper: sweeper, sweepWriter: sweepWriter, instance: instance}, nil
}

// newSweeper wires the retroactive sweeper when sweep.enabled is set: its
// own writer and image preparer (with its own fetch concurrency), so that a
// sweep never queues behind, or ahead of, the live stream's complaints and
// fetches; decoding goes through hasher, the process's one decode budget.
// Both results are nil when sweeps are off.
func newSweeper(cfg config.Config, opts detection.Options, fetch *imagefetch.Fetcher, hasher detection.Hasher, bank *detect.BankFollower, log *slog.Logger, reg prometheus.Registerer) (*sweep.Sweeper, io.Closer, error) {
	if !cfg.Sweep.Enabled {
		return nil, nil, nil
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, hasher, reg)
	if err != nil {
		return nil, nil, err
	}
	// Options take 0 as "the default" and a negative value as "none".
	lookback, rate := cfg.Sweep.Lookback, cfg.Sweep.Rate
	if lookback == 0 {
		lookback = -1
	}
	if rate == 0 {
		rate = -1
	}
	writer := pipeline.NewWriter(cfg.Kafka.Brokers, pipeline.WriterOptions{})
	s, err := sweep.New(sweep.Options{
		Brokers:         cfg.Kafka.Brokers,
		ListingsTopic:   cfg.Kafka.Topics.Listings,
		ComplaintsTopic: cfg.Kafka.Topics.Complaints,
		SweepsTopic:     cfg.Kafka.Topics.Sweeps,
		Build: func(_ context.Context, ms []*domain.Mark) (sweep.Engine, error) {
			return detection.BuildDomain(ms, opts)
		},
		Writer:             writer,
		Images:             images,
		Bank:               bankSource(bank),
		Lookback:           lookback,
		Rate:               rate,
		Settle:             cfg.Sweep.Settle,
		CheckpointInterval: cfg.Sweep.CheckpointInterval,
		SweepOnFirstStart:  cfg.Sweep.SweepOnFirstStart,
		GroupID:            cfg.Sweep.GroupID,
		Limits:             cfg.Limits,
		Logger:             log,
		Registerer:         reg,
	})
	if err != nil {
		_ = pipeline.CloseWriter(writer)
		return nil, nil, err
	}
	return s, closerFunc(func() error { return pipeline.CloseWriter(writer) }), nil
}

// bankSource is bank as an optional detect.BankSource: nil stays a nil
// interface, not an interface holding a nil pointer.
func bankSource(bank *detect.BankFollower) detect.BankSource {
	if bank == nil {
		return nil
	}
	return bank
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

// Close calls f.
func (f closerFunc) Close() error { return f() }

// handler serves /metrics, /healthz (liveness by progress: messages
// waiting and none finishing is a stuck detector; a quiet topic is not),
// /readyz (marks loaded, not stopping) and /detector/marks/{id} (is the
// mark watched now), plus extra routes.
func (d *detector) handler(extra func(*http.ServeMux)) http.Handler {
	mux := probeMux(d.reg, d.consumer.Healthy, func() (string, error) {
		switch {
		case d.stopping.Load():
			return "", errors.New("shutting down")
		case !d.follower.Ready():
			return "", errors.New("marks not loaded yet")
		case d.bank != nil && !d.bank.Ready():
			return "", errors.New("negative bank not loaded yet")
		}
		return fmt.Sprintf("ready: %d marks", d.follower.Marks()), nil
	})
	mux.HandleFunc("GET /detector/marks/{id}", d.serveWatched)
	if extra != nil {
		extra(mux)
	}
	return mux
}

// run runs the detector (and the sweeper, when enabled) until ctx ends,
// then shuts down in order: readiness off → fetching stops and in-flight
// listings drain → complaints flushed and offsets committed (inside the
// consumer) → sweeper stopped (its progress stays at its last checkpoint)
// → writer closed → marks follower stopped → HTTP server shut down with a
// deadline.
func (d *detector) run(ctx context.Context, ln net.Listener, extra func(*http.ServeMux)) error {
	// The instance index is free again only when run returns: a detector
	// starting meanwhile must not take this one's id while it consumes.
	if d.instance != nil {
		defer d.instance.Close()
	}
	stopHTTP := startHTTP(ln, d.handler(extra))

	fctx, stopFollower := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	followErr := make(chan error, 1)
	wg.Go(func() { followErr <- d.follower.Run(fctx) })
	if d.bank != nil {
		// The bank's Run only returns on cancellation, like the marks'.
		wg.Go(func() { _ = d.bank.Run(fctx) })
	}
	// The sweeper runs beside the live stream with its own readers, and
	// stops before the writers close. It only returns on cancellation.
	sctx, stopSweeper := context.WithCancel(context.Background())
	var sweepWG sync.WaitGroup
	if d.sweeper != nil {
		sweepWG.Go(func() { _ = d.sweeper.Run(sctx) })
	}
	defer func() {
		stopSweeper()
		sweepWG.Wait()
		if d.sweepWriter != nil {
			if err := d.sweepWriter.Close(); err != nil {
				d.log.Warn("closing sweep writer", "error", err)
			}
		}
	}()

	// Listings wait for the marks: a listing scored against no marks would
	// be committed clean.
	var consumerErr error
	ready := time.NewTicker(50 * time.Millisecond)
waitReady:
	for !d.follower.Ready() || d.bank != nil && !d.bank.Ready() {
		select {
		case <-ctx.Done():
			break waitReady
		case err := <-followErr:
			ready.Stop()
			stopFollower()
			wg.Wait()
			_ = stopHTTP()
			return fmt.Errorf("marks follower: %w", err)
		case <-ready.C:
		}
	}
	ready.Stop()
	if ctx.Err() == nil {
		d.log.Info("marks loaded; consuming listings", "marks", d.follower.Marks())
		consumerErr = d.consumer.Run(ctx)
	}
	d.stopping.Store(true)
	stopSweeper()
	sweepWG.Wait()
	if err := d.writer.Close(); err != nil {
		d.log.Warn("closing writer", "error", err)
	}
	stopFollower()
	wg.Wait()
	d.follower.Close()
	if d.bank != nil {
		d.bank.Close()
	}
	if err := stopHTTP(); err != nil {
		return err
	}
	d.log.Info("detector stopped")
	if consumerErr != nil && !errors.Is(consumerErr, context.Canceled) {
		return consumerErr
	}
	return nil
}
