package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	xdraw "golang.org/x/image/draw"

	"github.com/markwatch/markwatch/fixtures"
	"github.com/markwatch/markwatch/fixtures/benchstream"
	"github.com/markwatch/markwatch/internal/detection"
	"github.com/markwatch/markwatch/internal/domain"
	"github.com/markwatch/markwatch/internal/imagefetch"
	"github.com/markwatch/markwatch/internal/testenv"
	"github.com/markwatch/markwatch/pipeline"
	"github.com/markwatch/markwatch/pipeline/detect"
	"github.com/markwatch/markwatch/pipeline/marks"
)

// BenchmarkStreamImage measures listings per second end to end through the
// real broker for listings with one 800×800 JPEG each, served by a local
// HTTP server. Every listing has its own URL and its own bytes (the same
// JPEG with a distinct tail after its end marker, which decoders ignore),
// so neither the URL cache nor the content cache spares a decode and hash.
//
// It runs the detector's parts in-process, wired as cmd/markwatch/detect.go
// wires them, rather than the binary: the binary's image fetcher refuses
// loopback addresses and the configuration has no switch to allow them, so
// a local image server is reachable only through imagefetch.AllowPrivate.
func BenchmarkStreamImage(b *testing.B) {
	const n = 1500
	brokers := testenv.KafkaBrokers(b)
	s := newStack(b, brokers, stackOptions{})
	publishMarks(b, s, fixtureMarks(b)...)

	img := jpeg800(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(img)
		_, _ = w.Write([]byte(r.URL.Path)) // after EOI: a distinct file, the same picture
	}))
	b.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	reg := runInProcess(b, s, host)
	w := newWriter(b, brokers, s.listings)
	listings := textListings(b, "image", n)

	var total, cpu time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		for i, l := range listings {
			l.ListingID = fmt.Sprintf("img-%d-%06d", round, i)
			l.Images = []string{srv.URL + "/" + url.PathEscape(l.ListingID) + ".jpg"}
		}
		msgs := listingMessages(b, listings)
		round++
		b.StartTimer()
		start, cpu0 := time.Now(), benchstream.ProcessCPU()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := produce(ctx, w, msgs...)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		s.waitLagZero(b, 5*time.Minute)
		total += time.Since(start)
		cpu += benchstream.ProcessCPU() - cpu0
	}
	ok := gathered(b, reg, "markwatch_image_fetches_total", "ok")
	if want := float64(n * b.N); ok != want {
		b.Fatalf("%v images fetched and hashed, want %v (failed: %v)", ok, want, gathered(b, reg, "markwatch_image_fetches_total", "failed"))
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "listings/s")
	// The process's CPU time (detector, image server and producer; not
	// the broker) per listing: what load from other sessions inflates
	// least, as in BenchmarkStreamImageLogo.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n*b.N), "cpu-ms/listing")
	b.ReportMetric(0, "ns/op")
}

// jpeg800 returns a fixture listing photo scaled to 800×800, as JPEG: the
// first listing image by name. (It named lst-000003-1.jpg until the
// fixtures were regenerated without that file, and then failed.)
func jpeg800(tb testing.TB) []byte {
	tb.Helper()
	paths, err := filepath.Glob(fixtures.Path("images/listings/*.jpg"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixture listing image: %v", err)
	}
	f, err := os.Open(paths[0]) // Glob sorts
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 800, 800))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// runInProcess runs the detector's marks follower, stage and consumer on s
// in this process until the benchmark ends, with image fetching allowed
// from host on loopback. It returns the registry of their metrics.
func runInProcess(tb testing.TB, s *stack, host string) *prometheus.Registry {
	tb.Helper()
	cfg := s.cfg
	reg := prometheus.NewRegistry()
	opts := detection.OptionsFrom(cfg.Detection)
	follower, err := marks.New(marks.Options[*detection.Engine]{
		Brokers: cfg.Kafka.Brokers,
		Topic:   cfg.Kafka.Topics.Marks,
		Build: func(_ context.Context, ms []*domain.Mark) (*detection.Engine, error) {
			return detection.BuildDomain(ms, opts)
		},
		Close:      func(e *detection.Engine) { _ = e.Close() },
		Debounce:   cfg.Kafka.MarksDebounce,
		Limits:     cfg.Limits,
		Registerer: reg,
	})
	if err != nil {
		tb.Fatal(err)
	}
	fetch, err := imagefetch.New(imagefetch.Options{
		AllowHosts:   []string{host},
		AllowPrivate: true,
		MaxBytes:     cfg.Detection.Image.MaxBytes,
		Timeout:      cfg.Detection.Image.FetchTimeout,
	})
	if err != nil {
		tb.Fatal(err)
	}
	images, err := detection.ImagesFrom(cfg.Detection, fetch, detection.HasherFrom(cfg.Detection), nil)
	if err != nil {
		tb.Fatal(err)
	}
	stage, err := detect.New[*detection.Engine](follower, detect.Options{
		ComplaintsTopic: cfg.Kafka.Topics.Complaints,
		Limits:          cfg.Limits,
		Images:          images,
		Registerer:      reg,
	})
	if err != nil {
		tb.Fatal(err)
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
		Registerer:     reg,
		Writer:         writer,
	}, stage.Handle)
	if err != nil {
		tb.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := follower.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("marks follower: %v", err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !follower.Ready() {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			tb.Fatal("marks not loaded within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	wg.Go(func() {
		if err := consumer.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			tb.Errorf("consumer: %v", err)
		}
	})
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		_ = pipeline.CloseWriter(writer)
		follower.Close()
	})
	return reg
}

