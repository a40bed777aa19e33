package main

import (
	"context"
	"encoding/json"
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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/internal/config"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/internal/store"
	"github.com/markwatch/markwatch/pipeline"
)

// devOptions are the flags of `markwatch dev`.
type devOptions struct {
	data, listen, broker string
	fixtures             string
	rate                 float64
	status               time.Duration
	logLevel             string
	sweep                bool
}

// devTopic is one topic `markwatch dev` creates.
type devTopic struct {
	name       string
	partitions int
	compacted  bool
}

// devState is what the listing producer keeps under -data, so that a
// restart produces new listing versions instead of replaying old ones.
type devState struct {
	Round int64 `json:"round"`
}

const (
	devGroup       = "markwatch-dev"
	devImagesPath  = "/fixtures/images/"
	devStateFile   = "producer.json"
	devKafkaDir    = "kafka"
	devTopicsWait  = 10 * time.Second
	devBatchPeriod = 100 * time.Millisecond
	// devActor is the audit log's actor for what dev does by itself.
	devActor = "markwatch-dev"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("markwatch dev", flag.ContinueOnError)
	var o devOptions
	fs.StringVar(&o.data, "data", filepath.Join("var", "dev"), "folder for the broker's data and the producer's state; a restart with the same folder keeps both")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of /metrics, /healthz, /readyz and the fixture images (port 0: any free port)")
	fs.StringVar(&o.broker, "broker", "127.0.0.1:9092", "address of the embedded Kafka broker (port 0: any free port)")
	fs.StringVar(&o.fixtures, "fixtures", "", "fixture folder with "+fixtures.MarksFile+", "+fixtures.ListingsFile+" and images/ (default: fixtures/data of the checkout, found from the working directory or the binary's location)")
	fs.Float64Var(&o.rate, "rate", 20, "fixture listings produced per second (0: none)")
	fs.DurationVar(&o.status, "status", 5*time.Second, "interval of the status line (0: none)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "detector log level on stderr: debug, info, warn or error")
	fs.BoolVar(&o.sweep, "sweep", true, "sweep the listings already produced when a mark becomes active or changes (complaints with source sweep)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: markwatch dev [-data DIR] [-fixtures DIR] [-listen ADDR] [-broker ADDR] [-rate N]\n\n"+
			"Runs everything in one process: an embedded Kafka-protocol broker (franz-go kfake) with the\n"+
			"topics created, the fixture marks published, fixture listings produced at a trickle, and the\n"+
			"streaming detector with its metrics and health endpoints. Ctrl-C stops it.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if o.rate < 0 || o.rate > 100000 {
		fmt.Fprintf(stderr, "-rate %g: must be in [0, 100000]\n", o.rate)
		return errUsage
	}
	if o.fixtures == "" {
		dir, err := defaultFixtures()
		if err != nil {
			return err
		}
		o.fixtures = dir
	}
	return devRun(ctx, o, stdout, stderr)
}

// devRun starts the broker, seeds it, runs the detector, the producer, the
// complaint counter and the status line until ctx ends, then stops them in
// order: detector (drains and commits), producer, counter, broker (which
// writes its state to -data on close).
func devRun(ctx context.Context, o devOptions, stdout, stderr io.Writer) error {
	kafkaDir := filepath.Join(o.data, devKafkaDir)
	if err := os.MkdirAll(kafkaDir, 0o755); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	cluster, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.ClusterID("markwatch-dev"),
		// kfake listens on 127.0.0.1:<port>; ListenFn lets -broker name the
		// whole address and port 0 pick a free one.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) { return net.Listen(network, o.broker) }),
		kfake.DataDir(kafkaDir),
	)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("start embedded broker: %s is taken (another markwatch dev, or a Kafka broker?): stop it, or pass -broker with another port (port 0: any free one): %w", o.broker, err)
	}
	if err != nil {
		return fmt.Errorf("start embedded broker on %s (data in %s; delete it to start afresh): %w", o.broker, kafkaDir, err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()

	ln, err := net.Listen("tcp", o.listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("listen on %s: taken (another markwatch dev?): stop it, or pass -listen with another port (port 0: any free one): %w", o.listen, err)
	}
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	closeLn := true
	defer func() {
		if closeLn {
			_ = ln.Close()
		}
	}()
	httpAddr := ln.Addr().String()

	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.GroupID = devGroup
	cfg.HTTP.Listen = httpAddr
	// The detector fetches the fixture images from this process's own
	// server on loopback, which the SSRF guard refuses unless told.
	cfg.Detection.Image.AllowHosts = append(cfg.Detection.Image.AllowHosts, httpAddr)
	cfg.Detection.Image.AllowPrivate = true
	cfg.Log = config.Log{Level: o.logLevel, Format: "text"}
	// A mark verified in the console finds the listings produced before it
	// about a second later: dev has one detector, so the settle time only
	// needs to cover its own marks debounce and build.
	cfg.Sweep.Enabled = o.sweep
	cfg.Sweep.Settle = time.Second
	// Buyer reports trickle in beside the listings (devbuyers.go).
	cfg.Review.BuyerReports.Enabled = true
	// Sellers are linked into networks from the same listings, on their
	// text and fields. Not on photos: the fixtures draw sellers' own
	// photos from a small pool shared by unrelated invented sellers, so
	// photo links would chain most of them into one network.
	cfg.Review.Networks.Enabled = true
	cfg.Review.Networks.Photos = false
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("dev configuration: %w", err)
	}
	topics := append(devTopics(cfg.Kafka.Topics, cfg.Review.ComplaintsDLQ),
		devTopic{name: cfg.Kafka.Topics.BuyerReports, partitions: 3}, devTopic{name: cfg.Review.BuyerReports.DLQ, partitions: 1})
	if err := createTopics(ctx, brokers, topics); err != nil {
		return err
	}

	writer := pipeline.NewWriter(brokers, pipeline.WriterOptions{})
	defer func() { _ = pipeline.CloseWriter(writer) }()
	log := newLogger(cfg.Log, stderr)
	reg := processRegistry(cfg.Detection.RuleVersion)
	rv, err := newDevReview(ctx, cfg, o.data, log, reg)
	if err != nil {
		return err
	}
	defer rv.store.Close()
	seeded, err := registerFixtureMarks(ctx, cfg, o.fixtures, rv, log, reg)
	if err != nil {
		return err
	}
	listings, err := devListings(o.fixtures, cfg.Limits, "http://"+httpAddr+devImagesPath)
	if err != nil {
		return err
	}

	d, err := newDetector(cfg, log, reg)
	if err != nil {
		return err
	}
	printBanner(stdout, o, brokers[0], httpAddr, topics, seeded, len(listings))
	printTokens(stdout, httpAddr, o.data, rv.tokens)
	printLogins(stdout, httpAddr, rv.logins)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var produced, complaints atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	if o.rate > 0 {
		wg.Go(func() {
			if err := produceListings(runCtx, writer, cfg.Kafka.Topics.Listings, listings, o, &produced); err != nil {
				errs <- fmt.Errorf("listing producer: %w", err)
				cancel()
			}
		})
	}
	if o.rate > 0 {
		wg.Go(func() {
			if err := produceBuyerReports(runCtx, writer, cfg.Kafka.Topics.BuyerReports, listings, devBuyerReportPeriod); err != nil {
				errs <- fmt.Errorf("buyer report producer: %w", err)
				cancel()
			}
		})
	}
	wg.Go(func() {
		err := consumeTopic(runCtx, brokers, cfg.Kafka.Topics.Complaints, kafka.LastOffset, func(kafka.Message) bool {
			complaints.Add(1)
			return true
		})
		if err != nil && runCtx.Err() == nil {
			errs <- fmt.Errorf("complaint counter: %w", err)
			cancel()
		}
	})
	if o.status > 0 {
		wg.Go(func() { printStatus(runCtx, stdout, o.status, reg, &produced, &complaints) })
	}
	// The search index builds in the background and follows the store;
	// the console and the API serve from it at once.
	wg.Go(func() { _ = rv.api.RunSearch(runCtx) })
	wg.Go(func() {
		if err := rv.server.run(runCtx, nil, nil); err != nil {
			errs <- fmt.Errorf("review service: %w", err)
			cancel()
		}
	})

	images := http.StripPrefix(devImagesPath, http.FileServer(http.Dir(filepath.Join(o.fixtures, fixtures.ImagesDir))))
	closeLn = false // the detector's server owns it now
	runErr := d.run(runCtx, ln, func(mux *http.ServeMux) {
		mux.Handle("GET "+devImagesPath, images)
		rv.mount(mux)
	})
	cancel()
	wg.Wait()
	close(errs)
	fmt.Fprintf(stdout, "stopped: %d listings produced, %d complaints seen; broker data kept in %s\n",
		produced.Load(), complaints.Load(), kafkaDir)
	return errors.Join(append([]error{runErr}, collect(errs)...)...)
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// devTopics lists the topics of the design with their partitions, and the
// review service's complaints dead-letter topic: writers never create
// topics, and a refused complaint whose dead letter cannot be written
// would stall the review consumer.
func devTopics(t config.Topics, complaintsDLQ string) []devTopic {
	return []devTopic{
		{name: t.Listings, partitions: 6},
		{name: t.Marks, partitions: 3, compacted: true},
		{name: t.Complaints, partitions: 6},
		{name: t.DLQ, partitions: 1},
		{name: complaintsDLQ, partitions: 1},
		{name: t.Takedowns, partitions: 3},
		{name: t.SellerActions, partitions: 3},
		{name: t.SellerNotices, partitions: 3},
		{name: t.Sweeps, partitions: 1, compacted: true},
		{name: t.NegativeBanks, partitions: 1, compacted: true},
	}
}

// createTopics creates the topics; one that exists (a restart on the same
// -data) is kept as it is.
func createTopics(ctx context.Context, brokers []string, topics []devTopic) error {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: devTopicsWait, Transport: transport}
	req := &kafka.CreateTopicsRequest{}
	for _, t := range topics {
		tc := kafka.TopicConfig{Topic: t.name, NumPartitions: t.partitions, ReplicationFactor: 1}
		if t.compacted {
			tc.ConfigEntries = []kafka.ConfigEntry{{ConfigName: "cleanup.policy", ConfigValue: "compact"}}
		}
		req.Topics = append(req.Topics, tc)
	}
	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	return nil
}

