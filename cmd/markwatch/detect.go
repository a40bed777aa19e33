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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch detect [-config F] [-brokers B] [-listen A]\n\nRuns the streaming detector: reads listings, follows marks, emits complaints.\nMetrics on /metrics, liveness on /healthz, readiness on /readyz.\n\nflags:")
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
	d, err := newDetector(cfg, log, reg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	log.Info("detector starting", "brokers", cfg.Kafka.Brokers, "group", cfg.Kafka.GroupID,
		"listings", cfg.Kafka.Topics.Listings, "http", ln.Addr().String())
	return d.run(ctx, ln, nil)
}

// detector is the streaming detector's parts, wired.
type detector struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	follower *marks.Follower[*detection.Engine]
	consumer *pipeline.Consumer
	writer   io.Closer
	stopping atomic.Bool
	// watched answers whether a mark is watched (GET /detector/marks/{id}).
	watched *watchedMarks
}

func newDetector(cfg config.Config, log *slog.Logger, reg *prometheus.Registry) (*detector, error) {
	opts := detection.OptionsFrom(cfg.Detection)
	watched := &watchedMarks{}
	follower, err := marks.New(marks.Options[*detection.Engine]{
		Brokers: cfg.Kafka.Brokers,
		Topic:   cfg.Kafka.Topics.Marks,
		Build: func(_ context.Context, ms []*domain.Mark) (*detection.Engine, error) {
			e, err := detection.BuildDomain(ms, opts)
			if err == nil {
				watched.built(e, ms)
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
	fetch, err := imagefetch.New(imagefetch.Options{
		AllowHosts:   cfg.Detection.Image.AllowHosts,
		AllowPrivate: cfg.Detection.Image.AllowPrivate,
		MaxBytes:     cfg.Detection.Image.MaxBytes,
		Timeout:      cfg.Detection.Image.FetchTimeout,
		UserAgent:    "markwatch/" + version,
	})
	if err != nil {
		return nil, err
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), nil)
	if err != nil {
		return nil, err
	}
	stage, err := detect.New[*detection.Engine](follower, detect.Options{
		ComplaintsTopic: cfg.Kafka.Topics.Complaints,
		Limits:          cfg.Limits,
		Images:          images,
		Logger:          log,
		Registerer:      reg,
	})
	if err != nil {
		return nil, err
	}
	writer := pipeline.NewWriter(cfg.Kafka.Brokers, pipeline.WriterOptions{})
	consumer, err := pipeline.NewConsumer(pipeline.Options{
		Brokers:        cfg.Kafka.Brokers,
		GroupID:        cfg.Kafka.GroupID,
		Topic:          cfg.Kafka.Topics.Listings,
		DLQTopic:       cfg.Kafka.Topics.DLQ,
		Concurrency:    cfg.Kafka.Concurrency,
		CommitInterval: cfg.Kafka.CommitInterval,
		DrainTimeout:   cfg.Kafka.DrainTimeout,
		HandlerTimeout: cfg.Kafka.HandlerTimeout,
		Logger:         log,
		// consumer="detector" keeps these series apart from the review
		// service's consumer (consumer="review") when both register on one
		// registry, as in markwatch dev.
		Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"consumer": "detector"}, reg),
		Writer:     writer,
	}, stage.Handle)
	if err != nil {
		_ = writer.Close()
		return nil, err
	}
	return &detector{log: log.With("component", "detector"), reg: reg, follower: follower, consumer: consumer, writer: writer, watched: watched}, nil
}

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
		}
		return fmt.Sprintf("ready: %d marks", d.follower.Marks()), nil
	})
	mux.HandleFunc("GET /detector/marks/{id}", d.serveWatched)
	if extra != nil {
		extra(mux)
	}
	return mux
}

// run runs the detector until ctx ends, then shuts down in order:
// readiness off → fetching stops and in-flight listings drain → complaints
// flushed and offsets committed (inside the consumer) → writer closed →
// marks follower stopped → HTTP server shut down with a deadline.
func (d *detector) run(ctx context.Context, ln net.Listener, extra func(*http.ServeMux)) error {
	stopHTTP := startHTTP(ln, d.handler(extra))

	fctx, stopFollower := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	followErr := make(chan error, 1)
	wg.Go(func() { followErr <- d.follower.Run(fctx) })

	// Listings wait for the marks: a listing scored against no marks would
	// be committed clean.
	var consumerErr error
	ready := time.NewTicker(50 * time.Millisecond)
waitReady:
	for !d.follower.Ready() {
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
	if err := d.writer.Close(); err != nil {
		d.log.Warn("closing writer", "error", err)
	}
	stopFollower()
	wg.Wait()
	d.follower.Close()
	if err := stopHTTP(); err != nil {
		return err
	}
	d.log.Info("detector stopped")
	if consumerErr != nil && !errors.Is(consumerErr, context.Canceled) {
		return consumerErr
	}
	return nil
}