// gathered sums the samples of a counter family in reg whose label values
// include label.
func gathered(tb testing.TB, reg *prometheus.Registry, name, label string) float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					// Once per sample, though several of its labels may
					// have the value (outcome and cause are both "ok").
					total += m.GetCounter().GetValue()
					break
				}
			}
		}
	}
	return total
}

// TestPoisonImages runs the detector's parts in-process (for the reason
// BenchmarkStreamImage gives) against a local image server with two bad
// images: a decompression bomb (a 64 KB PNG of 8000×8000 pixels, over the
// 40-megapixel cap) and a host that never answers. Listings carrying them
// must be scored on their text, with the evidence saying the image was not
// used, and the good listings around them must keep flowing.
func TestPoisonImages(t *testing.T) {
	brokers := testenv.KafkaBrokers(t)
	s := newStack(t, brokers, stackOptions{})
	s.cfg.Detection.Image.FetchTimeout = time.Second
	marks := fixtureMarks(t)
	publishMarks(t, s, marks...)
	oracle := newOracle(t, s.cfg, marks)

	bomb := pngBomb(t)
	hung := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bomb.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(bomb)
		case "/hang.jpg":
			select { // never answers; the fetch timeout must end it
			case <-r.Context().Done():
			case <-hung:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(hung); srv.Close() })
	reg := runInProcess(t, s, strings.TrimPrefix(srv.URL, "http://"))

	listings := textListings(t, "badimg", 150)
	var bad []*domain.Listing
	for _, l := range listings {
		v, _ := json.Marshal(l)
		if ids, _ := oracle.complaints(v); len(ids) > 0 && len(bad) < 4 {
			l.Images = []string{srv.URL + "/bomb.png"}
			if len(bad)%2 == 1 {
				l.Images = []string{srv.URL + "/hang.jpg"}
			}
			bad = append(bad, l)
		}
	}
	if len(bad) < 4 {
		t.Fatalf("only %d flagged fixture listings", len(bad))
	}
	msgs := listingMessages(t, listings)
	// The oracle scores text only: what the detector must fall back to.
	want := oracle.expected(t, msgs)
	complaints := collect(t, brokers, s.complaints, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := produce(ctx, newWriter(t, brokers, s.listings), msgs...); err != nil {
		t.Fatal(err)
	}
	if !complaints.waitFor(60*time.Second, allArrived(want)) {
		t.Errorf("not every expected complaint arrived")
	}
	s.waitLagZero(t, 30*time.Second)
	waitCaughtUp(t, complaints, brokers, s.complaints, 3)
	compareComplaints(t, complaintCounts(t, complaints.snapshot()), want)

	reasons := map[string]string{}
	for _, m := range complaints.snapshot() {
		var c domain.Complaint
		if err := json.Unmarshal(m.Value, &c); err != nil {
			t.Fatal(err)
		}
		for _, e := range c.Evidence {
			if e.Matcher == "image" && e.Kind == "unavailable" {
				reasons[c.ListingID] = e.Detail
			}
		}
	}
	for _, l := range bad {
		r, ok := reasons[l.ListingID]
		if !ok {
			t.Errorf("listing %s with image %s: no complaint saying the image was not used", l.ListingID, l.Images[0])
			continue
		}
		t.Logf("%s: %s", l.Images[0][len(srv.URL):], r)
	}
	if got := gathered(t, reg, "markwatch_image_fetches_total", "failed"); got != float64(len(bad)) {
		t.Errorf("%v failed image fetches, want %d", got, len(bad))
	}
	if got := gathered(t, reg, "markwatch_consumer_dead_letters_total", ""); got != 0 {
		t.Errorf("%v dead letters: a bad image must not make the listing unreadable", got)
	}
}

// pngBomb returns a PNG of 8000×8000 black pixels: about 64 KB that
// decodes to 64 MB, over the default 40-megapixel cap.
func pngBomb(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 8000, 8000))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