// registerFixtureMarks registers the fixture marks in the review store as
// verified marks of their holders, with their reference images hashed,
// through the registry (api.RegisterVerified): so GET /v1/marks/mk-veltaro
// answers, the demo brand owner sees its holder's mark, and the mark
// reaches the marks topic by the outbox like any verified mark. The outbox
// is then published before the detector starts, so that the first
// listings are scored against the marks. Marks already registered (a
// restart) are left as the last run, or a user, left them. It returns the
// number of marks registered now. A reference image that cannot be hashed
// is logged, counted in reg's markwatch_reference_images_skipped_total and
// left out of its mark.
func registerFixtureMarks(ctx context.Context, cfg config.Config, dir string, rv *devReview, log *slog.Logger, reg prometheus.Registerer) (int, error) {
	path := filepath.Join(dir, fixtures.MarksFile)
	all, err := detection.ReadMarks(path, cfg.Limits)
	if err != nil {
		return 0, err
	}
	var ms []*domain.Mark
	for _, m := range all {
		if _, err := rv.store.GetMark(ctx, m.MarkID); errors.Is(err, store.ErrNotFound) {
			ms = append(ms, m)
		} else if err != nil {
			return 0, err
		}
	}
	registered := 0
	if len(ms) > 0 {
		fetch, err := imagefetch.New(imagefetch.Options{
			BaseDir: dir, AllowFiles: true, MaxBytes: cfg.Detection.Image.MaxBytes,
			Timeout: cfg.Detection.Image.FetchTimeout, UserAgent: "markwatch/" + version,
		})
		if err != nil {
			return 0, err
		}
		images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), reg)
		if err != nil {
			return 0, err
		}
		prepared, skipped, err := detection.PrepareMarks(ctx, ms, images, nil)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range skipped {
			log.Warn("reference image not used; the mark is watched without it", "mark_id", s.MarkID, "kind", s.Kind,
				"url", s.URL, "reason", s.Reason, "error", s.Err, "file", path)
		}
		for _, p := range prepared {
			// p.Mark carries image_hashes from its logos and official
			// photos, so detectors never fetch reference images.
			created, err := rv.api.RegisterVerified(ctx, p.Mark, p.Name+" (fixture holder)", devActor)
			if err != nil {
				return 0, err
			}
			if created {
				registered++
			}
		}
	}
	for {
		n, err := rv.server.relay.PublishPending(ctx)
		if err != nil {
			return 0, fmt.Errorf("publish the registry's outbox to the marks topic: %w", err)
		}
		if n == 0 {
			return registered, nil
		}
	}
}

// devListings reads the fixture listings without their labels, with
// image paths turned into URLs under imageBase and the payout rings of
// devnetworks.go.
func devListings(dir string, lim domain.Limits, imageBase string) ([]*domain.Listing, error) {
	f, err := os.Open(filepath.Join(dir, fixtures.ListingsFile))
	if err != nil {
		return nil, fmt.Errorf("fixture listings: %w", err)
	}
	defer f.Close()
	ls, err := fixtures.ReadListings(f, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("%s: no listings", f.Name())
	}
	addPayoutRings(ls) // seller networks to show (devnetworks.go)
	prefix := fixtures.ImagesDir + "/"
	for _, l := range ls {
		l.Label = nil // ground truth is for evaluation, not for the marketplace feed
		for i, ref := range l.Images {
			if rel, ok := strings.CutPrefix(ref, prefix); ok {
				l.Images[i] = imageBase + rel
			}
		}
	}
	return ls, nil
}

// produceListings writes the listings to topic at o.rate per second,
// round after round, each round with the next listing version, until ctx
// ends. The round is kept under o.data.
func produceListings(ctx context.Context, w pipeline.MessageWriter, topic string, listings []*domain.Listing, o devOptions, produced *atomic.Int64) error {
	statePath := filepath.Join(o.data, devStateFile)
	var st devState
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("%s: %w (delete it to start from round 1)", statePath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("producer state: %w", err)
	}
	// One batch per listing at low rates, else every 10–100 ms: smooth
	// enough to watch without a timer storm at high rates.
	tick := time.NewTicker(max(10*time.Millisecond, min(devBatchPeriod, time.Duration(float64(time.Second)/o.rate))))
	defer tick.Stop()
	start := time.Now()
	var sent int64
	next := len(listings) // starts a round
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		due := int64(o.rate*time.Since(start).Seconds()) - sent
		msgs := make([]kafka.Message, 0, min(due, 1000))
		for range min(due, 1000) {
			if next == len(listings) {
				next = 0
				st.Round++
				if err := writeState(statePath, st); err != nil {
					return err
				}
			}
			l := *listings[next]
			next++
			l.Version = st.Round
			l.CreatedAt = time.Now().UTC().Truncate(time.Second)
			v, err := json.Marshal(&l)
			if err != nil {
				return fmt.Errorf("encode listing %s: %w", l.ListingID, err)
			}
			msgs = append(msgs, kafka.Message{Topic: topic, Key: []byte(l.ListingID), Value: v})
		}
		if len(msgs) == 0 {
			continue
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("write %d listings: %w", len(msgs), err)
		}
		sent += int64(len(msgs))
		produced.Add(int64(len(msgs)))
	}
}

func writeState(path string, st devState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("producer state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("producer state: %w", err)
	}
	return nil
}

func printBanner(w io.Writer, o devOptions, broker, httpAddr string, topics []devTopic, seeded, listings int) {
	var ts []string
	for _, t := range topics {
		s := fmt.Sprintf("%s (%d", t.name, t.partitions)
		if t.compacted {
			s += ", compacted"
		}
		ts = append(ts, s+")")
	}
	marks := fmt.Sprintf("%d fixture marks registered as verified and published through the registry, image hashes included", seeded)
	if seeded == 0 {
		marks = "kept from the last run (delete " + o.data + " to re-seed)"
	}
	producing := "nothing (-rate 0)"
	if o.rate > 0 {
		producing = fmt.Sprintf("%d fixture listings at %g/s, round after round", listings, o.rate)
	}
	status := fmt.Sprintf("A status line follows every %s.", o.status)
	if o.status <= 0 {
		status = "No status line (-status 0)."
	}
	self := selfName()
	tailCmd := self + " tail complaints"
	produceCmd := self + " produce listings"
	if broker != "127.0.0.1:9092" {
		tailCmd += " -brokers " + broker
		produceCmd += " -brokers " + broker
	}
	base := "http://" + httpAddr
	fmt.Fprintf(w, `markwatch dev: broker, detector and a listing producer in one process.

  Kafka broker   %s  (franz-go kfake; data in %s)
  topics         %s
  marks          %s
  producing      %s
  metrics        %s/metrics
  health         %s/healthz  %s/readyz
  images         %s%s

Watch complaints:  %s     (or: kcat -C -b %s -t complaints -u)
Your own listing:  %s   (one JSON listing per line on stdin, see README)
%s Ctrl-C stops everything.

`, broker, filepath.Join(o.data, devKafkaDir), strings.Join(ts, ", "), marks, producing,
		base, base, base, base, devImagesPath, tailCmd, broker, produceCmd, status)
}

// printStatus prints one line every interval: listings produced and
// scored, flagged share, complaints seen on the topic, dead letters.
func printStatus(ctx context.Context, w io.Writer, every time.Duration, reg prometheus.Gatherer, produced, complaints *atomic.Int64) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fmt.Fprintln(w, statusLine(now, reg, produced.Load(), complaints.Load()))
		}
	}
}

func statusLine(now time.Time, reg prometheus.Gatherer, produced, complaints int64) string {
	scored := counters(reg, "markwatch_listings_scored_total", "outcome")
	dead := counters(reg, "markwatch_consumer_dead_letters_total", "")
	total := scored["flagged"] + scored["clean"] + scored["invalid"]
	rate := 0.0
	if total > 0 {
		rate = 100 * scored["flagged"] / total
	}
	return fmt.Sprintf("%s produced %d · scored %.0f · flagged %.0f (%.1f%%) · complaints %d · dead letters %.0f",
		now.Format("15:04:05"), produced, total, scored["flagged"], rate, complaints, dead[""])
}

// counters sums the counter name from reg by the value of label ("" sums
// everything under the key "").
func counters(reg prometheus.Gatherer, name, label string) map[string]float64 {
	out := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, lp := range m.GetLabel() {
				if label != "" && lp.GetName() == label {
					key = lp.GetValue()
				}
			}
			out[key] += m.GetCounter().GetValue()
		}
	}
	return out
}

// selfName is how to call this binary in a hint: as it was invoked when
// that was a relative path (bin/markwatch from the checkout's root), else
// by its name, as when it is on PATH.
func selfName() string {
	if p := os.Args[0]; strings.Contains(p, string(filepath.Separator)) && !filepath.IsAbs(p) {
		return p
	}
	return "markwatch"
}
